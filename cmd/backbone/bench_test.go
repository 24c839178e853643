package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/testenv"
	"github.com/backbone-ci/backbone/projections"
)

// TestBenchWorkloadIsWhatCommandsWrite replays a workload command by command
// through domain.Commands on a store in memory: every command must be
// accepted and append the very event the workload generated, at the same
// aggregate version, for the same partner, with the same payload.
func TestBenchWorkloadIsWhatCommandsWrite(t *testing.T) {
	t.Parallel()
	cfg := workloadConfig{Events: 5_000, Partners: 30, Issues: 2, Objectives: 8,
		Measures: 80, Seed: 7}
	w, err := newWorkload(cfg, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	store := &memoryStore{events: map[string][]domain.Event{}}
	commands := &domain.Commands{Store: store}
	n := 0
	err = w.run(func(want domain.Event) error {
		n++
		got, err := replay(t.Context(), commands, want)
		if err != nil {
			return fmt.Errorf("event %d (%s): the command was refused: %w", n, want.Type, err)
		}
		if !got.Appended {
			return fmt.Errorf("event %d (%s): the command appended nothing", n, want.Type)
		}
		return sameEvent(n, got.Event, want)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != cfg.Events {
		t.Errorf("the workload generated %d events, want %d", n, cfg.Events)
	}
	for _, typ := range []string{domain.ProgressReported, domain.ProgressCorrected,
		domain.TargetSet, domain.CommitmentMade, domain.CommitmentPartFulfilled,
		domain.CommitmentFulfilled, domain.ObjectivesLinked} {
		if w.count[typ] == 0 {
			t.Errorf("the workload has no %s event", typ)
		}
	}
	if got := float64(w.count[domain.ProgressReported]) / float64(n); got < 0.75 {
		t.Errorf("progress reports are %.0f %% of the events, want them to dominate", 100*got)
	}
}

// sameEvent compares what a command appended with what the workload generated.
func sameEvent(n int, got, want domain.Event) error {
	switch {
	case got.Type != want.Type || got.AggregateType != want.AggregateType ||
		got.AggregateID != want.AggregateID:
		return fmt.Errorf("event %d: got %s on %s %s, want %s on %s %s", n, got.Type,
			got.AggregateType, got.AggregateID, want.Type, want.AggregateType, want.AggregateID)
	case got.AggregateVersion != want.AggregateVersion:
		return fmt.Errorf("event %d (%s): got version %d, want %d", n, want.Type,
			got.AggregateVersion, want.AggregateVersion)
	case !reflect.DeepEqual(got.PartnerID, want.PartnerID):
		return fmt.Errorf("event %d (%s): got partner %v, want %v", n, want.Type,
			got.PartnerID, want.PartnerID)
	case got.Source != want.Source || got.Actor != want.Actor ||
		got.SchemaVersion != want.SchemaVersion:
		return fmt.Errorf("event %d (%s): got source %q, actor %q, schema %d; want %q, %q, %d",
			n, want.Type, got.Source, got.Actor, got.SchemaVersion, want.Source, want.Actor,
			want.SchemaVersion)
	case got.CorrelationID != got.CausationID || want.CorrelationID != want.CausationID:
		return fmt.Errorf("event %d (%s): correlation and causation differ", n, want.Type)
	case !reflect.DeepEqual(got.Payload, want.Payload):
		return fmt.Errorf("event %d (%s): got payload\n%#v\nwant\n%#v", n, want.Type,
			got.Payload, want.Payload)
	}
	return nil
}

// replay issues the command that appends an event like e.
func replay(ctx context.Context, c *domain.Commands, e domain.Event) (domain.Result, error) {
	meta := domain.Meta{Actor: benchActor}
	id := e.AggregateID.String()
	switch p := e.Payload.(type) {
	case domain.PartnerRegisteredV1:
		return c.RegisterPartner(ctx, meta, domain.RegisterPartner{ID: id, Name: p.Name,
			Kind: string(p.Kind), Source: e.Source})
	case domain.IssueLaunchedV1:
		return c.LaunchIssue(ctx, meta, domain.LaunchIssue{ID: id, Title: p.Title,
			Description: p.Description, Source: e.Source})
	case domain.ObjectiveDefinedV1:
		return c.DefineObjective(ctx, meta, domain.DefineObjective{ID: id,
			IssueID: p.IssueID.String(), Perspective: string(p.Perspective), Title: p.Title,
			Source: e.Source})
	case domain.ObjectivesLinkedV1:
		return c.LinkObjectives(ctx, meta, domain.LinkObjectives{CauseID: p.CauseID.String(),
			EffectID: p.EffectID.String(), Source: e.Source})
	case domain.MeasureDefinedV1:
		return c.DefineMeasure(ctx, meta, defineMeasure(id, p, e.Source))
	case domain.TargetSetV1:
		return c.SetTarget(ctx, meta, domain.SetTarget{MeasureID: id,
			Period: p.Period.String(), Value: &p.Value, Source: e.Source})
	case domain.ProgressReportedV1:
		return c.ReportProgress(ctx, meta, domain.ReportProgress{MeasureID: id,
			Period: p.Period.String(), Value: &p.Value, Disaggregation: p.Disaggregation,
			ReportingPartnerID: idText(p.ReportingPartnerID), Note: p.Note, Source: e.Source})
	case domain.ProgressCorrectedV1:
		return c.CorrectProgress(ctx, meta, domain.CorrectProgress{MeasureID: id,
			Period: p.Period.String(), Disaggregation: p.Disaggregation, Value: &p.Value,
			Reason: p.Reason, Source: e.Source})
	case domain.CommitmentMadeV1:
		return c.MakeCommitment(ctx, meta, makeCommitment(id, p, e.Source))
	case domain.CommitmentPartlyFulfilledV1:
		return c.FulfilCommitment(ctx, meta, domain.FulfilCommitment{CommitmentID: id,
			AmountCents: p.AmountCents, Period: periodText(p.Period), Note: p.Note,
			Source: e.Source})
	case domain.CommitmentFulfilledV1:
		return c.FulfilCommitment(ctx, meta, domain.FulfilCommitment{CommitmentID: id,
			AmountCents: p.AmountCents, Period: periodText(p.Period), Note: p.Note,
			Complete: true, Source: e.Source})
	case domain.CommitmentWithdrawnV1:
		return c.WithdrawCommitment(ctx, meta, domain.WithdrawCommitment{CommitmentID: id,
			Reason: p.Reason, Source: e.Source})
	case domain.ObjectiveRenamedV1:
		return c.RenameObjective(ctx, meta, domain.RenameObjective{ObjectiveID: id,
			Title: p.Title, Source: e.Source})
	case domain.StatusBandsSetV1:
		return c.SetStatusBands(ctx, meta, domain.SetStatusBands{MeasureID: id,
			AtRiskPercent: &p.AtRiskPercent, Source: e.Source})
	case domain.PerspectiveLabelsSetV1:
		labels := map[string]string{}
		for k, v := range p.Labels {
			labels[string(k)] = v
		}
		return c.SetPerspectiveLabels(ctx, meta, domain.SetPerspectiveLabels{IssueID: id,
			Labels: labels, Source: e.Source})
	}
	return domain.Result{}, fmt.Errorf("no command for %s", e.Type)
}

func defineMeasure(id string, p domain.MeasureDefinedV1, source string) domain.DefineMeasure {
	c := domain.DefineMeasure{ID: id, ObjectiveID: p.ObjectiveID.String(), Name: p.Name,
		Unit: p.Unit, Polarity: string(p.Polarity), Kind: string(p.Kind),
		OwnerPartnerID: idText(p.OwnerPartnerID), BaselineValue: p.BaselineValue,
		Question: string(p.Question), Source: source}
	if p.BaselinePeriod != nil {
		c.BaselinePeriod = p.BaselinePeriod.String()
	}
	return c
}

func makeCommitment(id string, p domain.CommitmentMadeV1, source string) domain.MakeCommitment {
	c := domain.MakeCommitment{ID: id, PartnerID: p.PartnerID.String(),
		ObjectiveID: idText(p.ObjectiveID), Kind: string(p.Kind), Description: p.Description,
		AmountCents: p.AmountCents, Currency: p.Currency, Period: p.Period.String(),
		Pooled: p.Pooled, Source: source}
	if p.IssueID != uuid.Nil {
		c.IssueID = p.IssueID.String()
	}
	return c
}

func idText(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func periodText(p domain.Period) string {
	if p.IsZero() {
		return ""
	}
	return p.String()
}

// memoryStore is a domain.Store in memory, with stream sequences.
type memoryStore struct {
	events map[string][]domain.Event
	last   uint64
}

func (s *memoryStore) Load(_ context.Context, aggregateType string,
	id uuid.UUID) ([]domain.Event, uint64, error) {
	events := s.events[aggregateType+"."+id.String()]
	if len(events) == 0 {
		return nil, 0, nil
	}
	return slices.Clone(events), events[len(events)-1].Sequence, nil
}

func (s *memoryStore) Append(_ context.Context, e domain.Event, expectedSeq uint64,
	_ string) (domain.Appended, error) {
	key := e.AggregateType + "." + e.AggregateID.String()
	var last uint64
	if events := s.events[key]; len(events) > 0 {
		last = events[len(events)-1].Sequence
	}
	if last != expectedSeq {
		return domain.Appended{}, domain.ErrConcurrency
	}
	s.last++
	e.Sequence = s.last
	s.events[key] = append(s.events[key], e)
	return domain.Appended{Event: e}, nil
}

// TestBenchCommand runs "backbone bench" on 20,000 events and checks that it
// reports every figure, that every read model's checkpoint caught up with the
// stream, and that it leaves neither its database nor its directory behind.
// It runs a binary built without the race detector, which would make the
// rebuild several times slower and its figures meaningless;
// TestBenchInProcess runs the command under the race detector, on less.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "backbone")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").
		CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin, "bench", "--events", "20000",
		"--database-url", testenv.AdminURL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	report := string(out)
	if err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, report, stderr.String())
	}
	t.Logf("bench printed:\n%s", report)
	checkReport(t, report, 20000)
}

// TestBenchInProcess runs bench in the test's process on a small workload,
// with every measuring flag, so the race detector watches it.
func TestBenchInProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var out bytes.Buffer
	err := bench(ctx, []string{"--events", "5000", "--partners", "20", "--measures", "100",
		"--database-url", testenv.AdminURL(), "--sql-stats", "--pgx-types",
		"--cpuprofile", cpu, "--memprofile", mem}, &out)
	report := out.String()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, report)
	}
	checkReport(t, report, 5000)
	if !strings.Contains(report, "SQL during the rebuild") {
		t.Errorf("--sql-stats printed no statements:\n%s", report)
	}
	for _, f := range []string{cpu, mem} {
		if info, err := os.Stat(f); err != nil || info.Size() == 0 {
			t.Errorf("profile %s: %v, want a profile", f, err)
		}
	}
}

