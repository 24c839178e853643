package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	"github.com/backbone-ci/backbone/projections"
)

// "backbone bench" measures a full rebuild of every read model on a stream of
// generated events (benchdata.go), how fast the projectors go (benchrebuild.go)
// against raw pgx writes of equivalent rows (benchraw.go), and prints the
// figures beside issue 3's targets. It brings its own embedded JetStream in a
// temporary directory and its own database, and removes both at the end.

// benchConfig is what "backbone bench" runs with.
type benchConfig struct {
	workload    workloadConfig
	databaseURL string
	keep        bool
	cpuProfile  string
	memProfile  string
	batchSize   int
	window      int
	timeout     time.Duration
	sqlStats    bool
	pgxTypes    bool
}

// The targets of issue 3.
const (
	targetRatio   = 0.5               // of the raw upsert rate
	targetSeconds = 30.0              // for a rebuild of targetEvents
	targetEvents  = 1_000_000         //
	targetMemory  = 400 * 1024 * 1024 // peak resident bytes
)

func benchFlags(args []string) (benchConfig, error) {
	c := benchConfig{}
	w := &c.workload
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&w.Events, "events", 1_000_000, "events to generate, set-up included")
	fs.IntVar(&w.Partners, "partners", 300, "partners")
	fs.IntVar(&w.Issues, "issues", 5, "issues")
	fs.IntVar(&w.Objectives, "objectives", 20, "objectives per issue")
	fs.IntVar(&w.Measures, "measures", 2000, "measures, spread over the objectives")
	fs.Uint64Var(&w.Seed, "seed", 1, "seed of the workload: the same seed, the same rows")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", defaultDatabaseURL),
		"PostgreSQL server to bench on; bench creates a database of its own there")
	fs.BoolVar(&c.keep, "keep", false,
		"keep the database and the JetStream directory, and print where they are")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the rebuild here")
	fs.StringVar(&c.memProfile, "memprofile", "",
		"write the allocations of the rebuild here (go tool pprof -sample_index=alloc_space)")
	fs.BoolVar(&c.sqlStats, "sql-stats", false,
		"time the rebuild's SQL statements from pgx's side and list the slowest")
	fs.BoolVar(&c.pgxTypes, "pgx-types", false,
		"register projections.RegisterTypes on the pool's connections, which serve does not yet")
	fs.IntVar(&c.batchSize, "batch-size", 0, "events per projector transaction (default 500)")
	fs.IntVar(&c.window, "window", 4096, "async publishes in flight at most")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute,
		"give up when the read models have not caught up by then")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	if c.window < 1 {
		return c, fmt.Errorf("--window must be at least 1")
	}
	return c, nil
}

// benchCommand is "backbone bench".
func benchCommand(ctx context.Context, args []string) error {
	return bench(ctx, args, os.Stdout)
}

// bench runs the benchmark and prints its report to out.
func bench(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := benchFlags(args)
	if err != nil {
		return err
	}
	if cfg.memProfile != "" {
		// Sample allocations only once the rebuild starts (watchMemory).
		runtime.MemProfileRate = 0
	}
	w, err := newWorkload(cfg.workload, time.Now)
	if err != nil {
		return err
	}
	b, err := openBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.close(out)
	fmt.Fprintf(out, "backbone bench: %d events (seed %d), read models %s\n",
		cfg.workload.Events, cfg.workload.Seed, strings.Join(projections.Names(), ", "))
	fmt.Fprintf(out, "on database %s, JetStream in %s\n%s\n\n", b.dbName, b.dir, machine())

	written, err := b.publish(ctx, w)
	if err != nil {
		return err
	}
	written.print(out, w.count)

	rebuilt, err := b.rebuild(ctx)
	if err != nil {
		return err
	}
	rebuilt.print(out)
	if b.trace != nil {
		b.trace.print(out, 15)
	}

	raw, err := b.raw(ctx)
	if err != nil {
		return err
	}
	raw.print(out)

	printVerdict(out, rebuilt, raw)
	return nil
}

// benchEnv is the benchmark's own infrastructure: an embedded JetStream in a
// temporary directory and a fresh database.
type benchEnv struct {
	cfg    benchConfig
	dir    string
	srv    *eventstore.Embedded
	nc     *nats.Conn
	store  *eventstore.Store
	pool   *pgxpool.Pool
	admin  *pgx.ConnConfig // the server's maintenance database
	dbName string
	log    *slog.Logger
	trace  *sqlStats // with --sql-stats
}

