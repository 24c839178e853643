package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// RebuildConfig tunes Rebuild; the zero RebuildConfig is ready to use.
type RebuildConfig struct {
	// Projector configures the projector that builds the new schema; its
	// Logger also receives the rebuild's lifecycle.
	Projector Config
	// Progress, when set, receives how far the rebuild is about every
	// ProgressEvery (default 500ms), and once more when it is done.
	Progress      func(RebuildProgress)
	ProgressEvery time.Duration
	// GiveUpAfter is how long the new schema may stay stuck on an event (see
	// PoisonStop) before the rebuild gives up; default one minute.
	GiveUpAfter time.Duration
}

// RebuildProgress is how far a rebuild is.
type RebuildProgress struct {
	// Name is the read model being rebuilt.
	Name string
	// Applied is the last sequence the new schema holds; Last is the stream's
	// newest.
	Applied, Last uint64
	// Elapsed is the time since the rebuild started; Rate is the events
	// applied per second over it.
	Elapsed time.Duration
	Rate    float64
	// Switching is set once the new schema has caught up and is being switched
	// in; Done once it has been.
	Switching, Done bool
	// Stuck is the event the new schema is stuck on, if any.
	Stuck *domain.Poison
}

// switchBacklog is the most events the switch applies in its own transaction,
// while readers wait; the new schema catches up to within a quarter of it
// before the switch is tried.
const switchBacklog = 200

// switchAttempts bounds the tries to switch, each refused by a lock held too
// long by a reader or by a backlog grown meanwhile.
const switchAttempts = 20

// Rebuild builds the named read model again from the start of the stream into
// a fresh schema, NAME_next, while the live one keeps serving, and switches it
// in once it has caught up: holding the read model's commit lock, so that the
// live projector waits between two batches, it applies the last events, then
// one transaction takes the live read model's tables and renames NAME to
// NAME_old_<time> and NAME_next to NAME. Readers, whose SQL names NAME, see the
// old read model until that commit and the new one after it, never a part-built
// one. The old schema and the new one's consumer are dropped afterwards; the
// live projector, wherever it runs, finds its checkpoint moved and resumes at
// the new one. A second rebuild of the same read model fails at once. A rebuild
// that stops halfway leaves NAME untouched; the next one drops its NAME_next.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, stream,
	name string, cfg RebuildConfig) (RebuildProgress, error) {
	if _, err := New(name, ""); err != nil {
		return RebuildProgress{}, err
	}
	r, err := newRebuild(pool, js, stream, name, cfg)
	if err != nil {
		return RebuildProgress{}, err
	}

	lock, err := waitLock(ctx, pool.Config().ConnConfig, runLockID(r.next), 0, nil)
	if err != nil {
		return RebuildProgress{}, err
	}
	if lock == nil {
		if ctx.Err() != nil {
			return RebuildProgress{}, ctx.Err()
		}
		return RebuildProgress{}, fmt.Errorf("a rebuild of %s is already running", name)
	}
	err = lock.hold(ctx, r.cfg.Projector.LockPoll, r.run)
	if err != nil {
		return r.progress, fmt.Errorf("rebuild %s: %w", name, err)
	}
	return r.progress, nil
}

// rebuild is one run of Rebuild.
type rebuild struct {
	pool     *pgxpool.Pool
	js       jetstream.JetStream
	stream   string
	name     string
	next     string
	cfg      RebuildConfig
	log      *slog.Logger
	p        *Projector
	started  time.Time
	progress RebuildProgress
}

func newRebuild(pool *pgxpool.Pool, js jetstream.JetStream, stream, name string,
	cfg RebuildConfig) (*rebuild, error) {
	cfg.Projector = cfg.Projector.withDefaults()
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 500 * time.Millisecond
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = time.Minute
	}
	next := name + "_next"
	proj, err := New(name, next)
	if err != nil {
		return nil, err
	}
	live, _ := New(name, "")
	if proj.Name() == live.Name() {
		return nil, fmt.Errorf("read model %s names its consumer after its schema, "+
			"so it cannot be rebuilt beside the live one", name)
	}
	log := cfg.Projector.Logger.With("rebuild", name)
	return &rebuild{
		pool: pool, js: js, stream: stream, name: name, next: next, cfg: cfg, log: log,
		p:        NewProjector(pool, js, stream, proj, cfg.Projector),
		started:  time.Now(),
		progress: RebuildProgress{Name: name},
	}, nil
}

