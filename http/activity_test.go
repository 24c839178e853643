package http_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/tacoma"
)

func TestActivityAPI(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	page := func(t *testing.T, query string) domain.ActivityPage {
		t.Helper()
		var p domain.ActivityPage
		getJSON(t, f.fixture, "/api/v1/activity?"+query, &p)
		return p
	}

	t.Run("newest first, page after page", func(t *testing.T) {
		first := page(t, "limit=5")
		if len(first.Items) != 5 || first.Items[0].Sequence != f.last ||
			first.Next != first.Items[4].Sequence {
			t.Fatalf("first page %+v, want 5 items from %d on, and next", first, f.last)
		}
		second := page(t, "limit=5&before="+strconv.FormatUint(first.Next, 10))
		if len(second.Items) != 5 || second.Items[0].Sequence != first.Next-1 {
			t.Errorf("second page starts at %d, want %d", second.Items[0].Sequence,
				first.Next-1)
		}
	})
	t.Run("the default page", func(t *testing.T) {
		if got := len(page(t, "").Items); got != domain.DefaultActivityLimit {
			t.Errorf("%d items, want %d", got, domain.DefaultActivityLimit)
		}
	})
	t.Run("per issue", func(t *testing.T) {
		issue := tacoma.ID("issue_id", "I02")
		p := page(t, "limit=200&issue_id="+issue.String())
		if len(p.Items) == 0 || p.Next != 0 {
			t.Fatalf("page %+v, want all of issue I02 on one page", p)
		}
		for _, a := range p.Items {
			if a.IssueID == nil || *a.IssueID != issue {
				t.Errorf("activity %+v in the feed of issue I02", a)
			}
		}
	})
	t.Run("per partner, with a partner's sentence", func(t *testing.T) {
		district := tacoma.ID("partner_id", "P02")
		p := page(t, "limit=200&partner_id="+district.String())
		found := false
		for _, a := range p.Items {
			if a.PartnerName != "Tacoma Public Schools" {
				t.Errorf("activity %+v in the feed of Tacoma Public Schools", a)
			}
			found = found || strings.HasPrefix(a.Summary, "Tacoma Public Schools reported "+
				"82.6 for 2015 on Four-year (on-time) high school graduation rate")
		}
		if !found {
			t.Errorf("no report of 82.6 for 2015 among %d items", len(p.Items))
		}
	})
	t.Run("after a sequence already applied", func(t *testing.T) {
		page(t, "after="+strconv.FormatUint(f.last, 10))
	})
	for _, bad := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=ten", "limit"},
		{"before=0", "before"}, {"before=latest", "before"},
		{"issue_id=I01", "issue_id"}, {"partner_id=P02", "partner_id"},
	} {
		t.Run(bad.query+" is refused", func(t *testing.T) {
			wantProblem(t, f.do(http.MethodGet, "/api/v1/activity?"+bad.query, ""),
				http.StatusBadRequest, bad.field)
		})
	}
}