// checkReport checks a bench report of the given number of events.
func checkReport(t *testing.T, report string, events float64) {
	t.Helper()
	t.Run("prints every figure", func(t *testing.T) {
		fig := summaryFigures(t, report)
		if fig["events"] != events {
			t.Errorf("events = %v, want %v", fig["events"], events)
		}
		for _, name := range []string{"rebuild seconds", "rebuild events/s",
			"raw upsert rows/s", "ratio rebuild/raw", "seconds for 1M events",
			"peak resident MB"} {
			if v, ok := fig[name]; !ok || v <= 0 {
				t.Errorf("%s = %v (printed: %t), want a positive figure", name, v, ok)
			}
		}
		if got := strings.Count(report, "\n  met    ") +
			strings.Count(report, "\n  MISSED "); got != 3 {
			t.Errorf("the report judges %d targets, want 3", got)
		}
	})

	t.Run("every checkpoint caught up", func(t *testing.T) {
		got := checkpoints(t, report)
		for _, name := range projections.Names() {
			if got[name] != uint64(events) {
				t.Errorf("checkpoint of %s = %d, want %v", name, got[name], events)
			}
		}
		if !strings.Contains(report, "caught up                true") {
			t.Errorf("the summary does not say every read model caught up")
		}
	})

	t.Run("leaves nothing behind", func(t *testing.T) {
		database, dir := where(t, report)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the JetStream directory %s is still there (%v)", dir, err)
		}
		if exists(t, database) {
			t.Errorf("the database %s is still there", database)
		}
	})
}

