package projections

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// fakeMsg is a fetched message with only a subject and a stream sequence.
type fakeMsg struct {
	jetstream.Msg
	seq uint64
}

func (m fakeMsg) Subject() string { return "backbone.events.test" }

func (m fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{Sequence: jetstream.SequencePair{Stream: m.seq}}, nil
}

func TestSortOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		checkpoint uint64
		fetched    []uint64
		apply      []uint64
		ack        uint64 // 0: nothing to ack
		gap        uint64
	}{
		{"a run that continues the checkpoint is applied", 4, []uint64{5, 6, 7},
			[]uint64{5, 6, 7}, 7, 0},
		{"redeliveries at or below the checkpoint are only acked", 7, []uint64{6, 7},
			nil, 7, 0},
		{"a redelivery before new events is skipped", 7, []uint64{7, 8, 9},
			[]uint64{8, 9}, 9, 0},
		{"a redelivery after new events is skipped", 7, []uint64{8, 9, 5},
			[]uint64{8, 9}, 9, 0},
		{"a jump past checkpoint+1 is a gap", 4, []uint64{7, 8}, nil, 0, 7},
		{"events before a gap are applied, those after it are not", 4,
			[]uint64{5, 6, 9, 10}, []uint64{5, 6}, 6, 9},
		{"the first event of the stream follows checkpoint 0", 0, []uint64{1},
			[]uint64{1}, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var msgs []jetstream.Msg
			for _, seq := range c.fetched {
				msgs = append(msgs, fakeMsg{seq: seq})
			}
			got, err := sortOut(c.checkpoint, msgs)
			if err != nil {
				t.Fatalf("sortOut: %v", err)
			}
			var apply []uint64
			for _, m := range got.apply {
				apply = append(apply, seqOf(m))
			}
			var ack uint64
			if got.ack != nil {
				ack = seqOf(got.ack)
			}
			if !equal(apply, c.apply) || ack != c.ack || got.gap != c.gap {
				t.Errorf("apply %v, ack %d, gap %d; want %v, %d, %d",
					apply, ack, got.gap, c.apply, c.ack, c.gap)
			}
		})
	}
}

// writeBacklog writes the graduation map and a few hundred reports.
func writeBacklog(e *env) {
	e.t.Helper()
	g := writeGraduation(e)
	e.reports(g.surveyed, 120)
	e.reports(g.dollars, 60)
}

// interrupted cancels the projector's context when it starts applying the
// batch after the first `after` batches, before any of it is written.
type interrupted struct {
	Projection
	after  int
	cancel context.CancelFunc
	mu     sync.Mutex
	n      int
}

func (p *interrupted) Apply(ctx context.Context, tx pgx.Tx, events []domain.Event) error {
	p.mu.Lock()
	p.n++
	if p.n > p.after {
		p.cancel()
	}
	p.mu.Unlock()
	return p.Projection.Apply(ctx, tx, events)
}

// TestProjectorRestart stops a projector in several places, starts a new one on
// the same database and stream, and checks that the read model ends up exactly
// as a fresh rebuild: nothing lost, nothing applied twice, and no wait for the
// consumer's AckWait on messages the dead run never acked.
func TestProjectorRestart(t *testing.T) {
	t.Parallel()
	const batch = 16
	cfg := Config{BatchSize: batch, AckWait: 10 * time.Minute}

	stops := []struct {
		name string
		// arm makes the projector stop, through cancel, after its first commit.
		arm func(p *Projector, cancel context.CancelFunc)
	}{
		{"cancelled between batches", func(p *Projector, cancel context.CancelFunc) {
			p.afterCommit = func(uint64) { cancel() }
		}},
		{"cancelled before a commit", func(p *Projector, cancel context.CancelFunc) {
			commits := 0
			p.afterCommit = func(uint64) { commits++ }
			p.beforeCommit = func(context.Context, uint64) {
				if commits == 1 {
					cancel()
				}
			}
		}},
		{"cancelled while applying", func(p *Projector, cancel context.CancelFunc) {
			p.projection = &interrupted{Projection: p.projection, after: 1, cancel: cancel}
		}},
	}
	for _, s := range stops {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			writeBacklog(e)
			last := e.last()

			first := e.projector(e.pool, ScorecardSchema, cfg)
			ctx, cancel := context.WithCancel(context.Background())
			var committed atomic.Uint64
			s.arm(first, cancel)
			after := first.afterCommit
			first.afterCommit = func(seq uint64) {
				committed.Store(seq)
				if after != nil {
					after(seq)
				}
			}
			stop := e.run(ctx, first)
			select {
			case <-ctx.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("the projector did not stop itself within 30s")
			}
			stop()

			stopped, err := first.Position(e.ctx())
			if err != nil {
				t.Fatalf("Position: %v", err)
			}
			if stopped != committed.Load() || stopped == 0 || stopped >= last {
				t.Fatalf("stopped at %d, want the first commit's %d, short of %d",
					stopped, committed.Load(), last)
			}

			started := time.Now()
			e.run(context.Background(), e.projector(e.pool, ScorecardSchema, cfg))
			e.waitFor(ScorecardSchema, last)
			if took := time.Since(started); took > 10*time.Second {
				t.Errorf("the restarted projector took %v to catch up", took)
			}

			e.project("rebuild", Config{})
			e.sameReadModel(ScorecardSchema, "rebuild")
			if got := e.checkpointEvents(ScorecardSchema); got != last {
				t.Errorf("events applied = %d, want %d: each event exactly once", got, last)
			}
		})
	}
}

