package web_test

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/http/web"
)

func TestReportsNotYetAvailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *web.Config) { c.Funding, c.Activity, c.Maps = nil, nil, nil })
	s := newScene(f)
	for path, want := range map[string]string{
		"/funding":                    "The funding report is not available yet",
		"/activity":                   "The activity feed is not available yet",
		"/issues/" + s.issue.String(): "The strategy map picture is not available yet",
		"/":                           "The list of commitments is not available yet",
	} {
		if r := f.get(s.editor, path); r.status != http.StatusOK ||
			!strings.Contains(text(r.body), want) {
			t.Errorf("GET %s: status %d, page lacks %q", path, r.status, want)
		}
	}
	if r := f.get(s.viewer, "/funding.csv"); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET /funding.csv: status %d, want 503", r.status)
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newScene(f)
	commit := func(u user, pairs ...string) {
		t.Helper()
		r := f.post(u, "/commitments/new", append([]string{"issue_id", s.issue.String()},
			pairs...)...)
		if r.status != http.StatusSeeOther {
			t.Fatalf("commit: status %d, page says: %s", r.status, text(r.body))
		}
	}
	commit(s.editor, "kind", "funding", "description", `Capacity, "data" and access`,
		"amount", "2,500,000", "currency", "USD", "period", "2019")
	commit(s.other, "kind", "in_kind", "description", "Volunteer tutors", "period", "2020")
	unitedWay := s.unitedWay.String()
	commit(s.admin, "partner_id", unitedWay, "kind", "funding",
		"description", "Summer learning", "amount", "1200.50", "period", "2020")
	f.waitForReads(f.last())

	t.Run("funding with filters", func(t *testing.T) {
		r := f.get(s.analyst, "/funding")
		page := text(r.body)
		for _, want := range []string{"2,500,000 USD", "1,200.50 USD", "Volunteer tutors",
			"undisclosed", "Download as CSV"} {
			if !strings.Contains(page, want) {
				t.Errorf("the funding page lacks %q:\n%s", want, page)
			}
		}
		r = f.get(s.analyst, "/funding?partner_id="+unitedWay+"&period=2020&kind=funding")
		if page := text(r.body); !strings.Contains(page, "Summer learning") ||
			strings.Contains(page, "Volunteer tutors") || strings.Contains(page, "Capacity") {
			t.Errorf("the filtered page shows other commitments:\n%s", page)
		}
		r = f.get(s.analyst, "/funding?issue_id=nonsense")
		if r.status != http.StatusBadRequest || !strings.Contains(text(r.body), "issue id") {
			t.Errorf("a malformed filter: status %d, page says %s", r.status, text(r.body))
		}
	})

	t.Run("funding as CSV", func(t *testing.T) {
		r := f.get(s.analyst, "/funding.csv?period=2019")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"),
			"text/csv") {
			t.Fatalf("status %d, type %q", r.status, r.header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0][10] != "amount" || rows[1][10] != "2500000.00" ||
			rows[1][9] != `Capacity, "data" and access` || rows[1][2] != "Tacoma Public Schools" {
			t.Errorf("CSV rows %q", rows)
		}
	})

	t.Run("activity filtered by partner, with paging", func(t *testing.T) {
		r := f.get(s.viewer, "/activity?partner_id="+s.district.String())
		page := text(r.body)
		if !strings.Contains(page, "Tacoma Public Schools") ||
			strings.Contains(page, "Volunteer tutors") {
			t.Errorf("the activity page mixes partners:\n%s", page)
		}

		for i := range domain.DefaultActivityLimit + 1 { // more than a page of the feed
			f.report(s.absence, fmt.Sprintf("%d-M%02d", 2000+i/12, 1+i%12), float64(i%90))
		}
		r = f.get(s.viewer, fmt.Sprintf("/activity?after=%d", f.last()))
		older := regexp.MustCompile(`href="(/activity\?[^"]*before=\d+[^"]*)"`).
			FindStringSubmatch(r.body)
		if older == nil {
			t.Fatalf("no link to older changes:\n%s", text(r.body))
		}
		next := f.get(s.viewer, html.UnescapeString(older[1]))
		if next.status != http.StatusOK ||
			!strings.Contains(text(next.body), "Launched the issue Graduation") {
			t.Errorf("the older page: status %d, says %s", next.status, text(next.body))
		}
	})

	t.Run("the issue shows the map, every objective and its links", func(t *testing.T) {
		r := f.post(s.admin, "/issues/"+s.issue.String()+"/objectives/new",
			"perspective", "stakeholders", "title", "Families engaged")
		if r.status != http.StatusSeeOther {
			t.Fatalf("define an objective: status %d", r.status)
		}
		r = f.post(s.admin, "/issues/"+s.issue.String()+"/links/new",
			"cause_objective_id", s.attend.String(), "effect_objective_id", s.ready.String())
		r = f.get(s.viewer, r.header.Get("Location"))
		link := `href="/issues/` + s.issue.String() + `#objective-` + s.ready.String() + `"`
		if !strings.Contains(r.body, `aria-labelledby="smap-title smap-desc"`) ||
			!strings.Contains(r.body, link) {
			t.Errorf("the map picture or its link to an objective is missing:\n%s", r.body)
		}
		page := text(r.body)
		for _, want := range []string{"Stakeholders", "Families engaged",
			"drives: Students graduate"} {
			if !strings.Contains(page, want) {
				t.Errorf("the issue page lacks %q:\n%s", want, page)
			}
		}
		form := f.get(s.admin, "/issues/"+s.issue.String()+"/links/new")
		if !strings.Contains(form.body, ">Families engaged</option>") {
			t.Error("the link form does not offer an objective without measures")
		}
	})

	t.Run("home lists the editor's commitments and activity", func(t *testing.T) {
		page := text(f.get(s.editor, "/").body)
		for _, want := range []string{`Capacity, "data" and access — 2,500,000 USD`,
			"Reported 50 for 2004-03 on Chronic absence"} {
			if !strings.Contains(page, want) {
				t.Errorf("home lacks %q:\n%s", want, page)
			}
		}
	})
}
