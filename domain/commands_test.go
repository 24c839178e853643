package domain

// Tests of Commands, the service that loads an aggregate, decides a command and
// appends the outcome: IDs it picks, idempotency keys, If-Match, racing writers
// and the envelope of the events it writes. They run on memStore, an in-memory
// Store kept here because domain stays pure; the JetStream store has its own
// contract tests in eventstore.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// memStore keeps the events of each aggregate in memory under one global
// sequence, with the promises of Store: an append is refused with ErrConcurrency
// unless the aggregate's last sequence is still the expected one, and a message
// ID seen before returns the event first stored under it.
type memStore struct {
	mu       sync.Mutex
	seq      uint64
	subjects map[string][]Event
	byMsgID  map[string]Event
	appends  int // calls to Append, refused ones included

	refuse  int   // refuse this many of the next appends with ErrConcurrency
	loadErr error // when set, Load fails with it
	// interleave, when set, runs once as the next Append begins: another writer
	// slipping in between a command's load and its append.
	interleave func()
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{subjects: map[string][]Event{}, byMsgID: map[string]Event{}}
}

func subjectOf(aggregateType string, id uuid.UUID) string {
	return aggregateType + "." + id.String()
}

func lastSequence(events []Event) uint64 {
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].Sequence
}

func (s *memStore) Load(_ context.Context, aggregateType string,
	id uuid.UUID) ([]Event, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return nil, 0, s.loadErr
	}
	events := slices.Clone(s.subjects[subjectOf(aggregateType, id)])
	return events, lastSequence(events), nil
}

func (s *memStore) Append(_ context.Context, e Event, expectedSeq uint64,
	msgID string) (Appended, error) {
	s.mu.Lock()
	interleave := s.interleave
	s.interleave = nil
	s.mu.Unlock()
	if interleave != nil {
		interleave()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.appends++
	if first, ok := s.byMsgID[msgID]; ok && msgID != "" {
		return Appended{Event: first, Duplicate: true}, nil
	}
	if s.refuse > 0 {
		s.refuse--
		return Appended{}, ErrConcurrency
	}
	key := subjectOf(e.AggregateType, e.AggregateID)
	if lastSequence(s.subjects[key]) != expectedSeq {
		return Appended{}, ErrConcurrency
	}
	s.seq++
	e.Sequence = s.seq
	s.subjects[key] = append(s.subjects[key], e)
	if msgID != "" {
		s.byMsgID[msgID] = e
	}
	return Appended{Event: e}, nil
}

// stored returns the events of one aggregate.
func (s *memStore) stored(aggregateType string, id uuid.UUID) []Event {
	events, _, _ := s.Load(context.Background(), aggregateType, id)
	return events
}

// total returns the number of events stored.
func (s *memStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.seq)
}

var (
	byAdmin = Meta{Actor: "token:admin"}
	testNow = time.Date(2026, 12, 4, 8, 30, 0, 0, time.UTC)
)

// world is a store holding a partner, an issue with an objective, and a
// percentage measure of that objective, with the Commands that made them.
type world struct {
	store     *memStore
	cmds      *Commands
	partner   uuid.UUID
	issue     uuid.UUID
	objective uuid.UUID
	measure   uuid.UUID
}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	store := newMemStore()
	now := func() time.Time { return testNow }
	w := world{store: store, cmds: &Commands{Store: store, Now: now}}

	w.partner = must{t}.appended(w.cmds.RegisterPartner(ctx, byAdmin,
		RegisterPartner{Name: "Acme Foundation", Kind: "foundation"}))
	w.issue = must{t}.appended(w.cmds.LaunchIssue(ctx, byAdmin,
		LaunchIssue{Title: "Cradle to Career"}))
	w.objective = must{t}.appended(w.cmds.DefineObjective(ctx, byAdmin, DefineObjective{
		IssueID: w.issue.String(), Perspective: "results", Title: "Ready for school"}))
	w.measure = must{t}.appended(w.cmds.DefineMeasure(ctx, byAdmin, DefineMeasure{
		ObjectiveID: w.objective.String(), Name: "Readiness", Unit: "%", Polarity: "higher",
		Kind: "population"}))
	return w
}

// must checks the results of commands, stopping the test t at the first failure.
type must struct{ t *testing.T }

