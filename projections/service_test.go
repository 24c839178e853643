package projections

import (
	"context"
	"testing"
	"time"

	"github.com/backbone-ci/backbone/domain"
)

// TestServiceStatus: a Service reports each read model's lag, in events and
// in time, and whether a process runs its projector, from the database and
// the stream alone.
func TestServiceStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeGraduation(e)
	last := e.last()
	js, stream := e.store.JetStream(), e.store.StreamName()
	cfg := Config{Logger: testLogger(t), LockPoll: 50 * time.Millisecond}
	svc, err := NewService(e.pool, js, stream, []string{ScorecardSchema}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Migrate(e.ctx()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)

	t.Run("behind, before any projector runs", func(t *testing.T) {
		got := status(t, svc)
		if got.Name != ScorecardSchema || got.Position != 0 || got.StreamLast != last ||
			got.Behind != last || got.OldestUnprocessedAge < 0.02 || got.Active {
			t.Errorf("status = %+v, want %d events behind, at least 20ms old, inactive",
				got, last)
		}
	})

	ctx, cancel := context.WithCancel(e.ctx())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	e.waitFor(ScorecardSchema, last)

	t.Run("caught up, with the projector active", func(t *testing.T) {
		// Another process's Service, which runs nothing, sees the same.
		other, err := NewService(e.pool, js, stream, []string{ScorecardSchema}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got domain.ProjectorStatus
		for range 100 {
			if got = status(t, other); got.Active {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got.Position != last || got.Behind != 0 || got.OldestUnprocessedAge != 0 ||
			!got.Active || len(got.Poisoned) != 0 {
			t.Errorf("status = %+v, want caught up at %d and active", got, last)
		}
	})

	t.Run("ready while the database and the stream answer", func(t *testing.T) {
		if err := svc.Ready(e.ctx()); err != nil {
			t.Errorf("Ready: %v", err)
		}
		lost, _ := NewService(e.pool, js, "NO_SUCH_STREAM", nil, cfg)
		if err := lost.Ready(e.ctx()); domain.ErrorCode(err) != domain.CodeUnavailable {
			t.Errorf("Ready without the stream: %v, want unavailable", err)
		}
	})

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := NewService(e.pool, js, stream, []string{"nonsense"}, cfg); err == nil {
		t.Errorf("NewService of an unknown read model succeeded")
	}
}

// status returns the Service's status of the scorecard read model.
func status(t *testing.T, svc *Service) domain.ProjectorStatus {
	t.Helper()
	all, err := svc.Status(context.Background())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, s := range all {
		if s.Name == ScorecardSchema {
			return s
		}
	}
	t.Fatalf("Status %+v lacks %s", all, ScorecardSchema)
	return domain.ProjectorStatus{}
}
