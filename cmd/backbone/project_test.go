package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	"github.com/backbone-ci/backbone/internal/testenv"
)

// TestProjectorProcesses runs the layout of a deployment at scale as plain
// processes on this machine: a NATS JetStream server of its own, "backbone
// serve --projectors=false" for the API, and two "backbone project"
// processes, one active and one standing by. It writes through the API and
// reads through the API while the active projector is killed and while the
// scorecard is rebuilt.
func TestProjectorProcesses(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	natsURL := startNATS(t)
	dbURL := testenv.Database(t)
	const token = "e2e-admin-token"
	common := []string{"--nats-url", natsURL, "--database-url", dbURL}

	apiAddr := freeAddr(t)
	base := "http://" + apiAddr
	start(t, bin, "api", append([]string{"serve", "--projectors=false", "--http", apiAddr},
		common...)...)
	waitReady(t, base)

	firstAddr := freeAddr(t)
	first := start(t, bin, "first projector",
		append([]string{"project", "--http", firstAddr}, common...)...)
	waitReady(t, "http://"+firstAddr)
	waitStatus(t, base, "every read model active", func(s status) bool {
		for _, p := range s.Projectors {
			if !p.Active {
				return false
			}
		}
		return len(s.Projectors) > 0
	})
	secondAddr := freeAddr(t)
	second := start(t, bin, "second projector",
		append(append([]string{"project", "--http", secondAddr}, common...), "scorecard")...)
	waitReady(t, "http://"+secondAddr)

	w := &writer{t: t, base: base, token: token}
	partner := w.post("/api/v1/partners", `{"name":"Tacoma Public Schools",
		"kind":"school_district"}`)
	issue := w.post("/api/v1/issues", `{"title":"Graduation","description":"On time"}`)
	objective := w.post("/api/v1/issues/"+issue.ID+"/objectives",
		`{"perspective":"results","title":"Students graduate"}`)
	measure := w.post("/api/v1/objectives/"+objective.ID+"/measures", fmt.Sprintf(
		`{"name":"Graduation rate","unit":"%%","polarity":"higher","kind":"population",
		"owner_partner_id":%q}`, partner.ID))

	t.Run("a write shows through the API", func(t *testing.T) {
		r := w.report(measure.ID, "2019", 81)
		w.wantLatest(measure.ID, r.Sequence, "2019", 81)
		s := waitStatus(t, base, "the scorecard caught up", caughtUp(r.Sequence))
		metrics := get(t, base+"/metrics")
		for _, line := range []string{
			`backbone_projector_events_behind{projector="scorecard"} 0`,
			`backbone_projector_active{projector="scorecard"} 1`,
			fmt.Sprintf("backbone_stream_last_sequence %d", s.StreamLast),
		} {
			if !strings.Contains(metrics, line+"\n") {
				t.Errorf("metrics lack %q:\n%s", line, metrics)
			}
		}
	})

	t.Run("the standby takes over when the active projector is killed", func(t *testing.T) {
		if err := first.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		r := w.report(measure.ID, "2020", 83)
		w.wantLatest(measure.ID, r.Sequence, "2020", 83)
		waitStatus(t, "http://"+secondAddr, "the second projector caught up",
			caughtUp(r.Sequence))
	})

	t.Run("a rebuild while serving", func(t *testing.T) {
		out, err := exec.Command(bin, append(append([]string{"rebuild"}, common...),
			"scorecard")...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "rebuilt scorecard") {
			t.Fatalf("rebuild: %v\n%s", err, out)
		}
		t.Logf("rebuild: %s", strings.TrimSpace(string(out)))
		w.wantLatest(measure.ID, 0, "2020", 83)
		r := w.report(measure.ID, "2021", 85)
		w.wantLatest(measure.ID, r.Sequence, "2021", 85)
	})

	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("project exited with %v after SIGTERM, want a clean exit", err)
	}
}

// startNATS starts a NATS JetStream server on a free local port, as a
// deployment runs one apart from Backbone's processes.
func startNATS(t *testing.T) string {
	t.Helper()
	srv, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: t.TempDir(),
		Listen: freeAddr(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL()
}

// start runs the binary as a process of its own, killed when the test ends;
// its output shows when the test fails.
func start(t *testing.T, bin, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BACKBONE_ADMIN_TOKEN=e2e-admin-token")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, logs.String())
		}
	})
	return cmd
}

// status is the body of GET /api/v1/status.
type status struct {
	StreamLast uint64                   `json:"stream_last"`
	Projectors []domain.ProjectorStatus `json:"projectors"`
}

func caughtUp(seq uint64) func(status) bool {
	return func(s status) bool {
		for _, p := range s.Projectors {
			if p.Name == "scorecard" {
				return p.Active && p.Position >= seq && p.Behind == 0
			}
		}
		return false
	}
}

// waitStatus polls GET /api/v1/status until ok accepts it, for up to 30s.
func waitStatus(t *testing.T, base, what string, ok func(status) bool) status {
	t.Helper()
	var s status
	for range 300 {
		s = status{}
		if err := json.Unmarshal([]byte(get(t, base+"/api/v1/status")), &s); err != nil {
			t.Fatal(err)
		}
		if ok(s) {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within 30s; status %+v", what, s)
	return s
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

// writer sends commands to the API as the admin.
type writer struct {
	t     *testing.T
	base  string
	token string
}

// written is the answer to a command.
type written struct {
	ID       string `json:"id"`
	Sequence uint64 `json:"sequence"`
}

func (w *writer) post(path, body string) written {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		w.t.Fatalf("POST %s: %s\n%s", path, resp.Status, raw)
	}
	var got written
	if err := json.Unmarshal(raw, &got); err != nil {
		w.t.Fatal(err)
	}
	return got
}

func (w *writer) report(measure, period string, v float64) written {
	w.t.Helper()
	return w.post("/api/v1/measures/"+measure+"/progress",
		fmt.Sprintf(`{"period":%q,"value":%v}`, period, v))
}

// wantLatest reads the measure once the read model has applied seq, and
// checks its latest value. A read that the read model keeps waiting longer
// than the API's wait (503) is tried again, up to 30s in all.
func (w *writer) wantLatest(measure string, seq uint64, period string, v float64) {
	w.t.Helper()
	url := fmt.Sprintf("%s/api/v1/measures/%s?after=%d", w.base, measure, seq)
	for range 6 {
		resp, err := http.Get(url)
		if err != nil {
			w.t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusServiceUnavailable:
			continue
		case http.StatusOK:
		default:
			w.t.Fatalf("GET %s: %s\n%s", url, resp.Status, raw)
		}
		var m domain.MeasureView
		if err := json.Unmarshal(raw, &m); err != nil {
			w.t.Fatal(err)
		}
		if m.Latest == nil || m.Latest.Period != period || m.Latest.Value != v {
			w.t.Errorf("latest %+v, want %s = %v", m.Latest, period, v)
		}
		return
	}
	w.t.Fatalf("GET %s: the read model did not reach %d within 30s", url, seq)
}

// syncBuffer is a buffer a process's output and the test's cleanup share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
