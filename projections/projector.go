// Package projections builds Backbone's read models in PostgreSQL from the event
// stream. A Projector feeds one Projection: it reads the stream through a
// durable JetStream consumer and applies events in batches, each batch in one
// transaction together with the read model's checkpoint, so that a crash or a
// restart neither loses nor repeats an event. The scorecard read model
// (scorecard.go) and its Reader (reader.go) live beside it.
package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// Projection is a read model that a Projector feeds.
type Projection interface {
	// Name names the read model on the stream: its projector's durable consumer
	// is "projector-<Name>", so a read model rebuilt beside the live one needs
	// another name.
	Name() string
	// Schema is the PostgreSQL schema the read model and its checkpoint live in.
	Schema() string
	// Migrations returns the goose SQL migrations of the read model's tables at
	// the root of the file system; MigrateProjection runs them with search_path
	// set to Schema.
	Migrations() fs.FS
	// Apply applies events, in stream order, inside tx. It queues its statements
	// (pgx.Batch), so that a batch of events costs a handful of round trips. It
	// skips the payloads it has no use for, among them domain.UnknownPayload
	// (an event type newer than this build), but may still count them, as the
	// aggregate's version does.
	Apply(ctx context.Context, tx pgx.Tx, events []domain.Event) error
}

// Config tunes a Projector; the zero Config is ready to use.
type Config struct {
	// BatchSize is the most events applied in one transaction; default 500.
	BatchSize int
	// MaxWait is how long one fetch waits for a new event; default 5s. A new
	// event is applied as soon as it arrives, whatever MaxWait is.
	MaxWait time.Duration
	// AckWait is how long the consumer waits for an ack before it redelivers;
	// default one minute.
	AckWait time.Duration
	// Logger receives lifecycle messages and failures; default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 5 * time.Second
	}
	if c.AckWait <= 0 {
		c.AckWait = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Projector keeps one read model up to date with the event stream. Run one
// Projector per read model: a second one on the same schema cannot corrupt it
// (the checkpoint guards every commit) but the two would keep resetting each
// other's consumer.
type Projector struct {
	pool       *pgxpool.Pool
	js         jetstream.JetStream
	stream     string
	projection Projection
	cfg        Config
	log        *slog.Logger
	consumer   string

	mu      sync.Mutex
	unknown map[string]bool // event types already reported as unknown
	// stalled is the event the read model is stuck before, once a batch failed
	// to apply; nil while batches commit.
	stalled *domain.Poison
	// narrowUntil is the last sequence of a batch that failed: up to it the
	// projector applies one event at a time, so that those before the event at
	// fault are applied and Status names that event. Only Run touches it.
	narrowUntil uint64

	// ack acknowledges m and every message before it; tests replace it.
	ack func(ctx context.Context, m jetstream.Msg) error

	// Test hooks, called around each commit with the batch's last sequence.
	beforeCommit func(ctx context.Context, last uint64)
	afterCommit  func(last uint64)
}

// NewProjector returns a Projector that feeds p from the named stream. The
// read model's schema must have been migrated (Migrate).
func NewProjector(pool *pgxpool.Pool, js jetstream.JetStream, stream string, p Projection,
	cfg Config) *Projector {
	cfg = cfg.withDefaults()
	return &Projector{
		pool:       pool,
		js:         js,
		stream:     stream,
		projection: p,
		cfg:        cfg,
		log:        cfg.Logger.With("projection", p.Name()),
		consumer:   "projector-" + p.Name(),
		unknown:    map[string]bool{},
		ack:        func(ctx context.Context, m jetstream.Msg) error { return m.DoubleAck(ctx) },
	}
}

// errResync asks Run to line the consumer up with the checkpoint again.
var errResync = errors.New("the consumer skipped events")

// Run applies events until ctx is cancelled, then returns nil. Failures (the
// database or the stream unavailable, an event that cannot be applied) are
// logged and retried with growing pauses; each retry resumes at the checkpoint.
func (p *Projector) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		progressed, err := p.follow(ctx)
		if progressed {
			failures = 0
		}
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, errResync):
			failures++
			p.log.Warn("projector found a gap in its deliveries; resuming at its checkpoint")
			sleep(ctx, backoff(failures)/10)
		default:
			failures++
			wait := backoff(failures)
			p.log.Error("projector failed", "err", err, "retry_in", wait)
			sleep(ctx, wait)
		}
	}
	p.log.Info("projector stopped")
	return nil
}

