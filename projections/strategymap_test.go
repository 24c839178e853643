package projections

import (
	"testing"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/tacoma"
)

// bandTitles lists each band's objectives as dataset keys (Tacoma) or titles.
func bandTitles(m domain.StrategyMap, name func(uuid.UUID, string) string) [][]string {
	var out [][]string
	for _, b := range m.Bands {
		names := []string{}
		for _, o := range b.Objectives {
			names = append(names, name(o.ID, o.Title))
		}
		out = append(out, names)
	}
	return out
}

func objectiveKey(id uuid.UUID, title string) string {
	for i := 1; i <= 20; i++ {
		k := "O" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		if tacoma.ID("objective_id", k) == id {
			return k
		}
	}
	return title
}

// TestStrategyMapTacoma: Tacoma's cradle-to-career map, band by band, with its
// links and statuses rolled up from the scorecard.
func TestStrategyMapTacoma(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.writeTacoma()
	r := NewReader(e.pool, ScorecardSchema)
	m, err := r.StrategyMap(e.ctx(), tacoma.ID("issue_id", "I01"))
	if err != nil {
		t.Fatalf("StrategyMap: %v", err)
	}

	t.Run("four bands, results first, with default labels", func(t *testing.T) {
		var got []string
		for _, b := range m.Bands {
			got = append(got, string(b.Perspective)+"="+b.Label)
		}
		want := []string{"results=Results", "stakeholders=Stakeholders",
			"processes=Processes", "resources=Resources"}
		if !equal(got, want) {
			t.Errorf("bands = %q, want %q", got, want)
		}
	})

	t.Run("objectives sit in their band, in the order they were defined", func(t *testing.T) {
		got := bandTitles(m, objectiveKey)
		want := [][]string{{"O01", "O02", "O03", "O04", "O05", "O06", "O16"}, {},
			{"O08", "O09", "O10", "O12", "O13", "O15"}, {"O14"}}
		if len(got) != len(want) {
			t.Fatalf("bands = %q, want %q", got, want)
		}
		for i := range want {
			if !equal(got[i], want[i]) {
				t.Errorf("band %s = %q, want %q", m.Bands[i].Perspective, got[i], want[i])
			}
		}
		if m.Issue.ID != tacoma.ID("issue_id", "I01") || m.Issue.Objectives != 14 {
			t.Errorf("issue = %+v, want I01 with 14 objectives", m.Issue)
		}
	})

	t.Run("links run cause to effect within the issue", func(t *testing.T) {
		var got []string
		for _, l := range m.Links {
			got = append(got, objectiveKey(l.CauseID, "?")+">"+objectiveKey(l.EffectID, "?"))
		}
		// O11 > O06 joins two issues and is not imported.
		want := []string{"O01>O02", "O02>O03", "O03>O04", "O04>O05", "O05>O06", "O08>O02",
			"O09>O02", "O10>O05"}
		if !equal(got, want) {
			t.Errorf("links = %q, want %q", got, want)
		}
	})

	t.Run("each objective shows its measures and their status rolled up", func(t *testing.T) {
		objectives := map[string]domain.MapObjective{}
		for _, b := range m.Bands {
			for _, o := range b.Objectives {
				objectives[objectiveKey(o.ID, o.Title)] = o
			}
		}
		for key, want := range map[string]struct {
			status   domain.Status
			measures int
		}{
			"O04": {domain.OnTrack, 3},  // M01 on track, M02 and M03 without target
			"O01": {domain.NoData, 1},   // M07 has no value yet
			"O16": {domain.NoTarget, 2}, // M10 and M11 have no target
			"O08": {domain.NoData, 0},   // a network without a measure
		} {
			o := objectives[key]
			if o.Status != want.status || len(o.Measures) != want.measures {
				t.Errorf("%s: %s with %d measures, want %s with %d", key, o.Status,
					len(o.Measures), want.status, want.measures)
			}
		}
		var names []string
		for _, mm := range objectives["O04"].Measures {
			names = append(names, measureKey(mm.ID))
			if mm.ID == tacoma.ID("measure_id", "M01") && (mm.Status != domain.OnTrack ||
				mm.Unit != "%" ||
				!equalPtr(mm.Latest, &domain.PeriodValue{Period: "2020", Value: 89.9})) {
				t.Errorf("M01 on the map = %+v, want on track at 89.9 in 2020", mm)
			}
		}
		// By name: five-year, four-year, dropout.
		if want := []string{"M02", "M01", "M03"}; !equal(names, want) {
			t.Errorf("O04's measures = %q, want %q", names, want)
		}
	})

	t.Run("the other issue has its own map", func(t *testing.T) {
		other, err := r.StrategyMap(e.ctx(), tacoma.ID("issue_id", "I02"))
		if err != nil {
			t.Fatalf("StrategyMap of I02: %v", err)
		}
		got := bandTitles(other, objectiveKey)
		if len(got) != 4 || !equal(got[0], []string{"O07"}) ||
			!equal(got[2], []string{"O11"}) || len(other.Links) != 0 {
			t.Errorf("I02's bands = %q, %d links; want O07 and O11, no link", got,
				len(other.Links))
		}
	})
}

