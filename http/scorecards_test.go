package http_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/tacoma"
)

// TestScorecardRoutes: the issue's, an objective's and a partner's scorecards
// of examples/tacoma, as JSON a client reads.
func TestScorecardRoutes(t *testing.T) {
	t.Parallel()
	s := newTacomaServer(t)
	ids := func(rows []domain.MeasureView) []string {
		var out []string
		for _, m := range rows {
			out = append(out, m.ID.String())
		}
		slices.Sort(out)
		return out
	}
	measures := func(keys ...string) []string {
		var out []string
		for _, k := range keys {
			out = append(out, tacoma.ID("measure_id", k).String())
		}
		slices.Sort(out)
		return out
	}

	t.Run("the issue's rows carry the whole judgement, in snake_case", func(t *testing.T) {
		_, body := s.get("/api/v1/issues/" + tacoma.ID("issue_id", "I01").String() +
			"/scorecard")
		var raw struct {
			Population  []map[string]any `json:"population"`
			Performance []map[string]any `json:"performance"`
			Measures    []map[string]any `json:"measures"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		if len(raw.Population) != 11 || len(raw.Performance) != 2 || raw.Measures != nil {
			t.Fatalf("%d population rows, %d performance rows and %v; want 11, 2, no "+
				"measures list", len(raw.Population), len(raw.Performance), raw.Measures)
		}
		var m01 map[string]any
		for _, row := range raw.Population {
			if row["id"] == tacoma.ID("measure_id", "M01").String() {
				m01 = row
			}
		}
		for field, want := range map[string]any{"status": "on_track", "trend": "better",
			"trend_periods": 7.0, "target": 85.0, "corrected": false,
			"at_risk_percent": 10.0} {
			if m01[field] != want {
				t.Errorf("M01 %s = %v, want %v", field, m01[field], want)
			}
		}
		if pct, _ := m01["percent_of_target"].(float64); pct < 105.76 || pct >= 105.77 {
			t.Errorf("M01 percent_of_target = %v, want 105.76…", m01["percent_of_target"])
		}
		if change, _ := m01["change_since_baseline"].(float64); change < 34.899 ||
			change > 34.901 {
			t.Errorf("M01 change_since_baseline = %v, want 34.9", m01["change_since_baseline"])
		}
		breakdowns, _ := m01["disaggregations"].([]any)
		if len(breakdowns) != 8 {
			t.Errorf("M01 has %d disaggregations, want 8", len(breakdowns))
		}
	})

	t.Run("O04's scorecard holds M01 to M03", func(t *testing.T) {
		var card domain.Scorecard
		s.getJSON("/api/v1/objectives/"+tacoma.ID("objective_id", "O04").String()+
			"/scorecard", &card)
		if got, want := ids(card.Population), measures("M01", "M02", "M03"); !slices.Equal(
			got, want) {
			t.Errorf("population = %q, want M01, M02 and M03: %q", got, want)
		}
		if card.Objective == nil || card.Objective.Status != domain.OnTrack ||
			card.Issue.ID != tacoma.ID("issue_id", "I01") {
			t.Errorf("objective %+v of issue %s, want on track, I01", card.Objective,
				card.Issue.ID)
		}
	})

	t.Run("P02's scorecard holds the measures it owns", func(t *testing.T) {
		var card domain.Scorecard
		s.getJSON("/api/v1/partners/"+tacoma.ID("partner_id", "P02").String()+"/scorecard",
			&card)
		want := measures("M01", "M02", "M03", "M07", "M08", "M09", "M10", "M11")
		if got := ids(card.Population); !slices.Equal(got, want) {
			t.Errorf("population = %q, want M01-M03 and M07-M11: %q", got, want)
		}
		if card.Partner == nil || card.Partner.Name != "Tacoma Public Schools" ||
			len(card.Performance) != 0 {
			t.Errorf("partner %+v with %d performance rows, want Tacoma Public Schools, 0",
				card.Partner, len(card.Performance))
		}
	})
}