// appended checks that a command appended an event and returns its aggregate.
func (m must) appended(r Result, err error) uuid.UUID {
	m.t.Helper()
	if err != nil {
		m.t.Fatalf("got error %v, want the command to append", err)
	}
	if !r.Appended {
		m.t.Fatalf("got the existing %s, want a new event", r.Event.Type)
	}
	return r.Event.AggregateID
}

// report returns a command reporting value for period on the world's measure.
func (w world) report(period string, value float64) ReportProgress {
	return ReportProgress{MeasureID: w.measure.String(), Period: period, Value: &value}
}

func withKey(meta Meta, key string) Meta {
	meta.IdempotencyKey = key
	return meta
}

func TestCommandsCreateID(t *testing.T) {
	ctx := context.Background()
	cmds := &Commands{Store: newMemStore()}
	register := func(meta Meta, id string) (Result, error) {
		c := RegisterPartner{ID: id, Name: "Acme", Kind: "business"}
		return cmds.RegisterPartner(ctx, meta, c)
	}

	t.Run("without an ID the server picks a fresh one", func(t *testing.T) {
		first := must{t}.appended(register(byAdmin, ""))
		second := must{t}.appended(register(byAdmin, ""))
		if first == uuid.Nil || first.Version() != 7 {
			t.Errorf("got ID %s (version %d), want a UUID v7", first, first.Version())
		}
		if first == second {
			t.Errorf("got the same ID %s twice, want a fresh one each time", first)
		}
	})
	t.Run("a given ID is kept", func(t *testing.T) {
		want := uuid.New()
		got := must{t}.appended(register(byAdmin, " "+want.String()))
		if got != want {
			t.Errorf("got ID %s, want %s", got, want)
		}
	})
	t.Run("a given ID that is not a UUID", func(t *testing.T) {
		_, err := register(byAdmin, "acme")
		wantInvalid(t, err, "id", "not a UUID")
	})
	t.Run("under an Idempotency-Key the ID is stable", func(t *testing.T) {
		r1, err1 := register(withKey(byAdmin, "import-7"), "")
		r2, err2 := register(withKey(byAdmin, "import-7"), "")
		r3, err3 := register(withKey(byAdmin, "import-8"), "")
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if r1.Event.AggregateID != r2.Event.AggregateID {
			t.Errorf("got IDs %s and %s, want the same",
				r1.Event.AggregateID, r2.Event.AggregateID)
		}
		if r1.Event.AggregateID == r3.Event.AggregateID {
			t.Errorf("got ID %s for two keys, want one each", r1.Event.AggregateID)
		}
	})
}

func TestCommandsIdempotencyKey(t *testing.T) {
	ctx := context.Background()

	// Each command returns a function that issues the same command under meta.
	tests := []struct {
		name    string
		command func(t *testing.T, w world) func(Meta) (Result, error)
	}{
		{"register a partner", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				c := RegisterPartner{Name: "UW", Kind: "united_way"}
				return w.cmds.RegisterPartner(ctx, m, c)
			}
		}},
		{"launch an issue", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				return w.cmds.LaunchIssue(ctx, m, LaunchIssue{Title: "Health"})
			}
		}},
		{"define an objective", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				return w.cmds.DefineObjective(ctx, m, DefineObjective{IssueID: w.issue.String(),
					Perspective: "processes", Title: "Share data"})
			}
		}},
		{"link objectives", func(t *testing.T, w world) func(Meta) (Result, error) {
			effect := must{t}.appended(w.cmds.DefineObjective(ctx, byAdmin, DefineObjective{
				IssueID: w.issue.String(), Perspective: "results", Title: "Read by third grade"}))
			return func(m Meta) (Result, error) {
				return w.cmds.LinkObjectives(ctx, m, LinkObjectives{CauseID: w.objective.String(),
					EffectID: effect.String()})
			}
		}},
		{"define a measure", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				return w.cmds.DefineMeasure(ctx, m, DefineMeasure{
					ObjectiveID: w.objective.String(), Name: "Attendance", Unit: "%",
					Polarity: "higher", Kind: "performance", OwnerPartnerID: w.partner.String()})
			}
		}},
		{"set a target", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				return w.cmds.SetTarget(ctx, m, SetTarget{MeasureID: w.measure.String(),
					Period: "2015", Value: ptr(60.0)})
			}
		}},
		{"report progress", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				return w.cmds.ReportProgress(ctx, m, w.report("2014-Q3", 57))
			}
		}},
		{"correct progress", func(t *testing.T, w world) func(Meta) (Result, error) {
			must{t}.appended(w.cmds.ReportProgress(ctx, byAdmin, w.report("2014-Q3", 57)))
			return func(m Meta) (Result, error) {
				return w.cmds.CorrectProgress(ctx, m, CorrectProgress{
					MeasureID: w.measure.String(), Period: "2014-Q3", Value: ptr(58.0),
					Reason: "recount"})
			}
		}},
		{"make a commitment", func(t *testing.T, w world) func(Meta) (Result, error) {
			return func(m Meta) (Result, error) {
				return w.cmds.MakeCommitment(ctx, m, MakeCommitment{PartnerID: w.partner.String(),
					IssueID: w.issue.String(), Kind: "funding", Description: "Grants",
					AmountCents: ptr[int64](100), Period: "2015"})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			command := tt.command(t, w)
			meta := withKey(byAdmin, "request-"+tt.name)
			before := w.store.total()

			first, err := command(meta)
			if err != nil || !first.Appended {
				t.Fatalf("first time: got %+v, %v, want a new event", first, err)
			}
			again, err := command(meta)
			if err != nil {
				t.Fatalf("second time: got error %v, want the first result", err)
			}

			if again.Appended {
				t.Errorf("second time: got Appended, want the existing event")
			}
			if again.Event.ID != first.Event.ID {
				t.Errorf("second time: got event %s, want %s", again.Event.ID, first.Event.ID)
			}
			if again.Version != first.Version {
				t.Errorf("second time: got version %d, want %d", again.Version, first.Version)
			}
			if got := w.store.total() - before; got != 1 {
				t.Errorf("got %d events appended, want 1", got)
			}
		})
	}
}

