package projections

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// graduation is a small strategy map with one measure for each status a
// scorecard row can show.
type graduation struct {
	issue, other, commitment                     uuid.UUID
	district                                     uuid.UUID
	grad, readiness, reading, surveyed           uuid.UUID
	absence, suspensions, dollars                uuid.UUID
	gradVersion, absenceVersion, readinessReport domain.Result
	gradReports                                  []domain.Result
}

func writeGraduation(e *env) graduation {
	e.t.Helper()
	var g graduation
	g.district = e.partner("Tacoma Public Schools", domain.SchoolDistrict)
	e.partner("United Way of Pierce County", domain.UnitedWay)
	g.issue = e.issue("Graduation")
	g.other = e.issue("Attendance")

	// Objectives are defined out of their display order on purpose.
	invest := e.objective(g.issue, domain.Resources, "Partners invest")
	attend := e.objective(g.issue, domain.Processes, "Students attend school")
	ready := e.objective(g.issue, domain.Results, "Students graduate ready")
	families := e.objective(g.issue, domain.Stakeholders, "Families engaged")
	early := e.objective(g.issue, domain.Results, "Early readers")
	_, err := e.cmd.LinkObjectives(e.ctx(), meta, domain.LinkObjectives{
		CauseID: attend.String(), EffectID: ready.String()})
	if err != nil {
		e.t.Fatalf("link objectives: %v", err)
	}

	g.grad = e.measure(ready, "Graduation rate", "%", domain.HigherIsBetter, g.district,
		"2010=78")
	e.target(g.grad, "2013", 85)
	e.target(g.grad, "2014", 88)
	for _, r := range []struct {
		key string
		v   float64
	}{{"2012", 80}, {"2013", 86}, {"2013/race=White", 90}, {"2013/race=Black", 75},
		{"2014", 80}} {
		g.gradReports = append(g.gradReports, e.report(g.grad, r.key, r.v))
	}
	g.gradVersion = g.gradReports[len(g.gradReports)-1]

	g.readiness = e.measure(ready, "Kindergarten readiness", "%", domain.HigherIsBetter,
		uuid.Nil, "")
	e.target(g.readiness, "2014-15", 58)
	e.report(g.readiness, "2014-15", 60)
	e.report(g.readiness, "2014-Q4", 55)
	g.readinessReport = e.report(g.readiness, "2014", 52)

	g.reading = e.measure(early, "Third-grade reading", "%", domain.HigherIsBetter, uuid.Nil, "")
	e.target(g.reading, "2014", 50)
	e.report(g.reading, "2014", 40)

	g.surveyed = e.measure(families, "Families surveyed", "families", domain.HigherIsBetter,
		uuid.Nil, "")

	g.suspensions = e.measure(attend, "Suspensions", "students", domain.LowerIsBetter,
		uuid.Nil, "")
	e.target(g.suspensions, "2014", 100)
	e.report(g.suspensions, "2014", 90)

	g.absence = e.measure(attend, "Chronic absence", "%", domain.LowerIsBetter, uuid.Nil, "")
	e.target(g.absence, "2014", 10)
	e.report(g.absence, "2014", 12)
	g.absenceVersion = e.correct(g.absence, "2014", 10.5, "late attendance records")

	g.dollars = e.measure(invest, "Dollars raised", "USD", domain.HigherIsBetter, uuid.Nil, "")
	e.target(g.dollars, "2015", 1000)
	e.report(g.dollars, "2014", 500)

	amount := int64(250_000_00)
	made, err := e.cmd.MakeCommitment(e.ctx(), meta, domain.MakeCommitment{
		PartnerID: g.district.String(), IssueID: g.issue.String(),
		Kind: string(domain.FundingCommitment), Description: "Graduation coaches",
		AmountCents: &amount, Currency: "USD", Period: "2014-15"})
	if err != nil {
		e.t.Fatalf("make commitment: %v", err)
	}
	g.commitment = made.Event.AggregateID
	return g
}