// checkpoints reads each read model's checkpoint off the rebuild's table.
func checkpoints(t *testing.T, report string) map[string]uint64 {
	t.Helper()
	got := map[string]uint64{}
	row := regexp.MustCompile(`(?m)^  ([a-z_0-9]+)\s+([0-9]+)\s+[0-9.]+\s+[0-9]+$`)
	for _, m := range row.FindAllStringSubmatch(report, -1) {
		seq, err := strconv.ParseUint(m[2], 10, 64)
		if err != nil {
			t.Errorf("checkpoint of %s: %v", m[1], err)
		}
		got[m[1]] = seq
	}
	return got
}

// where returns the database and directory a bench report says it uses.
func where(t *testing.T, report string) (database, dir string) {
	t.Helper()
	m := regexp.MustCompile(`on database (\S+), JetStream in (\S+)`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("the report names no database and directory:\n%s", report)
	}
	return m[1], m[2]
}

func exists(t *testing.T, database string) bool {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var found bool
	err = conn.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&found)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// summaryFigures reads the "Summary:" block of a bench report.
func summaryFigures(t *testing.T, report string) map[string]float64 {
	t.Helper()
	_, block, ok := strings.Cut(report, "Summary:\n")
	if !ok {
		t.Fatalf("no summary in the report:\n%s", report)
	}
	block, _, _ = strings.Cut(block, "\n\n")
	line := regexp.MustCompile(`^  (\S.*?)\s{2,}([0-9.]+)`)
	fig := map[string]float64{}
	for _, l := range strings.Split(block, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Errorf("summary line %q: %v", l, err)
			}
			fig[m[1]] = v
		}
	}
	return fig
}