func TestCommandsIdempotencyKeyNamesTheCommandWhoeverSendsIt(t *testing.T) {
	ctx := context.Background()
	cmds := &Commands{Store: newMemStore()}
	c := RegisterPartner{Name: "Acme", Kind: "business"}

	a := must{t}.appended(cmds.RegisterPartner(ctx, withKey(Meta{Actor: "token:a"}, "k"), c))
	again, err := cmds.RegisterPartner(ctx, withKey(Meta{Actor: "token:b"}, "k"), c)
	if err != nil {
		t.Fatal(err)
	}
	if again.Appended || again.Event.AggregateID != a {
		t.Errorf("got appended %v for partner %s, want the first result for %s",
			again.Appended, again.Event.AggregateID, a)
	}
}

func TestCommandsLateRetryReturnsTheFirstEvent(t *testing.T) {
	// A retry that arrives after the target changed again must not set the old
	// target once more: it returns what the first attempt recorded.
	ctx := context.Background()
	w := newWorld(t)
	target := func(v float64) SetTarget {
		return SetTarget{MeasureID: w.measure.String(), Period: "2015", Value: &v}
	}
	first, err := w.cmds.SetTarget(ctx, withKey(byAdmin, "t-1"), target(60))
	if err != nil {
		t.Fatal(err)
	}
	must{t}.appended(w.cmds.SetTarget(ctx, byAdmin, target(65)))

	retry, err := w.cmds.SetTarget(ctx, withKey(byAdmin, "t-1"), target(60))

	if err != nil {
		t.Fatalf("got error %v, want the first result", err)
	}
	if retry.Appended || retry.Event.ID != first.Event.ID {
		t.Errorf("got event %s (appended %v), want the first %s", retry.Event.ID, retry.Appended,
			first.Event.ID)
	}
	if got := len(w.store.stored(MeasureAggregate, w.measure)); got != 3 {
		t.Errorf("got %d events on the measure, want 3 (definition and two targets)", got)
	}
}

func TestCommandsRetryWithStaleIfMatch(t *testing.T) {
	// The first attempt moved the measure on; its retry still carries the version
	// the client saw before it, and gets the first result, not a refusal.
	ctx := context.Background()
	w := newWorld(t)
	meta := withKey(byAdmin, "report-2014")
	meta.IfMatch = ptr[uint64](1)
	first, err := w.cmds.ReportProgress(ctx, meta, w.report("2014", 57))
	must{t}.appended(first, err)

	retry, err := w.cmds.ReportProgress(ctx, meta, w.report("2014", 57))

	if err != nil {
		t.Fatalf("got error %v, want the first result", err)
	}
	if retry.Appended || retry.Event.ID != first.Event.ID {
		t.Errorf("got event %s (appended %v), want the first %s", retry.Event.ID, retry.Appended,
			first.Event.ID)
	}
}