// TestProjectorSkipsRedeliveries: when an ack is lost, JetStream redelivers
// events the projector already applied once AckWait passes; they are skipped.
func TestProjectorSkipsRedeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeBacklog(e)
	last := e.last()

	var logs lockedBuffer
	debug := &slog.HandlerOptions{Level: slog.LevelDebug}
	p := e.projector(e.pool, ScorecardSchema, Config{BatchSize: 64,
		AckWait: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, debug))})
	acks := 0
	p.ack = func(ctx context.Context, m jetstream.Msg) error {
		acks++
		if acks == 1 {
			time.Sleep(300 * time.Millisecond) // lost: let AckWait pass
			return nil
		}
		return m.DoubleAck(ctx)
	}
	e.run(context.Background(), p)
	e.waitFor(ScorecardSchema, last)

	if !strings.Contains(logs.String(), "skipped redelivered events") {
		t.Errorf("no redelivery was skipped; logs:\n%s", logs.String())
	}
	e.project("rebuild", Config{})
	e.sameReadModel(ScorecardSchema, "rebuild")
	if got := e.checkpointEvents(ScorecardSchema); got != last {
		t.Errorf("events applied = %d, want %d", got, last)
	}
}

// lockedBuffer is a buffer a logger writes to from the projector's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProjectorConsumer(t *testing.T) {
	t.Parallel()

	t.Run("a clean restart keeps the consumer", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		g := writeGraduation(e)
		e.project(ScorecardSchema, Config{})
		before := e.consumerInfo("projector-scorecard")

		e.report(g.surveyed, "2014", 7)
		e.project(ScorecardSchema, Config{})
		after := e.consumerInfo("projector-scorecard")
		if !after.Created.Equal(before.Created) {
			t.Errorf("the consumer was recreated (created %v, then %v)",
				before.Created, after.Created)
		}
		if after.AckFloor.Stream != e.last() || after.NumAckPending != 0 {
			t.Errorf("ack floor %d with %d pending, want %d with none",
				after.AckFloor.Stream, after.NumAckPending, e.last())
		}
	})

	t.Run("a consumer ahead of the checkpoint is reset to it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		writeGraduation(e)
		// As if the database were restored from a backup older than the consumer.
		stream, err := e.store.JetStream().Stream(e.ctx(), e.store.StreamName())
		if err != nil {
			t.Fatal(err)
		}
		_, err = stream.CreateConsumer(e.ctx(), jetstream.ConsumerConfig{
			Durable: "projector-scorecard", AckPolicy: jetstream.AckAllPolicy,
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 10})
		if err != nil {
			t.Fatal(err)
		}

		e.project(ScorecardSchema, Config{})
		e.project("rebuild", Config{})
		e.sameReadModel(ScorecardSchema, "rebuild")
	})
}

