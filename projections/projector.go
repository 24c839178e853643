// Package projections builds Backbone's read models in PostgreSQL from the event
// stream. A Projector feeds one Projection: it reads the stream through a
// durable JetStream consumer and applies events in batches, each batch in one
// transaction together with the read model's checkpoint, so that a crash or a
// restart neither loses nor repeats an event. Of several processes running the
// same projector one is active and the others stand by (lock.go); an event a
// projector cannot apply stops it or is parked (poison.go); a read model is
// rebuilt beside the live one and switched in at once (rebuild.go); a Service
// runs and reports on a set of read models (service.go). The read models and
// their readers live beside them (scorecard.go, reader.go, ...).
package projections

import (
	"context"
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
	// OnPoison says what to do with an event the read model cannot take:
	// park it and go on (PoisonPark, the default) or stop at it (PoisonStop).
	OnPoison PoisonPolicy
	// LockPoll is how often a standby projector tries to take over the read
	// model, and how often the active one checks that it still holds it;
	// default 1s.
	LockPoll time.Duration
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
	if c.OnPoison == "" {
		c.OnPoison = PoisonPark
	}
	if c.LockPoll <= 0 {
		c.LockPoll = time.Second
	}
	return c
}

// Projector keeps one read model up to date with the event stream. Any number
// of Projectors, in any number of processes, may Run on the same read model:
// one at a time holds its lock and applies events, and the checkpoint guards
// every commit besides.
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

	// narrowUntil is the last sequence of a batch that failed: up to it the
	// projector applies one event at a time, so that those before the event at
	// fault are applied and the event at fault is known. Only the goroutine
	// that runs the projector touches it.
	narrowUntil uint64
	// strikes counts the failures in a row of the event at fault; the same
	// goroutine alone touches it.
	strikes strikes

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

// errCheckpointMoved is a commit refused because the checkpoint is no longer
// where the batch starts: another projector applied it, or a rebuild switched
// the read model. Nothing is wrong with the events; Run resumes at the
// checkpoint.
var errCheckpointMoved = errors.New("the checkpoint moved")

// runActive applies events until ctx is cancelled, then returns nil; the
// caller holds the read model's lock (Run). Failures (the database or the stream
// unavailable, an event that cannot be applied) are logged and retried with
// growing pauses; each retry resumes at the checkpoint.
func (p *Projector) runActive(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		progressed, err := p.follow(ctx)
		if progressed {
			failures = 0
		}
		var stuck *stuckError
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, errResync):
			failures++
			p.log.Warn("projector found a gap in its deliveries; resuming at its checkpoint")
			sleep(ctx, backoff(failures)/10)
		case errors.Is(err, errCheckpointMoved):
			failures++
			p.log.Warn("projector resumes at its checkpoint, which moved: a rebuild "+
				"replaced the read model, or another projector ran", "err", err)
			sleep(ctx, backoff(failures)/10)
		case errors.As(err, &stuck):
			failures++
			wait := backoff(failures)
			p.log.Error("projector is stuck on an event it cannot apply",
				"sequence", stuck.seq, "type", stuck.eventType, "on_poison", p.cfg.OnPoison,
				"err", stuck.err, "retry_in", wait)
			sleep(ctx, wait)
		default:
			failures++
			wait := backoff(failures)
			p.log.Error("projector failed", "err", err, "retry_in", wait)
			sleep(ctx, wait)
		}
	}
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
			err := p.commit(ctx, checkpoint, sorted.apply)
			if err != nil {
				err = p.failed(ctx, checkpoint, messagesOf(sorted.apply), err)
			}
			if err != nil {
				return progressed, err
			}
			checkpoint, progressed = seqOf(sorted.apply[len(sorted.apply)-1]), true
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
			return p.moved(checkpoint)
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
	tx, err := p.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin batch up to %d: %w", last, err)
	}
	defer rollback(ctx, tx)

	if err := p.write(ctx, tx, from, messagesOf(msgs)); err != nil {
		return err
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

// begin starts a batch's transaction holding the read model's commit lock,
// shared, in the same round trip: a rebuild switches schemas holding it
// exclusively, so a batch lands whole in one schema or the other. The commit
// does not wait for the WAL to reach disk: a database crash can lose the last
// batches, but their checkpoint with them, so they are applied again from the
// stream (the consumer is realigned with the checkpoint at start).
func (p *Projector) begin(ctx context.Context) (pgx.Tx, error) {
	return p.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: fmt.Sprintf(
		"BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_advisory_xact_lock_shared(%d)",
		commitLockID(p.projection.Schema()))})
}

// write applies msgs, which continue the checkpoint from, inside tx, parks
// those that do not decode (PoisonPark) and moves the checkpoint past them all.
func (p *Projector) write(ctx context.Context, tx pgx.Tx, from uint64, msgs []message) error {
	last := msgs[len(msgs)-1].seq
	events, parked, err := p.decode(msgs)
	if err != nil {
		return err
	}
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
	p.queueMove(b, from, last, len(msgs))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("move checkpoint to %d: %w", last, err)
	}
	return nil
}

// queueMove queues the guarded move of the checkpoint from one sequence to
// another, counting events; the batch fails with errCheckpointMoved when the
// checkpoint is no longer from.
func (p *Projector) queueMove(b *pgx.Batch, from, to uint64, events int) {
	b.Queue(inSchema(p.projection.Schema(), moveCheckpoint), to, events, from).
		Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return p.moved(from)
			}
			return nil
		})
}

