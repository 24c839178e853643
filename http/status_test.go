package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backbone-ci/backbone/domain"
	api "github.com/backbone-ci/backbone/http"
)

// fakeOps reports fixed projector statuses, or fails.
type fakeOps struct {
	mu        sync.Mutex
	statuses  []domain.ProjectorStatus
	statusErr error
	readyErr  error
}

func (o *fakeOps) Status(context.Context) ([]domain.ProjectorStatus, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.statuses, o.statusErr
}

func (o *fakeOps) Ready(context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.readyErr
}

func (o *fakeOps) fail(status, ready error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.statusErr, o.readyErr = status, ready
}

var parkedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// twoProjectors is a caught-up scorecard and a funding read model 40 events
// and 2.5 seconds behind, stuck on one event after parking another.
var twoProjectors = []domain.ProjectorStatus{
	{Name: "scorecard", Schema: "scorecard", Position: 140, StreamLast: 140, Active: true,
		Poisoned: []domain.Poison{}},
	{Name: "funding", Schema: "funding", Position: 100, StreamLast: 140, Behind: 40,
		OldestUnprocessedAge: 2.5, Poisoned: []domain.Poison{
			{Sequence: 37, EventType: "commitment.made", Error: "bad amount", At: parkedAt,
				Parked: true},
			{Sequence: 101, EventType: "commitment.fulfilled", Error: "no such commitment",
				At: parkedAt},
		}},
}

func newOpsServer(t *testing.T, ops *fakeOps) string {
	t.Helper()
	hs := httptest.NewServer(api.NewOperations(ops, slog.New(slog.DiscardHandler)))
	t.Cleanup(hs.Close)
	return hs.URL
}

func get(t *testing.T, url string) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	ops := &fakeOps{statuses: twoProjectors}
	url := newOpsServer(t, ops)

	res := get(t, url+"/api/v1/status")
	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", res.status, res.body)
	}
	var got struct {
		StreamLast uint64                   `json:"stream_last"`
		Projectors []domain.ProjectorStatus `json:"projectors"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatalf("decode: %v; body %s", err, res.body)
	}
	want, _ := json.Marshal(twoProjectors)
	gotJSON, _ := json.Marshal(got.Projectors)
	if string(gotJSON) != string(want) || got.StreamLast != 140 {
		t.Errorf("status\n%s\nwant stream_last 140 and\n%s", res.body, want)
	}
	for _, field := range []string{`"behind":40`, `"oldest_unprocessed_age_seconds":2.5`,
		`"parked":true`, `"active":true`, `"sequence":101`} {
		if !strings.Contains(string(res.body), field) {
			t.Errorf("status lacks %s: %s", field, res.body)
		}
	}

	ops.fail(errors.New("database down"), nil)
	defer ops.fail(nil, nil)
	wantProblem(t, get(t, url+"/api/v1/status"), http.StatusInternalServerError)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	url := newOpsServer(t, &fakeOps{statuses: twoProjectors})
	res := get(t, url+"/metrics")
	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text exposition format", ct)
	}
	text := string(res.body)
	for _, line := range []string{
		`backbone_projector_position{projector="scorecard"} 140`,
		`backbone_projector_position{projector="funding"} 100`,
		`backbone_projector_events_behind{projector="funding"} 40`,
		`backbone_projector_lag_seconds{projector="funding"} 2.5`,
		`backbone_projector_lag_seconds{projector="scorecard"} 0`,
		`backbone_projector_poisoned_events{projector="funding"} 2`,
		`backbone_projector_stuck{projector="funding"} 1`,
		`backbone_projector_stuck{projector="scorecard"} 0`,
		`backbone_projector_active{projector="scorecard"} 1`,
		`backbone_stream_last_sequence 140`,
		`# TYPE backbone_projector_lag_seconds gauge`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, text)
		}
	}

	// Every line is a comment or a sample, and every metric has HELP and TYPE.
	sample := regexp.MustCompile(`^([a-z_]+)(\{projector="[a-z_]+"\})? [0-9.e+-]+$`)
	described := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			described[strings.Fields(name)[0]] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %q is neither a comment nor a sample", line)
		} else if !described[m[1]] {
			t.Errorf("sample %q comes before its # TYPE", line)
		}
	}
}

func TestOperationsHealth(t *testing.T) {
	t.Parallel()
	ops := &fakeOps{statuses: twoProjectors}
	url := newOpsServer(t, ops)

	t.Run("ready while the database and the event store answer", func(t *testing.T) {
		if res := get(t, url+"/readyz"); res.status != http.StatusOK {
			t.Errorf("status %d, want 200; body %s", res.status, res.body)
		}
	})
	t.Run("not ready when one does not, but live", func(t *testing.T) {
		ops.fail(nil, domain.Errorf(domain.CodeUnavailable, "the event store does not answer"))
		defer ops.fail(nil, nil)
		p := wantProblem(t, get(t, url+"/readyz"), http.StatusServiceUnavailable)
		if !strings.Contains(p.Detail, "event store") {
			t.Errorf("detail %q, want it to name the event store", p.Detail)
		}
		if res := get(t, url+"/livez"); res.status != http.StatusOK {
			t.Errorf("livez status %d, want 200", res.status)
		}
	})
	t.Run("no API routes", func(t *testing.T) {
		if res := get(t, url+"/api/v1/issues"); res.status != http.StatusNotFound {
			t.Errorf("GET /api/v1/issues: status %d, want 404", res.status)
		}
	})
}

// TestStatusNotAvailable: an API server given no Operations says so.
func TestStatusNotAvailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	for _, path := range []string{"/api/v1/status", "/metrics"} {
		p := wantProblem(t, f.do(http.MethodGet, path, ""), http.StatusNotFound)
		if !strings.Contains(p.Detail, "not available") {
			t.Errorf("GET %s: detail %q, want not available", path, p.Detail)
		}
	}
}