func TestCommandsIdempotencyKeyReusedForAnotherCommand(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	meta := withKey(byAdmin, "monthly-upload")
	must{t}.appended(w.cmds.ReportProgress(ctx, meta, w.report("2014-09", 50)))

	r, err := w.cmds.ReportProgress(ctx, meta, w.report("2014-10", 60))

	if err == nil {
		t.Errorf("got success with event %s for %v, want a conflict: 2014-10 was not recorded",
			r.Event.ID, r.Event.Payload)
		return
	}
	wantCode(t, err, CodeConflict)
}

func TestCommandsIfMatch(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		ifMatch uint64
		ok      bool
	}{
		{"the current version", 1, true},
		{"an older version", 0, false},
		{"a version not reached", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t) // the measure is at version 1
			meta := byAdmin
			meta.IfMatch = ptr(tt.ifMatch)
			before := w.store.total()

			r, err := w.cmds.ReportProgress(ctx, meta, w.report("2014", 57))

			if tt.ok {
				must{t}.appended(r, err)
				if r.Version != 2 {
					t.Errorf("got version %d, want 2", r.Version)
				}
				return
			}
			e := wantCode(t, err, CodePreconditionFailed)
			if !strings.Contains(e.Message, fmt.Sprint("version 1, not ", tt.ifMatch)) {
				t.Errorf("got %q, want it to give both versions", e.Message)
			}
			if got := w.store.total(); got != before {
				t.Errorf("got %d events stored, want still %d", got, before)
			}
		})
	}

	t.Run("a writer that slips in after the check", func(t *testing.T) {
		w := newWorld(t)
		w.store.interleave = func() {
			must{t}.appended(w.cmds.ReportProgress(ctx, byAdmin, w.report("2014-Q1", 40)))
		}
		meta := byAdmin
		meta.IfMatch = ptr[uint64](1)

		_, err := w.cmds.ReportProgress(ctx, meta, w.report("2014-Q2", 45))

		wantCode(t, err, CodePreconditionFailed)
		if got := len(w.store.stored(MeasureAggregate, w.measure)); got != 2 {
			t.Errorf("got %d events on the measure, want 2 (definition and the other report)", got)
		}
	})

	t.Run("a create at version 0", func(t *testing.T) {
		meta := byAdmin
		meta.IfMatch = ptr[uint64](0)
		cmds := &Commands{Store: newMemStore()}
		must{t}.appended(cmds.LaunchIssue(ctx, meta, LaunchIssue{Title: "Health"}))
	})
}

