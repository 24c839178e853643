package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// readLoop reads the live scorecard read model over and over, as the API
// does, and remembers what would show a reader a part-built read model.
type readLoop struct {
	reads     atomic.Int64
	mu        sync.Mutex
	failures  []string
	measures  int // the most measures seen
	series    int // the most points of the watched measure seen
	stop      func()
	stoppedCh chan struct{}
}

func (e *env) readLoop(issue, watched uuid.UUID) *readLoop {
	ctx, cancel := context.WithCancel(e.ctx())
	l := &readLoop{stop: cancel, stoppedCh: make(chan struct{})}
	r := NewReader(e.pool, ScorecardSchema)
	go func() {
		defer close(l.stoppedCh)
		for ctx.Err() == nil {
			l.check(ctx, r, issue, watched)
		}
	}()
	return l
}

func (l *readLoop) check(ctx context.Context, r *Reader, issue, watched uuid.UUID) {
	issues, err1 := r.Issues(ctx)
	_, err2 := r.Scorecard(ctx, issue)
	m, err3 := r.Measure(ctx, watched)
	if ctx.Err() != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads.Add(1)
	if err := errors.Join(err1, err2, err3); err != nil {
		l.failures = append(l.failures, "read: "+err.Error())
		return
	}
	n := 0
	for _, i := range issues {
		n += i.Measures
	}
	if n < l.measures {
		l.failures = append(l.failures, fmt.Sprintf("%d measures after %d", n, l.measures))
	}
	if len(m.Series) < l.series {
		l.failures = append(l.failures, fmt.Sprintf("%d points after %d", len(m.Series),
			l.series))
	}
	l.measures, l.series = max(l.measures, n), max(l.series, len(m.Series))
}

func (l *readLoop) finish() []string {
	l.stop()
	<-l.stoppedCh
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures
}

// TestRebuildWhileReading rebuilds the scorecard while the live projector
// runs, events keep coming and readers keep reading: no read fails or sees
// less than it saw before, the rebuilt read model holds exactly what a fresh
// one does, and the live projector carries on in it.
func TestRebuildWhileReading(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	e.reports(g.surveyed, 200)
	live := e.projector(e.pool, ScorecardSchema, Config{LockPoll: 50 * time.Millisecond})
	e.run(context.Background(), live)
	e.waitFor(ScorecardSchema, e.last())
	// What a rebuild stopped halfway left behind.
	if _, err := e.pool.Exec(e.ctx(), `CREATE SCHEMA scorecard_next;
		CREATE TABLE scorecard_next.leftover (x int)`); err != nil {
		t.Fatal(err)
	}

	reads := e.readLoop(g.issue, g.surveyed)
	writes := e.writeLoop(g.surveyed)

	var mu sync.Mutex
	var progress []RebuildProgress
	final, err := Rebuild(e.ctx(), e.pool, e.store.JetStream(), e.store.StreamName(),
		ScorecardSchema, RebuildConfig{
			Projector:     Config{BatchSize: 10, Logger: testLogger(t)},
			ProgressEvery: 10 * time.Millisecond,
			Progress: func(p RebuildProgress) {
				mu.Lock()
				defer mu.Unlock()
				progress = append(progress, p)
			},
		})
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	written := writes.finish()
	e.report(g.dollars, "1999", 1) // after the switch, for the live projector
	e.waitFor(ScorecardSchema, e.last())
	failures := reads.finish()

	t.Logf("%d reads and %d writes during the rebuild; %d progress reports; final %+v",
		reads.reads.Load(), written, len(progress), final)
	for _, f := range failures {
		t.Errorf("a reader saw a part-built read model: %s", f)
	}
	if reads.reads.Load() < 10 || written < 5 {
		t.Errorf("%d reads and %d writes during the rebuild, want more", reads.reads.Load(),
			written)
	}
	if !final.Done || len(progress) < 2 || progress[0].Applied >= progress[0].Last {
		t.Errorf("progress %+v, then %+v; want reports from the start to done",
			progress[0], final)
	}

	e.project("fresh", Config{})
	e.sameReadModel(ScorecardSchema, "fresh")
	if got := e.checkpointEvents(ScorecardSchema); got != e.last() {
		t.Errorf("events applied = %d, want %d: each exactly once", got, e.last())
	}
	e.noLeftovers()
}

