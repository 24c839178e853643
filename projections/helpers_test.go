package projections

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	"github.com/backbone-ci/backbone/internal/testenv"
)

// env is one test's own event store, database and command service.
type env struct {
	t     testing.TB
	c     context.Context
	store *eventstore.Store
	pool  *pgxpool.Pool
	url   string
	cmd   *domain.Commands
}

func newEnv(t testing.TB) *env {
	t.Helper()
	store, _ := testenv.Store(t)
	pool, url := testenv.Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, c: ctx, store: store, pool: pool, url: url,
		cmd: &domain.Commands{Store: store}}
}

func (e *env) ctx() context.Context { return e.c }

// migrate creates a scorecard read model in schema.
func (e *env) migrate(schema string) {
	e.t.Helper()
	if err := Migrate(e.ctx(), e.pool, schema); err != nil {
		e.t.Fatalf("migrate %s: %v", schema, err)
	}
}

// projector returns a scorecard projector into schema, migrated, on pool.
func (e *env) projector(pool *pgxpool.Pool, schema string, cfg Config) *Projector {
	e.t.Helper()
	e.migrate(schema)
	if cfg.Logger == nil {
		cfg.Logger = testLogger(e.t)
	}
	return NewProjector(pool, e.store.JetStream(), e.store.StreamName(), NewScorecard(schema),
		cfg)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// run runs p until ctx is cancelled, the returned stop is called or the test
// ends; stop waits until Run returned and checks that it returned nil.
func (e *env) run(ctx context.Context, p *Projector) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(30 * time.Second):
				e.t.Errorf("Run did not return within 30s of cancellation")
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// last returns the sequence of the newest event on the stream.
func (e *env) last() uint64 {
	e.t.Helper()
	seq, err := e.store.LastSequence(e.ctx())
	if err != nil {
		e.t.Fatalf("last sequence: %v", err)
	}
	return seq
}

// waitFor waits until the read model in schema has applied seq.
func (e *env) waitFor(schema string, seq uint64) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := position(e.ctx(), e.pool, schema)
		if err != nil {
			e.t.Fatalf("position of %s: %v", schema, err)
		}
		if got >= seq {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("read model %s is at %d after 30s, want %d", schema, got, seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// project runs a fresh projector into schema until it has applied the whole
// stream, then stops it.
func (e *env) project(schema string, cfg Config) {
	e.t.Helper()
	stop := e.run(context.Background(), e.projector(e.pool, schema, cfg))
	e.waitFor(schema, e.last())
	stop()
}

var meta = domain.Meta{Actor: "token:test"}

func must(t testing.TB, r domain.Result, err error) domain.Result {
	t.Helper()
	if err != nil {
		t.Fatalf("command: %v", err)
	}
	return r
}

func (e *env) partner(name string, kind domain.PartnerKind) uuid.UUID {
	e.t.Helper()
	r, err := e.cmd.RegisterPartner(e.ctx(), meta,
		domain.RegisterPartner{Name: name, Kind: string(kind)})
	return must(e.t, r, err).Event.AggregateID
}

func (e *env) issue(title string) uuid.UUID {
	e.t.Helper()
	r, err := e.cmd.LaunchIssue(e.ctx(), meta,
		domain.LaunchIssue{Title: title, Description: "About " + title})
	return must(e.t, r, err).Event.AggregateID
}

func (e *env) objective(issue uuid.UUID, p domain.Perspective, title string) uuid.UUID {
	e.t.Helper()
	r, err := e.cmd.DefineObjective(e.ctx(), meta, domain.DefineObjective{
		IssueID: issue.String(), Perspective: string(p), Title: title})
	return must(e.t, r, err).Event.AggregateID
}

// measure defines a measure; owner may be uuid.Nil and baseline "" for none,
// else "period=value".
func (e *env) measure(objective uuid.UUID, name, unit string, p domain.Polarity,
	owner uuid.UUID, baseline string) uuid.UUID {
	e.t.Helper()
	c := domain.DefineMeasure{ObjectiveID: objective.String(), Name: name, Unit: unit,
		Polarity: string(p), Kind: string(domain.PopulationIndicator)}
	if owner != uuid.Nil {
		c.OwnerPartnerID = owner.String()
	}
	if baseline != "" {
		period, value, _ := strings.Cut(baseline, "=")
		var v float64
		fmt.Sscan(value, &v)
		c.BaselinePeriod, c.BaselineValue = period, &v
	}
	r, err := e.cmd.DefineMeasure(e.ctx(), meta, c)
	return must(e.t, r, err).Event.AggregateID
}

func (e *env) target(measure uuid.UUID, period string, v float64) domain.Result {
	e.t.Helper()
	r, err := e.cmd.SetTarget(e.ctx(), meta,
		domain.SetTarget{MeasureID: measure.String(), Period: period, Value: &v})
	return must(e.t, r, err)
}

// report reports a value; key is "period" or "period/disaggregation".
func (e *env) report(measure uuid.UUID, key string, v float64) domain.Result {
	e.t.Helper()
	period, disaggregation, _ := strings.Cut(key, "/")
	r, err := e.cmd.ReportProgress(e.ctx(), meta, domain.ReportProgress{
		MeasureID: measure.String(), Period: period, Disaggregation: disaggregation,
		Value: &v, Note: "reported in a test", Source: "test.csv"})
	return must(e.t, r, err)
}

func (e *env) correct(measure uuid.UUID, key string, v float64, reason string) domain.Result {
	e.t.Helper()
	period, disaggregation, _ := strings.Cut(key, "/")
	r, err := e.cmd.CorrectProgress(e.ctx(), meta, domain.CorrectProgress{
		MeasureID: measure.String(), Period: period, Disaggregation: disaggregation,
		Value: &v, Reason: reason})
	return must(e.t, r, err)
}

// readModelTables are the scorecard's tables, compared whole between read models.
var readModelTables = []string{"partners", "issues", "objectives", "objective_links",
	"measures", "targets", "actuals", "disaggregations", "commitments"}

// dump returns every row of a read model as text, table by table, with the
// checkpoint's sequence and event count.
func (e *env) dump(schema string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, table := range readModelTables {
		var rows string
		q := fmt.Sprintf(`SELECT coalesce(string_agg(to_jsonb(t)::text, E'\n'
			ORDER BY to_jsonb(t)::text), '') FROM %s.%s t`, schema, table)
		if err := e.pool.QueryRow(e.ctx(), q).Scan(&rows); err != nil {
			e.t.Fatalf("dump %s.%s: %v", schema, table, err)
		}
		out[table] = rows
	}
	var seq, events int64
	q := fmt.Sprintf(`SELECT sequence, events FROM %s.checkpoint`, schema)
	if err := e.pool.QueryRow(e.ctx(), q).Scan(&seq, &events); err != nil {
		e.t.Fatalf("dump %s.checkpoint: %v", schema, err)
	}
	out["checkpoint"] = fmt.Sprintf("sequence=%d events=%d", seq, events)
	return out
}

// sameReadModel fails the test unless two read models hold the same rows.
func (e *env) sameReadModel(got, want string) {
	e.t.Helper()
	g, w := e.dump(got), e.dump(want)
	for table := range w {
		if g[table] != w[table] {
			e.t.Errorf("%s.%s differs from %s.%s:\ngot:\n%s\nwant:\n%s",
				got, table, want, table, g[table], w[table])
		}
	}
}

// checkpointEvents returns how many events the read model counted as applied.
func (e *env) checkpointEvents(schema string) uint64 {
	e.t.Helper()
	var n uint64
	q := fmt.Sprintf(`SELECT events FROM %s.checkpoint`, schema)
	if err := e.pool.QueryRow(e.ctx(), q).Scan(&n); err != nil {
		e.t.Fatalf("read %s.checkpoint: %v", schema, err)
	}
	return n
}

// reports reports n monthly values of a measure, from January 2001 on.
func (e *env) reports(measure uuid.UUID, n int) {
	e.t.Helper()
	for i := range n {
		period := fmt.Sprintf("%04d-M%02d", 2001+i/12, 1+i%12)
		v := float64(i % 97)
		_, err := e.cmd.ReportProgress(e.ctx(), meta, domain.ReportProgress{
			MeasureID: measure.String(), Period: period, Value: &v})
		if err != nil {
			e.t.Fatalf("report %s: %v", period, err)
		}
	}
}