func (p *Projector) moved(from uint64) error {
	return fmt.Errorf("the checkpoint is no longer %d: another projector runs on "+
		"schema %s, or a rebuild replaced it: %w", from, p.projection.Schema(),
		errCheckpointMoved)
}

// moveCheckpoint moves the checkpoint, guarded by its old value, and clears
// the event the read model was stuck on: a move passes it.
const moveCheckpoint = `
UPDATE {schema}.checkpoint
SET sequence = $1, events = events + $2, batches = batches + 1, updated_at = now(),
    stuck_sequence = NULL, stuck_event_type = NULL, stuck_error = NULL, stuck_since = NULL
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

// message is one event as stored on the stream, whether a consumer delivered
// it or it was read directly.
type message struct {
	seq       uint64
	subject   string
	eventType string
	data      []byte
}

func messagesOf(msgs []jetstream.Msg) []message {
	out := make([]message, len(msgs))
	for i, m := range msgs {
		out[i] = message{seq: seqOf(m), subject: m.Subject(),
			eventType: m.Headers().Get(eventTypeHeader), data: m.Data()}
	}
	return out
}

func rawMessage(m *jetstream.RawStreamMsg) message {
	return message{seq: m.Sequence, subject: m.Subject,
		eventType: m.Header.Get(eventTypeHeader), data: m.Data}
}

// parked is a message the projector could not decode.
type parked struct {
	seq       uint64
	subject   string
	eventType string
	err       string
}

// decode turns messages into events. Events of a type this build does not know
// are kept, as domain.UnknownPayload, and reported once per type. Messages that
// do not decode are poison: with PoisonPark they are returned to be parked, so
// that one bad message does not stall the read model; with PoisonStop the
// first of them is an error.
func (p *Projector) decode(msgs []message) ([]domain.Event, []parked, error) {
	events := make([]domain.Event, 0, len(msgs))
	var bad []parked
	for _, m := range msgs {
		e, err := DecodeEvent(m.data)
		if err != nil {
			if p.cfg.OnPoison == PoisonStop {
				return nil, nil, fmt.Errorf("decode event %d: %w", m.seq, err)
			}
			p.log.Error("projector parks an event it cannot decode",
				"sequence", m.seq, "subject", m.subject, "err", err)
			bad = append(bad, parked{seq: m.seq, subject: m.subject,
				eventType: m.eventType, err: err.Error()})
			continue
		}
		e.Sequence = m.seq
		if u, ok := e.Payload.(domain.UnknownPayload); ok {
			p.reportUnknown(u.Type, e.SchemaVersion)
		}
		events = append(events, e)
	}
	return events, bad, nil
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
	checkpoint, err := p.Position(ctx)
	if err != nil {
		return Lag{}, err
	}
	last, age, err := p.lag(ctx, checkpoint)
	if err != nil {
		return Lag{}, err
	}
	return Lag{Events: last - checkpoint, Age: age}, nil
}

// lag returns the stream's last sequence (at least checkpoint) and the age of
// the oldest event after checkpoint.
func (p *Projector) lag(ctx context.Context, checkpoint uint64) (uint64, time.Duration,
	error) {
	stream, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return 0, 0, fmt.Errorf("stream %s: %w", p.stream, err)
	}
	last := stream.CachedInfo().State.LastSeq
	if last <= checkpoint {
		return checkpoint, 0, nil
	}

	oldest, err := stream.GetMsg(ctx, checkpoint+1)
	if err != nil {
		return 0, 0, fmt.Errorf("read event %d: %w", checkpoint+1, err)
	}
	return last, time.Since(oldest.Time), nil
}

// Status reports, for operators, how far the read model is, whether a process
// runs its projector, the events parked and the event it is stuck on, if any
// (Parked false). It reads all of it from the database and the stream, so it
// answers the same in every process, whether or not it runs the projector.
func (p *Projector) Status(ctx context.Context) (domain.ProjectorStatus, error) {
	schema := p.projection.Schema()
	s := domain.ProjectorStatus{Name: p.projection.Name(), Schema: schema,
		Poisoned: []domain.Poison{}}
	var stuck struct {
		seq       *uint64
		eventType *string
		err       *string
		since     *time.Time
	}
	b := &pgx.Batch{}
	b.Queue(inSchema(schema, selectCheckpoint)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&s.Position, &stuck.seq, &stuck.eventType, &stuck.err, &stuck.since)
	})
	b.Queue(inSchema(schema, selectParked)).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			x := domain.Poison{Parked: true}
			if err := rows.Scan(&x.Sequence, &x.EventType, &x.Error, &x.At); err != nil {
				return err
			}
			s.Poisoned = append(s.Poisoned, x)
		}
		return rows.Err()
	})
	b.Queue(selectLockHeld, runLockID(schema)).QueryRow(func(row pgx.Row) error {
		return row.Scan(&s.Active)
	})
	if err := p.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.ProjectorStatus{}, fmt.Errorf("read status of %s: %w", schema, err)
	}
	if stuck.seq != nil {
		s.Poisoned = append(s.Poisoned, domain.Poison{Sequence: *stuck.seq,
			EventType: orEmpty(stuck.eventType), Error: orEmpty(stuck.err), At: *stuck.since})
	}

	last, age, err := p.lag(ctx, s.Position)
	if err != nil {
		return domain.ProjectorStatus{}, err
	}
	s.StreamLast, s.Behind, s.OldestUnprocessedAge = last, last-s.Position, age.Seconds()
	return s, nil
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

const selectCheckpoint = `
SELECT sequence, stuck_sequence, stuck_event_type, stuck_error, stuck_since
FROM {schema}.checkpoint`

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
