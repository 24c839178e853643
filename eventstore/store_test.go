package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	"github.com/backbone-ci/backbone/internal/testenv"
)

func partnerEvent(id uuid.UUID, version uint64, name string) domain.Event {
	now := time.Now().UTC()
	return domain.Event{
		ID:               uuid.Must(uuid.NewV7()),
		Type:             domain.PartnerRegistered,
		SchemaVersion:    domain.CurrentSchemaVersion,
		AggregateType:    domain.PartnerAggregate,
		AggregateID:      id,
		AggregateVersion: version,
		OccurredAt:       now,
		RecordedAt:       now,
		Actor:            "test",
		CorrelationID:    uuid.New(),
		CausationID:      uuid.New(),
		Payload:          domain.PartnerRegisteredV1{Name: name, Kind: domain.Nonprofit},
	}
}

func TestStreamIsConfiguredAsAnEventStore(t *testing.T) {
	t.Parallel()
	store, nc := testenv.Store(t)
	js, _ := jetstream.New(nc)
	s, err := js.Stream(context.Background(), store.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if cfg.MaxAge != 0 || cfg.MaxBytes != -1 || cfg.MaxMsgs != -1 || cfg.MaxMsgsPerSubject != -1 {
		t.Errorf("limits: age %v bytes %d msgs %d per subject %d, want none",
			cfg.MaxAge, cfg.MaxBytes, cfg.MaxMsgs, cfg.MaxMsgsPerSubject)
	}
	if !cfg.DenyDelete || !cfg.DenyPurge {
		t.Errorf("deny delete %v, deny purge %v; want both", cfg.DenyDelete, cfg.DenyPurge)
	}
	if cfg.Storage != jetstream.FileStorage {
		t.Errorf("storage %v, want file", cfg.Storage)
	}
	if err := s.Purge(context.Background()); err == nil {
		t.Error("purge succeeded on the event stream")
	}
}

func TestConcurrentAppendsAtOneVersion(t *testing.T) {
	t.Parallel()
	store, _ := testenv.Store(t)
	ctx := context.Background()
	id := uuid.New()

	const writers = 20
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			e := partnerEvent(id, 1, fmt.Sprintf("writer %d", i))
			_, errs[i] = store.Append(ctx, e, 0, "")
		})
	}
	wg.Wait()

	won, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, domain.ErrConcurrency):
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 || conflicts != writers-1 {
		t.Errorf("won %d, conflicts %d; want 1 and %d", won, conflicts, writers-1)
	}
	events, _, err := store.Load(ctx, domain.PartnerAggregate, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Errorf("stored %d events, want 1", len(events))
	}
}