// openBench starts the embedded JetStream and creates the database; close
// undoes whatever part of it was done.
func openBench(ctx context.Context, cfg benchConfig) (b *benchEnv, err error) {
	b = &benchEnv{cfg: cfg, log: slog.New(slog.NewTextHandler(os.Stderr,
		&slog.HandlerOptions{Level: slog.LevelWarn}))}
	defer func() {
		if err != nil {
			b.close(io.Discard)
		}
	}()

	if b.dir, err = os.MkdirTemp("", "backbone-bench-"); err != nil {
		return b, fmt.Errorf("temporary directory: %w", err)
	}
	b.srv, err = eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: b.dir})
	if err != nil {
		return b, err
	}
	if b.nc, err = b.srv.Connect(); err != nil {
		return b, err
	}
	if b.store, err = eventstore.Open(ctx, b.nc, eventstore.Config{}); err != nil {
		return b, err
	}

	pc, err := pgxpool.ParseConfig(cfg.databaseURL)
	if err != nil {
		return b, fmt.Errorf("database URL: %w", err)
	}
	b.admin = pc.ConnConfig.Copy()
	b.admin.Database = "postgres"
	b.dbName = "backbone_bench_" + randomHex(6)
	pc.ConnConfig.Database = b.dbName
	pc.MaxConns = int32(len(projections.Names()) + 4)
	if cfg.sqlStats {
		b.trace = newSQLStats()
		pc.ConnConfig.Tracer = b.trace
	}
	if cfg.pgxTypes {
		pc.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
			projections.RegisterTypes(conn.TypeMap())
			return nil
		}
	}
	if err := createDatabase(ctx, pc.ConnConfig); err != nil {
		b.dbName = ""
		return b, err
	}
	if b.pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return b, fmt.Errorf("open database %s: %w", b.dbName, err)
	}
	return b, nil
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// close stops the servers and, unless --keep, drops the database and removes
// the directory. It runs even when ctx was cancelled.
func (b *benchEnv) close(out io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if b.pool != nil {
		b.pool.Close()
	}
	if b.nc != nil {
		closeConn(b.nc)
	}
	if b.srv != nil {
		b.srv.Shutdown()
	}
	if b.cfg.keep {
		fmt.Fprintf(out, "\nkept database %s and JetStream directory %s\n", b.dbName, b.dir)
		return
	}
	if b.dbName != "" {
		if err := dropDatabase(ctx, b.admin, b.dbName); err != nil {
			b.log.Error("drop the bench database", "database", b.dbName, "err", err)
		}
	}
	if b.dir != "" {
		if err := os.RemoveAll(b.dir); err != nil {
			b.log.Error("remove the bench directory", "dir", b.dir, "err", err)
		}
	}
}

func dropDatabase(ctx context.Context, admin *pgx.ConnConfig, name string) error {
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+
		" WITH (FORCE)")
	return err
}

// benchEventTypeHeader is the header eventstore.Store.Append names each event's
// type in; projectors read it to report an event they cannot decode.
const benchEventTypeHeader = "Backbone-Event-Type"

// written is what the publishing phase did.
type written struct {
	events  int
	elapsed time.Duration
	bytes   int64 // JetStream's files on disk
	window  int
}

// publish writes the workload's events straight to the stream, encoded as
// eventstore.Store.Append encodes them, with async publishes of which at most
// a window is waiting for acknowledgement at a time. It skips domain.Commands
// and the per-subject concurrency check: the workload itself keeps aggregate
// versions and rules.
func (b *benchEnv) publish(ctx context.Context, w *workload) (written, error) {
	js, err := jetstream.New(b.nc, jetstream.WithPublishAsyncMaxPending(2*b.cfg.window))
	if err != nil {
		return written{}, fmt.Errorf("jetstream: %w", err)
	}
	pending := make([]jetstream.PubAckFuture, 0, b.cfg.window)
	started := time.Now()
	n := 0
	err = w.run(func(e domain.Event) error {
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode %s: %w", e.Type, err)
		}
		msg := nats.NewMsg(b.store.Subject(e.AggregateType, e.AggregateID))
		msg.Data = data
		msg.Header.Set(benchEventTypeHeader, e.Type)
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			return fmt.Errorf("publish event %d: %w", n+1, err)
		}
		n++
		if pending = append(pending, f); len(pending) == cap(pending) {
			return settle(ctx, js, &pending)
		}
		return nil
	})
	if err == nil {
		err = settle(ctx, js, &pending)
	}
	if err != nil {
		return written{}, err
	}
	return written{events: n, elapsed: time.Since(started), bytes: dirSize(b.dir),
		window: b.cfg.window}, nil
}

