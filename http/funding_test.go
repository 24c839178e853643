package http_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
	api "github.com/backbone-ci/backbone/http"
	"github.com/backbone-ci/backbone/internal/tacoma"
	"github.com/backbone-ci/backbone/internal/testenv"
	"github.com/backbone-ci/backbone/projections"
)

// reportFixture is a server whose funding and activity read models are real:
// Graduate Tacoma's data and a few generated commitments, projected into
// PostgreSQL by projectors that run for the whole test.
type reportFixture struct {
	*fixture
	last uint64 // the stream's last sequence once everything was written
	// tricky is a commitment whose description needs CSV quoting and starts
	// like a spreadsheet formula.
	tricky uuid.UUID
}

// trickyDescription has quotes, commas and a line break, and starts with "=".
const trickyDescription = "=HYPERLINK(\"https://example.org\") \"Reading corps\", " +
	"tutors,\nbooks and a van"

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	store, _ := testenv.Store(t)
	pool, _ := testenv.Pool(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmds := &domain.Commands{Store: store}
	admin := domain.Meta{Actor: "token:admin"}
	dir := filepath.Join("..", "examples", "tacoma")
	if _, err := tacoma.Load(ctx, cmds, admin, dir); err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	f := &reportFixture{fixture: &fixture{t: t, store: store, reads: newFakeReads(),
		logs: &syncBuffer{}}}
	f.tricky = f.generate(ctx, cmds, admin)

	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, p := range []projections.Projection{projections.NewFunding(""),
		projections.NewActivity("")} {
		if err := projections.MigrateProjection(ctx, pool, p); err != nil {
			t.Fatalf("migrate %s: %v", p.Schema(), err)
		}
		run := projections.NewProjector(pool, store.JetStream(), store.StreamName(), p,
			projections.Config{Logger: log})
		wg.Go(func() { _ = run.Run(ctx) })
	}

	srv := api.New(api.Config{
		Commands:  cmds,
		Reads:     f.reads,
		Auth:      fakeAuth{},
		Logger:    slog.New(slog.NewJSONHandler(f.logs, nil)),
		AfterWait: 10 * time.Second,
		Funding:   projections.NewFundingReader(pool, ""),
		Activity:  projections.NewActivityReader(pool, ""),
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL

	var err error
	if f.last, err = store.LastSequence(ctx); err != nil {
		t.Fatal(err)
	}
	after := "?after=" + strconv.FormatUint(f.last, 10)
	for _, path := range []string{"/api/v1/funding", "/api/v1/activity"} {
		if res := f.do(http.MethodGet, path+after, ""); res.status != http.StatusOK {
			t.Fatalf("GET %s: status %d; body %s", path+after, res.status, res.body)
		}
	}
	return f
}

// generate adds to Tacoma's commitments what it lacks: pooled funding in a
// second currency, and a description that needs quoting. It returns the
// latter's ID.
func (f *reportFixture) generate(ctx context.Context, cmds *domain.Commands,
	admin domain.Meta) uuid.UUID {
	f.t.Helper()
	bank, err := cmds.RegisterPartner(ctx, admin, domain.RegisterPartner{
		Name: "Harbor Bank", Kind: "business"})
	if err != nil {
		f.t.Fatal(err)
	}
	euros := int64(1_234_567)
	_, err = cmds.MakeCommitment(ctx, admin, domain.MakeCommitment{
		PartnerID: bank.Event.AggregateID.String(), Pooled: true, Kind: "funding",
		Description: "Backbone staff", AmountCents: &euros, Currency: "EUR", Period: "2024"})
	if err != nil {
		f.t.Fatal(err)
	}
	dollars := int64(99_999)
	tricky, err := cmds.MakeCommitment(ctx, admin, domain.MakeCommitment{
		PartnerID: bank.Event.AggregateID.String(), IssueID: tacoma.ID("issue_id", "I01").String(),
		Kind: "in_kind", Description: trickyDescription, AmountCents: &dollars, Currency: "USD",
		Period: "2024"})
	if err != nil {
		f.t.Fatal(err)
	}
	return tricky.Event.AggregateID
}

// csvTable downloads a table of the funding report and parses it.
func (f *reportFixture) csvTable(query string) [][]string {
	f.t.Helper()
	res := f.do(http.MethodGet, "/api/v1/funding.csv?"+query, "")
	if res.status != http.StatusOK {
		f.t.Fatalf("GET funding.csv?%s: status %d; body %s", query, res.status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
		f.t.Errorf("Content-Type %q, want text/csv; charset=utf-8", got)
	}
	if got := res.header.Get("Content-Disposition"); !strings.HasPrefix(got,
		`attachment; filename="funding-`) {
		f.t.Errorf("Content-Disposition %q, want an attachment named funding-...", got)
	}
	records, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil {
		f.t.Fatalf("parse funding.csv?%s: %v\n%s", query, err, res.body)
	}
	return records
}

// cents parses a decimal amount of the CSV back into cents, exactly.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if !ok || len(frac) != 2 || err != nil {
		t.Fatalf("amount %q, want a decimal with two digits after the point", s)
	}
	return n
}

// sums adds up pledged and fulfilled cents per currency.
type sums map[string][2]int64

func (s sums) add(currency string, pledged, fulfilled int64) {
	v := s[currency]
	s[currency] = [2]int64{v[0] + pledged, v[1] + fulfilled}
}

func TestFundingAPI(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	var report domain.FundingReport
	getJSON(t, f.fixture, "/api/v1/funding", &report)
	gates := tacoma.ID("partner_id", "P05").String()

	t.Run("the report as JSON", func(t *testing.T) {
		for _, l := range report.ByFunder {
			if l.Key == gates && (l.PledgedCents != 250_000_000 || l.Currency != "USD") {
				t.Errorf("Gates Foundation %+v, want 250000000 cents in USD", l)
			}
		}
		if report.Pooled.IssuesServed != 2 || len(report.Pooled.ByFunder) != 1 {
			t.Errorf("pooled %+v, want Harbor Bank's serving 2 issues", report.Pooled)
		}
	})
	t.Run("filters", func(t *testing.T) {
		var r domain.FundingReport
		getJSON(t, f.fixture, "/api/v1/funding?partner_id="+gates+
			"&period=2019&kind=funding", &r)
		if len(r.Totals) != 1 || r.Totals[0].PledgedCents != 250_000_000 {
			t.Errorf("totals %+v, want the Gates Foundation's 250000000 cents", r.Totals)
		}
		issue := tacoma.ID("issue_id", "I02")
		getJSON(t, f.fixture, "/api/v1/funding?issue_id="+issue.String(), &r)
		for _, c := range r.Commitments {
			if c.IssueID == nil || *c.IssueID != issue {
				t.Errorf("commitment %+v in the report of issue I02", c)
			}
		}
	})
	for param, value := range map[string]string{"issue_id": "I01", "partner_id": "P05",
		"period": "soon", "kind": "action", "table": "by_colour"} {
		t.Run("a malformed "+param+" is named", func(t *testing.T) {
			path := "/api/v1/funding.csv?" + param + "=" + value
			wantProblem(t, f.do(http.MethodGet, path, ""), http.StatusBadRequest, param)
		})
	}

	tables := map[string][]domain.FundingLine{"totals": report.Totals,
		"by_funder": report.ByFunder, "by_issue": report.ByIssue,
		"by_objective": report.ByObjective, "by_period": report.ByPeriod,
		"pooled": report.Pooled.ByFunder}
	for name, lines := range tables {
		t.Run(name+" as CSV adds up to the JSON", func(t *testing.T) {
			records := f.csvTable("table=" + name)
			if len(records) != len(lines)+1 || records[0][3] != "pledged" {
				t.Fatalf("%d records with header %q, want %d lines and a header",
					len(records), records[0], len(lines))
			}
			fromCSV, fromJSON := sums{}, sums{}
			for i, r := range records[1:] {
				fromCSV.add(r[2], cents(t, r[3]), cents(t, r[4]))
				fromJSON.add(lines[i].Currency, lines[i].PledgedCents, lines[i].FulfilledCents)
				if r[0] != lines[i].Key || r[1] != lines[i].Label {
					t.Errorf("row %q, want key %q label %q", r, lines[i].Key, lines[i].Label)
				}
			}
			for currency, want := range fromJSON {
				if fromCSV[currency] != want {
					t.Errorf("%q sums to %v, want %v", currency, fromCSV[currency], want)
				}
			}
		})
	}
	t.Run("commitments as CSV", func(t *testing.T) {
		records := f.csvTable("")
		if len(records) != len(report.Commitments)+1 {
			t.Fatalf("%d records, want a header and %d commitments", len(records),
				len(report.Commitments))
		}
		pledged := sums{}
		for _, r := range records[1:] {
			if r[10] != "" {
				pledged.add(r[11], cents(t, r[10]), cents(t, r[12]))
			}
			if r[0] == f.tricky.String() && r[9] != "'"+trickyDescription {
				t.Errorf("description %q, want %q behind an apostrophe", r[9], trickyDescription)
			}
		}
		for _, total := range report.Totals {
			got := pledged[total.Currency]
			if got != [2]int64{total.PledgedCents, total.FulfilledCents} {
				t.Errorf("%q adds up to %v, want %d %d", total.Currency, got,
					total.PledgedCents, total.FulfilledCents)
			}
		}
	})
}

// TestReportsNotAvailable: a server given no funding or activity reader
// answers their routes with 404 "not available".
func TestReportsNotAvailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	for _, path := range []string{"/api/v1/funding", "/api/v1/funding.csv",
		"/api/v1/activity"} {
		p := wantProblem(t, f.do(http.MethodGet, path, ""), http.StatusNotFound)
		if !strings.Contains(p.Detail, "not available") {
			t.Errorf("GET %s: detail %q, want it to say not available", path, p.Detail)
		}
	}
}
