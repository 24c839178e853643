package projections

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// attendance is generated data for what a scorecard shows beyond status:
// quarterly and monthly series with trends, corrections, a measure's own
// status band, breakdowns, the three performance questions, and partners who
// own or report measures in two issues.
type attendance struct {
	issue, health                   uuid.UUID
	district, mentors               uuid.UUID
	attend, mentoring               uuid.UUID
	absence, attending, sessions    uuid.UUID
	offList, retired, clinicVisits  uuid.UUID
	absenceCorrected, bandsSetLater domain.Result
}

func writeAttendance(e *env) attendance {
	e.t.Helper()
	var a attendance
	a.district = e.partner("Tacoma Public Schools", domain.SchoolDistrict)
	a.mentors = e.partner("Big Brothers Big Sisters", domain.Nonprofit)
	a.issue = e.issue("Attendance")
	a.health = e.issue("Health")
	a.attend = e.objective(a.issue, domain.Results, "Students attend school")
	a.mentoring = e.objective(a.issue, domain.Processes, "Mentoring")

	// Chronic absence falls three quarters running, then rises once its last
	// value is corrected; lower is better.
	a.absence = e.measure(a.attend, "Chronic absence", "%", domain.LowerIsBetter, a.district,
		"2019-Q4=20")
	for _, q := range []string{"2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"} {
		e.target(a.absence, q, 15)
	}
	for _, r := range []struct {
		key string
		v   float64
	}{{"2020-Q1", 19}, {"2020-Q2", 18}, {"2020-Q3", 17}, {"2020-Q4", 16.5},
		{"2019-Q4/school=Lincoln", 25}, {"2020-Q3/school=Lincoln", 22},
		{"2020-Q4/school=Lincoln", 24}, {"2020-Q4/school=Stadium", 14}} {
		e.report(a.absence, r.key, r.v)
	}
	a.absenceCorrected = e.correct(a.absence, "2020-Q4", 17.5, "late attendance records")
	e.correct(a.absence, "2020-Q4/school=Lincoln", 23, "a duplicate student removed")

	a.attending = e.performance(a.mentoring, "Mentored students attending", "%",
		domain.HowWell, uuid.Nil)
	for _, q := range []string{"2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"} {
		e.reportFor(a.attending, a.mentors, q, 80)
	}
	a.sessions = e.performance(a.mentoring, "Mentoring sessions held", "sessions",
		domain.HowMuch, a.mentors)

	// Forty months of rises: a trend longer than the read model's first read.
	a.offList = e.performance(a.attend, "Students off the chronic list", "students",
		domain.BetterOff, uuid.Nil)
	e.reports(a.offList, 40)
	e.target(a.offList, "2004-04", 30)

	a.retired = e.performance(a.attend, "Home visits", "visits", domain.HowMuch, a.mentors)
	_, err := e.cmd.RetireMeasure(e.ctx(), meta,
		domain.RetireMeasure{MeasureID: a.retired.String(), Reason: "merged"})
	must(e.t, domain.Result{}, err)

	healthy := e.objective(a.health, domain.Results, "Healthy children")
	a.clinicVisits = e.measure(healthy, "Clinic visits", "visits", domain.HigherIsBetter,
		a.mentors, "")
	e.report(a.clinicVisits, "2020", 1200)

	band := 20.0
	a.bandsSetLater, err = e.cmd.SetStatusBands(e.ctx(), meta,
		domain.SetStatusBands{MeasureID: a.absence.String(), AtRiskPercent: &band})
	must(e.t, a.bandsSetLater, err)
	return a
}

// performance defines a performance measure, higher is better, answering q.
func (e *env) performance(objective uuid.UUID, name, unit string, q domain.Question,
	owner uuid.UUID) uuid.UUID {
	e.t.Helper()
	c := domain.DefineMeasure{ObjectiveID: objective.String(), Name: name, Unit: unit,
		Polarity: string(domain.HigherIsBetter), Kind: string(domain.PerformanceMeasure),
		Question: string(q)}
	if owner != uuid.Nil {
		c.OwnerPartnerID = owner.String()
	}
	r, err := e.cmd.DefineMeasure(e.ctx(), meta, c)
	return must(e.t, r, err).Event.AggregateID
}

