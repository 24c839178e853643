package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

func TestReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	issue, measure := uuid.New(), uuid.New()
	view := domain.MeasureView{ID: measure, IssueID: issue, Name: "On-time graduation",
		Unit: "%", Version: 4, Targets: []domain.PeriodValue{}, Series: []domain.SeriesPoint{}}
	f.reads.mu.Lock()
	f.reads.measures[measure] = view
	f.reads.scorecards[issue] = domain.Scorecard{
		Issue:       domain.IssueSummary{ID: issue, Title: "Cradle to career"},
		Population:  []domain.MeasureView{view},
		Performance: []domain.MeasureView{},
	}
	f.reads.mu.Unlock()

	t.Run("no issues is an empty list", func(t *testing.T) {
		res := f.do(http.MethodGet, "/api/v1/issues", "")
		if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != `{"issues":[]}` {
			t.Errorf("got %d %s, want 200 {\"issues\":[]}", res.status, res.body)
		}
	})
	t.Run("issues are listed", func(t *testing.T) {
		f.reads.mu.Lock()
		f.reads.issues = []domain.IssueSummary{{ID: issue, Title: "Cradle to career"}}
		f.reads.mu.Unlock()
		var got struct{ Issues []domain.IssueSummary }
		getJSON(t, f, "/api/v1/issues", &got)
		if len(got.Issues) != 1 || got.Issues[0].ID != issue {
			t.Errorf("issues %+v, want the one issue %s", got.Issues, issue)
		}
	})
	t.Run("a scorecard", func(t *testing.T) {
		var got domain.Scorecard
		getJSON(t, f, "/api/v1/issues/"+issue.String()+"/scorecard", &got)
		if got.Issue.ID != issue || len(got.Population) != 1 || got.Population[0].ID != measure ||
			got.Performance == nil || len(got.Performance) != 0 {
			t.Errorf("scorecard %+v, want issue %s with measure %s", got, issue, measure)
		}
	})
	t.Run("a measure with its version as ETag", func(t *testing.T) {
		var got domain.MeasureView
		res := getJSON(t, f, "/api/v1/measures/"+measure.String(), &got)
		if got.ID != measure || got.Name != view.Name || res.header.Get("ETag") != `"4"` {
			t.Errorf("measure %+v ETag %s, want %s ETag \"4\"", got, res.header.Get("ETag"),
				measure)
		}
	})
	for _, path := range []string{
		"/api/v1/measures/" + uuid.NewString(),
		"/api/v1/measures/not-a-uuid",
		"/api/v1/issues/" + uuid.NewString() + "/scorecard",
		"/api/v1/issues/not-a-uuid/scorecard",
		"/api/v1/objectives/" + uuid.NewString() + "/scorecard",
		"/api/v1/objectives/not-a-uuid/scorecard",
		"/api/v1/partners/" + uuid.NewString() + "/scorecard",
		"/api/v1/partners/not-a-uuid/scorecard",
		// This server has no strategy maps.
		"/api/v1/issues/" + issue.String() + "/strategy-map",
		"/api/v1/issues/" + issue.String() + "/strategy-map.svg",
	} {
		t.Run("404 for "+path, func(t *testing.T) {
			wantProblem(t, f.do(http.MethodGet, path, ""), http.StatusNotFound)
		})
	}
}

func getJSON(t *testing.T, f *fixture, path string, v any) response {
	t.Helper()
	res := f.do(http.MethodGet, path, "")
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %s", path, res.status, res.body)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("decode GET %s: %v; body %s", path, err, res.body)
	}
	return res
}

func TestReadAfter(t *testing.T) {
	t.Parallel()
	const wait = 300 * time.Millisecond
	f := newFixture(t, wait)
	f.reads.position.Store(10)

	t.Run("a sequence already applied answers at once", func(t *testing.T) {
		for _, after := range []string{"0", "9", "10"} {
			res := f.do(http.MethodGet, "/api/v1/issues?after="+after, "")
			if res.status != http.StatusOK {
				t.Errorf("after=%s: status %d, want 200", after, res.status)
			}
		}
	})
	t.Run("a sequence not reached in time is a 503 to retry", func(t *testing.T) {
		start := time.Now()
		res := f.do(http.MethodGet, "/api/v1/issues?after=11", "")
		took := time.Since(start)
		wantProblem(t, res, http.StatusServiceUnavailable)
		if got := res.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q, want 1", got)
		}
		if took < wait {
			t.Errorf("answered after %v, want it to wait %v", took, wait)
		}
	})
	t.Run("a sequence reached while waiting answers 200", func(t *testing.T) {
		slow := newFixture(t, 5*time.Second)
		slow.reads.position.Store(10)
		time.AfterFunc(100*time.Millisecond, func() { slow.reads.position.Store(12) })
		res := slow.do(http.MethodGet, "/api/v1/issues?after=12", "")
		if res.status != http.StatusOK {
			t.Errorf("status %d, want 200; body %s", res.status, res.body)
		}
	})
	for _, after := range []string{"-1", "x", "1.5", "", "18446744073709551616"} {
		t.Run("after="+after+" is refused", func(t *testing.T) {
			wantProblem(t, f.do(http.MethodGet, "/api/v1/issues?after="+after, ""),
				http.StatusBadRequest, "after")
		})
	}
	t.Run("two after parameters are refused", func(t *testing.T) {
		wantProblem(t, f.do(http.MethodGet, "/api/v1/issues?after=1&after=2", ""),
			http.StatusBadRequest, "after")
	})
	t.Run("every read waits", func(t *testing.T) {
		for _, path := range []string{"/api/v1/measures/" + uuid.NewString(),
			"/api/v1/issues/" + uuid.NewString() + "/scorecard",
			"/api/v1/objectives/" + uuid.NewString() + "/scorecard",
			"/api/v1/partners/" + uuid.NewString() + "/scorecard"} {
			wantProblem(t, f.do(http.MethodGet, path+"?after=99", ""),
				http.StatusServiceUnavailable)
		}
	})
}
