package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	bbhttp "github.com/backbone-ci/backbone/http"
	"github.com/backbone-ci/backbone/http/web"
	"github.com/backbone-ci/backbone/projections"
)

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/backbone?sslmode=disable"

// serveConfig is what "backbone serve" runs with.
type serveConfig struct {
	data        string
	natsURL     string
	databaseURL string
	httpAddr    string
	importDir   string
	syncAlways  bool
	replicas    int
	projectors  bool
	adminToken  string
	// baseURL and secureCookies serve the web UI behind a TLS proxy.
	baseURL       string
	secureCookies bool
	natsListen    string
	onPoison      projections.PoisonPolicy
}

func serveFlags(args []string) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.data, "data", env("BACKBONE_DATA", "./data"),
		"directory of the embedded JetStream's files (BACKBONE_DATA)")
	fs.StringVar(&c.natsURL, "nats-url", env("NATS_URL", ""),
		"use this NATS server instead of the embedded one (NATS_URL)")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", defaultDatabaseURL),
		"PostgreSQL URL; the database is created if missing (DATABASE_URL)")
	fs.StringVar(&c.httpAddr, "http", env("BACKBONE_HTTP", ":8080"),
		"HTTP listen address (BACKBONE_HTTP)")
	fs.StringVar(&c.importDir, "import", "", "import this dataset directory once serving")
	fs.BoolVar(&c.syncAlways, "sync-always", env("BACKBONE_SYNC_ALWAYS", "") == "true",
		"embedded JetStream fsyncs every write before acknowledging it (BACKBONE_SYNC_ALWAYS)")
	fs.IntVar(&c.replicas, "replicas", 1, "stream replicas on a NATS cluster")
	fs.BoolVar(&c.projectors, "projectors", true, "run the projectors in this process")
	fs.StringVar(&c.natsListen, "nats-listen", env("BACKBONE_NATS_LISTEN", ""),
		"the embedded NATS also serves clients here, such as \"backbone project\" "+
			"processes (BACKBONE_NATS_LISTEN)")
	onPoison := poisonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.onPoison, err = projections.ParsePoisonPolicy(*onPoison); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	c.adminToken = os.Getenv("BACKBONE_ADMIN_TOKEN")
	c.baseURL = os.Getenv("BACKBONE_BASE_URL")
	c.secureCookies = os.Getenv("BACKBONE_SECURE_COOKIES") == "true"
	return c, nil
}

// serve is "backbone serve": the API and, by default, the projectors and an
// embedded NATS JetStream, until ctx is cancelled (Ctrl-C or SIGTERM).
func serve(ctx context.Context, args []string) error {
	cfg, err := serveFlags(args)
	if err != nil {
		return err
	}
	log := newLogger()

	pool, err := openDatabase(ctx, cfg.databaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	acc, err := accounts.Open(ctx, pool)
	if err != nil {
		return err
	}
	generated, err := acc.EnsureAdmin(ctx, cfg.adminToken)
	if err != nil {
		return err
	}
	if generated != "" {
		fmt.Fprintf(os.Stderr, "\nGenerated the admin token (shown once; keep it safe):\n\n"+
			"    %s\n\nSet BACKBONE_ADMIN_TOKEN to choose your own.\n\n", generated)
	}

	nc, closeNATS, err := connectNATS(cfg, log)
	if err != nil {
		return err
	}
	defer closeNATS()
	store, err := eventstore.Open(ctx, nc, eventstore.Config{Replicas: cfg.replicas})
	if err != nil {
		return err
	}
	projectors, err := projectorService(ctx, pool, store.JetStream(), store.StreamName(),
		nil, cfg.onPoison, log)
	if err != nil {
		return err
	}

	api, err := newAPI(cfg, pool, store, acc, projectors, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.httpAddr, err)
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // a read may wait for ?after=SEQ
		IdleTimeout:       2 * time.Minute,
	}
	log.Info("listening", "addr", ln.Addr().String())

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("serve HTTP: %w", err)
		}
	})
	if cfg.projectors {
		wg.Go(func() {
			if err := runProjectors(runCtx, projectors); err != nil {
				errs <- fmt.Errorf("projectors: %w", err)
			}
		})
	}
	if cfg.importDir != "" {
		wg.Go(func() {
			if err := importOnStart(runCtx, acc, ln.Addr(), cfg.importDir); err != nil {
				log.Error("import failed", "dir", cfg.importDir, "err", err)
			}
		})
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errs:
		log.Error("stopping", "err", err)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdown); serr != nil {
		log.Error("shut down HTTP", "err", serr)
	}
	stopRun()
	wg.Wait()
	log.Info("stopped")
	return err
}

