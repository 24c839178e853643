package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// scene is a small effort: two partners, an issue with two objectives and a
// measure owned by each partner, with a value reported on each.
type scene struct {
	district, unitedWay     uuid.UUID
	issue, ready, attend    uuid.UUID
	graduation, absence     uuid.UUID
	admin, editor, other    user
	analyst, viewer, nobody user
	roles                   []roleCase
}

// roleCase is a user and the name its subtests carry.
type roleCase struct {
	name string
	u    user
}

func newScene(f *fixture) scene {
	f.t.Helper()
	var s scene
	s.district = f.must(f.commands.RegisterPartner(f.ctx, trusted,
		domain.RegisterPartner{Name: "Tacoma Public Schools", Kind: "school_district"}))
	s.unitedWay = f.must(f.commands.RegisterPartner(f.ctx, trusted,
		domain.RegisterPartner{Name: "United Way of Pierce County", Kind: "united_way"}))
	s.issue = f.must(f.commands.LaunchIssue(f.ctx, trusted,
		domain.LaunchIssue{Title: "Graduation", Description: "Every student graduates"}))
	s.ready = f.must(f.commands.DefineObjective(f.ctx, trusted, domain.DefineObjective{
		IssueID: s.issue.String(), Perspective: "results", Title: "Students graduate"}))
	s.attend = f.must(f.commands.DefineObjective(f.ctx, trusted, domain.DefineObjective{
		IssueID: s.issue.String(), Perspective: "processes", Title: "Students attend"}))
	s.graduation = f.measure(s.ready, "Graduation rate", "%", "higher", s.district)
	s.absence = f.measure(s.attend, "Chronic absence", "%", "lower", s.unitedWay)
	f.report(s.graduation, "2014", 78.3)
	f.report(s.absence, "2014", 12)

	s.admin = f.addUser("admin@example.org", domain.RoleAdmin, nil)
	s.editor = f.addUser("editor@tps.example.org", domain.RoleEditor, &s.district)
	s.other = f.addUser("editor@uw.example.org", domain.RoleEditor, &s.unitedWay)
	s.analyst = f.addUser("analyst@example.org", domain.RoleAnalyst, nil)
	s.viewer = f.addUser("viewer@example.org", domain.RoleViewer, &s.district)
	s.roles = []roleCase{{"admin", s.admin}, {"own editor", s.editor},
		{"other editor", s.other}, {"analyst", s.analyst}, {"viewer", s.viewer}}
	f.waitForReads(f.last())
	return s
}

func (f *fixture) measure(objective uuid.UUID, name, unit, polarity string,
	owner uuid.UUID) uuid.UUID {
	f.t.Helper()
	return f.must(f.commands.DefineMeasure(f.ctx, trusted, domain.DefineMeasure{
		ObjectiveID: objective.String(), Name: name, Unit: unit, Polarity: polarity,
		Kind: "population", OwnerPartnerID: owner.String()}))
}

func (f *fixture) report(measure uuid.UUID, period string, v float64) {
	f.t.Helper()
	f.must(f.commands.ReportProgress(f.ctx, trusted, domain.ReportProgress{
		MeasureID: measure.String(), Period: period, Value: &v}))
}

// outcome is what a role gets from an action.
type outcome int

const (
	done      outcome = iota // 303 to the next page, which shows the change
	forbidden                // 403 with the domain's reason
)

func (o outcome) String() string { return [...]string{"done", "forbidden"}[o] }

