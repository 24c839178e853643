package projections

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/tacoma"
)

// writeTacoma writes Graduate Tacoma's public dataset through the commands, as
// "backbone import" would, and projects it into the live scorecard.
func (e *env) writeTacoma() {
	e.t.Helper()
	dir := filepath.Join("..", "examples", "tacoma")
	if _, err := tacoma.Load(e.ctx(), e.cmd, meta, dir); err != nil {
		e.t.Fatalf("load %s: %v", dir, err)
	}
	e.project(ScorecardSchema, Config{})
}

// key names a Tacoma measure by its dataset key, for messages.
func measureKey(id uuid.UUID) string {
	for i := 1; i <= 20; i++ {
		k := "M" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		if tacoma.ID("measure_id", k) == id {
			return k
		}
	}
	return id.String()
}

func measureKeys(rows []domain.MeasureView) []string {
	var keys []string
	for _, m := range rows {
		keys = append(keys, measureKey(m.ID))
	}
	slices.Sort(keys)
	return keys
}

// TestScorecardTacoma: the figures of examples/tacoma appear in the right rows
// of the issue's, an objective's and a partner's scorecards.
func TestScorecardTacoma(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.writeTacoma()
	r := NewReader(e.pool, ScorecardSchema)

	card, err := r.Scorecard(e.ctx(), tacoma.ID("issue_id", "I01"))
	if err != nil {
		t.Fatalf("Scorecard of I01: %v", err)
	}
	rows := map[string]domain.MeasureView{}
	for _, m := range card.Measures {
		rows[measureKey(m.ID)] = m
	}

	t.Run("indicators and performance measures are apart", func(t *testing.T) {
		want := []string{"M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09",
			"M10", "M11"}
		if got := measureKeys(card.Population); !equal(got, want) {
			t.Errorf("population = %q, want %q", got, want)
		}
		if got := measureKeys(card.Performance); !equal(got, []string{"M12", "M13"}) {
			t.Errorf("performance = %q, want M12 and M13", got)
		}
	})

	t.Run("M01: the Class of 2020 beat its target, rising seven times", func(t *testing.T) {
		m := rows["M01"]
		if !equalPtr(m.Latest, &domain.PeriodValue{Period: "2020", Value: 89.9}) ||
			!equalPtr(m.Target, ptr(85.0)) || m.Corrected ||
			!equalPtr(m.Baseline, &domain.PeriodValue{Period: "2010", Value: 55}) {
			t.Errorf("latest %v target %v baseline %v, want 2020 = 89.9, 85, 2010 = 55",
				shown(m.Latest), shown(m.Target), shown(m.Baseline))
		}
		// 55, 61.7, 78.3, 82.6, 85, 86.1, 89.3, 89.9: seven rises.
		checkJudgement(t, "M01", m.Judgement, domain.Judgement{Status: domain.OnTrack,
			PercentOfTarget: ptr(89.9 / 85 * 100), Variance: ptr(4.9 / 85),
			ChangeSinceBaseline: ptr(34.9), Trend: domain.Better, TrendPeriods: 7})
		if pct := *m.PercentOfTarget; pct < 105.76 || pct >= 105.77 {
			t.Errorf("M01 percent of target = %v, want 105.76…", pct)
		}
	})

	t.Run("M03: a falling dropout rate is better", func(t *testing.T) {
		m := rows["M03"]
		if !equalPtr(m.Latest, &domain.PeriodValue{Period: "2014", Value: 14.4}) ||
			m.Polarity != domain.LowerIsBetter {
			t.Errorf("latest %v polarity %s, want 2014 = 14.4, lower", shown(m.Latest),
				m.Polarity)
		}
		checkJudgement(t, "M03", m.Judgement, domain.Judgement{Status: domain.NoTarget,
			ChangeSinceBaseline: ptr(14.4 - 17.9), Trend: domain.Better, TrendPeriods: 1})
	})

	t.Run("M01's breakdowns sit under it", func(t *testing.T) {
		got := map[string]domain.DisaggregatedRow{}
		var names []string
		for _, d := range rows["M01"].Disaggregations {
			got[d.Disaggregation] = d
			names = append(names, d.Disaggregation)
		}
		want := []string{"geography=Washington State", "income=low-income",
			"program=special education", "race=Black", "race=Hispanic",
			"race=Native American", "race=Pacific Islander", "race=White"}
		if !equal(names, want) {
			t.Errorf("breakdowns = %q, want %q", names, want)
		}
		// Black students: 73.8 in 2014, 81 in 2015; no target for 2015.
		black := got["race=Black"]
		if black.Latest != (domain.PeriodValue{Period: "2015", Value: 81}) ||
			black.Target != nil {
			t.Errorf("race=Black = %+v, want 2015 = 81 without target", black)
		}
		checkJudgement(t, "race=Black", black.Judgement, domain.Judgement{
			Status: domain.NoTarget, Trend: domain.Better, TrendPeriods: 1})
		// Low-income students: 55, 61.2, 70.5, 76.8 from 2012 to 2015.
		checkJudgement(t, "income=low-income", got["income=low-income"].Judgement,
			domain.Judgement{Status: domain.NoTarget, Trend: domain.Better, TrendPeriods: 3})
		// The state's 2020 rate, 82.9, is judged against Tacoma's 2020 target of 85.
		state := got["geography=Washington State"]
		if state.Latest != (domain.PeriodValue{Period: "2020", Value: 82.9}) ||
			!equalPtr(state.Target, ptr(85.0)) {
			t.Errorf("the state's row = %+v, want 2020 = 82.9 against 85", state)
		}
		checkJudgement(t, "geography=Washington State", state.Judgement, domain.Judgement{
			Status: domain.AtRisk, PercentOfTarget: ptr(82.9 / 85 * 100),
			Variance: ptr(-2.1 / 85), Trend: domain.Better, TrendPeriods: 2})
	})

	t.Run("rows without values or targets say so", func(t *testing.T) {
		checkJudgement(t, "M07", rows["M07"].Judgement, domain.Judgement{Status: domain.NoData})
		// M02's latest is 2015; its target is for 2020.
		checkJudgement(t, "M02", rows["M02"].Judgement, domain.Judgement{
			Status: domain.NoTarget, ChangeSinceBaseline: ptr(28.0), Trend: domain.Better,
			TrendPeriods: 2})
		checkJudgement(t, "M12", rows["M12"].Judgement, domain.Judgement{
			Status: domain.NoTarget, ChangeSinceBaseline: ptr(0.0)})
	})

	t.Run("O04's scorecard holds M01 to M03", func(t *testing.T) {
		card, err := r.ObjectiveScorecard(e.ctx(), tacoma.ID("objective_id", "O04"))
		if err != nil {
			t.Fatalf("ObjectiveScorecard: %v", err)
		}
		if got := measureKeys(card.Measures); !equal(got, []string{"M01", "M02", "M03"}) {
			t.Errorf("measures = %q, want M01, M02 and M03", got)
		}
		if o := card.Objective; o == nil || o.Title != "Students graduate from high school" ||
			o.Status != domain.OnTrack {
			t.Errorf("objective = %+v, want on track", o)
		}
		if card.Issue.ID != tacoma.ID("issue_id", "I01") {
			t.Errorf("issue = %+v, want I01", card.Issue)
		}
	})

	t.Run("a partner's scorecard holds what it owns and reports", func(t *testing.T) {
		for partner, want := range map[string][]string{
			// Tacoma Public Schools owns these and reports only on its own.
			"P02": {"M01", "M02", "M03", "M07", "M08", "M09", "M10", "M11"},
			// The Foundation owns these and reports M02, in both issues.
			"P01": {"M02", "M04", "M05", "M06", "M12", "M13", "M14"},
			// A funder that neither owns nor reports has an empty scorecard.
			"P05": nil,
		} {
			card, err := r.PartnerScorecard(e.ctx(), tacoma.ID("partner_id", partner))
			if err != nil {
				t.Fatalf("PartnerScorecard of %s: %v", partner, err)
			}
			if got := measureKeys(card.Measures); !equal(got, want) {
				t.Errorf("%s's measures = %q, want %q", partner, got, want)
			}
		}
	})
}
