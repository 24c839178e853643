package projections

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// process is one of several processes running the same projector: a
// projector on a pool of its own, whose connections carry its name.
type process struct {
	name    string
	p       *Projector
	commits atomic.Int64
	stop    func()
}

// start runs a projector of the scorecard as a process of its own.
func (e *env) start(name string, cfg Config) *process {
	e.t.Helper()
	pc := &process{name: name}
	pc.p = e.projector(e.namedPool(name), ScorecardSchema, cfg)
	pc.p.afterCommit = func(uint64) { pc.commits.Add(1) }
	pc.stop = e.run(context.Background(), pc.p)
	return pc
}

// namedPool opens a pool on the test database whose connections are named
// application_name, so that a test can cut them off.
func (e *env) namedPool(name string) *pgxpool.Pool {
	e.t.Helper()
	cfg, err := pgxpool.ParseConfig(e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	pool, err := pgxpool.NewWithConfig(e.ctx(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(pool.Close)
	return pool
}

// crash ends a process as a crash would: the database drops all its
// connections, its lock among them, and it does nothing more.
func (e *env) crash(pc *process) {
	e.t.Helper()
	_, err := e.pool.Exec(e.ctx(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, pc.name)
	if err != nil {
		e.t.Fatalf("cut %s off: %v", pc.name, err)
	}
	pc.stop()
}

// active waits until some process holds the scorecard's lock and returns
// whether it did within 10s.
func (e *env) active() bool {
	e.t.Helper()
	for range 200 {
		var held bool
		if err := e.pool.QueryRow(e.ctx(), selectLockHeld,
			runLockID(ScorecardSchema)).Scan(&held); err != nil {
			e.t.Fatal(err)
		}
		if held {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestTwoProjectorProcesses: of two processes running the same projector, one
// applies events and the other stands by; when the first dies, the second
// takes over; every event is applied exactly once.
func TestTwoProjectorProcesses(t *testing.T) {
	t.Parallel()
	cfg := Config{BatchSize: 8, LockPoll: 50 * time.Millisecond}

	t.Run("the standby takes over when the active one dies", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		g := writeGraduation(e)
		first := e.start("first", cfg)
		e.waitFor(ScorecardSchema, e.last())
		second := e.start("second", cfg)
		time.Sleep(200 * time.Millisecond) // several polls of the standby

		e.reports(g.surveyed, 60)
		e.waitFor(ScorecardSchema, e.last())
		if n := second.commits.Load(); n != 0 {
			t.Errorf("the standby committed %d batches while the first ran", n)
		}

		e.crash(first)
		e.reports(g.dollars, 60)
		e.waitFor(ScorecardSchema, e.last())
		if !second.committed() {
			t.Errorf("the standby never took over")
		}
		if got := e.checkpointEvents(ScorecardSchema); got != e.last() {
			t.Errorf("events applied = %d, want %d: each exactly once", got, e.last())
		}
		e.project("fresh", Config{})
		e.sameReadModel(ScorecardSchema, "fresh")
	})

	t.Run("of processes started together only one applies events", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		writeBacklog(e)
		procs := []*process{e.start("one", cfg), e.start("two", cfg), e.start("three", cfg)}
		e.waitFor(ScorecardSchema, e.last())

		active := 0
		for _, pc := range procs {
			if pc.commits.Load() > 0 {
				active++
			}
		}
		if active != 1 {
			t.Errorf("%d processes committed, want exactly one", active)
		}
		if got := e.checkpointEvents(ScorecardSchema); got != e.last() {
			t.Errorf("events applied = %d, want %d: each exactly once", got, e.last())
		}
	})

	t.Run("a stopped process hands over at once", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		g := writeGraduation(e)
		first := e.start("first", Config{LockPoll: time.Hour})
		e.waitFor(ScorecardSchema, e.last())
		if !e.active() {
			t.Fatal("no process holds the lock")
		}
		first.stop()
		if held := e.lockHeld(); held {
			t.Errorf("the lock is still held after the projector stopped")
		}
		second := e.start("second", cfg)
		e.report(g.surveyed, "2014", 7)
		e.waitFor(ScorecardSchema, e.last())
		if !second.committed() {
			t.Errorf("the second process applied nothing")
		}
	})
}

// committed reports whether the process committed a batch. A commit shows in
// the database a moment before the process counts it.
func (pc *process) committed() bool {
	for range 100 {
		if pc.commits.Load() > 0 {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func (e *env) lockHeld() bool {
	e.t.Helper()
	var held bool
	err := e.pool.QueryRow(e.ctx(), selectLockHeld, runLockID(ScorecardSchema)).Scan(&held)
	if err != nil {
		e.t.Fatal(err)
	}
	return held
}
