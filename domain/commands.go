package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Store is the event store commands append to.
type Store interface {
	// Load returns the events of one aggregate in order, each with its stream
	// sequence, and the sequence of the last one (0 when there is none).
	// Errors: CodeUnavailable, CodeInternal.
	Load(ctx context.Context, aggregateType string, id uuid.UUID) ([]Event, uint64, error)

	// Append stores e on its aggregate's subject if the subject's last sequence is
	// still expectedSeq, and returns the stored event with its sequence. A non-empty
	// msgID deduplicates retries: a duplicate returns the event stored first.
	// Errors: ErrConcurrency (nothing was written), CodeUnavailable, CodeInternal.
	Append(ctx context.Context, e Event, expectedSeq uint64, msgID string) (Appended, error)
}

// Appended is what an append stored.
type Appended struct {
	Event     Event
	Duplicate bool
}

// Meta says who issues a command and how: it becomes the event's envelope.
type Meta struct {
	Actor string // who acted, such as "token:admin"
	// Role is the actor's role; empty for a trusted internal caller.
	Role Role
	// PartnerID is the actor's partner: on whose behalf it acts when the command
	// names no partner.
	PartnerID *uuid.UUID
	// IdempotencyKey, when set, makes a retry of the command return its first
	// result: it fixes the command's ID, the IDs the server picks and the message ID.
	// The key names the command, whoever sends it, so that a dataset imported by
	// two tokens maps to the same commands; a key reused for another command on
	// the same aggregate is a conflict.
	IdempotencyKey string
	CorrelationID  uuid.UUID
	// IfMatch, when set, is the aggregate version the client last saw; any other
	// version fails the command with CodePreconditionFailed.
	IfMatch    *uint64
	OccurredAt time.Time
	Source     string

	commandID uuid.UUID
}

// Result is the outcome of a command: the event that records its effect, new or
// already present, and the aggregate's version after it.
type Result struct {
	Event    Event
	Appended bool
	Version  uint64
}

// Commands decides commands on the past of their aggregates and appends the
// outcome. Without IfMatch, a command that races another is decided again on
// the fresh state, up to MaxAttempts times.
type Commands struct {
	Store       Store
	Now         func() time.Time
	MaxAttempts int
}

// idNamespace derives stable IDs from idempotency keys and dataset keys.
var idNamespace = uuid.MustParse("6f1c1f4e-4a53-4c3e-9a39-2f0b6b1d5a10")

// StableID returns the ID that a name always maps to, such as a dataset's own key.
func StableID(name string) uuid.UUID { return uuid.NewSHA1(idNamespace, []byte(name)) }

func (s *Commands) prepare(meta Meta) (Meta, error) {
	if meta.Actor == "" {
		return meta, Errorf(CodeUnauthorized, "a command needs an actor")
	}
	if utf8.RuneCountInString(meta.Source) > maxSource {
		return meta, Invalid("source", "must be at most %d characters", maxSource)
	}
	if meta.IdempotencyKey != "" {
		if len(meta.IdempotencyKey) > 255 {
			return meta, Invalid("Idempotency-Key", "must be at most 255 characters")
		}
		meta.commandID = StableID("command\x00" + meta.IdempotencyKey)
	} else {
		meta.commandID = uuid.Must(uuid.NewV7())
	}
	if meta.CorrelationID == uuid.Nil {
		meta.CorrelationID = meta.commandID
	}
	return meta, nil
}

// newID returns the ID a create command names, or one the server picks: stable
// under an idempotency key, else a fresh UUID v7.
func newID(meta Meta, given string) (uuid.UUID, error) {
	if given != "" {
		var fe fieldErrors
		u := id(&fe, "id", given)
		return u, fe.err()
	}
	if meta.IdempotencyKey != "" {
		return StableID("aggregate\x00" + meta.commandID.String()), nil
	}
	return uuid.Must(uuid.NewV7()), nil
}

// pathID parses the ID of the resource a request names; a malformed one names
// nothing that exists.
func pathID(kind, s string) (uuid.UUID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, Errorf(CodeNotFound, "%s %q does not exist", kind, s)
	}
	return u, nil
}

// load folds one aggregate's events into its state.
func load[T any, P interface {
	*T
	folder
}](ctx context.Context, s Store, aggregateType string, id uuid.UUID) (T, error) {
	var zero T
	if id == uuid.Nil {
		return zero, nil
	}
	events, _, err := s.Load(ctx, aggregateType, id)
	if err != nil {
		return zero, fmt.Errorf("load %s %s: %w", aggregateType, id, err)
	}
	return fold[T, P](events), nil
}

// parseOr returns the UUID in s, or uuid.Nil when s is not one; the domain
// reports the malformed field itself.
func parseOr(s string) uuid.UUID {
	u, _ := uuid.Parse(strings.TrimSpace(s))
	return u
}

