package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/eventstore"
	bbhttp "github.com/backbone-ci/backbone/http"
	"github.com/backbone-ci/backbone/projections"
)

// projectConfig is what "backbone project" runs with.
type projectConfig struct {
	natsURL     string
	databaseURL string
	httpAddr    string
	onPoison    projections.PoisonPolicy
	names       []string
}

func projectFlags(args []string) (projectConfig, error) {
	var c projectConfig
	fs := flag.NewFlagSet("project", flag.ContinueOnError)
	fs.StringVar(&c.natsURL, "nats-url", env("NATS_URL", ""),
		"the NATS server of the event stream, such as serve's --nats-listen (NATS_URL)")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", defaultDatabaseURL),
		"PostgreSQL URL; the database is created if missing (DATABASE_URL)")
	fs.StringVar(&c.httpAddr, "http", env("BACKBONE_HTTP", ""),
		"serve /livez, /readyz, /metrics and /api/v1/status here; none when empty "+
			"(BACKBONE_HTTP)")
	onPoison := poisonFlag(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: backbone project [flags] [NAME...]\n\n"+
			"Runs the projectors of the named read models (all when none is named: %s).\n"+
			"Several processes may run the same projector: one is active, the others\n"+
			"stand by and take over when it stops.\n\n", strings.Join(projections.Names(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.onPoison, err = projections.ParsePoisonPolicy(*onPoison); err != nil {
		return c, err
	}
	if c.natsURL == "" {
		return c, errors.New("project needs the NATS server of the event stream: pass " +
			"--nats-url or set NATS_URL (serve's embedded server listens with --nats-listen)")
	}
	c.names = fs.Args()
	return c, nil
}

// poisonFlag defines --on-poison, the projectors' poison policy.
func poisonFlag(fs *flag.FlagSet) *string {
	return fs.String("on-poison", env("BACKBONE_ON_POISON", string(projections.PoisonPark)),
		"what a projector does with an event it cannot apply: park it and go on, or "+
			"stop at it (BACKBONE_ON_POISON)")
}

// project is "backbone project": the projectors of some read models, without
// the API, until ctx is cancelled.
func project(ctx context.Context, args []string) error {
	cfg, err := projectFlags(args)
	if err != nil {
		return err
	}
	log := newLogger()

	pool, err := openDatabase(ctx, cfg.databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, closeNATS, err := connectNATS(serveConfig{natsURL: cfg.natsURL}, log)
	if err != nil {
		return err
	}
	defer closeNATS()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	svc, err := projectorService(ctx, pool, js, streamName(), cfg.names, cfg.onPoison, log)
	if err != nil {
		return err
	}

	stopHTTP, err := serveOperations(cfg.httpAddr, svc, log)
	if err != nil {
		return err
	}
	defer stopHTTP()
	log.Info("projecting", "read_models", strings.Join(svc.Names(), ","),
		"on_poison", cfg.onPoison)
	return runProjectors(ctx, svc)
}

// streamName is the event stream "project" and "rebuild" read. They only read
// it: serve creates it and sets its replicas.
func streamName() string { return eventstore.Config{}.StreamConfig().Name }

// projectorService returns the projectors of the named read models (all when
// none is named), their schemas created or brought up to date.
func projectorService(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream,
	stream string, names []string, onPoison projections.PoisonPolicy,
	log *slog.Logger) (*projections.Service, error) {
	svc, err := projections.NewService(pool, js, stream, names,
		projections.Config{Logger: log, OnPoison: onPoison})
	if err != nil {
		return nil, err
	}
	if err := svc.Migrate(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// runProjectors runs the Service's projectors until ctx is cancelled. Each
// waits for its read model's lock first, so any number of processes may run
// them.
func runProjectors(ctx context.Context, svc *projections.Service) error {
	return svc.Run(ctx)
}

// serveOperations serves the operations routes on addr, when it is not empty,
// until the returned function is called.
func serveOperations(addr string, svc *projections.Service,
	log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: bbhttp.NewOperations(svc, log),
		ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	log.Info("listening", "addr", ln.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve HTTP", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