func TestScorecard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	e.project(ScorecardSchema, Config{})
	r := NewReader(e.pool, ScorecardSchema)

	card, err := r.Scorecard(e.ctx(), g.issue)
	if err != nil {
		t.Fatalf("Scorecard: %v", err)
	}
	rows := map[uuid.UUID]domain.MeasureView{}
	for _, m := range card.Measures {
		rows[m.ID] = m
	}

	t.Run("the issue counts objectives and measures, with its version", func(t *testing.T) {
		want := domain.IssueSummary{ID: g.issue, Title: "Graduation",
			Description: "About Graduation", Objectives: 5, Measures: 7, Version: 2}
		if card.Issue != want {
			t.Errorf("issue = %+v, want %+v", card.Issue, want)
		}
	})

	t.Run("measures are ordered by perspective, objective, then name", func(t *testing.T) {
		want := []string{"Third-grade reading", "Graduation rate", "Kindergarten readiness",
			"Families surveyed", "Chronic absence", "Suspensions", "Dollars raised"}
		var got []string
		for _, m := range card.Measures {
			got = append(got, m.Name)
		}
		if !equal(got, want) {
			t.Errorf("order = %q, want %q", got, want)
		}
	})

	statuses := []struct {
		name    string
		measure uuid.UUID
		latest  *domain.PeriodValue
		target  *float64
		status  domain.Status
	}{
		{"higher is better, at or above target: on track", g.readiness,
			&domain.PeriodValue{Period: "2014-15", Value: 60}, ptr(58.0), domain.OnTrack},
		{"higher is better, within 10% short: at risk", g.grad,
			&domain.PeriodValue{Period: "2014", Value: 80}, ptr(88.0), domain.AtRisk},
		{"higher is better, further short: off track", g.reading,
			&domain.PeriodValue{Period: "2014", Value: 40}, ptr(50.0), domain.OffTrack},
		{"lower is better, below target: on track", g.suspensions,
			&domain.PeriodValue{Period: "2014", Value: 90}, ptr(100.0), domain.OnTrack},
		{"lower is better, corrected into the band: at risk", g.absence,
			&domain.PeriodValue{Period: "2014", Value: 10.5}, ptr(10.0), domain.AtRisk},
		{"nothing reported: no data", g.surveyed, nil, nil, domain.NoData},
		{"no target for the latest period: no target", g.dollars,
			&domain.PeriodValue{Period: "2014", Value: 500}, nil, domain.NoTarget},
	}
	for _, c := range statuses {
		t.Run(c.name, func(t *testing.T) {
			m := rows[c.measure]
			if !equalPtr(m.Latest, c.latest) {
				t.Errorf("latest = %v, want %v", deref(m.Latest), deref(c.latest))
			}
			if !equalPtr(m.Target, c.target) {
				t.Errorf("target = %v, want %v", deref(m.Target), deref(c.target))
			}
			if m.Status != c.status {
				t.Errorf("status = %q, want %q", m.Status, c.status)
			}
		})
	}

	t.Run("the definition, owner and baseline are shown", func(t *testing.T) {
		m := rows[g.grad]
		if m.Unit != "%" || m.Polarity != domain.HigherIsBetter ||
			m.Kind != domain.PopulationIndicator || m.Perspective != domain.Results ||
			m.ObjectiveTitle != "Students graduate ready" || m.IssueID != g.issue {
			t.Errorf("definition = %+v", m)
		}
		if m.OwnerPartnerID == nil || *m.OwnerPartnerID != g.district ||
			m.OwnerPartnerName != "Tacoma Public Schools" {
			t.Errorf("owner = %v %q, want %v", m.OwnerPartnerID, m.OwnerPartnerName, g.district)
		}
		want := domain.PeriodValue{Period: "2010", Value: 78}
		if m.Baseline == nil || *m.Baseline != want {
			t.Errorf("baseline = %v, want %v", m.Baseline, want)
		}
		if rows[g.surveyed].Baseline != nil || rows[g.surveyed].OwnerPartnerID != nil {
			t.Errorf("a measure without baseline or owner shows %v, %v",
				rows[g.surveyed].Baseline, rows[g.surveyed].OwnerPartnerID)
		}
	})

	t.Run("the series holds every value, by period then disaggregation", func(t *testing.T) {
		type point struct {
			period, disaggregation string
			value                  float64
		}
		want := []point{{"2012", "", 80}, {"2013", "", 86}, {"2013", "race=Black", 75},
			{"2013", "race=White", 90}, {"2014", "", 80}}
		var got []point
		for _, p := range rows[g.grad].Series {
			got = append(got, point{p.Period, p.Disaggregation, p.Value})
		}
		if !equal(got, want) {
			t.Errorf("series = %v, want %v", got, want)
		}
	})

	t.Run("periods of different kinds sort by when they end", func(t *testing.T) {
		var got []string
		for _, p := range rows[g.readiness].Series {
			got = append(got, p.Period)
		}
		if want := []string{"2014", "2014-Q4", "2014-15"}; !equal(got, want) {
			t.Errorf("series periods = %q, want %q", got, want)
		}
	})

	t.Run("targets are listed by period", func(t *testing.T) {
		want := []domain.PeriodValue{{Period: "2013", Value: 85}, {Period: "2014", Value: 88}}
		if got := rows[g.grad].Targets; !equal(got, want) {
			t.Errorf("targets = %v, want %v", got, want)
		}
		if got := rows[g.surveyed].Targets; got == nil || len(got) != 0 {
			t.Errorf("targets of a measure without any = %#v, want empty", got)
		}
	})

	t.Run("a point carries its provenance and sequence", func(t *testing.T) {
		first := rows[g.grad].Series[0]
		report := g.gradReports[0].Event
		if first.Source != "test.csv" || first.Note != "reported in a test" ||
			first.Sequence != report.Sequence || first.Corrected {
			t.Errorf("point = %+v, want source test.csv, sequence %d, not corrected",
				first, report.Sequence)
		}
	})

	t.Run("a corrected value keeps the reported one and the reason", func(t *testing.T) {
		p := rows[g.absence].Series[0]
		want := domain.SeriesPoint{Period: "2014", Value: 10.5, ReportedValue: 12,
			Corrected: true, CorrectionReason: "late attendance records",
			Note: "reported in a test", Source: "test.csv",
			Sequence: g.absenceVersion.Event.Sequence}
		if p != want {
			t.Errorf("point = %+v, want %+v", p, want)
		}
	})

	t.Run("each measure carries its aggregate version and time", func(t *testing.T) {
		for id, last := range map[uuid.UUID]domain.Result{
			g.grad: g.gradVersion, g.absence: g.absenceVersion,
			g.readiness: g.readinessReport} {
			m := rows[id]
			if m.Version != last.Version {
				t.Errorf("%s version = %d, want %d", m.Name, m.Version, last.Version)
			}
			// PostgreSQL keeps microseconds.
			want := last.Event.RecordedAt.Truncate(time.Microsecond)
			if !m.Updated.Equal(want) {
				t.Errorf("%s updated = %v, want %v", m.Name, m.Updated, want)
			}
		}
		if rows[g.surveyed].Version != 1 {
			t.Errorf("version of a measure only defined = %d, want 1", rows[g.surveyed].Version)
		}
	})

	t.Run("Measure returns the same view as the scorecard row", func(t *testing.T) {
		m, err := r.Measure(e.ctx(), g.grad)
		if err != nil {
			t.Fatalf("Measure: %v", err)
		}
		if !reflect.DeepEqual(m, rows[g.grad]) {
			t.Errorf("Measure = %+v\nwant %+v", m, rows[g.grad])
		}
	})

	t.Run("Issues lists every issue by title", func(t *testing.T) {
		issues, err := r.Issues(e.ctx())
		if err != nil {
			t.Fatalf("Issues: %v", err)
		}
		var got []string
		for _, i := range issues {
			got = append(got, i.Title)
		}
		if want := []string{"Attendance", "Graduation"}; !equal(got, want) {
			t.Errorf("issues = %q, want %q", got, want)
		}
	})

	t.Run("an issue without measures has an empty scorecard", func(t *testing.T) {
		card, err := r.Scorecard(e.ctx(), g.other)
		if err != nil {
			t.Fatalf("Scorecard: %v", err)
		}
		if card.Measures == nil || len(card.Measures) != 0 || card.Issue.Version != 1 {
			t.Errorf("scorecard = %+v, want no measures at version 1", card)
		}
	})

	t.Run("a scorecard costs one round trip, whatever its size", func(t *testing.T) {
		pool, trips := e.countingPool()
		counted := NewReader(pool, ScorecardSchema)
		for range 2 { // the first also connects and prepares
			if _, err := counted.Scorecard(e.ctx(), g.issue); err != nil {
				t.Fatal(err)
			}
		}
		before := trips.n.Load()
		if _, err := counted.Scorecard(e.ctx(), g.issue); err != nil {
			t.Fatal(err)
		}
		if n := trips.n.Load() - before; n != 1 {
			t.Errorf("Scorecard took %d round trips, want 1", n)
		}
	})

	t.Run("unknown issues and measures are not found", func(t *testing.T) {
		_, err := r.Scorecard(e.ctx(), uuid.New())
		if domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("Scorecard of an unknown issue: %v, want not found", err)
		}
		_, err = r.Measure(e.ctx(), uuid.New())
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeNotFound {
			t.Errorf("Measure of an unknown measure: %v, want *domain.Error not found", err)
		}
	})

	t.Run("Position is the last sequence applied", func(t *testing.T) {
		got, err := r.Position(e.ctx())
		if err != nil || got != e.last() {
			t.Errorf("Position = %d, %v; want %d", got, err, e.last())
		}
	})

	t.Run("commitments are stored for funding reports", func(t *testing.T) {
		var kind, period, currency string
		var cents int64
		err := e.pool.QueryRow(e.ctx(), `SELECT kind, period, currency, amount_cents
			FROM scorecard.commitments WHERE partner_id = $1`, g.district).
			Scan(&kind, &period, &currency, &cents)
		if err != nil || kind != "funding" || period != "2014-15" || currency != "USD" ||
			cents != 250_000_00 {
			t.Errorf("commitment = %s %s %s %d, %v", kind, period, currency, cents, err)
		}
	})
}