// reportFor reports a total value on behalf of a partner.
func (e *env) reportFor(measure, partner uuid.UUID, period string, v float64) {
	e.t.Helper()
	r, err := e.cmd.ReportProgress(e.ctx(), meta, domain.ReportProgress{
		MeasureID: measure.String(), Period: period, Value: &v,
		ReportingPartnerID: partner.String()})
	must(e.t, r, err)
}

// TestScorecardJudgements: every row carries the domain's whole judgement of
// its latest value, breakdowns under their measure, population indicators
// apart from performance measures.
func TestScorecardJudgements(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := writeAttendance(e)
	e.project(ScorecardSchema, Config{})
	r := NewReader(e.pool, ScorecardSchema)

	card, err := r.Scorecard(e.ctx(), a.issue)
	if err != nil {
		t.Fatalf("Scorecard: %v", err)
	}
	rows := map[uuid.UUID]domain.MeasureView{}
	for _, m := range card.Measures {
		rows[m.ID] = m
	}

	t.Run("population indicators and performance measures are apart", func(t *testing.T) {
		if got := ids(card.Population); !equal(got, []uuid.UUID{a.absence}) {
			t.Errorf("population = %v, want only chronic absence %v", got, a.absence)
		}
		want := []uuid.UUID{a.offList, a.attending, a.sessions}
		if got := ids(card.Performance); !equal(got, want) {
			t.Errorf("performance = %v, want %v (results first, then by name)", got, want)
		}
		if len(card.Measures) != 4 {
			t.Errorf("%d rows in all, want 4 (the retired measure left out)", len(card.Measures))
		}
	})

	t.Run("performance measures carry their question", func(t *testing.T) {
		for id, want := range map[uuid.UUID]domain.Question{a.offList: domain.BetterOff,
			a.attending: domain.HowWell, a.sessions: domain.HowMuch, a.absence: ""} {
			if got := rows[id].Question; got != want {
				t.Errorf("%s: question %q, want %q", rows[id].Name, got, want)
			}
		}
	})

	t.Run("a corrected latest value is judged within the measure's own band",
		func(t *testing.T) {
			m := rows[a.absence]
			// 17.5 against 15, lower is better: beyond 10% but within 20%.
			want := domain.Judgement{Status: domain.AtRisk,
				PercentOfTarget: ptr(17.5 / 15 * 100), Variance: ptr(2.5 / 15),
				ChangeSinceBaseline: ptr(-2.5), Trend: domain.Worse, TrendPeriods: 1}
			checkJudgement(t, m.Name, m.Judgement, want)
			if !equalPtr(m.Latest, &domain.PeriodValue{Period: "2020-Q4", Value: 17.5}) ||
				!m.Corrected || !equalPtr(m.Target, ptr(15.0)) || m.AtRiskPercent != 20 {
				t.Errorf("latest %v corrected %v target %v band %v; want 2020-Q4 = 17.5, "+
					"corrected, 15, 20", shown(m.Latest), m.Corrected, shown(m.Target),
					m.AtRiskPercent)
			}
			if m.Version != a.bandsSetLater.Version {
				t.Errorf("version %d, want %d", m.Version, a.bandsSetLater.Version)
			}
		})

	t.Run("the series keeps the reported value beside the correction", func(t *testing.T) {
		for _, p := range rows[a.absence].Series {
			if p.Period == "2020-Q4" && p.Disaggregation == "" {
				if p.Value != 17.5 || p.ReportedValue != 16.5 || !p.Corrected ||
					p.Sequence != a.absenceCorrected.Event.Sequence {
					t.Errorf("point = %+v, want 17.5 reported as 16.5, corrected", p)
				}
				return
			}
		}
		t.Errorf("no 2020-Q4 total in the series")
	})

	t.Run("breakdowns are judged under their measure", func(t *testing.T) {
		got := rows[a.absence].Disaggregations
		if len(got) != 2 || got[0].Disaggregation != "school=Lincoln" ||
			got[1].Disaggregation != "school=Stadium" {
			t.Fatalf("breakdowns = %+v, want Lincoln then Stadium", got)
		}
		lincoln, stadium := got[0], got[1]
		if lincoln.Latest != (domain.PeriodValue{Period: "2020-Q4", Value: 23}) ||
			!lincoln.Corrected || !equalPtr(lincoln.Target, ptr(15.0)) {
			t.Errorf("Lincoln = %+v, want 2020-Q4 = 23 corrected, target 15", lincoln)
		}
		// 25, 22, then 23: worse once; the baseline is Lincoln's own 2019-Q4.
		checkJudgement(t, "Lincoln", lincoln.Judgement, domain.Judgement{
			Status: domain.OffTrack, PercentOfTarget: ptr(23.0 / 15 * 100),
			Variance: ptr(8.0 / 15), ChangeSinceBaseline: ptr(-2.0), Trend: domain.Worse,
			TrendPeriods: 1})
		if stadium.Latest != (domain.PeriodValue{Period: "2020-Q4", Value: 14}) ||
			stadium.Corrected {
			t.Errorf("Stadium = %+v, want 2020-Q4 = 14, not corrected", stadium)
		}
		checkJudgement(t, "Stadium", stadium.Judgement, domain.Judgement{
			Status: domain.OnTrack, PercentOfTarget: ptr(14.0 / 15 * 100),
			Variance: ptr(-1.0 / 15)})
		if got := rows[a.attending].Disaggregations; got == nil || len(got) != 0 {
			t.Errorf("breakdowns of a measure without any = %#v, want empty", got)
		}
	})

	t.Run("flat, no target and no data", func(t *testing.T) {
		checkJudgement(t, "attending", rows[a.attending].Judgement,
			domain.Judgement{Status: domain.NoTarget, Trend: domain.Flat, TrendPeriods: 3})
		checkJudgement(t, "sessions", rows[a.sessions].Judgement,
			domain.Judgement{Status: domain.NoData})
		if m := rows[a.sessions]; m.Latest != nil || m.AtRiskPercent != 10 {
			t.Errorf("sessions: latest %v band %v, want none and the default 10",
				shown(m.Latest), m.AtRiskPercent)
		}
	})

	t.Run("a trend longer than the first read is counted whole", func(t *testing.T) {
		m := rows[a.offList]
		checkJudgement(t, m.Name, m.Judgement, domain.Judgement{Status: domain.OnTrack,
			PercentOfTarget: ptr(39.0 / 30 * 100), Variance: ptr(9.0 / 30),
			Trend: domain.Better, TrendPeriods: 39})
	})

	t.Run("an objective's scorecard holds its measures and rolls them up",
		func(t *testing.T) {
			card, err := r.ObjectiveScorecard(e.ctx(), a.attend)
			if err != nil {
				t.Fatalf("ObjectiveScorecard: %v", err)
			}
			if got := ids(card.Measures); !equal(got, []uuid.UUID{a.absence, a.offList}) {
				t.Errorf("measures = %v, want absence and off the list", got)
			}
			o := card.Objective
			if o == nil || o.ID != a.attend || o.Title != "Students attend school" ||
				o.Perspective != domain.Results || o.Status != domain.AtRisk ||
				o.IssueID != a.issue || o.Retired {
				t.Errorf("objective = %+v, want Students attend school, at risk", o)
			}
			if card.Issue.ID != a.issue || card.Partner != nil {
				t.Errorf("issue %v partner %v, want %v and none", card.Issue.ID, card.Partner,
					a.issue)
			}
		})

	t.Run("a partner's scorecard holds what it owns or reports, across issues",
		func(t *testing.T) {
			card, err := r.PartnerScorecard(e.ctx(), a.mentors)
			if err != nil {
				t.Fatalf("PartnerScorecard: %v", err)
			}
			if got := ids(card.Performance); !equal(got,
				[]uuid.UUID{a.attending, a.sessions}) {
				t.Errorf("performance = %v, want the one it reports and the one it owns", got)
			}
			if got := ids(card.Population); !equal(got, []uuid.UUID{a.clinicVisits}) {
				t.Errorf("population = %v, want clinic visits of the other issue", got)
			}
			if p := card.Partner; p == nil || p.ID != a.mentors ||
				p.Name != "Big Brothers Big Sisters" || p.Kind != domain.Nonprofit {
				t.Errorf("partner = %+v", p)
			}
			if card.Issue != (domain.IssueSummary{}) || card.Objective != nil {
				t.Errorf("issue %+v objective %+v, want none on a partner's scorecard",
					card.Issue, card.Objective)
			}
			if rows := card.Population; len(rows) == 1 && rows[0].IssueTitle != "Health" {
				t.Errorf("a row names issue %q, want Health", rows[0].IssueTitle)
			}

			district, err := r.PartnerScorecard(e.ctx(), a.district)
			if err != nil || !equal(ids(district.Measures), []uuid.UUID{a.absence}) {
				t.Errorf("district's scorecard = %v, %v; want chronic absence",
					ids(district.Measures), err)
			}
		})

	t.Run("unknown objectives and partners are not found", func(t *testing.T) {
		if _, err := r.ObjectiveScorecard(e.ctx(), uuid.New()); domain.ErrorCode(err) !=
			domain.CodeNotFound {
			t.Errorf("ObjectiveScorecard of an unknown objective: %v, want not found", err)
		}
		if _, err := r.PartnerScorecard(e.ctx(), a.issue); domain.ErrorCode(err) !=
			domain.CodeNotFound {
			t.Errorf("PartnerScorecard of an issue's ID: %v, want not found", err)
		}
	})

	t.Run("Measure returns the same view as the scorecard row", func(t *testing.T) {
		m, err := r.Measure(e.ctx(), a.absence)
		if err != nil || len(m.Disaggregations) != 2 || m.Status != domain.AtRisk {
			t.Errorf("Measure = %d breakdowns, %s, %v; want 2, at_risk",
				len(m.Disaggregations), m.Status, err)
		}
	})
}