// follow lines the consumer up with the checkpoint and applies batches until an
// error or cancellation. It reports whether it committed anything.
func (p *Projector) follow(ctx context.Context) (bool, error) {
	checkpoint, err := p.Position(ctx)
	if err != nil {
		return false, err
	}
	consumer, err := p.syncConsumer(ctx, checkpoint)
	if err != nil {
		return false, err
	}
	p.log.Info("projector started", "consumer", p.consumer, "from_sequence", checkpoint+1)

	progressed, caughtUp := false, false
	for {
		size := p.cfg.BatchSize
		if checkpoint < p.narrowUntil {
			size = 1
		}
		msgs, err := p.fetch(ctx, consumer, size)
		if err != nil {
			return progressed, err
		}
		sorted, err := sortOut(checkpoint, msgs)
		if err != nil {
			return progressed, err
		}

		if len(sorted.apply) > 0 {
			if err := p.commit(ctx, checkpoint, sorted.apply); err != nil {
				p.stall(ctx, sorted.apply, err)
				return progressed, err
			}
			checkpoint, progressed = seqOf(sorted.apply[len(sorted.apply)-1]), true
			p.unstall(checkpoint)
		}
		if sorted.skipped > 0 {
			p.log.Debug("projector skipped redelivered events", "count", sorted.skipped,
				"checkpoint", checkpoint)
		}
		if sorted.ack != nil {
			if err := p.ack(ctx, sorted.ack); err != nil {
				return progressed, fmt.Errorf("ack up to %d: %w", checkpoint, err)
			}
		}
		if sorted.gap != 0 {
			return progressed, p.passHole(ctx, checkpoint, sorted.gap)
		}

		if !caughtUp && pendingAfter(msgs) == 0 {
			caughtUp = true
			p.log.Info("projector caught up", "sequence", checkpoint)
		}
	}
}

// stall records that a batch failed to apply: the next tries go one event at a
// time up to its end, and Status names its first event (after narrowing, the
// event at fault). A cancellation is not a failure.
func (p *Projector) stall(ctx context.Context, batch []jetstream.Msg, err error) {
	if ctx.Err() != nil {
		return
	}
	first := batch[0]
	p.narrowUntil = max(p.narrowUntil, seqOf(batch[len(batch)-1]))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = &domain.Poison{
		Sequence:  seqOf(first),
		EventType: first.Headers().Get(eventTypeHeader),
		Error:     err.Error(),
		At:        time.Now().UTC(),
	}
}

// unstall forgets a failure once the checkpoint passed the event it named.
func (p *Projector) unstall(checkpoint uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled != nil && checkpoint >= p.stalled.Sequence {
		p.stalled = nil
	}
}

// passHole handles a delivery that skipped ahead of checkpoint+1. Usually the
// consumer lost track, and resyncing it at the checkpoint fills the gap. When
// the stream itself no longer holds checkpoint+1 (it denies deletes, so this
// takes an operator), no resync can deliver it: the checkpoint moves past it.
// Either way it returns errResync.
func (p *Projector) passHole(ctx context.Context, checkpoint, next uint64) error {
	stream, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", p.stream, err)
	}
	_, err = stream.GetMsg(ctx, checkpoint+1)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		p.log.Warn("the stream holds no event at this sequence; moving past it",
			"sequence", checkpoint+1, "next_sequence", next)
		move := inSchema(p.projection.Schema(), moveCheckpoint)
		tag, err := p.pool.Exec(ctx, move, checkpoint+1, 0, checkpoint)
		if err != nil {
			return fmt.Errorf("move checkpoint past %d: %w", checkpoint+1, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("the checkpoint is no longer %d: another projector "+
				"runs on schema %s", checkpoint, p.projection.Schema())
		}
	case err != nil:
		return fmt.Errorf("read event %d: %w", checkpoint+1, err)
	}
	return errResync
}

// sorted is what to do with the messages of one fetch.
type sorted struct {
	// apply are the messages that continue the checkpoint without a gap.
	apply []jetstream.Msg
	// ack is the message to ack (AckAll): the highest one at or below the new
	// checkpoint; nil when there is none.
	ack jetstream.Msg
	// gap is the sequence of the first message that skipped ahead, or 0.
	gap uint64
	// skipped counts redeliveries of events already applied.
	skipped int
}