// newAPI wires the JSON API and the web UI to the command service and to every
// read model.
func newAPI(cfg serveConfig, pool *pgxpool.Pool, store *eventstore.Store, acc *accounts.Store,
	ops domain.Operations, log *slog.Logger) (*bbhttp.Server, error) {
	commands := &domain.Commands{Store: store}
	reads := projections.NewReader(pool, projections.ScorecardSchema)
	funding := projections.NewFundingReader(pool, projections.FundingSchema)
	activity := projections.NewActivityReader(pool, projections.ActivitySchema)
	api := bbhttp.New(bbhttp.Config{
		Commands:     commands,
		Reads:        reads,
		Auth:         acc,
		Funding:      funding,
		Activity:     activity,
		StrategyMaps: reads,
		Logger:       log,
		// Status and metrics of every projector, wherever it runs (project.go).
		Operations: ops,
	})
	ui, err := web.New(web.Config{
		Commands:      commands,
		Reads:         reads,
		Accounts:      acc,
		Partners:      reads,
		Maps:          reads,
		Funding:       funding,
		Activity:      activity,
		Logger:        log,
		BaseURL:       cfg.baseURL,
		SecureCookies: cfg.secureCookies,
	})
	if err != nil {
		return nil, err
	}
	ui.Mount(api.Echo())
	return api, nil
}

// importOnStart imports a dataset through this server's own API with a token of
// its own, so that the README's run command is one line.
func importOnStart(ctx context.Context, acc *accounts.Store, addr net.Addr, dir string) error {
	token := accounts.NewToken()
	if err := acc.SetToken(ctx, token, "import", domain.RoleAdmin, nil); err != nil {
		return err
	}
	port := addr.(*net.TCPAddr).Port
	return importDir(ctx, fmt.Sprintf("http://127.0.0.1:%d", port), token, dir, "")
}

// connectNATS connects to the external NATS when one is configured, else starts
// the embedded server with its files under the data directory.
func connectNATS(cfg serveConfig, log *slog.Logger) (*nats.Conn, func(), error) {
	if cfg.natsURL != "" {
		nc, err := nats.Connect(cfg.natsURL, nats.Name("backbone"), nats.MaxReconnects(-1))
		if err != nil {
			return nil, nil, fmt.Errorf("connect to NATS at %s: %w", cfg.natsURL, err)
		}
		log.Info("connected to NATS", "url", nc.ConnectedUrlRedacted())
		return nc, func() { closeConn(nc) }, nil
	}
	dir := filepath.Join(cfg.data, "jetstream")
	srv, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{
		Dir: dir, SyncAlways: cfg.syncAlways, Listen: cfg.natsListen})
	if err != nil {
		return nil, nil, err
	}
	nc, err := srv.Connect()
	if err != nil {
		srv.Shutdown()
		return nil, nil, err
	}
	log.Info("embedded NATS JetStream started", "dir", dir, "sync_always", cfg.syncAlways,
		"client_url", srv.ClientURL())
	return nc, func() {
		closeConn(nc)
		srv.Shutdown()
	}, nil
}

// closeConn flushes what the connection still buffers, then closes it.
func closeConn(nc *nats.Conn) {
	_ = nc.FlushTimeout(5 * time.Second)
	nc.Close()
}
