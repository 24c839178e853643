// Package testenv gives each test its own real infrastructure: an embedded NATS
// JetStream server in a temporary directory and a fresh PostgreSQL database on
// the local server, both removed when the test ends.
package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/backbone-ci/backbone/eventstore"
)

// AdminURL is the PostgreSQL server tests create their databases on; override it
// with BACKBONE_TEST_DATABASE_URL.
func AdminURL() string {
	if u := os.Getenv("BACKBONE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Database creates an empty database for the test and returns its URL. The
// database is dropped when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "bbtest_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]

	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("connect to test PostgreSQL at %s: %v", AdminURL(), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})

	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		t.Fatalf("parse %s: %v", AdminURL(), err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// Pool opens a connection pool on a fresh database, closed when the test ends.
func Pool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	url := Database(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("open pool on %s: %v", url, err)
	}
	t.Cleanup(pool.Close)
	return pool, url
}

// NATS starts an embedded JetStream server in a temporary directory and returns a
// connection to it; both end with the test.
func NATS(t testing.TB) (*eventstore.Embedded, *nats.Conn) {
	t.Helper()
	srv, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("start embedded NATS: %v", err)
	}
	nc, err := srv.Connect()
	if err != nil {
		srv.Shutdown()
		t.Fatalf("connect to embedded NATS: %v", err)
	}
	t.Cleanup(func() {
		nc.Close()
		srv.Shutdown()
	})
	return srv, nc
}

// Store opens the event store on a fresh embedded JetStream server.
func Store(t testing.TB) (*eventstore.Store, *nats.Conn) {
	t.Helper()
	_, nc := NATS(t)
	s, err := eventstore.Open(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatalf("open event store: %v", err)
	}
	return s, nc
}