// sortOut splits fetched messages into those already applied (redeliveries at
// or below the checkpoint, acked only), those that continue the checkpoint, and
// a gap: a message beyond checkpoint+1 ends the batch.
func sortOut(checkpoint uint64, msgs []jetstream.Msg) (sorted, error) {
	var s sorted
	var ackSeq uint64
	next := checkpoint + 1
	for _, m := range msgs {
		seq := seqOf(m)
		if seq == 0 {
			return s, fmt.Errorf("message on %s has no stream sequence", m.Subject())
		}
		switch {
		case seq < next:
			s.skipped++
		case seq == next:
			s.apply = append(s.apply, m)
			next++
		default:
			s.gap = seq
			return s, nil
		}
		if seq >= ackSeq {
			s.ack, ackSeq = m, seq
		}
	}
	return s, nil
}

// seqOf returns a message's stream sequence, or 0 when it has no metadata.
func seqOf(m jetstream.Msg) uint64 {
	meta, err := m.Metadata()
	if err != nil {
		return 0
	}
	return meta.Sequence.Stream
}

// pendingAfter returns how many events the stream held beyond the last message.
func pendingAfter(msgs []jetstream.Msg) uint64 {
	if len(msgs) == 0 {
		return 0
	}
	meta, err := msgs[len(msgs)-1].Metadata()
	if err != nil {
		return 1
	}
	return meta.NumPending
}

// fetch waits up to MaxWait for the next message, then takes whatever else is
// already waiting, up to size in all: a lone new event is applied at once,
// and a backlog goes in full batches.
func (p *Projector) fetch(ctx context.Context, c jetstream.Consumer,
	size int) ([]jetstream.Msg, error) {
	wait, cancel := context.WithTimeout(ctx, p.cfg.MaxWait)
	defer cancel()
	first, err := c.Fetch(1, jetstream.FetchContext(wait))
	if err != nil {
		return nil, fmt.Errorf("fetch from %s: %w", p.consumer, err)
	}
	msgs, err := drain(first)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("fetch from %s: %w", p.consumer, err)
	}
	if len(msgs) == 0 || size == 1 {
		return msgs, nil
	}

	rest, err := c.FetchNoWait(size - 1)
	if err != nil {
		return nil, fmt.Errorf("fetch from %s: %w", p.consumer, err)
	}
	more, err := drain(rest)
	if err != nil {
		return nil, fmt.Errorf("fetch from %s: %w", p.consumer, err)
	}
	return append(msgs, more...), nil
}

func drain(b jetstream.MessageBatch) ([]jetstream.Msg, error) {
	var msgs []jetstream.Msg
	for m := range b.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, b.Error()
}

// commit applies msgs, which continue the checkpoint from, in one transaction
// that also moves the checkpoint. The checkpoint update is guarded by its old
// value, so a batch that another process applied first is rolled back.
func (p *Projector) commit(ctx context.Context, from uint64, msgs []jetstream.Msg) error {
	last := seqOf(msgs[len(msgs)-1])
	events, parked := p.decode(msgs)

	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin batch up to %d: %w", last, err)
	}
	defer rollback(ctx, tx)

	if len(events) > 0 {
		if err := p.projection.Apply(ctx, tx, events); err != nil {
			return fmt.Errorf("apply events %d to %d: %w", from+1, last, err)
		}
	}

	b := &pgx.Batch{}
	for _, e := range parked {
		b.Queue(inSchema(p.projection.Schema(), parkEvent), e.seq, e.subject, e.eventType,
			e.err)
	}
	b.Queue(inSchema(p.projection.Schema(), moveCheckpoint), last, len(msgs), from).
		Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("the checkpoint is no longer %d: another projector "+
					"runs on schema %s", from, p.projection.Schema())
			}
			return nil
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("move checkpoint to %d: %w", last, err)
	}

	if p.beforeCommit != nil {
		p.beforeCommit(ctx, last)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit batch up to %d: %w", last, err)
	}
	if p.afterCommit != nil {
		p.afterCommit(last)
	}
	return nil
}

const moveCheckpoint = `
UPDATE {schema}.checkpoint
SET sequence = $1, events = events + $2, batches = batches + 1, updated_at = now()
WHERE sequence = $3`