func TestCommandsDecideAgainAfterARace(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		other    func(w world) ReportProgress // appended between load and append
		appended bool
		code     Code
	}{
		{"another period", func(w world) ReportProgress { return w.report("2014-Q1", 40) },
			true, ""},
		{"the same value for the period",
			func(w world) ReportProgress { return w.report("2014-Q2", 45) }, false, ""},
		{"another value for the period",
			func(w world) ReportProgress { return w.report("2014-Q2", 44) }, false, CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.store.interleave = func() {
				must{t}.appended(w.cmds.ReportProgress(ctx, byAdmin, tt.other(w)))
			}

			r, err := w.cmds.ReportProgress(ctx, byAdmin, w.report("2014-Q2", 45))

			if tt.code != "" {
				e := wantCode(t, err, tt.code)
				if errors.Is(err, ErrConcurrency) || !strings.Contains(e.Message, "correction") {
					t.Errorf("got %v, want the decision on the fresh state", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want the command decided again", err)
			}
			if r.Appended != tt.appended || r.Version != 2+b2u(tt.appended) {
				t.Errorf("got appended %v at version %d, want %v at %d",
					r.Appended, r.Version, tt.appended, 2+b2u(tt.appended))
			}
		})
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func TestCommandsGiveUpAfterMaxAttempts(t *testing.T) {
	w := newWorld(t)
	w.cmds.MaxAttempts = 3
	w.store.refuse = 100
	before := w.store.appends

	_, err := w.cmds.ReportProgress(context.Background(), byAdmin, w.report("2014", 57))

	if !errors.Is(err, ErrConcurrency) {
		t.Errorf("got error %v, want ErrConcurrency", err)
	}
	if got := w.store.appends - before; got != 3 {
		t.Errorf("got %d attempts to append, want 3", got)
	}
}

func TestCommandsConcurrentWriters(t *testing.T) {
	const writers = 10
	ctx := context.Background()

	t.Run("without If-Match every writer succeeds", func(t *testing.T) {
		w := newWorld(t)
		results := make([]Result, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				period := fmt.Sprintf("2014-%02d", i+1)
				c := w.report(period, float64(i))
				results[i], errs[i] = w.cmds.ReportProgress(ctx, byAdmin, c)
			})
		}
		wg.Wait()

		var versions []uint64
		for i, r := range results {
			if errs[i] != nil || !r.Appended {
				t.Errorf("writer %d: got %v (appended %v), want a new event",
					i, errs[i], r.Appended)
			}
			versions = append(versions, r.Version)
		}
		slices.Sort(versions)
		for i, v := range versions {
			if want := uint64(i + 2); v != want {
				t.Fatalf("got versions %v, want 2 to %d, one each", versions, writers+1)
			}
		}

		events := w.store.stored(MeasureAggregate, w.measure)
		for i, e := range events {
			if e.AggregateVersion != uint64(i+1) {
				t.Errorf("event %d: got version %d, want %d", i, e.AggregateVersion, i+1)
			}
		}
		if got := len(fold[Measure](events).Values); got != writers {
			t.Errorf("got %d values on the measure, want %d", got, writers)
		}
	})

	t.Run("with the same If-Match one writer wins", func(t *testing.T) {
		w := newWorld(t)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				meta := byAdmin
				meta.IfMatch = ptr[uint64](1)
				period := fmt.Sprintf("2014-%02d", i+1)
				_, errs[i] = w.cmds.ReportProgress(ctx, meta, w.report(period, float64(i)))
			})
		}
		wg.Wait()

		won := 0
		for i, err := range errs {
			switch ErrorCode(err) {
			case "":
				won++
			case CodePreconditionFailed:
			default:
				t.Errorf("writer %d: got %v, want success or precondition failed", i, err)
			}
		}
		if won != 1 {
			t.Errorf("got %d winners, want 1", won)
		}
		if got := len(w.store.stored(MeasureAggregate, w.measure)); got != 2 {
			t.Errorf("got %d events on the measure, want 2", got)
		}
	})
}

