package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	api "github.com/backbone-ci/backbone/http"
	"github.com/backbone-ci/backbone/internal/testenv"
)

// The tokens the fake authenticator knows.
const (
	adminToken  = "admin-secret-token"
	editorToken = "editor-secret-token"
	// partnerAdminToken is an admin who belongs to editorPartner.
	partnerAdminToken = "partner-admin-secret-token"
)

// editorPartner is the partner the editor token acts for.
var editorPartner = uuid.MustParse("0b9a3a52-56a4-4f0e-9a57-1f3f3c1de001")

// fixture is one server under test: the real command service on its own
// embedded JetStream, a fake read model and a fake authenticator, served over
// HTTP on 127.0.0.1.
type fixture struct {
	t     *testing.T
	url   string
	store *eventstore.Store
	reads *fakeReads
	logs  *syncBuffer
}

func newFixture(t *testing.T, afterWait time.Duration) *fixture {
	t.Helper()
	store, _ := testenv.Store(t)
	f := &fixture{t: t, store: store, reads: newFakeReads(), logs: &syncBuffer{}}
	srv := api.New(api.Config{
		Commands:  &domain.Commands{Store: store},
		Reads:     f.reads,
		Auth:      fakeAuth{},
		Logger:    slog.New(slog.NewJSONHandler(f.logs, nil)),
		AfterWait: afterWait,
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; headers come in name, value pairs.
func (f *fixture) do(method, path, body string, headers ...string) response {
	f.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, r)
	if err != nil {
		f.t.Fatalf("new request: %v", err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatalf("read body of %s %s: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// post sends a command as the admin, with extra headers in name, value pairs.
func (f *fixture) post(path, body string, headers ...string) response {
	f.t.Helper()
	return f.do(http.MethodPost, path, body,
		append([]string{"Authorization", "Bearer " + adminToken}, headers...)...)
}

// commandResult is the body of a successful command.
type commandResult struct {
	ID       uuid.UUID    `json:"id"`
	Version  uint64       `json:"version"`
	Sequence uint64       `json:"sequence"`
	Appended bool         `json:"appended"`
	Event    domain.Event `json:"event"`
}

// mustPost posts a command that must succeed with want and returns its result.
func (f *fixture) mustPost(want int, path, body string, headers ...string) commandResult {
	f.t.Helper()
	res := f.post(path, body, headers...)
	if res.status != want {
		f.t.Fatalf("POST %s: status %d, want %d; body %s", path, res.status, want, res.body)
	}
	var out commandResult
	if err := json.Unmarshal(res.body, &out); err != nil {
		f.t.Fatalf("decode result of POST %s: %v; body %s", path, err, res.body)
	}
	return out
}

// The builders below set up the aggregates other commands need.

func (f *fixture) partner() uuid.UUID {
	f.t.Helper()
	return f.mustPost(http.StatusCreated, "/api/v1/partners",
		`{"name":"Tacoma Public Schools","kind":"school_district"}`).ID
}

func (f *fixture) issue() uuid.UUID {
	f.t.Helper()
	return f.mustPost(http.StatusCreated, "/api/v1/issues",
		`{"title":"Cradle to career","description":"Every child, cradle to career"}`).ID
}

func (f *fixture) objective(issue uuid.UUID, title string) uuid.UUID {
	f.t.Helper()
	return f.mustPost(http.StatusCreated, "/api/v1/issues/"+issue.String()+"/objectives",
		`{"perspective":"results","title":"`+title+`"}`).ID
}

func (f *fixture) measure(objective uuid.UUID) uuid.UUID {
	f.t.Helper()
	return f.mustPost(http.StatusCreated, "/api/v1/objectives/"+objective.String()+"/measures",
		`{"name":"On-time graduation","unit":"%","polarity":"higher","kind":"population"}`).ID
}

// events loads an aggregate's events from the store.
func (f *fixture) events(aggregateType string, id uuid.UUID) []domain.Event {
	f.t.Helper()
	events, _, err := f.store.Load(context.Background(), aggregateType, id)
	if err != nil {
		f.t.Fatalf("load %s %s: %v", aggregateType, id, err)
	}
	return events
}

// problemBody is an RFC 9457 problem as the API writes it.
type problemBody struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Code   string              `json:"code"`
	Errors []domain.FieldError `json:"errors"`
}

// wantProblem checks that res is a problem with the given status and, when
// fields are given, that it names each of them.
func wantProblem(t *testing.T, res response, status int, fields ...string) problemBody {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d; body %s", res.status, status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", got)
	}
	var p problemBody
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatalf("decode problem: %v; body %s", err, res.body)
	}
	if p.Status != status || p.Title == "" || p.Type == "" {
		t.Errorf("problem %+v: want status %d with a type and a title", p, status)
	}
	for _, field := range fields {
		if !namesField(p, field) {
			t.Errorf("problem names fields %+v, want one named %q", p.Errors, field)
		}
	}
	return p
}

func namesField(p problemBody, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field && e.Reason != "" {
			return true
		}
	}
	return false
}

// fakeAuth knows three tokens.
type fakeAuth struct{}

func (fakeAuth) Authenticate(_ context.Context, token string) (domain.Principal, error) {
	switch token {
	case adminToken:
		return domain.Principal{Actor: "token:admin", Role: domain.RoleAdmin}, nil
	case editorToken:
		p := editorPartner
		return domain.Principal{Actor: "token:editor", Role: domain.RoleEditor, PartnerID: &p}, nil
	case partnerAdminToken:
		p := editorPartner
		return domain.Principal{Actor: "token:partner-admin", Role: domain.RoleAdmin,
			PartnerID: &p}, nil
	}
	return domain.Principal{}, domain.Errorf(domain.CodeUnauthorized, "the token is not valid")
}

// fakeReads is a read model the test fills by hand. Its position and errors can
// change while the server runs.
type fakeReads struct {
	position    atomic.Uint64
	positionErr atomic.Pointer[error]

	mu         sync.Mutex
	issues     []domain.IssueSummary
	issuesErr  error
	scorecards map[uuid.UUID]domain.Scorecard
	measures   map[uuid.UUID]domain.MeasureView
	panics     bool
}

var _ domain.ReadModel = (*fakeReads)(nil)

func newFakeReads() *fakeReads {
	return &fakeReads{
		scorecards: map[uuid.UUID]domain.Scorecard{},
		measures:   map[uuid.UUID]domain.MeasureView{},
	}
}

func (r *fakeReads) Position(context.Context) (uint64, error) {
	if err := r.positionErr.Load(); err != nil {
		return 0, *err
	}
	return r.position.Load(), nil
}

func (r *fakeReads) Issues(context.Context) ([]domain.IssueSummary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.panics {
		panic("the read model fell over")
	}
	return r.issues, r.issuesErr
}

func (r *fakeReads) Scorecard(_ context.Context, id uuid.UUID) (domain.Scorecard, error) {
	return r.scorecard("issue", id)
}

// ObjectiveScorecard answers from scorecards, keyed by the objective's ID.
func (r *fakeReads) ObjectiveScorecard(_ context.Context,
	id uuid.UUID) (domain.Scorecard, error) {
	return r.scorecard("objective", id)
}

// PartnerScorecard answers from scorecards, keyed by the partner's ID.
func (r *fakeReads) PartnerScorecard(_ context.Context, id uuid.UUID) (domain.Scorecard, error) {
	return r.scorecard("partner", id)
}

func (r *fakeReads) scorecard(kind string, id uuid.UUID) (domain.Scorecard, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.scorecards[id]
	if !ok {
		return s, domain.Errorf(domain.CodeNotFound, "%s %s does not exist", kind, id)
	}
	return s, nil
}

func (r *fakeReads) Measure(_ context.Context, id uuid.UUID) (domain.MeasureView, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.measures[id]
	if !ok {
		return m, domain.Errorf(domain.CodeNotFound, "measure %s does not exist", id)
	}
	return m, nil
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the log lines written so far, decoded.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestHealth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)

	t.Run("livez answers 200", func(t *testing.T) {
		if res := f.do(http.MethodGet, "/livez", ""); res.status != http.StatusOK {
			t.Errorf("status %d, want 200", res.status)
		}
	})
	t.Run("readyz answers 200 while the read model answers", func(t *testing.T) {
		if res := f.do(http.MethodGet, "/readyz", ""); res.status != http.StatusOK {
			t.Errorf("status %d, want 200", res.status)
		}
	})
	t.Run("readyz answers 503 when the read model does not", func(t *testing.T) {
		err := errors.New("connection refused")
		f.reads.positionErr.Store(&err)
		defer f.reads.positionErr.Store(nil)
		wantProblem(t, f.do(http.MethodGet, "/readyz", ""), http.StatusServiceUnavailable)
		if res := f.do(http.MethodGet, "/livez", ""); res.status != http.StatusOK {
			t.Errorf("livez status %d, want 200 even when not ready", res.status)
		}
	})
}