func (e *env) consumerInfo(name string) *jetstream.ConsumerInfo {
	e.t.Helper()
	c, err := e.store.JetStream().Consumer(e.ctx(), e.store.StreamName(), name)
	if err != nil {
		e.t.Fatalf("consumer %s: %v", name, err)
	}
	info, err := c.Info(e.ctx())
	if err != nil {
		e.t.Fatalf("consumer %s: %v", name, err)
	}
	return info
}

// TestProjectorUnreadableEvents: an event type newer than this build is skipped
// but still moves its aggregate's version; a message that is not an event is
// parked. Neither stops the projector.
func TestProjectorUnreadableEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	js := e.store.JetStream()
	subject := e.store.Subject(domain.MeasureAggregate, g.surveyed)

	future := `{"id":"` + uuid.NewString() + `","type":"measure.forecast_made",
		"schema_version":1,"aggregate_type":"measure","aggregate_id":"` +
		g.surveyed.String() + `","aggregate_version":2,"payload":{"value":3}}`
	if _, err := js.Publish(e.ctx(), subject, []byte(future)); err != nil {
		t.Fatal(err)
	}
	garbled := nats.NewMsg(e.store.Subject(domain.MeasureAggregate, uuid.New()))
	garbled.Header.Set("Backbone-Event-Type", domain.ProgressReported)
	garbled.Data = []byte("not an event")
	bad, err := js.PublishMsg(e.ctx(), garbled)
	if err != nil {
		t.Fatal(err)
	}
	e.report(g.surveyed, "2014", 7)

	e.project(ScorecardSchema, Config{})
	m, err := NewReader(e.pool, ScorecardSchema).Measure(e.ctx(), g.surveyed)
	if err != nil {
		t.Fatal(err)
	}
	if m.Latest == nil || m.Latest.Value != 7 {
		t.Errorf("latest = %v, want the report after the unreadable events", m.Latest)
	}
	if m.Version != 3 {
		t.Errorf("version = %d, want 3 (defined, unknown event, report)", m.Version)
	}

	status, err := e.projector(e.pool, ScorecardSchema, Config{}).Status(e.ctx())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if len(status.Poisoned) != 1 {
		t.Fatalf("poisoned = %+v, want the undecodable message", status.Poisoned)
	}
	parked := status.Poisoned[0]
	if parked.Sequence != bad.Sequence || parked.EventType != domain.ProgressReported ||
		parked.Error == "" || !parked.Parked {
		t.Errorf("parked = %+v, want sequence %d of type %s", parked, bad.Sequence,
			domain.ProgressReported)
	}
	if status.Position != e.last() || status.Behind != 0 || status.Name != "scorecard" {
		t.Errorf("status = %+v, want caught up at %d", status, e.last())
	}
	if got := e.checkpointEvents(ScorecardSchema); got != e.last() {
		t.Errorf("events counted = %d, want %d", got, e.last())
	}
}

// TestProjectorAppliesANewEventPromptly: the API waits for its own writes, so a
// lone new event must not wait for a fetch to time out.
func TestProjectorAppliesANewEventPromptly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	p := e.projector(e.pool, ScorecardSchema, Config{MaxWait: 30 * time.Second})
	e.run(context.Background(), p)
	e.waitFor(ScorecardSchema, e.last())
	time.Sleep(100 * time.Millisecond) // the projector now waits on an idle fetch

	started := time.Now()
	r := e.report(g.surveyed, "2014", 7)
	e.waitFor(ScorecardSchema, r.Event.Sequence)
	if took := time.Since(started); took > 2*time.Second {
		t.Errorf("a new event took %v to be applied", took)
	}

	lag, err := p.Lag(e.ctx())
	if err != nil || lag != (Lag{}) {
		t.Errorf("Lag = %+v, %v; want none", lag, err)
	}
	last, err := p.LastSequence(e.ctx())
	if err != nil || last != r.Event.Sequence {
		t.Errorf("LastSequence = %d, %v; want %d", last, err, r.Event.Sequence)
	}
}

func TestProjectorLag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	p := e.projector(e.pool, ScorecardSchema, Config{})
	time.Sleep(20 * time.Millisecond)

	lag, err := p.Lag(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if lag.Events != e.last() || lag.Age < 20*time.Millisecond {
		t.Errorf("lag = %+v, want %d events at least 20ms old", lag, e.last())
	}
}