// writeLoop reports values of a measure until finish, and counts them.
type writeLoop struct {
	n      atomic.Int64
	stop   func()
	doneCh chan struct{}
}

func (e *env) writeLoop(measure uuid.UUID) *writeLoop {
	ctx, cancel := context.WithCancel(e.ctx())
	w := &writeLoop{stop: cancel, doneCh: make(chan struct{})}
	go func() {
		defer close(w.doneCh)
		for i := 0; i < 10_000 && ctx.Err() == nil; i++ {
			v := float64(i)
			_, err := e.cmd.ReportProgress(ctx, meta, domain.ReportProgress{
				MeasureID: measure.String(), Value: &v,
				Period: fmt.Sprintf("%04d-M%02d", 1901+i/12, 1+i%12)})
			if err != nil {
				return // ctx cancelled; a real failure shows as fewer writes
			}
			w.n.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return w
}

func (w *writeLoop) finish() int64 {
	w.stop()
	<-w.doneCh
	return w.n.Load()
}

// noLeftovers checks that the rebuild dropped the old schema, the half-built
// one an earlier rebuild left, and its own consumer.
func (e *env) noLeftovers() {
	e.t.Helper()
	var schemas []string
	rows, err := e.pool.Query(e.ctx(), `SELECT nspname FROM pg_namespace
		WHERE nspname LIKE 'scorecard%' ORDER BY nspname`)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		schemas = append(schemas, s)
	}
	if strings.Join(schemas, ",") != ScorecardSchema {
		e.t.Errorf("schemas %v, want only %s", schemas, ScorecardSchema)
	}
	var leftover bool
	err = e.pool.QueryRow(e.ctx(), `SELECT to_regclass('scorecard.leftover') IS NOT NULL`).
		Scan(&leftover)
	if err != nil || leftover {
		e.t.Errorf("the leftover table of an earlier rebuild was switched in (%v)", err)
	}
	_, err = e.store.JetStream().Consumer(e.ctx(), e.store.StreamName(),
		"projector-scorecard_next")
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		e.t.Errorf("the rebuild's consumer: %v, want it deleted", err)
	}
}

func TestRebuildRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	js, stream := e.store.JetStream(), e.store.StreamName()

	t.Run("an unknown read model", func(t *testing.T) {
		_, err := Rebuild(e.ctx(), e.pool, js, stream, "nonsense", RebuildConfig{})
		if err == nil || !strings.Contains(err.Error(), "no read model") {
			t.Errorf("Rebuild: %v, want no such read model", err)
		}
	})

	t.Run("a second rebuild of the same read model", func(t *testing.T) {
		lock, err := waitLock(e.ctx(), e.pool.Config().ConnConfig,
			runLockID(ScorecardSchema+"_next"), 0, nil)
		if err != nil || lock == nil {
			t.Fatalf("take the lock: %v", err)
		}
		defer lock.release()
		_, err = Rebuild(e.ctx(), e.pool, js, stream, ScorecardSchema, RebuildConfig{})
		if err == nil || !strings.Contains(err.Error(), "already running") {
			t.Errorf("Rebuild: %v, want already running", err)
		}
	})
}

// TestRebuildFirstTime: a read model that was never built is built by its
// rebuild.
func TestRebuildFirstTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	_, err := Rebuild(e.ctx(), e.pool, e.store.JetStream(), e.store.StreamName(),
		ScorecardSchema, RebuildConfig{Projector: Config{Logger: testLogger(t)}})
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if _, err := NewReader(e.pool, ScorecardSchema).Scorecard(e.ctx(), g.issue); err != nil {
		t.Errorf("Scorecard after the first rebuild: %v", err)
	}
	e.project("fresh", Config{})
	e.sameReadModel(ScorecardSchema, "fresh")
}
