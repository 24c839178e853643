package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

func TestCommandEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	partner := f.partner()
	issue := f.issue()
	cause := f.objective(issue, "Children are ready for kindergarten")
	effect := f.objective(issue, "Students graduate on time")
	measure := f.measure(effect)
	f.mustPost(http.StatusCreated, "/api/v1/measures/"+measure.String()+"/progress",
		`{"period":"2012-13","value":50}`)

	tests := []struct {
		name      string
		path      string
		body      string
		aggregate string
		eventType string
		location  string // the path prefix of a created resource, "" for none
	}{
		{
			name: "register partner", path: "/api/v1/partners",
			body:      `{"name":"Tacoma Foundation","kind":"foundation","source":"csv"}`,
			aggregate: domain.PartnerAggregate, eventType: domain.PartnerRegistered,
			location: "/api/v1/partners/",
		},
		{
			name: "launch issue", path: "/api/v1/issues",
			body:      `{"title":"Healthy families","description":"","source":"csv"}`,
			aggregate: domain.IssueAggregate, eventType: domain.IssueLaunched,
			location: "/api/v1/issues/",
		},
		{
			name: "define objective", path: "/api/v1/issues/" + issue.String() + "/objectives",
			body:      `{"perspective":"processes","title":"Tutoring in every school"}`,
			aggregate: domain.ObjectiveAggregate, eventType: domain.ObjectiveDefined,
			location: "/api/v1/objectives/",
		},
		{
			name: "link objectives", path: "/api/v1/objectives/" + cause.String() + "/links",
			body:      `{"effect_objective_id":"` + effect.String() + `"}`,
			aggregate: domain.IssueAggregate, eventType: domain.ObjectivesLinked,
		},
		{
			name: "define measure", path: "/api/v1/objectives/" + cause.String() + "/measures",
			body: `{"name":"Kindergarten readiness","unit":"%","polarity":"higher",` +
				`"kind":"population","owner_partner_id":"` + partner.String() + `",` +
				`"baseline_period":"2010-11","baseline_value":44}`,
			aggregate: domain.MeasureAggregate, eventType: domain.MeasureDefined,
			location: "/api/v1/measures/",
		},
		{
			name: "set target", path: "/api/v1/measures/" + measure.String() + "/targets",
			body:      `{"period":"2019-20","value":85}`,
			aggregate: domain.MeasureAggregate, eventType: domain.TargetSet,
		},
		{
			name: "report progress", path: "/api/v1/measures/" + measure.String() + "/progress",
			body: `{"period":"2014-15","value":57,"note":"district data",` +
				`"disaggregation":"","reporting_partner_id":"` + partner.String() + `"}`,
			aggregate: domain.MeasureAggregate, eventType: domain.ProgressReported,
		},
		{
			name: "correct progress", path: "/api/v1/measures/" + measure.String() + "/corrections",
			body:      `{"period":"2012-13","value":51,"reason":"late transfers counted"}`,
			aggregate: domain.MeasureAggregate, eventType: domain.ProgressCorrected,
		},
		{
			name: "make commitment", path: "/api/v1/commitments",
			body: `{"partner_id":"` + partner.String() + `","issue_id":"` + issue.String() +
				`","kind":"funding","description":"Summer reading","amount_cents":500000,` +
				`"period":"2015"}`,
			aggregate: domain.CommitmentAggregate, eventType: domain.CommitmentMade,
			location: "/api/v1/commitments/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "Idempotency-Key"
			first := f.post(tt.path, tt.body, key, tt.name)
			if first.status != http.StatusCreated {
				t.Fatalf("first POST: status %d, want 201; body %s", first.status, first.body)
			}
			created := decodeResult(t, first)
			retry := f.mustPost(http.StatusOK, tt.path, tt.body, key, tt.name)

			if retry.Appended || retry.Event.ID != created.Event.ID {
				t.Errorf("retry: appended %v, event %s; want false, the first event %s",
					retry.Appended, retry.Event.ID, created.Event.ID)
			}
			if created.Event.Type != tt.eventType || created.Sequence == 0 ||
				created.Sequence != created.Event.Sequence ||
				created.ID != created.Event.AggregateID ||
				created.Version != created.Event.AggregateVersion {
				t.Errorf("result %+v does not describe its %s event", created, tt.eventType)
			}
			want := fmt.Sprintf(`"%d"`, created.Version)
			if got := first.header.Get("ETag"); got != want {
				t.Errorf("ETag %s, want %s", got, want)
			}
			wantLocation := ""
			if tt.location != "" {
				wantLocation = tt.location + created.ID.String()
			}
			if got := first.header.Get("Location"); got != wantLocation {
				t.Errorf("Location %q, want %q", got, wantLocation)
			}

			n := 0
			for _, e := range f.events(tt.aggregate, created.ID) {
				if e.Type == tt.eventType && e.CausationID == created.Event.CausationID {
					n++
				}
			}
			if n != 1 {
				t.Errorf("the stream holds %d events of the command, want 1", n)
			}
		})
	}
}