// run builds NAME_next from scratch and switches it in.
func (r *rebuild) run(ctx context.Context) error {
	if err := r.reset(ctx); err != nil {
		return err
	}
	if err := MigrateProjection(ctx, r.pool, r.p.projection); err != nil {
		return err
	}
	r.log.Info("rebuild started", "schema", r.next)

	for attempt := 1; ; attempt++ {
		if err := r.catchUp(ctx); err != nil {
			return err
		}
		old, err := r.switchIn(ctx)
		if err == nil {
			r.cleanUp(ctx, old)
			return nil
		}
		if ctx.Err() != nil || attempt == switchAttempts {
			return fmt.Errorf("switch in %s: %w", r.next, err)
		}
		r.log.Info("rebuild retries the switch", "attempt", attempt, "err", err)
		sleep(ctx, time.Duration(attempt)*100*time.Millisecond)
	}
}

// reset drops what an earlier rebuild left: the NAME_next schema and its
// consumer.
func (r *rebuild) reset(ctx context.Context) error {
	_, err := r.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{r.next}.Sanitize()+
		" CASCADE")
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", r.next, err)
	}
	return r.deleteConsumer(ctx)
}

func (r *rebuild) deleteConsumer(ctx context.Context) error {
	err := r.js.DeleteConsumer(ctx, r.stream, r.p.consumer)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("delete consumer %s: %w", r.p.consumer, err)
	}
	return nil
}

// catchUp runs the new schema's projector until it is within a quarter of
// switchBacklog of the stream's end, reporting progress. It gives up when the
// new schema stays stuck on an event longer than GiveUpAfter.
func (r *rebuild) catchUp(ctx context.Context) error {
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.p.runActive(runCtx)
	}()
	defer func() {
		stop()
		<-done
	}()

	tick := time.NewTicker(r.cfg.ProgressEvery)
	defer tick.Stop()
	for {
		s, err := r.p.Status(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("rebuild cannot read its progress", "err", err)
		}
		if err == nil {
			r.report(s, false)
			if s.Behind <= switchBacklog/4 {
				return nil
			}
			stuck := r.progress.Stuck
			if stuck != nil && time.Since(stuck.At) > r.cfg.GiveUpAfter {
				return fmt.Errorf("the new read model is stuck on event %d (%s) since %s: "+
					"%s; the live read model is untouched", stuck.Sequence, stuck.EventType,
					stuck.At.Format(time.RFC3339), stuck.Error)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// report passes how far the new schema is to the Progress callback.
func (r *rebuild) report(s domain.ProjectorStatus, switching bool) {
	p := &r.progress
	p.Applied, p.Last, p.Switching = s.Position, s.StreamLast, switching
	p.Elapsed = time.Since(r.started)
	p.Rate = float64(p.Applied) / max(p.Elapsed.Seconds(), 1e-3)
	p.Stuck = nil
	for _, x := range s.Poisoned {
		if !x.Parked {
			p.Stuck = &x
		}
	}
	if r.cfg.Progress != nil {
		r.cfg.Progress(*p)
	}
}

// switchIn swaps the new schema in and returns the name the old one was given
// ("" when there was none). It holds the live read model's commit lock, on a
// connection of its own, from before the new schema's last catch-up until the
// rename has committed: the live projector, wherever it runs, waits between
// two batches, so the new schema is switched in at or past the live one's
// position and readers never go back in the stream.
func (r *rebuild) switchIn(ctx context.Context) (string, error) {
	conn, err := pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, "SET lock_timeout = '10s'"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", commitLockID(r.name)); err != nil {
		return "", fmt.Errorf("take the commit lock of %s: %w", r.name, err)
	}

	applied, err := r.applyLast(ctx)
	if err != nil {
		return "", err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("begin: %w", err)
	}
	defer rollback(ctx, tx)
	exists, err := r.lockLive(ctx, tx)
	if err != nil {
		return "", err
	}
	old := ""
	if exists {
		old = fmt.Sprintf("%s_old_%s", r.name, time.Now().UTC().Format("20060102150405"))
		if err := CheckSchema(old); err != nil {
			old = r.name + "_old"
		}
		if err := renameSchema(ctx, tx, r.name, old); err != nil {
			return "", err
		}
	}
	if err := renameSchema(ctx, tx, r.next, r.name); err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	r.switched(applied, old)
	return old, nil
}

// switched reports the switch as done.
func (r *rebuild) switched(applied uint64, old string) {
	p := &r.progress
	p.Applied, p.Last = applied, max(p.Last, applied)
	p.Elapsed = time.Since(r.started)
	p.Rate = float64(applied) / max(p.Elapsed.Seconds(), 1e-3)
	p.Switching, p.Done, p.Stuck = true, true, nil
	if r.cfg.Progress != nil {
		r.cfg.Progress(*p)
	}
	r.log.Info("rebuild switched the read model in", "sequence", applied, "old_schema", old,
		"took", p.Elapsed.Round(time.Millisecond))
}

// lockLive takes, inside tx, every table of the live read model, so that no
// reader is between two queries of one read when the schemas are renamed. A
// reader holding a table longer than the lock timeout makes the switch give
// way and retry, rather than keep other readers waiting. It reports whether
// the live schema exists.
func (r *rebuild) lockLive(ctx context.Context, tx pgx.Tx) (bool, error) {
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '500ms'"); err != nil {
		return false, err
	}
	rows, err := tx.Query(ctx, selectRelations, r.name)
	if err != nil {
		return false, fmt.Errorf("list the tables of %s: %w", r.name, err)
	}
	relations, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, fmt.Errorf("list the tables of %s: %w", r.name, err)
	}
	if len(relations) == 0 {
		return false, nil
	}
	lock := "LOCK TABLE " + strings.Join(relations, ", ") + " IN ACCESS EXCLUSIVE MODE"
	if _, err := tx.Exec(ctx, lock); err != nil {
		return false, fmt.Errorf("lock the tables of %s: %w", r.name, err)
	}
	return true, nil
}