// TestStrategyMapChanges: the map follows renames, retirements, removed links
// and new labels, and rolls statuses up worst first.
func TestStrategyMapChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	ctx := e.ctx()
	r := NewReader(e.pool, ScorecardSchema)
	e.project(ScorecardSchema, Config{})
	before, err := r.StrategyMap(ctx, g.issue)
	if err != nil {
		t.Fatalf("StrategyMap: %v", err)
	}
	title := func(_ uuid.UUID, title string) string { return title }

	t.Run("objectives in their bands, with the worst status of their measures",
		func(t *testing.T) {
			got := bandTitles(before, title)
			want := [][]string{{"Students graduate ready", "Early readers"},
				{"Families engaged"}, {"Students attend school"}, {"Partners invest"}}
			for i := range want {
				if !equal(got[i], want[i]) {
					t.Errorf("band %d = %q, want %q", i, got[i], want[i])
				}
			}
			statuses := map[string]domain.Status{}
			for _, b := range before.Bands {
				for _, o := range b.Objectives {
					statuses[o.Title] = o.Status
				}
			}
			for objective, want := range map[string]domain.Status{
				"Students graduate ready": domain.AtRisk,   // at risk and on track
				"Early readers":           domain.OffTrack, // off track
				"Families engaged":        domain.NoData,   // nothing reported
				"Students attend school":  domain.AtRisk,   // on track and at risk
				"Partners invest":         domain.NoTarget, // a value without target
			} {
				if statuses[objective] != want {
					t.Errorf("%s: %s, want %s", objective, statuses[objective], want)
				}
			}
			if len(before.Links) != 1 {
				t.Errorf("%d links, want 1", len(before.Links))
			}
		})

	ready, attend := before.Bands[0].Objectives[0].ID, before.Bands[2].Objectives[0].ID
	families := before.Bands[1].Objectives[0].ID
	_, err = e.cmd.RenameObjective(ctx, meta,
		domain.RenameObjective{ObjectiveID: ready.String(), Title: "Students graduate"})
	must(t, domain.Result{}, err)
	_, err = e.cmd.RetireObjective(ctx, meta,
		domain.RetireObjective{ObjectiveID: families.String(), Reason: "merged"})
	must(t, domain.Result{}, err)
	_, err = e.cmd.UnlinkObjectives(ctx, meta, domain.UnlinkObjectives{
		CauseID: attend.String(), EffectID: ready.String(), Reason: "no evidence"})
	must(t, domain.Result{}, err)
	_, err = e.cmd.RetireMeasure(ctx, meta,
		domain.RetireMeasure{MeasureID: g.grad.String(), Reason: "replaced"})
	must(t, domain.Result{}, err)
	_, err = e.cmd.SetPerspectiveLabels(ctx, meta, domain.SetPerspectiveLabels{
		IssueID: g.issue.String(), Labels: map[string]string{"results": "Outcomes",
			"resources": "Capacity"}})
	must(t, domain.Result{}, err)
	e.project(ScorecardSchema, Config{})
	after, err := r.StrategyMap(ctx, g.issue)
	if err != nil {
		t.Fatalf("StrategyMap: %v", err)
	}

	t.Run("the map follows its changes", func(t *testing.T) {
		got := bandTitles(after, title)
		want := [][]string{{"Students graduate", "Early readers"}, {},
			{"Students attend school"}, {"Partners invest"}}
		for i := range want {
			if !equal(got[i], want[i]) {
				t.Errorf("band %d = %q, want %q", i, got[i], want[i])
			}
		}
		var labels []string
		for _, b := range after.Bands {
			labels = append(labels, b.Label)
		}
		if want := []string{"Outcomes", "Stakeholders", "Processes", "Capacity"}; !equal(
			labels, want) {
			t.Errorf("labels = %q, want %q", labels, want)
		}
		if len(after.Links) != 0 {
			t.Errorf("links = %v, want none", after.Links)
		}
	})

	t.Run("a retired measure leaves its objective", func(t *testing.T) {
		o := after.Bands[0].Objectives[0]
		if len(o.Measures) != 1 || o.Measures[0].ID != g.readiness ||
			o.Status != domain.OnTrack {
			t.Errorf("%s: %d measures, %s; want readiness alone, on track", o.Title,
				len(o.Measures), o.Status)
		}
	})

	t.Run("a link to a retired objective is left out", func(t *testing.T) {
		_, err := e.cmd.LinkObjectives(ctx, meta, domain.LinkObjectives{
			CauseID: attend.String(), EffectID: ready.String()})
		must(t, domain.Result{}, err)
		_, err = e.cmd.RetireObjective(ctx, meta,
			domain.RetireObjective{ObjectiveID: attend.String(), Reason: "done"})
		must(t, domain.Result{}, err)
		e.project(ScorecardSchema, Config{})
		m, err := r.StrategyMap(ctx, g.issue)
		if err != nil || len(m.Links) != 0 || len(m.Bands[2].Objectives) != 0 {
			t.Errorf("links %v, processes %d, %v; want none, 0", m.Links,
				len(m.Bands[2].Objectives), err)
		}
	})

	t.Run("an unknown issue is not found", func(t *testing.T) {
		_, err := r.StrategyMap(ctx, uuid.New())
		if domain.ErrorCode(err) != domain.CodeNotFound {
			t.Errorf("StrategyMap of an unknown issue: %v, want not found", err)
		}
	})

	t.Run("a map costs one round trip", func(t *testing.T) {
		pool, trips := e.countingPool()
		counted := NewReader(pool, ScorecardSchema)
		for range 2 { // the first also connects and prepares
			if _, err := counted.StrategyMap(ctx, g.issue); err != nil {
				t.Fatal(err)
			}
		}
		before := trips.n.Load()
		if _, err := counted.StrategyMap(ctx, g.issue); err != nil {
			t.Fatal(err)
		}
		if n := trips.n.Load() - before; n != 1 {
			t.Errorf("StrategyMap took %d round trips, want 1", n)
		}
	})
}