func TestCommandsEnvelope(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	onBehalf := uuid.New()
	occurred := time.Date(2014, 6, 30, 17, 0, 0, 0, time.FixedZone("CDT", -5*3600))
	correlation := uuid.New()

	tests := []struct {
		name          string
		meta          Meta
		run           func(Meta) (Result, error)
		aggregateType string
		wantPartner   func(Result) *uuid.UUID
	}{
		{
			name:          "a partner acts for itself",
			meta:          Meta{Actor: "token:admin"},
			aggregateType: PartnerAggregate,
			run: func(m Meta) (Result, error) {
				return w.cmds.RegisterPartner(ctx, m, RegisterPartner{Name: "B", Kind: "business",
					Source: "https://example.org/partners"})
			},
			wantPartner: func(r Result) *uuid.UUID { return &r.Event.AggregateID },
		},
		{
			name:          "the partner a command acts for",
			meta:          Meta{Actor: "token:acme", PartnerID: &onBehalf, OccurredAt: occurred},
			aggregateType: IssueAggregate,
			run: func(m Meta) (Result, error) {
				return w.cmds.LaunchIssue(ctx, m, LaunchIssue{Title: "Health"})
			},
			wantPartner: func(Result) *uuid.UUID { return &onBehalf },
		},
		{
			name:          "no partner",
			meta:          Meta{Actor: "token:admin", CorrelationID: correlation},
			aggregateType: IssueAggregate,
			run: func(m Meta) (Result, error) {
				return w.cmds.LaunchIssue(ctx, m, LaunchIssue{Title: "Housing"})
			},
			wantPartner: func(Result) *uuid.UUID { return nil },
		},
		{
			name: "the reporting partner before the one acting",
			meta: Meta{Actor: "token:admin", PartnerID: &onBehalf, IdempotencyKey: "r-1"},
			run: func(m Meta) (Result, error) {
				c := w.report("2014", 57)
				c.ReportingPartnerID, c.Source = w.partner.String(), "upload.csv"
				return w.cmds.ReportProgress(ctx, m, c)
			},
			aggregateType: MeasureAggregate,
			wantPartner:   func(Result) *uuid.UUID { return &w.partner },
		},
		{
			name: "the committing partner",
			meta: Meta{Actor: "token:admin", PartnerID: &onBehalf},
			run: func(m Meta) (Result, error) {
				return w.cmds.MakeCommitment(ctx, m, MakeCommitment{PartnerID: w.partner.String(),
					IssueID: w.issue.String(), Kind: "action", Description: "Tutors",
					Period: "2015"})
			},
			aggregateType: CommitmentAggregate,
			wantPartner:   func(Result) *uuid.UUID { return &w.partner },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run(tt.meta)
			must{t}.appended(r, err)
			e := r.Event

			if e.Actor != tt.meta.Actor {
				t.Errorf("got actor %q, want %q", e.Actor, tt.meta.Actor)
			}
			if want := tt.wantPartner(r); !equalPtr(e.PartnerID, want) {
				t.Errorf("got partner %v, want %v", ptrString(e.PartnerID), ptrString(want))
			}
			if e.ID.Version() != 7 || e.CausationID == uuid.Nil {
				t.Errorf("got ID %s and causation %s, want a UUID v7 and a command ID",
					e.ID, e.CausationID)
			}
			if key := tt.meta.IdempotencyKey; key != "" {
				want := StableID("command\x00" + key)
				if e.CausationID != want {
					t.Errorf("got causation %s, want %s from the key", e.CausationID, want)
				}
			}
			wantCorrelation := tt.meta.CorrelationID
			if wantCorrelation == uuid.Nil {
				wantCorrelation = e.CausationID
			}
			if e.CorrelationID != wantCorrelation {
				t.Errorf("got correlation %s, want %s", e.CorrelationID, wantCorrelation)
			}
			if e.SchemaVersion != CurrentSchemaVersion || e.Type != e.Payload.EventType() {
				t.Errorf("got %s version %d, want %s version %d", e.Type, e.SchemaVersion,
					e.Payload.EventType(), CurrentSchemaVersion)
			}
			if e.AggregateType != tt.aggregateType || e.AggregateVersion != r.Version ||
				e.Sequence == 0 {
				t.Errorf("got %s version %d at sequence %d, want %s version %d stored",
					e.AggregateType, e.AggregateVersion, e.Sequence, tt.aggregateType, r.Version)
			}
			if !e.RecordedAt.Equal(testNow) || e.RecordedAt.Location() != time.UTC {
				t.Errorf("got recorded at %v, want %v", e.RecordedAt, testNow)
			}
			wantOccurred := tt.meta.OccurredAt.UTC()
			if tt.meta.OccurredAt.IsZero() {
				wantOccurred = testNow
			}
			if !e.OccurredAt.Equal(wantOccurred) || e.OccurredAt.Location() != time.UTC {
				t.Errorf("got occurred at %v, want %v", e.OccurredAt, wantOccurred)
			}
		})
	}

	t.Run("the source comes from the command", func(t *testing.T) {
		meta := Meta{Actor: "token:admin", Source: "ignored"}
		c := w.report("2013", 50)
		c.Source = "https://example.org/2013.pdf"
		r, err := w.cmds.ReportProgress(ctx, meta, c)
		must{t}.appended(r, err)
		if r.Event.Source != c.Source {
			t.Errorf("got source %q, want %q", r.Event.Source, c.Source)
		}
	})
	t.Run("the stored version follows the aggregate", func(t *testing.T) {
		r1, err1 := w.cmds.ReportProgress(ctx, byAdmin, w.report("2012", 50))
		r2, err2 := w.cmds.ReportProgress(ctx, byAdmin, w.report("2011", 50))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if r2.Version != r1.Version+1 || r2.Event.Sequence <= r1.Event.Sequence {
			t.Errorf("got versions %d then %d at sequences %d then %d, want consecutive",
				r1.Version, r2.Version, r1.Event.Sequence, r2.Event.Sequence)
		}
	})
}