func TestStaleExpectedSequenceWritesNothing(t *testing.T) {
	t.Parallel()
	store, _ := testenv.Store(t)
	ctx := context.Background()
	id := uuid.New()

	first, err := store.Append(ctx, partnerEvent(id, 1, "a"), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Append(ctx, partnerEvent(id, 2, "b"), 0, "")
	if !errors.Is(err, domain.ErrConcurrency) {
		t.Fatalf("append at stale sequence: got %v, want ErrConcurrency", err)
	}
	wrapped := fmt.Errorf("wrapped: %w", domain.ErrConcurrency)
	if got := domain.ErrorCode(wrapped); got != domain.CodeConflict {
		t.Errorf("code of a concurrency error: got %s, want conflict", got)
	}
	if _, err := store.Append(ctx, partnerEvent(id, 2, "b"), first.Event.Sequence, ""); err != nil {
		t.Fatalf("append at the current sequence: %v", err)
	}
	events, _, _ := store.Load(ctx, domain.PartnerAggregate, id)
	if len(events) != 2 {
		t.Errorf("stored %d events, want 2", len(events))
	}
}

func TestRetryWithSameMessageIDStoresOneEvent(t *testing.T) {
	t.Parallel()
	store, _ := testenv.Store(t)
	ctx := context.Background()
	id := uuid.New()
	e := partnerEvent(id, 1, "Tacoma Public Schools")

	first, err := store.Append(ctx, e, 0, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	retry := partnerEvent(id, 1, "Tacoma Public Schools")
	second, err := store.Append(ctx, retry, 0, "key-1")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !second.Duplicate || second.Event.ID != first.Event.ID {
		t.Errorf("retry: duplicate %v, event %s; want the first event %s",
			second.Duplicate, second.Event.ID, first.Event.ID)
	}
	if second.Event.Sequence != first.Event.Sequence {
		t.Errorf("retry sequence %d, want %d", second.Event.Sequence, first.Event.Sequence)
	}
	last, err := store.LastSequence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last != 1 {
		t.Errorf("stream holds %d messages, want 1", last)
	}
}

func TestLoadReturnsEventsInOrder(t *testing.T) {
	t.Parallel()
	store, _ := testenv.Store(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()

	var seqA uint64
	for v := uint64(1); v <= 30; v++ {
		got, err := store.Append(ctx, partnerEvent(a, v, fmt.Sprintf("a%d", v)), seqA, "")
		if err != nil {
			t.Fatal(err)
		}
		seqA = got.Event.Sequence
		_, err = store.Append(ctx, partnerEvent(b, v, "b"), seqA-1+boolSeq(v), "")
		if err != nil && !errors.Is(err, domain.ErrConcurrency) {
			t.Fatal(err)
		}
		if v == 15 { // a load in the middle fills the cache; the rest extends it
			if _, _, err := store.Load(ctx, domain.PartnerAggregate, a); err != nil {
				t.Fatal(err)
			}
		}
	}

	events, last, err := store.Load(ctx, domain.PartnerAggregate, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 30 || last != seqA {
		t.Fatalf("loaded %d events up to %d, want 30 up to %d", len(events), last, seqA)
	}
	for i, e := range events {
		p := e.Payload.(domain.PartnerRegisteredV1)
		if want := fmt.Sprintf("a%d", i+1); p.Name != want || e.AggregateVersion != uint64(i+1) {
			t.Errorf("event %d: %q version %d, want %q version %d",
				i, p.Name, e.AggregateVersion, want, i+1)
		}
		if i > 0 && e.Sequence <= events[i-1].Sequence {
			t.Errorf("event %d: sequence %d after %d", i, e.Sequence, events[i-1].Sequence)
		}
	}

	none, last, err := store.Load(ctx, domain.PartnerAggregate, uuid.New())
	if err != nil || len(none) != 0 || last != 0 {
		t.Errorf("unknown aggregate: %d events, last %d, err %v; want none", len(none), last, err)
	}
}

// boolSeq makes b's expected sequence right only on its first append, so its
// later appends interleave as conflicts without touching a.
func boolSeq(v uint64) uint64 {
	if v == 1 {
		return 1
	}
	return 0
}

func TestEventsSurviveARestartOfTheEmbeddedServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	id := uuid.New()

	srv, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir, SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := srv.Connect()
	store, err := eventstore.Open(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, partnerEvent(id, 1, "kept"), 0, ""); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	srv.Shutdown()

	srv, err = eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, _ = srv.Connect()
	defer nc.Close()
	store, err = eventstore.Open(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := store.Load(ctx, domain.PartnerAggregate, id)
	if err != nil || len(events) != 1 {
		t.Fatalf("after restart: %d events, err %v; want 1", len(events), err)
	}
	if p := events[0].Payload.(domain.PartnerRegisteredV1); p.Name != "kept" {
		t.Errorf("payload %+v", p)
	}
}

func TestADataDirectoryServesOneProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if second, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir}); err == nil {
		second.Shutdown()
		t.Fatal("a second server started on the same data directory")
	}
	first.Shutdown()
	again, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir})
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	again.Shutdown()
}

func TestAnUnusableDataDirectoryFailsAtOnce(t *testing.T) {
	t.Parallel()
	file := t.TempDir() + "/a-file"
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: file + "/jetstream"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("got %v after %s, want an error at once", err, time.Since(start))
	}
}
