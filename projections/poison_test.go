package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"

	"github.com/backbone-ci/backbone/domain"
)

// TestPoisonPark: with PoisonPark, an event whose Apply keeps failing is
// parked with its error, shown in any process's Status, and the read model
// goes on past it.
func TestPoisonPark(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	last := e.last()
	bad := last / 2

	var logs lockedBuffer
	p := e.projector(e.pool, ScorecardSchema, Config{OnPoison: PoisonPark,
		Logger: slogTo(&logs)})
	broken := &failing{Projection: p.projection, bad: bad}
	broken.broken.Store(true)
	p.projection = broken
	e.run(context.Background(), p)
	e.waitFor(ScorecardSchema, last)

	status, err := e.projector(e.pool, ScorecardSchema, Config{}).Status(e.ctx())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if len(status.Poisoned) != 1 {
		t.Fatalf("poisoned = %+v, want event %d parked", status.Poisoned, bad)
	}
	got := status.Poisoned[0]
	if got.Sequence != bad || !got.Parked || !strings.Contains(got.Error, "cannot apply") ||
		got.EventType == "" {
		t.Errorf("poisoned = %+v, want event %d parked with its type and error", got, bad)
	}
	if status.Position != last || status.Behind != 0 {
		t.Errorf("position %d, behind %d; want %d and 0", status.Position, status.Behind, last)
	}
	if got := e.checkpointEvents(ScorecardSchema); got != last {
		t.Errorf("events counted = %d, want %d (the parked one too)", got, last)
	}
	want := fmt.Sprintf("sequence=%d", bad)
	if !strings.Contains(logs.String(), "parked an event it cannot apply") ||
		!strings.Contains(logs.String(), want) {
		t.Errorf("the parked event was not logged; logs:\n%s", logs.String())
	}
}

// TestPoisonStopOnAnUndecodableEvent: with PoisonStop, a message that is not
// an event stops the read model before it, as an event that fails to apply
// does, instead of being parked.
func TestPoisonStopOnAnUndecodableEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	garbled := nats.NewMsg(e.store.Subject(domain.MeasureAggregate, uuid.New()))
	garbled.Header.Set(eventTypeHeader, domain.ProgressReported)
	garbled.Data = []byte("not an event")
	bad, err := e.store.JetStream().PublishMsg(e.ctx(), garbled)
	if err != nil {
		t.Fatal(err)
	}
	g := e.issue("After the garbled message")

	p := e.projector(e.pool, ScorecardSchema, Config{OnPoison: PoisonStop})
	e.run(context.Background(), p)
	e.waitFor(ScorecardSchema, bad.Sequence-1)
	status := e.waitStuck(p)
	if status.Position != bad.Sequence-1 || status.Poisoned[0].Sequence != bad.Sequence ||
		status.Poisoned[0].Parked {
		t.Errorf("status = %+v, want stuck before event %d", status, bad.Sequence)
	}
	if _, err := NewReader(e.pool, ScorecardSchema).Scorecard(e.ctx(), g); err == nil {
		t.Errorf("the issue after the garbled message is in the read model")
	}
}

// TestPoisonParkWaitsOutAnOutage: an event that fails because the database
// is unavailable is not poison; PoisonPark keeps retrying it.
func TestPoisonParkWaitsOutAnOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	last := e.last()
	bad := last - 2

	p := e.projector(e.pool, ScorecardSchema, Config{OnPoison: PoisonPark})
	down := &failing{Projection: p.projection, bad: bad,
		err: &pgconn.PgError{Code: "08006", Message: "connection failure"}}
	down.broken.Store(true)
	p.projection = down
	e.run(context.Background(), p)
	e.waitStuck(p)
	time.Sleep(1500 * time.Millisecond) // parkAfter tries and more

	status, err := p.Status(e.ctx())
	if err != nil {
		t.Fatal(err)
	}
	if status.Position != bad-1 || len(status.Poisoned) != 1 || status.Poisoned[0].Parked {
		t.Fatalf("status = %+v, want stuck before event %d, not parked", status, bad)
	}
	down.broken.Store(false)
	e.waitFor(ScorecardSchema, last)
	if got := e.checkpointEvents(ScorecardSchema); got != last {
		t.Errorf("events applied = %d, want %d", got, last)
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// waitStuck waits until p's Status names an event it is stuck on.
func (e *env) waitStuck(p *Projector) domain.ProjectorStatus {
	e.t.Helper()
	for range 500 {
		s, err := p.Status(e.ctx())
		if err != nil {
			e.t.Fatalf("Status: %v", err)
		}
		if len(s.Poisoned) > 0 && !s.Poisoned[len(s.Poisoned)-1].Parked {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatal("the projector did not get stuck within 10s")
	return domain.ProjectorStatus{}
}

func TestTransient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"a lost connection", &pgconn.PgError{Code: "08006"}, true},
		{"a deadlock", &pgconn.PgError{Code: "40P01"}, true},
		{"a cancelled statement", &pgconn.PgError{Code: "57014"}, true},
		{"a lock not available", &pgconn.PgError{Code: "55P03"}, true},
		{"a timeout", fmt.Errorf("write: %w", context.DeadlineExceeded), true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a value out of range", fmt.Errorf("apply: %w", &pgconn.PgError{Code: "22003"}), false},
		{"a projection's own error", errors.New("unknown measure"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := transient(c.err); got != c.want {
				t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestParsePoisonPolicy(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]PoisonPolicy{"": PoisonPark, "park": PoisonPark,
		"stop": PoisonStop} {
		if got, err := ParsePoisonPolicy(in); got != want || err != nil {
			t.Errorf("ParsePoisonPolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePoisonPolicy("skip"); err == nil {
		t.Errorf("ParsePoisonPolicy(skip) succeeded, want an error")
	}
}