const parkEvent = `
INSERT INTO {schema}.parked_events (sequence, subject, event_type, error)
VALUES ($1, $2, $3, $4)
ON CONFLICT (sequence) DO NOTHING`

// rollback ends a transaction that was not committed; after a commit it does
// nothing. It runs even when ctx was cancelled.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// parked is a message the projector could not decode.
type parked struct {
	seq       uint64
	subject   string
	eventType string
	err       string
}

// decode turns messages into events. Events of a type this build does not know
// are kept, as domain.UnknownPayload, and reported once per type; messages that
// do not decode are returned to be parked, so that one bad message does not
// stall the read model.
func (p *Projector) decode(msgs []jetstream.Msg) ([]domain.Event, []parked) {
	events := make([]domain.Event, 0, len(msgs))
	var bad []parked
	for _, m := range msgs {
		seq := seqOf(m)
		var e domain.Event
		if err := json.Unmarshal(m.Data(), &e); err != nil {
			p.log.Error("projector parked an event it cannot decode",
				"sequence", seq, "subject", m.Subject(), "err", err)
			bad = append(bad, parked{seq: seq, subject: m.Subject(),
				eventType: m.Headers().Get(eventTypeHeader), err: err.Error()})
			continue
		}
		e.Sequence = seq
		if u, ok := e.Payload.(domain.UnknownPayload); ok {
			p.reportUnknown(u.Type, e.SchemaVersion)
		}
		events = append(events, e)
	}
	return events, bad
}

// eventTypeHeader is the header the event store names each event's type in.
const eventTypeHeader = "Backbone-Event-Type"

func (p *Projector) reportUnknown(eventType string, version int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := fmt.Sprintf("%s/%d", eventType, version)
	if !p.unknown[key] {
		p.unknown[key] = true
		p.log.Warn("projector skips events of an unknown type",
			"type", eventType, "schema_version", version)
	}
}

// Position returns the stream sequence of the last event the read model holds.
func (p *Projector) Position(ctx context.Context) (uint64, error) {
	return position(ctx, p.pool, p.projection.Schema())
}

func position(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, schema string) (uint64, error) {
	var seq uint64
	err := q.QueryRow(ctx, inSchema(schema, `SELECT sequence FROM {schema}.checkpoint`)).
		Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("read checkpoint of %s: %w", schema, err)
	}
	return seq, nil
}

// LastSequence returns the sequence of the newest event on the stream; minus
// Position, it is how many events the read model lags behind.
func (p *Projector) LastSequence(ctx context.Context) (uint64, error) {
	stream, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", p.stream, err)
	}
	return stream.CachedInfo().State.LastSeq, nil
}

// Lag is how far a read model is behind the stream.
type Lag struct {
	// Events is how many events are not applied yet.
	Events uint64
	// Age is how long ago the oldest of them was stored; 0 when none is waiting.
	Age time.Duration
}

// Lag returns how far the read model is behind the stream, in events and time.
func (p *Projector) Lag(ctx context.Context) (Lag, error) {
	checkpoint, last, age, err := p.lag(ctx)
	if err != nil {
		return Lag{}, err
	}
	return Lag{Events: last - checkpoint, Age: age}, nil
}

// lag returns the checkpoint, the stream's last sequence and the age of the
// oldest event not applied yet.
func (p *Projector) lag(ctx context.Context) (uint64, uint64, time.Duration, error) {
	checkpoint, err := p.Position(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	stream, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("stream %s: %w", p.stream, err)
	}
	last := stream.CachedInfo().State.LastSeq
	if last <= checkpoint {
		return checkpoint, checkpoint, 0, nil
	}

	oldest, err := stream.GetMsg(ctx, checkpoint+1)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read event %d: %w", checkpoint+1, err)
	}
	return checkpoint, last, time.Since(oldest.Time), nil
}