// settle waits until JetStream acknowledged every pending publish.
func settle(ctx context.Context, js jetstream.JetStream, pending *[]jetstream.PubAckFuture) error {
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Minute):
		return errors.New("JetStream acknowledged no publish for a minute")
	}
	for _, f := range *pending {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publish to %s: %w", f.Msg().Subject, err)
		}
	}
	*pending = (*pending)[:0]
	return nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func (r written) print(out io.Writer, count map[string]int) {
	fmt.Fprintf(out, "Events written straight to JetStream with async publishes, %d in flight "+
		"at most\n(not through domain.Commands: envelopes as Commands writes them, "+
		"without the per-subject\nconcurrency check):\n", r.window)
	fmt.Fprintf(out, "  %d events in %.2f s: %.0f events/s, %.0f MB on disk\n",
		r.events, r.elapsed.Seconds(), float64(r.events)/r.elapsed.Seconds(),
		float64(r.bytes)/1e6)
	types := make([]string, 0, len(count))
	for t := range count {
		types = append(types, t)
	}
	slices.SortFunc(types, func(a, b string) int { return count[b] - count[a] })
	for _, t := range types {
		fmt.Fprintf(out, "  %-30s %8d  %5.1f %%\n", t, count[t],
			100*float64(count[t])/float64(r.events))
	}
	fmt.Fprintln(out)
}

// printVerdict prints the summary and the targets, met or missed.
func printVerdict(out io.Writer, r rebuilt, raw rawResult) {
	rate := r.rate()
	ratio := rate / raw.upsert.rate()
	full := float64(targetEvents) / rate
	fullNote := "measured"
	if r.events != targetEvents {
		fullNote = fmt.Sprintf("projected from %d events", r.events)
	}
	fmt.Fprintf(out, "Summary:\n")
	fmt.Fprintf(out, "  %-24s %d\n", "events", r.events)
	fmt.Fprintf(out, "  %-24s %.2f\n", "rebuild seconds", r.elapsed.Seconds())
	fmt.Fprintf(out, "  %-24s %.0f\n", "rebuild events/s", rate)
	fmt.Fprintf(out, "  %-24s %.0f\n", "raw upsert rows/s", raw.upsert.rate())
	fmt.Fprintf(out, "  %-24s %.2f\n", "ratio rebuild/raw", ratio)
	fmt.Fprintf(out, "  %-24s %.1f (%s)\n", "seconds for 1M events", full, fullNote)
	fmt.Fprintf(out, "  %-24s %.0f\n", "peak resident MB", mb(r.peakRSS))
	fmt.Fprintf(out, "  %-24s %t\n", "caught up", r.caughtUp())

	fmt.Fprintf(out, "\nTargets (issue 3):\n")
	verdict(out, ratio >= targetRatio, "rebuild at least half the raw upsert rate: %.2f of it",
		ratio)
	verdict(out, full <= targetSeconds, "1,000,000 events rebuilt within 30 s: %.1f s (%s)",
		full, fullNote)
	verdict(out, r.peakRSS < targetMemory, "peak memory under 400 MB: %.0f MB", mb(r.peakRSS))
}

func verdict(out io.Writer, met bool, format string, args ...any) {
	mark := "MISSED"
	if met {
		mark = "met   "
	}
	fmt.Fprintf(out, "  %s %s\n", mark, fmt.Sprintf(format, args...))
}

func mb(bytes uint64) float64 { return float64(bytes) / (1024 * 1024) }

// machine describes the CPUs and how busy they already are: other work on the
// machine slows every figure.
func machine() string {
	return fmt.Sprintf("machine: %d CPUs, load average %s (1 min)", runtime.NumCPU(),
		loadAverage())
}

// loadAverage returns the load average over the last minute, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