// TestScorecardJudgementsBatchSize: judgements come out the same whether the
// events come one per transaction or all in one.
func TestScorecardJudgementsBatchSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeAttendance(e)
	e.project("one_by_one", Config{BatchSize: 1})
	e.project("all_at_once", Config{BatchSize: 500})
	e.sameReadModel("one_by_one", "all_at_once")
}

// TestScorecardLateTarget: a target set after the values re-judges the
// measure's total and every breakdown of its period, in a later batch.
func TestScorecardLateTarget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	issue := e.issue("Reading")
	readers := e.objective(issue, domain.Results, "Children read")
	m := e.measure(readers, "Third-grade reading", "%", domain.HigherIsBetter, uuid.Nil, "")
	e.report(m, "2021", 50)
	e.report(m, "2021/race=Black", 40)
	e.project(ScorecardSchema, Config{})
	e.target(m, "2021", 52)
	e.project(ScorecardSchema, Config{})

	view, err := NewReader(e.pool, ScorecardSchema).Measure(e.ctx(), m)
	if err != nil || len(view.Disaggregations) != 1 {
		t.Fatalf("Measure = %+v, %v; want one breakdown", view, err)
	}
	checkJudgement(t, "the total", view.Judgement, domain.Judgement{Status: domain.AtRisk,
		PercentOfTarget: ptr(50.0 / 52 * 100), Variance: ptr(-2.0 / 52)})
	black := view.Disaggregations[0]
	checkJudgement(t, black.Disaggregation, black.Judgement, domain.Judgement{
		Status: domain.OffTrack, PercentOfTarget: ptr(40.0 / 52 * 100),
		Variance: ptr(-12.0 / 52)})
	if !equalPtr(black.Target, ptr(52.0)) {
		t.Errorf("race=Black target = %v, want 52", shown(black.Target))
	}
}

func ids(rows []domain.MeasureView) []uuid.UUID {
	var out []uuid.UUID
	for _, m := range rows {
		out = append(out, m.ID)
	}
	return out
}

// checkJudgement compares judgements, their figures to a millionth.
func checkJudgement(t *testing.T, name string, got, want domain.Judgement) {
	t.Helper()
	if got.Status != want.Status || got.Trend != want.Trend ||
		got.TrendPeriods != want.TrendPeriods || !near(got.PercentOfTarget, want.PercentOfTarget) ||
		!near(got.Variance, want.Variance) ||
		!near(got.ChangeSinceBaseline, want.ChangeSinceBaseline) {
		t.Errorf("%s: judgement = %s, want %s", name, judgementText(got),
			judgementText(want))
	}
}

func near(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-6
}

func judgementText(j domain.Judgement) string {
	f := func(p *float64) any { return shown(p) }
	return fmt.Sprintf("{%s %v%% of target, variance %v, change %v, %s for %d}", j.Status,
		f(j.PercentOfTarget), f(j.Variance), f(j.ChangeSinceBaseline), j.Trend, j.TrendPeriods)
}

// shown is what p points at, or nil, for messages.
func shown[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