// TestProjectorCheckpointGuard: a batch that starts from a checkpoint that has
// moved on (another projector applied it) is rolled back.
func TestProjectorCheckpointGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	e.project(ScorecardSchema, Config{})
	before := e.dump(ScorecardSchema)

	p := e.projector(e.pool, ScorecardSchema, Config{})
	err := p.commit(e.ctx(), 0, e.refetch(3))
	if err == nil || !strings.Contains(err.Error(), "another projector") {
		t.Errorf("commit from a stale checkpoint: %v, want a refusal", err)
	}
	after := e.dump(ScorecardSchema)
	for table := range before {
		if after[table] != before[table] {
			t.Errorf("%s changed:\n%s\nthen:\n%s", table, before[table], after[table])
		}
	}
}

// refetch reads the first n events of the stream again, through a fresh
// ephemeral consumer.
func (e *env) refetch(n int) []jetstream.Msg {
	e.t.Helper()
	stream, err := e.store.JetStream().Stream(e.ctx(), e.store.StreamName())
	if err != nil {
		e.t.Fatal(err)
	}
	eph, err := stream.CreateConsumer(e.ctx(), jetstream.ConsumerConfig{
		AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		e.t.Fatal(err)
	}
	batch, err := eph.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := drain(batch)
	if err != nil || len(msgs) != n {
		e.t.Fatalf("fetched %d messages, %v; want %d", len(msgs), err, n)
	}
	return msgs
}

// roundTrips counts network round trips to PostgreSQL: a write that follows a
// read (or starts a connection) begins one; pipelined writes do not.
type roundTrips struct{ n atomic.Int64 }

type countingConn struct {
	net.Conn
	trips   *roundTrips
	writing atomic.Bool
}

func (c *countingConn) Write(b []byte) (int, error) {
	if !c.writing.Swap(true) {
		c.trips.n.Add(1)
	}
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	c.writing.Store(false)
	return c.Conn.Read(b)
}

// countingPool opens a pool on the test database that counts round trips.
func (e *env) countingPool() (*pgxpool.Pool, *roundTrips) {
	e.t.Helper()
	cfg, err := pgxpool.ParseConfig(e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	trips := &roundTrips{}
	var d net.Dialer
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, trips: trips}, nil
	}
	pool, err := pgxpool.NewWithConfig(e.ctx(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(pool.Close)
	return pool, trips
}

// TestProjectorRoundTrips: a batch of 500 events costs a handful of round
// trips to PostgreSQL, not one or more per event.
func TestProjectorRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	issue := e.issue("Graduation")
	objective := e.objective(issue, domain.Results, "Students graduate")
	for i := range 10 {
		m := e.measure(objective, "Measure "+string(rune('A'+i)), "%", domain.HigherIsBetter,
			uuid.Nil, "")
		e.target(m, "2001-M06", 50)
		e.reports(m, 99)
	}
	if e.last() < 1000 {
		t.Fatalf("wrote %d events, want at least 1000", e.last())
	}

	pool, trips := e.countingPool()
	// The lock's connection checks itself every LockPoll; not during this test.
	p := e.projector(pool, ScorecardSchema, Config{BatchSize: 500, LockPoll: time.Hour})
	var mu sync.Mutex
	var batches []uint64 // last sequence of each batch
	var perBatch []int64
	prev := trips.n.Load()
	p.afterCommit = func(last uint64) {
		mu.Lock()
		defer mu.Unlock()
		n := trips.n.Load()
		batches, perBatch = append(batches, last), append(perBatch, n-prev)
		prev = n
	}
	stop := e.run(context.Background(), p)
	e.waitFor(ScorecardSchema, e.last())
	stop()

	mu.Lock()
	defer mu.Unlock()
	if len(batches) < 2 || batches[0] != 500 || batches[1] != 1000 {
		t.Fatalf("batches ended at %v, want 500, 1000, ...", batches)
	}
	t.Logf("round trips per batch: %v (the first includes connecting, taking the "+
		"lock on a connection of its own and reading the checkpoint)", perBatch)
	if perBatch[1] > 8 {
		t.Errorf("a batch of 500 events took %d round trips, want at most 8", perBatch[1])
	}
	if perBatch[0] > 20 {
		t.Errorf("the first batch of 500 events took %d round trips, want at most 20",
			perBatch[0])
	}
}

// TestProjectorPassesAHoleInTheStream: the event store denies deletes, but if an
// operator removes a message anyway, the projector moves past the missing
// sequence instead of waiting for it forever.
func TestProjectorPassesAHoleInTheStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	ctx, js, last := e.ctx(), e.store.JetStream(), e.last()

	// A copy of the stream that allows deletes, with one report removed.
	holey, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "HOLEY", Subjects: []string{"holey.>"}})
	if err != nil {
		t.Fatal(err)
	}
	source, err := js.Stream(ctx, e.store.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= last; seq++ {
		m, err := source.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "holey."+m.Subject, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	missing := last - 3
	if err := holey.DeleteMsg(ctx, missing); err != nil {
		t.Fatal(err)
	}

	var logs lockedBuffer
	p := NewProjector(e.pool, js, "HOLEY", NewScorecard("holey"), Config{
		BatchSize: 8, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	e.migrate("holey")
	e.run(ctx, p)
	e.waitFor("holey", last)

	if got := e.checkpointEvents("holey"); got != last-1 {
		t.Errorf("events applied = %d, want %d: all but the missing one", got, last-1)
	}
	if !strings.Contains(logs.String(), "moving past it") ||
		!strings.Contains(logs.String(), "sequence="+strconv.FormatUint(missing, 10)) {
		t.Errorf("the hole at %d was not reported; logs:\n%s", missing, logs.String())
	}
}

// failing fails every batch that holds the event at sequence bad, while
// broken, with err or else "cannot apply this event".
type failing struct {
	Projection
	bad    uint64
	err    error
	broken atomic.Bool
}

func (p *failing) Apply(ctx context.Context, tx pgx.Tx, events []domain.Event) error {
	for _, e := range events {
		if e.Sequence == p.bad && p.broken.Load() {
			if p.err != nil {
				return p.err
			}
			return errors.New("cannot apply this event")
		}
	}
	return p.Projection.Apply(ctx, tx, events)
}

// TestProjectorStuckOnAnEvent: with PoisonStop, an event that fails to apply
// holds the read model just before it, Status names it (in any process, not
// only the one that runs the projector), and once it applies (after a fix)
// the projector catches up.
func TestProjectorStuckOnAnEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	last := e.last()
	bad := last / 2

	p := e.projector(e.pool, ScorecardSchema, Config{OnPoison: PoisonStop})
	broken := &failing{Projection: p.projection, bad: bad}
	broken.broken.Store(true)
	p.projection = broken
	e.run(context.Background(), p)

	// Another process's view: a projector of the same read model that does not run.
	observer := e.projector(e.pool, ScorecardSchema, Config{})
	e.waitFor(ScorecardSchema, bad-1)
	var status domain.ProjectorStatus
	deadline := time.Now().Add(10 * time.Second)
	for len(status.Poisoned) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		var err error
		if status, err = observer.Status(e.ctx()); err != nil {
			t.Fatalf("Status: %v", err)
		}
	}
	if len(status.Poisoned) != 1 || status.Poisoned[0].Sequence != bad ||
		status.Poisoned[0].Parked || !strings.Contains(status.Poisoned[0].Error, "cannot apply") {
		t.Fatalf("poisoned = %+v, want event %d, not parked", status.Poisoned, bad)
	}
	if status.Position != bad-1 || status.Behind != last-bad+1 {
		t.Errorf("position %d, behind %d; want %d and %d", status.Position, status.Behind,
			bad-1, last-bad+1)
	}

	if !status.Active {
		t.Errorf("status = %+v, want the projector active", status)
	}
	time.Sleep(time.Second) // several retries: PoisonStop never skips it
	if got, _ := observer.Position(e.ctx()); got != bad-1 {
		t.Fatalf("position %d after retries, want %d: stuck before event %d", got, bad-1, bad)
	}

	broken.broken.Store(false)
	e.waitFor(ScorecardSchema, last)
	status, err := observer.Status(e.ctx())
	if err != nil || len(status.Poisoned) != 0 {
		t.Errorf("after the fix: poisoned %+v, %v; want none", status.Poisoned, err)
	}
	e.project("rebuild", Config{})
	e.sameReadModel(ScorecardSchema, "rebuild")
}
