package main_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	"github.com/backbone-ci/backbone/internal/testenv"
)

const dataset = "../../examples/tacoma"

// TestServeAndImportTacoma runs the README's main job end to end: serve on a
// free port with a fresh data directory and database, import the real Tacoma
// data, read the scorecards, import again, and check the stream did not grow.
func TestServeAndImportTacoma(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	data := t.TempDir()
	dbURL := testenv.Database(t)
	addr := freeAddr(t)
	base := "http://" + addr
	const token = "e2e-admin-token"

	srv := startServe(t, bin, data, dbURL, addr, token)
	waitReady(t, base)

	first := runImport(t, bin, base, token)
	appended, present := summary(t, first)
	if appended == 0 || present != 0 {
		t.Fatalf("first import: %d appended, %d present; want all appended\n%s",
			appended, present, first)
	}
	t.Logf("first import: %s", strings.TrimSpace(first))

	t.Run("every measure shows its latest real value", func(t *testing.T) {
		checkScorecards(t, base)
	})

	second := runImport(t, bin, base, token)
	again, present := summary(t, second)
	if again != 0 || present != appended {
		t.Errorf("second import: %d appended, %d present; want 0 and %d", again, present, appended)
	}

	t.Run("a bad row stops the import at its cell", func(t *testing.T) {
		checkBadRow(t, bin, base, token)
	})

	stopServe(t, srv)
	if got := streamLength(t, data); got != uint64(appended) {
		t.Errorf("stream holds %d events, want %d (the first import's)", got, appended)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "backbone")
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServe(t *testing.T, bin, data, dbURL, addr, token string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--database-url", dbURL, "--http", addr)
	cmd.Env = append(os.Environ(), "BACKBONE_ADMIN_TOKEN="+token, "NATS_URL=")
	var logs bytes.Buffer
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
			t.Logf("serve logs:\n%s", logs.String())
		}
	})
	return cmd
}

func stopServe(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit within 30s of SIGTERM")
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for range 300 {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("serve did not become ready within 30s")
}

func runImport(t *testing.T, bin, base, token string) string {
	t.Helper()
	out, err := exec.Command(bin, "import", "--server", base, "--token", token, dataset).
		CombinedOutput()
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	return string(out)
}

// summary reads the last line: "imported N rows: M events appended, K already present".
func summary(t *testing.T, out string) (appended, present int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rows int
	_, err := fmt.Sscanf(lines[len(lines)-1],
		"imported %d rows: %d events appended, %d already present", &rows, &appended, &present)
	if err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	if rows != appended+present {
		t.Errorf("rows %d != appended %d + present %d", rows, appended, present)
	}
	return appended, present
}

// expected is what actuals.csv and measures.csv say a scorecard row must show.
type expected struct {
	name   string
	period string
	value  float64
	points int
}

func readExpected(t *testing.T) map[string]*expected {
	t.Helper()
	want := map[string]*expected{}
	for _, r := range readCSV(t, "measures.csv") {
		want[r["measure_id"]] = &expected{name: r["name"]}
	}
	for _, r := range readCSV(t, "actuals.csv") {
		e := want[r["measure_id"]]
		e.points++
		if r["disaggregation"] != "" {
			continue
		}
		v, err := strconv.ParseFloat(r["value"], 64)
		if err != nil {
			t.Fatal(err)
		}
		later := e.period == "" ||
			domain.MustParsePeriod(e.period).Before(domain.MustParsePeriod(r["period"]))
		if later {
			e.period, e.value = r["period"], v
		}
	}
	return want
}

func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dataset, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range records[1:] {
		r := map[string]string{}
		for i, h := range records[0] {
			r[h] = rec[i]
		}
		rows = append(rows, r)
	}
	return rows
}

func checkScorecards(t *testing.T, base string) {
	want := readExpected(t)
	seen := map[string]bool{}
	for _, issue := range []string{"I01", "I02"} {
		id := domain.StableID("dataset\x00tacoma\x00issue_id\x00" + issue)
		var sc domain.Scorecard
		getJSON(t, base+"/api/v1/issues/"+id.String()+"/scorecard", &sc)
		for _, m := range sc.Performance {
			if m.Kind != domain.PerformanceMeasure {
				t.Errorf("%s: a %s measure is listed with performance measures", m.Name, m.Kind)
			}
		}
		for _, m := range append(sc.Population, sc.Performance...) {
			key := ""
			for k, e := range want {
				if e.name == m.Name {
					key = k
				}
			}
			if key == "" {
				t.Errorf("scorecard of %s shows unknown measure %q", issue, m.Name)
				continue
			}
			seen[key] = true
			checkRow(t, key, want[key], m)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("measure %s (%s) missing from the scorecards", k, want[k].name)
		}
	}
}

func checkRow(t *testing.T, key string, want *expected, got domain.MeasureView) {
	t.Helper()
	if len(got.Series) != want.points {
		t.Errorf("%s: %d series points, want %d", key, len(got.Series), want.points)
	}
	if want.period == "" {
		if got.Latest != nil || got.Status != domain.NoData {
			t.Errorf("%s: latest %+v status %s, want none and no_data", key, got.Latest, got.Status)
		}
		return
	}
	if got.Latest == nil || got.Latest.Period != want.period || got.Latest.Value != want.value {
		t.Errorf("%s: latest %+v, want %s = %v", key, got.Latest, want.period, want.value)
	}
	if got.Status == "" || got.Status == domain.NoData {
		t.Errorf("%s: status %q, want a judgement", key, got.Status)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
}

// streamLength opens the stopped server's JetStream files and counts events.
func streamLength(t *testing.T, data string) uint64 {
	t.Helper()
	srv, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{
		Dir: filepath.Join(data, "jetstream")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	store, err := eventstore.Open(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.LastSequence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkBadRow imports a copy of the dataset whose last actual is a percentage
// above 100, and expects the import to stop there, naming file, line and column.
func checkBadRow(t *testing.T, bin, base, token string) {
	dir := filepath.Join(t.TempDir(), "tacoma")
	if err := os.CopyFS(dir, os.DirFS(dataset)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "actuals.csv")
	raw, _ := os.ReadFile(path)
	bad := string(raw) + "M01,2021,120,,P02,,https://example.org/bad\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(bad, "\n")

	out, err := exec.Command(bin, "import", "--server", base, "--token", token, dir).
		CombinedOutput()
	if err == nil {
		t.Fatalf("import of a bad row succeeded:\n%s", out)
	}
	where := fmt.Sprintf("actuals.csv:%d:10 (value)", lines)
	if !strings.Contains(string(out), where) || !strings.Contains(string(out), "0-100") {
		t.Errorf("import error %q, want it to name %s and the 0-100 range", out, where)
	}

	var m domain.MeasureView
	id := domain.StableID("dataset\x00tacoma\x00measure_id\x00M01")
	getJSON(t, base+"/api/v1/measures/"+id.String(), &m)
	for _, p := range m.Series {
		if p.Period == "2021" {
			t.Errorf("the bad row was written: %+v", p)
		}
	}
}
