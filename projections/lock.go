package projections

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Two PostgreSQL advisory locks per read model schema keep its writers apart.
//
// The run lock makes one projector active: Run holds it, as a session lock, on
// a connection of its own for as long as it applies events. PostgreSQL
// releases it when that connection ends, however the process ends (a crash, a
// kill, a lost network), and a standby that polls for it takes over. The
// active projector checks its connection at the same pace and stops when it is
// lost, so two projectors overlap at most that long; even then the guarded
// checkpoint keeps every event applied once.
//
// The commit lock lets a rebuild switch schemas between two batches: every
// batch's transaction holds it shared from its first statement, and the
// switch holds it exclusively, so no batch writes partly into the old schema
// and partly into the new one.

// runLockID is the run lock of the read model in schema.
func runLockID(schema string) int64 { return advisoryID("backbone project " + schema) }

// commitLockID is the commit lock of the read model in schema.
func commitLockID(schema string) int64 { return advisoryID("backbone commit " + schema) }

func advisoryID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int64(h.Sum64() >> 1)
}

// selectLockHeld reports whether some session holds the session advisory lock
// $1 in this database. pg_locks shows a bigint key as two halves.
const selectLockHeld = `
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND (classid::bigint << 32 | objid::bigint) = $1)`

// errLockLost is returned when the connection that held a lock failed: the
// lock may already be another process's.
var errLockLost = errors.New("lost the read model's lock")

// Run applies events until ctx is cancelled, then returns nil. It first waits
// for the read model's run lock, so that of several processes running the
// same projector one applies events and the others stand by; when the active
// one ends or loses its database connection, a standby takes over within
// LockPoll. Failures (the database or the stream unavailable, a poison event)
// are logged and retried with growing pauses; each retry resumes at the
// checkpoint.
func (p *Projector) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		err := p.runLocked(ctx)
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, errLockLost):
			failures = 0
			p.log.Warn("projector lost its lock and stands by", "err", err)
		case err != nil:
			failures++
			wait := backoff(failures)
			p.log.Error("projector cannot take its lock", "err", err, "retry_in", wait)
			sleep(ctx, wait)
		}
	}
	p.log.Info("projector stopped")
	return nil
}

// runLocked waits for the run lock and applies events while it holds it.
func (p *Projector) runLocked(ctx context.Context) error {
	schema := p.projection.Schema()
	lock, err := waitLock(ctx, p.pool.Config().ConnConfig, runLockID(schema), p.cfg.LockPoll,
		func() {
			p.log.Info("projector stands by: another process runs it", "schema", schema)
		})
	if err != nil || lock == nil {
		return err
	}
	p.log.Info("projector is active", "schema", schema)
	return lock.hold(ctx, p.cfg.LockPoll, p.runActive)
}

// sessionLock is a session advisory lock held by a connection of its own.
type sessionLock struct {
	conn *pgx.Conn
	id   int64
}

// waitLock connects and tries to take the advisory lock id every poll until it
// holds it; waiting is called once, when another session holds it. With poll
// <= 0 it tries once. It returns nil and no error when ctx ended or, trying
// once, the lock is taken.
func waitLock(ctx context.Context, cfg *pgx.ConnConfig, id int64, poll time.Duration,
	waiting func()) (*sessionLock, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect for the lock: %w", err)
	}
	for tries := 0; ; tries++ {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, id).Scan(&ok)
		switch {
		case ok:
			return &sessionLock{conn: conn, id: id}, nil
		case ctx.Err() != nil:
			closeConn(conn)
			return nil, nil
		case err != nil:
			closeConn(conn)
			return nil, fmt.Errorf("take lock: %w", err)
		case poll <= 0:
			closeConn(conn)
			return nil, nil
		case tries == 0 && waiting != nil:
			waiting()
		}
		sleep(ctx, poll)
	}
}

// hold runs f with a context that is cancelled when the lock's connection
// fails, checked every poll, then releases the lock. It returns f's error, or
// one wrapping errLockLost when the connection failed.
func (l *sessionLock) hold(ctx context.Context, poll time.Duration,
	f func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan error, 1)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ctx.Err() == nil {
			sleep(ctx, poll)
			if err := l.check(ctx, poll); err != nil && ctx.Err() == nil {
				lost <- err
				cancel()
				return
			}
		}
	}()

	err := f(ctx)
	cancel()
	<-watched
	l.release()
	select {
	case why := <-lost:
		return fmt.Errorf("%w: %v", errLockLost, why)
	default:
		return err
	}
}

// check pings the lock's connection: while its session lives, it holds the
// lock.
func (l *sessionLock) check(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, max(timeout, 5*time.Second))
	defer cancel()
	return l.conn.Ping(ctx)
}

// release unlocks, so that a standby sees the lock free at once, and ends the
// lock's session, which would release it anyway.
func (l *sessionLock) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !l.conn.IsClosed() {
		_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.id)
	}
	closeConn(l.conn)
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