func TestInternalErrorsAreLoggedNotLeaked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)

	t.Run("an error outside the vocabulary is a 500 logged once", func(t *testing.T) {
		f.reads.mu.Lock()
		f.reads.issuesErr = errors.New("query issues: relation issue_summary does not exist")
		f.reads.mu.Unlock()
		defer func() {
			f.reads.mu.Lock()
			f.reads.issuesErr = nil
			f.reads.mu.Unlock()
		}()

		res := f.do(http.MethodGet, "/api/v1/issues", "")
		p := wantProblem(t, res, http.StatusInternalServerError)
		if strings.Contains(string(res.body), "issue_summary") || p.Code != "internal" {
			t.Errorf("problem %s leaks the internal error or lacks code internal", res.body)
		}
		n := 0
		for _, l := range f.logs.lines(t) {
			if l["level"] == "ERROR" && strings.Contains(fmt.Sprint(l["err"]), "issue_summary") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("logged the internal error %d times, want once", n)
		}
	})

	t.Run("a panic is a 500 problem and the server goes on", func(t *testing.T) {
		f.reads.mu.Lock()
		f.reads.panics = true
		f.reads.mu.Unlock()
		res := f.do(http.MethodGet, "/api/v1/issues", "")
		f.reads.mu.Lock()
		f.reads.panics = false
		f.reads.mu.Unlock()

		wantProblem(t, res, http.StatusInternalServerError)
		if strings.Contains(string(res.body), "fell over") {
			t.Errorf("problem %s leaks the panic", res.body)
		}
		if !strings.Contains(f.logs.String(), "fell over") {
			t.Errorf("the panic was not logged")
		}
		if res := f.do(http.MethodGet, "/api/v1/issues", ""); res.status != http.StatusOK {
			t.Errorf("after a panic: status %d, want 200", res.status)
		}
	})
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)

	f.post("/api/v1/issues", `{"title":"Confidential title"}`)
	f.do(http.MethodGet, "/api/v1/nowhere", "")

	var requests []map[string]any
	for _, l := range f.logs.lines(t) {
		if l["msg"] == "request" {
			requests = append(requests, l)
		}
	}
	if len(requests) != 2 {
		t.Fatalf("%d request lines, want one per request (2): %s", len(requests), f.logs)
	}
	want := []struct {
		method, path string
		status       float64
	}{
		{"POST", "/api/v1/issues", 201},
		{"GET", "/api/v1/nowhere", 404},
	}
	for i, w := range want {
		l := requests[i]
		if l["level"] != "INFO" || l["method"] != w.method || l["path"] != w.path ||
			l["status"] != w.status || l["duration"] == nil {
			t.Errorf("line %d is %v, want INFO %s %s %v with a duration", i, l, w.method,
				w.path, w.status)
		}
	}
	if logs := f.logs.String(); strings.Contains(logs, "Confidential") ||
		strings.Contains(logs, adminToken) {
		t.Errorf("the log holds a body or a token: %s", logs)
	}
}

func TestEchoErrorsAreProblems(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)

	t.Run("an unknown route is a 404 problem", func(t *testing.T) {
		wantProblem(t, f.do(http.MethodGet, "/api/v1/nowhere", ""), http.StatusNotFound)
	})
	t.Run("a wrong method is a 405 problem naming the allowed ones", func(t *testing.T) {
		res := f.do(http.MethodDelete, "/api/v1/issues", "")
		wantProblem(t, res, http.StatusMethodNotAllowed)
		if allow := res.header.Get("Allow"); !strings.Contains(allow, "POST") {
			t.Errorf("Allow %q, want it to list POST", allow)
		}
	})
}
