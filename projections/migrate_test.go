package projections

import (
	"io/fs"
	"testing"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("a schema is created with its tables and goose versions inside it", func(t *testing.T) {
		e.migrate("scorecard_next")
		var tables []string
		rows, err := e.pool.Query(e.ctx(), `SELECT table_name FROM information_schema.tables
			WHERE table_schema = 'scorecard_next' ORDER BY table_name`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, name)
		}
		want := []string{"actuals", "checkpoint", "commitments", "disaggregations",
			"goose_db_version",
			"goose_projector_version", "issues", "measures", "objective_links", "objectives",
			"parked_events", "partners", "targets"}
		if !equal(tables, want) {
			t.Errorf("tables = %q, want %q", tables, want)
		}
		var public int
		err = e.pool.QueryRow(e.ctx(), `SELECT count(*) FROM information_schema.tables
			WHERE table_schema = 'public'`).Scan(&public)
		if err != nil || public != 0 {
			t.Errorf("%d tables in public, %v; want none", public, err)
		}
	})

	t.Run("migrating again changes nothing", func(t *testing.T) {
		e.migrate("scorecard_next")
		files, _ := fs.Glob(NewScorecard("").Migrations(), "*.sql")
		var versions int
		err := e.pool.QueryRow(e.ctx(),
			`SELECT count(*) FROM scorecard_next.goose_db_version WHERE version_id > 0`).
			Scan(&versions)
		if err != nil || versions != len(files) {
			t.Errorf("%d scorecard migrations recorded, %v; want %d", versions, err, len(files))
		}
	})

	t.Run("two schemas hold two independent read models", func(t *testing.T) {
		e.migrate("")
		for _, schema := range []string{ScorecardSchema, "scorecard_next"} {
			if got, err := position(e.ctx(), e.pool, schema); err != nil || got != 0 {
				t.Errorf("checkpoint of %s = %d, %v; want 0", schema, got, err)
			}
		}
	})

	t.Run("processes starting together migrate one after the other", func(t *testing.T) {
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- Migrate(e.ctx(), e.pool, "scorecard_together") }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("Migrate: %v", err)
			}
		}
	})

	t.Run("a schema name that is not a plain identifier is refused", func(t *testing.T) {
		for _, name := range []string{"", "Scorecard", "score-card", "a;drop", "pg_x",
			"1st"} {
			if err := CheckSchema(name); err == nil {
				t.Errorf("CheckSchema(%q) = nil, want an error", name)
			}
		}
		if err := Migrate(e.ctx(), e.pool, "bad name"); err == nil {
			t.Errorf("Migrate into %q succeeded", "bad name")
		}
	})
}