// Status reports, for operators, how far the read model is, the events parked
// because they could not be decoded, and the event it is stuck on, if any
// (Parked false): one that decodes but fails to apply is retried with growing
// pauses, and the read model waits for a fix rather than skip it.
//
// TODO: a stuck event is known only to the process that runs the projector, so
// Status in another process does not show it.
func (p *Projector) Status(ctx context.Context) (domain.ProjectorStatus, error) {
	checkpoint, last, age, err := p.lag(ctx)
	if err != nil {
		return domain.ProjectorStatus{}, err
	}
	rows, err := p.pool.Query(ctx, inSchema(p.projection.Schema(), selectParked))
	if err != nil {
		return domain.ProjectorStatus{}, fmt.Errorf("read parked events: %w", err)
	}
	poisoned, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Poison, error) {
		x := domain.Poison{Parked: true}
		err := row.Scan(&x.Sequence, &x.EventType, &x.Error, &x.At)
		return x, err
	})
	if err != nil {
		return domain.ProjectorStatus{}, fmt.Errorf("read parked events: %w", err)
	}
	if poisoned == nil {
		poisoned = []domain.Poison{}
	}
	p.mu.Lock()
	if p.stalled != nil {
		poisoned = append(poisoned, *p.stalled)
	}
	p.mu.Unlock()
	return domain.ProjectorStatus{
		Name:                 p.projection.Name(),
		Schema:               p.projection.Schema(),
		Position:             checkpoint,
		StreamLast:           last,
		Behind:               last - checkpoint,
		OldestUnprocessedAge: age.Seconds(),
		Poisoned:             poisoned,
	}, nil
}

const selectParked = `
SELECT sequence, event_type, error, parked_at FROM {schema}.parked_events ORDER BY sequence`

// syncConsumer returns the durable consumer, first deleting and recreating it at
// checkpoint+1 unless its state agrees with the checkpoint. A consumer left with
// unacknowledged messages by a dead run would otherwise hold them until AckWait.
func (p *Projector) syncConsumer(ctx context.Context,
	checkpoint uint64) (jetstream.Consumer, error) {
	stream, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", p.stream, err)
	}
	want := p.consumerConfig(stream.CachedInfo().Config.Subjects, checkpoint)

	c, err := stream.Consumer(ctx, p.consumer)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		p.log.Info("projector creates its consumer", "consumer", p.consumer)
	case err != nil:
		return nil, fmt.Errorf("consumer %s: %w", p.consumer, err)
	default:
		info := c.CachedInfo()
		if agrees(info, want, checkpoint) {
			return c, nil
		}
		p.log.Info("projector resets its consumer to the checkpoint",
			"consumer", p.consumer, "checkpoint", checkpoint,
			"ack_floor", info.AckFloor.Stream, "ack_pending", info.NumAckPending)
		err := stream.DeleteConsumer(ctx, p.consumer)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("delete consumer %s: %w", p.consumer, err)
		}
	}

	c, err = stream.CreateConsumer(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", p.consumer, err)
	}
	return c, nil
}

// consumerConfig is the durable consumer that starts right after checkpoint.
func (p *Projector) consumerConfig(subjects []string, checkpoint uint64) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        p.consumer,
		Description:    "Backbone projector of read model " + p.projection.Name(),
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    checkpoint + 1,
		AckPolicy:      jetstream.AckAllPolicy,
		AckWait:        p.cfg.AckWait,
		MaxDeliver:     -1,
		MaxAckPending:  max(1000, 2*p.cfg.BatchSize),
		FilterSubjects: subjects,
		ReplayPolicy:   jetstream.ReplayInstantPolicy,
	}
}

// agrees reports whether an existing consumer can resume at the checkpoint:
// everything up to it acked, nothing beyond it delivered, same settings.
func agrees(info *jetstream.ConsumerInfo, want jetstream.ConsumerConfig,
	checkpoint uint64) bool {
	got := info.Config
	return info.AckFloor.Stream == checkpoint &&
		info.Delivered.Stream == checkpoint &&
		info.NumAckPending == 0 &&
		got.AckPolicy == want.AckPolicy &&
		got.AckWait == want.AckWait &&
		got.MaxAckPending == want.MaxAckPending &&
		sameSubjects(got, want.FilterSubjects)
}

func sameSubjects(c jetstream.ConsumerConfig, want []string) bool {
	got := c.FilterSubjects
	if c.FilterSubject != "" {
		got = []string{c.FilterSubject}
	}
	return slices.Equal(got, want)
}

// backoff is the pause before the n-th retry in a row: 100ms doubling to 30s.
func backoff(n int) time.Duration {
	d := 100 * time.Millisecond << min(n-1, 9)
	return min(d, 30*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