// TestRolesAndActions posts every form as every role and checks that the
// domain's decision reaches the user: the change done, or a clear refusal.
func TestRolesAndActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newScene(f)

	// action is one form: where it posts, what it sends (n makes values unique
	// per role) and who may use it, by role name.
	type action struct {
		name, path string
		form       func(n int) []string
		allowed    []string
	}
	everyWriter := []string{"admin", "own editor"}
	actions := []action{
		{"report progress on the district's measure",
			"/measures/" + s.graduation.String() + "/progress/new",
			func(n int) []string {
				return []string{"period", fmt.Sprint(2015 + n), "value", "80"}
			},
			everyWriter},
		{"correct the district's value",
			"/measures/" + s.graduation.String() + "/corrections/new",
			func(n int) []string {
				return []string{"period", "2014", "value", fmt.Sprint(78 + n),
					"reason", "restated"}
			}, everyWriter},
		{"set the district's target",
			"/measures/" + s.graduation.String() + "/targets/new",
			func(n int) []string {
				return []string{"period", fmt.Sprint(2030 + n), "value", "85"}
			},
			everyWriter},
		{"define a measure under a shared objective",
			"/objectives/" + s.ready.String() + "/measures/new",
			func(n int) []string {
				return []string{"name", fmt.Sprintf("Measure %d", n), "unit", "count",
					"polarity", "higher", "kind", "performance", "question", "how_much"}
			}, []string{"admin", "own editor", "other editor"}},
		{"commit for the district",
			"/commitments/new",
			func(n int) []string {
				return []string{"partner_id", s.district.String(), "issue_id", s.issue.String(),
					"kind", "funding", "description", fmt.Sprintf("Tutoring %d", n),
					"amount", "1,200.50", "currency", "USD", "period", "2026"}
			}, everyWriter},
		{"launch an issue", "/issues/new",
			func(n int) []string { return []string{"title", fmt.Sprintf("Issue %d", n)} },
			[]string{"admin"}},
		{"define an objective", "/issues/" + s.issue.String() + "/objectives/new",
			func(n int) []string {
				return []string{"perspective", "resources",
					"title", fmt.Sprintf("Objective %d", n)}
			}, []string{"admin"}},
		{"link objectives", "/issues/" + s.issue.String() + "/links/new",
			func(int) []string {
				return []string{"cause_objective_id", s.attend.String(),
					"effect_objective_id", s.ready.String()}
			}, []string{"admin"}},
		{"register a partner", "/partners/new",
			func(n int) []string {
				return []string{"name", fmt.Sprintf("Partner %d", n), "kind", "nonprofit"}
			}, []string{"admin"}},
		{"invite a user", "/admin/invitations",
			func(n int) []string {
				return []string{"email", fmt.Sprintf("new%d@example.org", n), "role", "viewer"}
			}, []string{"admin"}},
	}

	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			for n, rc := range s.roles {
				want := forbidden
				for _, name := range a.allowed {
					if name == rc.name {
						want = done
					}
				}
				t.Run(rc.name, func(t *testing.T) {
					before := f.last()
					r := f.post(rc.u, a.path, a.form(n)...)
					switch want {
					case done:
						if r.status != http.StatusSeeOther && r.status != http.StatusCreated {
							t.Fatalf("status %d, want 303 or 201; page says: %s",
								r.status, text(r.body))
						}
						if r.status == http.StatusSeeOther &&
							!strings.Contains(r.header.Get("Location"), "after=") {
							t.Errorf("redirect to %q carries no after=", r.header.Get("Location"))
						}
					case forbidden:
						if r.status != http.StatusForbidden {
							t.Fatalf("status %d, want 403; page says: %s", r.status, text(r.body))
						}
						if !strings.Contains(text(r.body), "may") {
							t.Errorf("the refusal gives no reason: %s", text(r.body))
						}
						if got := f.last(); got != before {
							t.Errorf("a refused action appended events: sequence %d → %d",
								before, got)
						}
					}
				})
			}
		})
	}

	t.Run("anonymous is sent to sign in", func(t *testing.T) {
		for _, a := range actions {
			r := f.post(s.nobody, a.path, a.form(99)...)
			if r.status != http.StatusSeeOther ||
				!strings.HasPrefix(r.header.Get("Location"), "/signin") {
				t.Errorf("%s: status %d to %q, want 303 to /signin", a.name, r.status,
					r.header.Get("Location"))
			}
		}
	})
}

// TestRolesAndPages reads every page as every role: everyone signed in reads
// everything, only an admin manages users, and nobody else reads anything.
func TestRolesAndPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newScene(f)
	seq := f.last()
	pages := []string{"/", "/issues", "/issues/" + s.issue.String(),
		"/measures/" + s.graduation.String() + fmt.Sprintf("?after=%d", seq),
		"/funding", "/activity"}
	forms := []string{"/measures/" + s.graduation.String() + "/progress/new",
		"/commitments/new", "/issues/new", "/partners/new",
		"/issues/" + s.issue.String() + "/links/new"}

	for _, rc := range s.roles {
		t.Run(rc.name, func(t *testing.T) {
			for _, p := range append(pages, forms...) {
				if r := f.get(rc.u, p); r.status != http.StatusOK {
					t.Errorf("GET %s: status %d; page says: %s", p, r.status, text(r.body))
				}
			}
			r := f.get(rc.u, "/admin/users")
			want := http.StatusForbidden
			if rc.name == "admin" {
				want = http.StatusOK
			}
			if r.status != want {
				t.Errorf("GET /admin/users: status %d, want %d", r.status, want)
			}
		})
	}

	t.Run("anonymous", func(t *testing.T) {
		for _, p := range append(pages, "/admin/users") {
			r := f.get(s.nobody, p)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"),
				"/signin?next=") {
				t.Errorf("GET %s: status %d to %q, want 303 to sign in", p, r.status,
					r.header.Get("Location"))
			}
		}
	})
}