func (s *Commands) execute(ctx context.Context, meta Meta, aggregateType string,
	id uuid.UUID, decide func([]Event) (Decision, error)) (Result, error) {
	for attempt := 1; ; attempt++ {
		events, lastSeq, err := s.Store.Load(ctx, aggregateType, id)
		if err != nil {
			return Result{}, fmt.Errorf("load %s %s: %w", aggregateType, id, err)
		}
		version := uint64(len(events))
		if i := causedBy(events, meta); i >= 0 {
			if err := sameCommand(events[:i], events[i], decide); err != nil {
				return Result{}, err
			}
			return Result{Event: events[i], Version: version}, nil
		}
		if meta.IfMatch != nil && *meta.IfMatch != version {
			return Result{}, stale(aggregateType, *meta.IfMatch, version)
		}

		d, err := decide(events)
		if err != nil {
			return Result{}, err
		}
		if d.Payload == nil {
			return Result{Event: *d.Existing, Version: version}, nil
		}

		e := s.envelope(meta, aggregateType, id, version+1, d)
		a, err := s.Store.Append(ctx, e, lastSeq, messageID(meta, aggregateType, id))
		switch {
		case errors.Is(err, ErrConcurrency) && meta.IfMatch != nil:
			return Result{}, stale(aggregateType, *meta.IfMatch, version+1)
		case errors.Is(err, ErrConcurrency) && attempt < s.maxAttempts():
			backoff(attempt)
			continue
		case err != nil:
			return Result{}, fmt.Errorf("append %s: %w", e.Type, err)
		}
		if a.Duplicate && (a.Event.AggregateID != id ||
			!reflect.DeepEqual(a.Event.Payload, e.Payload)) {
			return Result{}, reusedKey()
		}
		return Result{Event: a.Event, Appended: !a.Duplicate,
			Version: a.Event.AggregateVersion}, nil
	}
}

// causedBy returns the index of the event a retried command (same
// Idempotency-Key) already appended to this aggregate, or -1.
func causedBy(events []Event, meta Meta) int {
	if meta.IdempotencyKey == "" {
		return -1
	}
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].CausationID == meta.commandID {
			return i
		}
	}
	return -1
}

// sameCommand checks that a retry is the command that caused first: decided on
// the events before first, it must give first's payload. A key reused for
// another command is a conflict, never a silent success.
func sameCommand(before []Event, first Event, decide func([]Event) (Decision, error)) error {
	d, err := decide(before)
	if err != nil {
		// The world moved on since (an objective was retired, say): the command
		// cannot be decided again, and nothing says it differs from the first.
		return nil
	}
	if d.Payload == nil || !reflect.DeepEqual(d.Payload, first.Payload) {
		return reusedKey()
	}
	return nil
}

func reusedKey() error {
	return Errorf(CodeConflict,
		"this Idempotency-Key was already used for another command; use a new key")
}

func (s *Commands) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return 30
}

// backoff spreads out writers that keep colliding on one aggregate.
func backoff(attempt int) {
	d := time.Duration(min(attempt, 10)) * time.Millisecond
	time.Sleep(d/2 + rand.N(d))
}

func stale(aggregateType string, expected, actual uint64) error {
	return Errorf(CodePreconditionFailed,
		"the %s is at version %d, not %d (If-Match); reload it and decide again",
		aggregateType, actual, expected)
}

// messageID scopes an idempotency key to the aggregate the command acts on, so a
// key sent to another resource is never taken for a duplicate.
func messageID(meta Meta, aggregateType string, id uuid.UUID) string {
	if meta.IdempotencyKey == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(meta.commandID.String() + aggregateType + id.String()))
	return hex.EncodeToString(sum[:16])
}

// now reads the service's clock.
func (s *Commands) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Commands) envelope(meta Meta, aggregateType string, id uuid.UUID, version uint64,
	d Decision) Event {
	recorded := s.now().UTC()
	occurred := meta.OccurredAt.UTC()
	if meta.OccurredAt.IsZero() {
		occurred = recorded
	}
	partner := d.PartnerID
	if partner == nil {
		partner = meta.PartnerID
	}
	return Event{
		ID:               uuid.Must(uuid.NewV7()),
		Type:             d.Payload.EventType(),
		SchemaVersion:    CurrentSchemaVersion,
		AggregateType:    aggregateType,
		AggregateID:      id,
		AggregateVersion: version,
		OccurredAt:       occurred,
		RecordedAt:       recorded,
		Actor:            meta.Actor,
		PartnerID:        partner,
		CorrelationID:    meta.CorrelationID,
		CausationID:      meta.commandID,
		Source:           meta.Source,
		Payload:          d.Payload,
	}
}