func TestCommandsRefuse(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	missing := uuid.NewString()

	tests := []struct {
		name  string
		run   func() (Result, error)
		code  Code
		field string
		word  string
	}{
		{name: "no actor", code: CodeUnauthorized, run: func() (Result, error) {
			return w.cmds.LaunchIssue(ctx, Meta{}, LaunchIssue{Title: "T"})
		}},
		{name: "a source of 2001 characters", code: CodeInvalid, field: "source",
			word: "at most 2000", run: func() (Result, error) {
				return w.cmds.LaunchIssue(ctx, byAdmin,
					LaunchIssue{Title: "T", Source: strings.Repeat("s", 2001)})
			}},
		{name: "an Idempotency-Key of 256 characters", code: CodeInvalid,
			field: "Idempotency-Key", word: "at most 255", run: func() (Result, error) {
				return w.cmds.LaunchIssue(ctx, withKey(byAdmin, strings.Repeat("k", 256)),
					LaunchIssue{Title: "T"})
			}},
		{name: "an objective under an issue ID that is not a UUID", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.DefineObjective(ctx, byAdmin,
					DefineObjective{IssueID: "health", Perspective: "results", Title: "T"})
			}},
		{name: "an objective under an issue that does not exist", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.DefineObjective(ctx, byAdmin,
					DefineObjective{IssueID: missing, Perspective: "results", Title: "T"})
			}},
		{name: "a measure under an objective that does not exist", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.DefineMeasure(ctx, byAdmin, DefineMeasure{ObjectiveID: missing,
					Name: "N", Unit: "%", Polarity: "higher", Kind: "population"})
			}},
		{name: "a measure owned by a partner that does not exist", code: CodeInvalid,
			field: "owner_partner_id", word: "does not exist", run: func() (Result, error) {
				return w.cmds.DefineMeasure(ctx, byAdmin, DefineMeasure{
					ObjectiveID: w.objective.String(), Name: "N", Unit: "%", Polarity: "higher",
					Kind: "population", OwnerPartnerID: missing})
			}},
		{name: "a target of a measure ID that is not a UUID", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.SetTarget(ctx, byAdmin,
					SetTarget{MeasureID: "readiness", Period: "2015", Value: ptr(1.0)})
			}},
		{name: "a report on a measure that does not exist", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.ReportProgress(ctx, byAdmin,
					ReportProgress{MeasureID: missing, Period: "2015", Value: ptr(1.0)})
			}},
		{name: "a report by a partner that does not exist", code: CodeInvalid,
			field: "reporting_partner_id", word: "does not exist", run: func() (Result, error) {
				c := w.report("2015", 1)
				c.ReportingPartnerID = missing
				return w.cmds.ReportProgress(ctx, byAdmin, c)
			}},
		{name: "a correction of a value never reported", code: CodeInvalid, field: "period",
			word: "no value was reported", run: func() (Result, error) {
				return w.cmds.CorrectProgress(ctx, byAdmin, CorrectProgress{
					MeasureID: w.measure.String(), Period: "2015", Value: ptr(1.0), Reason: "r"})
			}},
		{name: "a link from a cause that does not exist", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.LinkObjectives(ctx, byAdmin,
					LinkObjectives{CauseID: missing, EffectID: w.objective.String()})
			}},
		{name: "a link from a cause ID that is not a UUID", code: CodeNotFound,
			run: func() (Result, error) {
				return w.cmds.LinkObjectives(ctx, byAdmin,
					LinkObjectives{CauseID: "x", EffectID: w.objective.String()})
			}},
		{name: "a link without an effect", code: CodeInvalid, field: "effect_objective_id",
			word: "required", run: func() (Result, error) {
				c := LinkObjectives{CauseID: w.objective.String()}
				return w.cmds.LinkObjectives(ctx, byAdmin, c)
			}},
		{name: "a link to an effect that does not exist", code: CodeInvalid,
			field: "effect_objective_id", word: missing, run: func() (Result, error) {
				return w.cmds.LinkObjectives(ctx, byAdmin,
					LinkObjectives{CauseID: w.objective.String(), EffectID: missing})
			}},
		{name: "a commitment by a partner that does not exist", code: CodeInvalid,
			field: "partner_id", word: "does not exist", run: func() (Result, error) {
				return w.cmds.MakeCommitment(ctx, byAdmin, MakeCommitment{PartnerID: missing,
					IssueID: w.issue.String(), Kind: "action", Description: "D", Period: "2015"})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.store.total()
			_, err := tt.run()
			wantOutcome(t, err, tt.code, tt.field, tt.word)
			if got := w.store.total(); got != before {
				t.Errorf("got %d events stored, want still %d", got, before)
			}
		})
	}

	t.Run("an Idempotency-Key of 255 characters", func(t *testing.T) {
		must{t}.appended(w.cmds.LaunchIssue(ctx, withKey(byAdmin, strings.Repeat("k", 255)),
			LaunchIssue{Title: "T"}))
	})
}

