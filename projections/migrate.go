package projections

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// schemaName is what a read model's schema may be called: it is written into
// SQL, so it is kept to plain lower-case identifiers.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CheckSchema reports whether name can be a read model's schema: lower-case
// letters, digits and underscores, starting with a letter or underscore.
func CheckSchema(name string) error {
	if !schemaName.MatchString(name) || strings.HasPrefix(name, "pg_") {
		return fmt.Errorf("schema %q: use lower-case letters, digits and underscores", name)
	}
	return nil
}

// mustSchema panics on a schema name that CheckSchema refuses; constructors use
// it, since a bad name is a configuration mistake caught at start-up.
func mustSchema(name string) string {
	if err := CheckSchema(name); err != nil {
		panic(err)
	}
	return name
}

// inSchema puts a query's tables in a schema: each "{schema}." becomes
// "<schema>.".
func inSchema(schema, query string) string {
	return strings.ReplaceAll(query, "{schema}.", schema+".")
}

// Migrate creates or updates the scorecard read model in schema
// (ScorecardSchema when ""); cmd runs it at start-up, before the Reader and the
// Projector use the schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if schema == "" {
		schema = ScorecardSchema
	}
	if err := CheckSchema(schema); err != nil {
		return err
	}
	return MigrateProjection(ctx, pool, NewScorecard(schema))
}

// MigrateProjection creates the projection's schema if it is missing and brings its tables
// up to date with goose: first the projector's checkpoint tables, then the
// projection's own. Each set keeps its goose version table inside the schema,
// so a read model rebuilt into a fresh schema starts from version 0. It is safe
// to run from several processes at once: a PostgreSQL advisory lock per schema
// serializes them.
func MigrateProjection(ctx context.Context, pool *pgxpool.Pool, p Projection) error {
	schema := p.Schema()
	if err := CheckSchema(schema); err != nil {
		return err
	}
	if err := createSchema(ctx, pool, schema); err != nil {
		return err
	}

	own, err := fs.Sub(migrations, "migrations/projector")
	if err != nil {
		return fmt.Errorf("projector migrations: %w", err)
	}
	steps := []struct {
		versions string
		fsys     fs.FS
	}{
		{"goose_projector_version", own},
		{"goose_db_version", p.Migrations()},
	}
	for _, s := range steps {
		if err := migrate(ctx, pool, schema, s.versions, s.fsys); err != nil {
			return err
		}
	}
	return nil
}

// createSchema creates the schema unless it exists. Concurrent CREATE SCHEMA IF
// NOT EXISTS can still collide in PostgreSQL, so the migration lock is held.
func createSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID(schema)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// migrate runs one set of goose migrations on a connection whose search_path
// is the schema, so their unqualified tables land in it.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema, versions string,
	fsys fs.FS) error {
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID(schema)))
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithTableName(schema+"."+versions),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrations of %s: %w", schema, err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", schema, err)
	}
	return nil
}

// lockID is the advisory lock that serializes migrations of one schema.
func lockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("backbone migrate " + schema))
	return int64(h.Sum64() >> 1)
}