func TestCommandResponse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)

	res := f.do(http.MethodPost, "/api/v1/issues", `{"title":"Early learning","source":"import"}`,
		"Authorization", "Bearer "+partnerAdminToken)
	if res.status != http.StatusCreated {
		t.Fatalf("status %d, want 201; body %s", res.status, res.body)
	}
	for _, field := range []string{`"id":`, `"version":1`, `"sequence":`, `"appended":true`,
		`"event":{`, `"type":"issue.launched"`, `"payload":{"title":"Early learning"`} {
		if !strings.Contains(string(res.body), field) {
			t.Errorf("body %s lacks %s", res.body, field)
		}
	}

	t.Run("the principal becomes the event's actor and partner", func(t *testing.T) {
		e := decodeResult(t, res).Event
		if e.Actor != "token:partner-admin" || e.PartnerID == nil || *e.PartnerID != editorPartner {
			t.Errorf("event actor %q partner %v, want token:partner-admin %s", e.Actor,
				e.PartnerID, editorPartner)
		}
		if e.Source != "import" {
			t.Errorf("event source %q, want import", e.Source)
		}
	})

	t.Run("an editor may not launch an issue", func(t *testing.T) {
		res := f.do(http.MethodPost, "/api/v1/issues", `{"title":"Housing"}`,
			"Authorization", "Bearer "+editorToken)
		if res.status != http.StatusForbidden {
			t.Errorf("status %d, want 403; body %s", res.status, res.body)
		}
	})

	t.Run("X-Correlation-ID becomes the event's correlation ID", func(t *testing.T) {
		corr := uuid.New()
		got := f.mustPost(http.StatusCreated, "/api/v1/issues", `{"title":"Health"}`,
			"X-Correlation-ID", corr.String())
		if got.Event.CorrelationID != corr {
			t.Errorf("correlation ID %s, want %s", got.Event.CorrelationID, corr)
		}
	})
}

func decodeResult(t *testing.T, res response) commandResult {
	t.Helper()
	var out commandResult
	if err := json.Unmarshal(res.body, &out); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
	return out
}

func TestInvalidInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	issue := f.issue()
	objective := f.objective(issue, "Students graduate on time")
	measure := f.measure(objective)
	progress := "/api/v1/measures/" + measure.String() + "/progress"
	measures := "/api/v1/objectives/" + objective.String() + "/measures"

	tests := []struct {
		name  string
		path  string
		body  string
		field string
	}{
		{"unknown field", progress, `{"period":"2014-15","value":57,"colour":"red"}`, "colour"},
		{"percentage over 100", progress, `{"period":"2014-15","value":120}`, "value"},
		{"bad period", progress, `{"period":"2014-16","value":57}`, "period"},
		{"missing name", measures, `{"unit":"%","polarity":"higher","kind":"population"}`, "name"},
		{"wrong type", progress, `{"period":"2014-15","value":"57"}`, "value"},
		{"string for a number", "/api/v1/commitments", `{"amount_cents":"lots"}`, "amount_cents"},
		{"syntax error", progress, `{"period":"2014-15",`, "body"},
		{"malformed JSON", progress, `{"period" "2014-15"}`, "body"},
		{"empty body", progress, ``, "body"},
		{"an array, not an object", progress, `[1,2]`, "body"},
		{"two objects", progress, `{"period":"2014-15","value":57}{}`, "body"},
		{"a body over 1 MiB", progress, `{"note":"` + strings.Repeat("x", 1<<20) + `"}`, "body"},
		{"a malformed Idempotency-Key", "/api/v1/issues", `{"title":"x"}`, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := []string{}
			if tt.field == "Idempotency-Key" {
				headers = []string{"Idempotency-Key", strings.Repeat("k", 300)}
			}
			wantProblem(t, f.post(tt.path, tt.body, headers...), http.StatusBadRequest, tt.field)
		})
	}
	if got := len(f.events(domain.MeasureAggregate, measure)); got != 1 {
		t.Errorf("the measure has %d events, want only its definition", got)
	}
}

func TestInvalidHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	issue := f.issue()
	measure := f.measure(f.objective(issue, "Students graduate on time"))
	progress := "/api/v1/measures/" + measure.String() + "/progress"
	body := `{"period":"2014-15","value":57}`

	for _, v := range []string{`"abc"`, `W/"1"`, `-1`, `*`, `"1`, `1.0`} {
		t.Run("If-Match "+v, func(t *testing.T) {
			wantProblem(t, f.post(progress, body, "If-Match", v), http.StatusBadRequest, "If-Match")
		})
	}
	t.Run("X-Correlation-ID not a UUID", func(t *testing.T) {
		wantProblem(t, f.post(progress, body, "X-Correlation-ID", "req-42"),
			http.StatusBadRequest, "X-Correlation-ID")
	})
	if got := len(f.events(domain.MeasureAggregate, measure)); got != 1 {
		t.Errorf("the measure has %d events, want only its definition", got)
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	body := `{"title":"Cradle to career"}`

	tests := []struct {
		name    string
		headers []string
	}{
		{"no Authorization header", nil},
		{"another scheme", []string{"Authorization", "Basic YWRtaW46YWRtaW4="}},
		{"an empty token", []string{"Authorization", "Bearer "}},
		{"an unknown token", []string{"Authorization", "Bearer not-a-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(http.MethodPost, "/api/v1/issues", body, tt.headers...)
			wantProblem(t, res, http.StatusUnauthorized)
			if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate %q, want Bearer", got)
			}
		})
	}
	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		res := f.do(http.MethodPost, "/api/v1/issues", body, "Authorization", "bearer "+adminToken)
		if res.status != http.StatusCreated {
			t.Errorf("status %d, want 201; body %s", res.status, res.body)
		}
	})
}

func TestNotFoundOnWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	body := `{"period":"2014-15","value":57}`

	for _, id := range []string{uuid.NewString(), "not-a-uuid"} {
		t.Run("progress on measure "+id, func(t *testing.T) {
			wantProblem(t, f.post("/api/v1/measures/"+id+"/progress", body), http.StatusNotFound)
		})
	}
	t.Run("objective under an unknown issue", func(t *testing.T) {
		res := f.post("/api/v1/issues/"+uuid.NewString()+"/objectives",
			`{"perspective":"results","title":"x"}`)
		wantProblem(t, res, http.StatusNotFound)
	})
}

func TestLinkConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	issue := f.issue()
	a := f.objective(issue, "Kindergarten readiness")
	b := f.objective(issue, "Third-grade reading")
	c := f.objective(issue, "On-time graduation")
	link := func(cause, effect uuid.UUID) response {
		return f.post("/api/v1/objectives/"+cause.String()+"/links",
			`{"effect_objective_id":"`+effect.String()+`"}`)
	}
	f.mustPost(http.StatusCreated, "/api/v1/objectives/"+a.String()+"/links",
		`{"effect_objective_id":"`+b.String()+`"}`)
	f.mustPost(http.StatusCreated, "/api/v1/objectives/"+b.String()+"/links",
		`{"effect_objective_id":"`+c.String()+`"}`)

	t.Run("the same link twice", func(t *testing.T) {
		wantProblem(t, link(a, b), http.StatusConflict)
	})
	t.Run("a link that closes a cycle", func(t *testing.T) {
		p := wantProblem(t, link(c, a), http.StatusConflict)
		if !strings.Contains(p.Detail, "cycle") {
			t.Errorf("detail %q, want it to name the cycle", p.Detail)
		}
	})
	t.Run("a self-link names the field", func(t *testing.T) {
		wantProblem(t, link(a, a), http.StatusBadRequest, "effect_objective_id")
	})
	if got := len(f.events(domain.IssueAggregate, issue)); got != 3 {
		t.Errorf("the issue has %d events, want launch and two links", got)
	}
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	measure := f.measure(f.objective(f.issue(), "Students graduate on time"))
	progress := "/api/v1/measures/" + measure.String() + "/progress"
	f.mustPost(http.StatusCreated, progress, `{"period":"2012-13","value":50}`)

	t.Run("a read's ETag is the measure's version", func(t *testing.T) {
		f.reads.mu.Lock()
		f.reads.measures[measure] = domain.MeasureView{ID: measure, Version: 2}
		f.reads.mu.Unlock()
		res := f.do(http.MethodGet, "/api/v1/measures/"+measure.String(), "")
		if res.status != http.StatusOK || res.header.Get("ETag") != `"2"` {
			t.Errorf("status %d ETag %s, want 200 \"2\"", res.status, res.header.Get("ETag"))
		}
	})
	t.Run("a stale version is refused and nothing is written", func(t *testing.T) {
		res := f.post(progress, `{"period":"2013-14","value":52}`, "If-Match", `"1"`)
		wantProblem(t, res, http.StatusPreconditionFailed)
		if got := len(f.events(domain.MeasureAggregate, measure)); got != 2 {
			t.Errorf("the measure has %d events, want 2", got)
		}
	})
	t.Run("the current version, quoted, is accepted", func(t *testing.T) {
		got := f.mustPost(http.StatusCreated, progress, `{"period":"2013-14","value":52}`,
			"If-Match", `"2"`)
		if got.Version != 3 {
			t.Errorf("version %d, want 3", got.Version)
		}
	})
	t.Run("the current version, unquoted, is accepted", func(t *testing.T) {
		f.mustPost(http.StatusCreated, progress, `{"period":"2014-15","value":57}`,
			"If-Match", "3")
	})
}

func TestConcurrentReportsAreAllKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t, time.Second)
	measure := f.measure(f.objective(f.issue(), "Students graduate on time"))
	progress := "/api/v1/measures/" + measure.String() + "/progress"

	const writers = 20
	statuses := make([]int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			body := fmt.Sprintf(`{"period":"%d","value":%d}`, 2000+i, 40+i)
			statuses[i] = postStatus(f.url+progress, body)
		})
	}
	wg.Wait()

	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Errorf("writer %d: status %d, want 201", i, s)
		}
	}
	periods := map[string]bool{}
	for _, e := range f.events(domain.MeasureAggregate, measure) {
		if r, ok := e.Payload.(domain.ProgressReportedV1); ok {
			periods[r.Period.String()] = true
		}
	}
	if len(periods) != writers {
		t.Errorf("the stream holds %d reported periods, want %d", len(periods), writers)
	}
}

// postStatus posts a command as the admin from any goroutine and returns the
// status, or 0 when the request failed.
func postStatus(url, body string) int {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}