func TestCommandsLink(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	define := func(title string) uuid.UUID {
		t.Helper()
		return must{t}.appended(w.cmds.DefineObjective(ctx, byAdmin, DefineObjective{
			IssueID: w.issue.String(), Perspective: "results", Title: title}))
	}
	a, b, c := w.objective, define("Read by third grade"), define("Graduate")
	link := func(meta Meta, cause, effect uuid.UUID) (Result, error) {
		return w.cmds.LinkObjectives(ctx, meta,
			LinkObjectives{CauseID: cause.String(), EffectID: effect.String()})
	}

	first, err := link(withKey(byAdmin, "link-a-b"), a, b)
	on := must{t}.appended(first, err)
	if on != w.issue {
		t.Errorf("got the link on %s, want it on the issue %s", on, w.issue)
	}

	t.Run("a retry returns the link", func(t *testing.T) {
		r, err := link(withKey(byAdmin, "link-a-b"), a, b)
		if err != nil || r.Appended || r.Event.ID != first.Event.ID {
			t.Errorf("got %s (appended %v, %v), want the first link %s",
				r.Event.ID, r.Appended, err, first.Event.ID)
		}
	})
	t.Run("the same link by another request", func(t *testing.T) {
		_, err := link(byAdmin, a, b)
		wantCode(t, err, CodeConflict)
	})
	t.Run("a link that closes a cycle", func(t *testing.T) {
		must{t}.appended(link(byAdmin, b, c))
		_, err := link(byAdmin, c, a)
		e := wantCode(t, err, CodeConflict)
		if !strings.Contains(e.Message, "cycle") {
			t.Errorf("got %q, want it to name the cycle", e.Message)
		}
	})
	t.Run("the issue counts its links", func(t *testing.T) {
		if got := fold[Issue](w.store.stored(IssueAggregate, w.issue)).Links(); got != 2 {
			t.Errorf("got %d links, want 2", got)
		}
	})
}

func TestCommandsReferenceIDsWithSpaces(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	spaced := " " + w.partner.String()

	tests := []struct {
		name string
		run  func() (Result, error)
	}{
		{"owner of a measure", func() (Result, error) {
			return w.cmds.DefineMeasure(ctx, byAdmin, DefineMeasure{
				ObjectiveID: w.objective.String(), Name: "N", Unit: "%", Polarity: "higher",
				Kind: "population", OwnerPartnerID: spaced})
		}},
		{"reporting partner", func() (Result, error) {
			c := w.report("2014", 57)
			c.ReportingPartnerID = spaced
			return w.cmds.ReportProgress(ctx, byAdmin, c)
		}},
		{"committing partner", func() (Result, error) {
			return w.cmds.MakeCommitment(ctx, byAdmin, MakeCommitment{PartnerID: spaced,
				IssueID: w.issue.String(), Kind: "action", Description: "D", Period: "2015"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run()
			must{t}.appended(r, err)
			if r.Event.PartnerID == nil || *r.Event.PartnerID != w.partner {
				t.Errorf("got partner %v, want %s", ptrString(r.Event.PartnerID), w.partner)
			}
		})
	}
}

func TestErrorCode(t *testing.T) {
	unavailable := Errorf(CodeUnavailable, "the event store is down")
	w := newWorld(t)
	w.store.loadErr = unavailable
	_, loadErr := w.cmds.ReportProgress(context.Background(), byAdmin, w.report("2014", 1))

	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"no error", nil, ""},
		{"a domain error", Invalid("name", "is required"), CodeInvalid},
		{"a wrapped domain error", fmt.Errorf("append events: %w", ErrConcurrency), CodeConflict},
		{"a store error wrapped by a command", loadErr, CodeUnavailable},
		{"any other error", errors.New("disk full"), CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.want {
				t.Errorf("got %q for %v, want %q", got, tt.err, tt.want)
			}
		})
	}

	t.Run("the message lists the fields", func(t *testing.T) {
		err := &Error{Code: CodeInvalid, Message: "the input is invalid", Fields: []FieldError{
			{"name", "is required"}, {"kind", `"x" is not one of a, b`}}}
		want := `the input is invalid (name: is required; kind: "x" is not one of a, b)`
		if got := err.Error(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}
