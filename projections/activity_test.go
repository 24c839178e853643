package projections

// The activity read model's contract: every event becomes one row, newest
// first, pages chain without gaps or repeats, filters by issue and partner
// keep what concerns them, and sentences name who changed what.

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/tacoma"
)

// feed reads every page of the feed in schema with f's filters and page
// size, checking that sequences fall strictly from page to page.
func (e *env) feed(schema string, f domain.ActivityFilter) []domain.Activity {
	e.t.Helper()
	r := NewActivityReader(e.pool, schema)
	var all []domain.Activity
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			e.t.Fatalf("the feed has more than 10000 pages; Next never reaches 0")
		}
		page, err := r.Activity(e.ctx(), f)
		if err != nil {
			e.t.Fatalf("Activity(%+v): %v", f, err)
		}
		for _, a := range page.Items {
			if len(all) > 0 && a.Sequence >= all[len(all)-1].Sequence {
				e.t.Fatalf("sequence %d after %d, want newest first", a.Sequence,
					all[len(all)-1].Sequence)
			}
			all = append(all, a)
		}
		if page.Next == 0 {
			return all
		}
		f.Before = page.Next
	}
}

// summaries maps each sequence of a feed to its sentence.
func summaries(feed []domain.Activity) map[uint64]string {
	out := map[uint64]string{}
	for _, a := range feed {
		out[a.Sequence] = a.Summary
	}
	return out
}

// find returns the first row whose sentence starts with prefix.
func find(t *testing.T, feed []domain.Activity, prefix string) domain.Activity {
	t.Helper()
	for _, a := range feed {
		if strings.HasPrefix(a.Summary, prefix) {
			return a
		}
	}
	t.Fatalf("no activity reads %q", prefix)
	return domain.Activity{}
}

func TestActivityOnTacoma(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadTacoma()
	e.projectModel(NewActivity(""))
	all := e.feed(ActivitySchema, domain.ActivityFilter{Limit: domain.MaxActivityLimit})
	district, gates := tacoma.ID("partner_id", "P02"), tacoma.ID("partner_id", "P05")
	cradle, postsecondary := tacoma.ID("issue_id", "I01"), tacoma.ID("issue_id", "I02")

	t.Run("one row per event", func(t *testing.T) {
		if uint64(len(all)) != e.last() || all[0].Sequence != e.last() {
			t.Errorf("%d rows, the newest %d; want %d, newest first", len(all),
				all[0].Sequence, e.last())
		}
	})
	t.Run("a partner's report names the partner, the measure and its issue", func(t *testing.T) {
		a := find(t, all, "Tacoma Public Schools reported 82.6 for 2015 on "+
			"Four-year (on-time) high school graduation rate")
		if a.PartnerID == nil || *a.PartnerID != district || a.IssueID == nil ||
			*a.IssueID != cradle || !strings.HasPrefix(a.IssueTitle, "Cradle-to-career") ||
			a.Type != domain.ProgressReported || a.Actor != meta.Actor {
			t.Errorf("activity %+v, want TPS's report under issue I01 by %s", a, meta.Actor)
		}
	})
	t.Run("a funder's commitment", func(t *testing.T) {
		a := find(t, all, "Bill & Melinda Gates Foundation committed 2,500,000.00 USD of "+
			"funding to Align funding and resources to shared goals")
		if !strings.Contains(a.Summary, " for 2019: “Two-year investment") {
			t.Errorf("summary %q, want the period and the description", a.Summary)
		}
	})
	t.Run("per issue", func(t *testing.T) {
		feed := e.feed(ActivitySchema, domain.ActivityFilter{IssueID: &postsecondary})
		for _, a := range feed {
			if a.IssueID == nil || *a.IssueID != postsecondary {
				t.Fatalf("activity %+v in the feed of issue I02", a)
			}
		}
		find(t, feed, "Launched the issue Postsecondary success by 2030")
		find(t, feed, "Defined the objective Tacoma Completes")
		find(t, feed, "Washington Student Achievement Council committed 1,200,000.00 USD")
	})
	t.Run("per partner", func(t *testing.T) {
		feed := e.feed(ActivitySchema, domain.ActivityFilter{PartnerID: &gates})
		if len(feed) != 2 {
			t.Errorf("%d rows for the Gates Foundation, want its registration and "+
				"its commitment: %+v", len(feed), feed)
		}
		find(t, feed, "Registered Bill & Melinda Gates Foundation as a partner (foundation)")
	})
}

func TestActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := writeGraduation(e)
	future := `{"id":"` + uuid.NewString() + `","type":"measure.forecast_made",
		"schema_version":1,"aggregate_type":"measure","aggregate_id":"` +
		g.surveyed.String() + `","aggregate_version":2,"actor":"token:future",
		"payload":{"value":3}}`
	msg := nats.NewMsg(e.store.Subject(domain.MeasureAggregate, g.surveyed))
	msg.Data = []byte(future)
	if _, err := e.store.JetStream().PublishMsg(e.ctx(), msg); err != nil {
		t.Fatal(err)
	}
	invest := e.objective(g.issue, domain.Resources, "Partners invest together")
	_, err := e.cmd.RenameObjective(e.ctx(), meta, domain.RenameObjective{
		ObjectiveID: invest.String(), Title: "Partners align their investments"})
	if err != nil {
		t.Fatal(err)
	}
	delivered := int64(100_000_00)
	e.fulfil(g.commitment, &delivered, false)

	e.projectModel(NewActivity(""))
	all := e.feed(ActivitySchema, domain.ActivityFilter{Limit: 7})

	t.Run("pages chain over every event once", func(t *testing.T) {
		if uint64(len(all)) != e.last() || all[len(all)-1].Sequence != 1 {
			t.Errorf("%d rows down to %d, want %d down to 1", len(all),
				all[len(all)-1].Sequence, e.last())
		}
	})
	t.Run("a page is cut at its limit", func(t *testing.T) {
		r := NewActivityReader(e.pool, ActivitySchema)
		page, err := r.Activity(e.ctx(), domain.ActivityFilter{Limit: 3, Before: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, a := range page.Items {
			got = append(got, a.Sequence)
		}
		if len(got) != 3 || got[0] != 9 || got[2] != 7 || page.Next != 7 {
			t.Errorf("page %v next %d, want 9 8 7 next 7", got, page.Next)
		}
	})
	t.Run("sentences", func(t *testing.T) {
		for _, prefix := range []string{
			"Tacoma Public Schools committed 250,000.00 USD of funding to Graduation for " +
				"2014-15: “Graduation coaches”",
			"Tacoma Public Schools delivered 100,000.00 USD of the commitment " +
				"“Graduation coaches”",
			"Renamed the objective “Partners invest together” to " +
				"“Partners align their investments”",
			"Corrected Chronic absence for 2014 to 10.5: “late attendance records”",
			"Reported 90 for 2013 on Graduation rate (race=White)",
			"Set the target of Graduation rate for 2014 to 88",
			"Linked Students attend school as a cause of Students graduate ready",
			"Defined the measure Graduation rate, owned by Tacoma Public Schools",
			"Recorded measure.forecast_made on the measure Families surveyed",
		} {
			find(t, all, prefix)
		}
	})
	t.Run("an objective's change is under its issue", func(t *testing.T) {
		a := find(t, all, "Renamed the objective")
		if a.IssueID == nil || *a.IssueID != g.issue || a.IssueTitle != "Graduation" {
			t.Errorf("activity %+v, want it under issue Graduation", a)
		}
	})
	t.Run("per issue", func(t *testing.T) {
		feed := e.feed(ActivitySchema, domain.ActivityFilter{IssueID: &g.other})
		if len(feed) != 1 || feed[0].Summary != "Launched the issue Attendance" {
			t.Errorf("feed of Attendance %+v, want only its launch", feed)
		}
	})
	t.Run("per partner", func(t *testing.T) {
		feed := e.feed(ActivitySchema, domain.ActivityFilter{PartnerID: &g.district, Limit: 2})
		if len(feed) != 4 {
			t.Errorf("%d rows for the district, want its registration, its measure, its "+
				"commitment and the delivery", len(feed))
		}
		for _, a := range feed {
			if a.PartnerName != "Tacoma Public Schools" {
				t.Errorf("activity %+v, want the district's name on it", a)
			}
		}
	})
	t.Run("one event at a time reads the same", func(t *testing.T) {
		single := NewActivity("activity_single")
		if err := MigrateProjection(e.ctx(), e.pool, single); err != nil {
			t.Fatal(err)
		}
		stop := e.run(e.ctx(), NewProjector(e.pool, e.store.JetStream(),
			e.store.StreamName(), single, Config{BatchSize: 1, Logger: testLogger(t)}))
		e.waitFor("activity_single", e.last())
		stop()
		got := summaries(e.feed("activity_single", domain.ActivityFilter{}))
		for seq, want := range summaries(all) {
			if got[seq] != want {
				t.Errorf("event %d reads %q one at a time, %q in a batch", seq, got[seq], want)
			}
		}
	})
}