// TestScorecardMapChanges: a map that changes after it is drawn shows the
// change, and every change moves its aggregate's version.
func TestScorecardMapChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	ctx := e.ctx()
	card0 := func() domain.Scorecard {
		t.Helper()
		e.project(ScorecardSchema, Config{})
		card, err := NewReader(e.pool, ScorecardSchema).Scorecard(ctx, g.issue)
		if err != nil {
			t.Fatalf("Scorecard: %v", err)
		}
		return card
	}
	row := func(card domain.Scorecard, id uuid.UUID) *domain.MeasureView {
		for i := range card.Measures {
			if card.Measures[i].ID == id {
				return &card.Measures[i]
			}
		}
		return nil
	}
	before := card0()

	band := 5.0
	bands, err := e.cmd.SetStatusBands(ctx, meta,
		domain.SetStatusBands{MeasureID: g.grad.String(), AtRiskPercent: &band})
	must(t, bands, err)
	ready := row(before, g.grad).ObjectiveID
	_, err = e.cmd.RenameObjective(ctx, meta,
		domain.RenameObjective{ObjectiveID: ready.String(), Title: "Students graduate"})
	must(t, domain.Result{}, err)
	_, err = e.cmd.RetireMeasure(ctx, meta,
		domain.RetireMeasure{MeasureID: g.dollars.String(), Reason: "no longer tracked"})
	must(t, domain.Result{}, err)
	families := row(before, g.surveyed).ObjectiveID
	_, err = e.cmd.RetireObjective(ctx, meta,
		domain.RetireObjective{ObjectiveID: families.String(), Reason: "merged"})
	must(t, domain.Result{}, err)
	attend := row(before, g.absence).ObjectiveID
	_, err = e.cmd.UnlinkObjectives(ctx, meta, domain.UnlinkObjectives{
		CauseID: attend.String(), EffectID: ready.String(), Reason: "no evidence"})
	must(t, domain.Result{}, err)
	labels, err := e.cmd.SetPerspectiveLabels(ctx, meta, domain.SetPerspectiveLabels{
		IssueID: g.issue.String(), Labels: map[string]string{"results": "Outcomes"}})
	must(t, labels, err)
	part := int64(100_000_00)
	_, err = e.cmd.FulfilCommitment(ctx, meta, domain.FulfilCommitment{
		CommitmentID: g.commitment.String(), AmountCents: &part, Period: "2014-15"})
	must(t, domain.Result{}, err)
	rest := int64(150_000_00)
	_, err = e.cmd.FulfilCommitment(ctx, meta, domain.FulfilCommitment{
		CommitmentID: g.commitment.String(), AmountCents: &rest, Period: "2014-15",
		Complete: true})
	must(t, domain.Result{}, err)
	after := card0()

	t.Run("a measure's own at-risk band judges its status", func(t *testing.T) {
		m := row(after, g.grad)
		// 80 against 88 is within 10% but not within 5%.
		if m.Status != domain.OffTrack || m.Version != bands.Version {
			t.Errorf("status %q at version %d, want off_track at %d",
				m.Status, m.Version, bands.Version)
		}
	})
	t.Run("a renamed objective shows its new title", func(t *testing.T) {
		if got := row(after, g.grad).ObjectiveTitle; got != "Students graduate" {
			t.Errorf("objective title = %q", got)
		}
	})
	t.Run("retired measures and objectives leave the scorecard", func(t *testing.T) {
		if row(after, g.dollars) != nil || row(after, g.surveyed) != nil {
			t.Errorf("a retired measure, or one under a retired objective, is still shown")
		}
		if len(after.Measures) != len(before.Measures)-2 || after.Issue.Measures != 5 ||
			after.Issue.Objectives != 4 {
			t.Errorf("%d measures, issue counts %d objectives and %d measures; "+
				"want 5, 4 and 5", len(after.Measures), after.Issue.Objectives,
				after.Issue.Measures)
		}
	})
	t.Run("links and perspective labels follow the map", func(t *testing.T) {
		var links int
		var got string
		err := e.pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM scorecard.objective_links),
			(SELECT perspective_labels->>'results' FROM scorecard.issues WHERE id = $1)`,
			g.issue).Scan(&links, &got)
		if err != nil || links != 0 || got != "Outcomes" {
			t.Errorf("%d links, results label %q, %v; want 0 and Outcomes", links, got, err)
		}
		if after.Issue.Version != labels.Version {
			t.Errorf("issue version = %d, want %d", after.Issue.Version, labels.Version)
		}
	})
	t.Run("a commitment adds up what was delivered", func(t *testing.T) {
		var state string
		var fulfilled int64
		var version uint64
		err := e.pool.QueryRow(ctx, `SELECT state, fulfilled_cents, version
			FROM scorecard.commitments WHERE id = $1`, g.commitment).
			Scan(&state, &fulfilled, &version)
		if err != nil || state != "fulfilled" || fulfilled != 250_000_00 || version != 3 {
			t.Errorf("commitment %s, %d cents at version %d, %v; want fulfilled, "+
				"25000000 at version 3", state, fulfilled, version, err)
		}
	})
	t.Run("a retired measure keeps its history", func(t *testing.T) {
		m, err := NewReader(e.pool, ScorecardSchema).Measure(ctx, g.dollars)
		if err != nil || len(m.Series) != 1 || m.Version != 4 {
			t.Errorf("Measure = %d points at version %d, %v; want 1 at version 4",
				len(m.Series), m.Version, err)
		}
	})
}

// TestScorecardBatchSize: the read model is the same whether events come one
// per transaction or all in one.
func TestScorecardBatchSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	e.project("one_by_one", Config{BatchSize: 1})
	e.project("all_at_once", Config{BatchSize: 500})
	e.sameReadModel("one_by_one", "all_at_once")
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkProjectScorecard rebuilds the scorecard from a stream of about 5,000
// events (definitions, targets, monthly reports) into a fresh schema per run,
// with the default batch size, and reports events applied per second.
func BenchmarkProjectScorecard(b *testing.B) {
	e := newEnv(b)
	issue := e.issue("Graduation")
	objective := e.objective(issue, domain.Results, "Students graduate")
	for i := range 20 {
		m := e.measure(objective, fmt.Sprintf("Measure %02d", i), "%", domain.HigherIsBetter,
			uuid.Nil, "2000=50")
		for year := 2001; year <= 2020; year++ {
			e.target(m, fmt.Sprint(year), 60)
		}
		e.reports(m, 240)
	}
	events := e.last()

	var elapsed time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		schema := fmt.Sprintf("bench_%d", i)
		p := e.projector(e.pool, schema, Config{})
		b.StartTimer()

		started := time.Now()
		stop := e.run(context.Background(), p)
		e.waitFor(schema, events)
		elapsed += time.Since(started)
		stop()
	}
	b.ReportMetric(float64(events)*float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(events), "events/op")
}