// selectRelations lists the tables and views of a schema, qualified and quoted.
const selectRelations = `
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY c.relname`

// applyLast applies the events the new schema still lacks, read straight from
// the stream, in one committed batch, and returns its new position. It
// refuses more than switchBacklog events: those are caught up by the
// projector, outside the switch.
func (r *rebuild) applyLast(ctx context.Context) (uint64, error) {
	from, err := r.p.Position(ctx)
	if err != nil {
		return 0, err
	}
	s, err := r.js.Stream(ctx, r.stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", r.stream, err)
	}
	last := s.CachedInfo().State.LastSeq
	if last <= from {
		return from, nil
	}
	if last-from > switchBacklog {
		return 0, fmt.Errorf("%d events arrived since the catch-up", last-from)
	}

	var msgs []message
	for seq := from + 1; seq <= last; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // a hole in the stream; see passHole
		}
		if err != nil {
			return 0, fmt.Errorf("read event %d: %w", seq, err)
		}
		msgs = append(msgs, rawMessage(m))
	}
	if len(msgs) == 0 {
		return from, nil
	}
	tx, err := r.p.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer rollback(ctx, tx)
	if err := r.p.write(ctx, tx, from, msgs); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit events up to %d: %w", last, err)
	}
	return msgs[len(msgs)-1].seq, nil
}

// cleanUp drops the old schema and the new one's consumer: the live
// projector has its own. Failing that is logged, not fatal: the switch is done.
func (r *rebuild) cleanUp(ctx context.Context, old string) {
	if old != "" {
		if err := dropSchema(ctx, r.pool, old); err != nil {
			r.log.Warn("rebuild cannot drop the old schema; drop it by hand",
				"schema", old, "err", err)
		}
	}
	if err := r.deleteConsumer(ctx); err != nil {
		r.log.Warn("rebuild cannot delete its consumer; delete it by hand", "err", err)
	}
}

// dropSchema drops a schema nobody reads any more, retrying when a lock is
// still held a moment after the switch.
func dropSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "DROP SCHEMA "+ident(schema)+" CASCADE")
			return err
		})
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
			return err
		}
		sleep(ctx, time.Duration(attempt)*200*time.Millisecond)
	}
	return err
}

func renameSchema(ctx context.Context, tx pgx.Tx, from, to string) error {
	if _, err := tx.Exec(ctx, "ALTER SCHEMA "+ident(from)+" RENAME TO "+ident(to)); err != nil {
		return fmt.Errorf("rename schema %s to %s: %w", from, to, err)
	}
	return nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
