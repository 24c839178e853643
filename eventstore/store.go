// Package eventstore keeps Backbone's events on one NATS JetStream stream, one
// subject per aggregate, with optimistic concurrency per aggregate and
// idempotent appends. It implements domain.Store.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// Config names the stream and says how it is kept.
type Config struct {
	// Stream is the stream's name; default "BACKBONE".
	Stream string
	// Subjects is the subject prefix; an aggregate's subject is
	// "<prefix>.<aggregate type>.<aggregate id>". Default "backbone.events".
	Subjects string
	// Replicas is the number of copies a cluster keeps; default 1.
	Replicas int
	// DuplicateWindow is how long a message ID deduplicates; default 24h.
	DuplicateWindow time.Duration
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = "BACKBONE"
	}
	if c.Subjects == "" {
		c.Subjects = "backbone.events"
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 24 * time.Hour
	}
	return c
}

// StreamConfig is the configuration of an event-store stream: file storage, no
// age, size or count limits, deletes and purges denied, direct gets for loads.
func (c Config) StreamConfig() jetstream.StreamConfig {
	c = c.withDefaults()
	return jetstream.StreamConfig{
		Name:              c.Stream,
		Description:       "Backbone events: the only write path and the system of record",
		Subjects:          []string{c.Subjects + ".>"},
		Retention:         jetstream.LimitsPolicy,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxAge:            0,
		MaxMsgsPerSubject: -1,
		MaxMsgSize:        1 << 20,
		Discard:           jetstream.DiscardNew,
		Storage:           jetstream.FileStorage,
		Replicas:          c.Replicas,
		Duplicates:        c.DuplicateWindow,
		DenyDelete:        true,
		DenyPurge:         true,
		AllowDirect:       true,
	}
}

// Store appends and loads events. It is safe for concurrent use.
type Store struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	cache  *cache
}

var _ domain.Store = (*Store)(nil)

// Open creates the stream if it is missing, or brings its configuration to the
// event-store settings, and returns a Store on it.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	stream, err := js.CreateOrUpdateStream(ctx, cfg.StreamConfig())
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", cfg.Stream, err)
	}
	return &Store{cfg: cfg, js: js, stream: stream, cache: newCache(10_000)}, nil
}

// JetStream returns the JetStream context the store uses, for consumers.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// StreamName returns the name of the event stream.
func (s *Store) StreamName() string { return s.cfg.Stream }

// Subject returns the subject of one aggregate.
func (s *Store) Subject(aggregateType string, id uuid.UUID) string {
	return s.cfg.Subjects + "." + aggregateType + "." + id.String()
}

// LastSequence returns the sequence of the newest event on the stream.
func (s *Store) LastSequence(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, unavailable("read stream info", err)
	}
	return info.State.LastSeq, nil
}

// Append implements domain.Store. The returned event carries its stream sequence;
// it is returned only after JetStream acknowledged the write.
func (s *Store) Append(ctx context.Context, e domain.Event, expectedSeq uint64,
	msgID string) (domain.Appended, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return domain.Appended{}, fmt.Errorf("encode %s: %w", e.Type, err)
	}
	msg := nats.NewMsg(s.Subject(e.AggregateType, e.AggregateID))
	msg.Data = data
	msg.Header.Set("Backbone-Event-Type", e.Type)
	opts := []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(expectedSeq)}
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}

	ack, err := s.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) &&
			(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
				apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
			return s.retried(ctx, msg.Subject, msgID)
		}
		return domain.Appended{}, unavailable("append "+e.Type+
			" (the outcome is unknown: retry with the same Idempotency-Key)", err)
	}

	if ack.Duplicate {
		first, err := s.eventAt(ctx, ack.Sequence)
		if err != nil {
			return domain.Appended{}, err
		}
		return domain.Appended{Event: first, Duplicate: true}, nil
	}
	e.Sequence = ack.Sequence
	return domain.Appended{Event: e}, nil
}

// retried decides a refused append: JetStream checks the expected sequence
// before it deduplicates, so a repeat of an append that already landed is refused
// as stale. When the subject's last message carries the same message ID, the
// append did land and its event is the result; otherwise it is a real conflict.
func (s *Store) retried(ctx context.Context, subject, msgID string) (domain.Appended, error) {
	conflict := fmt.Errorf("append to %s: %w", subject, domain.ErrConcurrency)
	if msgID == "" {
		return domain.Appended{}, conflict
	}
	last, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if err != nil || last.Header.Get(jetstream.MsgIDHeader) != msgID {
		return domain.Appended{}, conflict
	}
	e, err := Decode(last.Data, last.Sequence)
	if err != nil {
		return domain.Appended{}, err
	}
	return domain.Appended{Event: e, Duplicate: true}, nil
}

// Load implements domain.Store. Loads are served from a cache of recently used
// aggregates, checked against the subject's last sequence on every call.
func (s *Store) Load(ctx context.Context, aggregateType string,
	id uuid.UUID) ([]domain.Event, uint64, error) {
	subject := s.Subject(aggregateType, id)
	last, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, unavailable("load "+subject, err)
	}

	events, from := s.cache.get(subject)
	if from == last.Sequence {
		return events, from, nil
	}
	for seq := from + 1; seq <= last.Sequence; {
		raw, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if err != nil {
			return nil, 0, unavailable("load "+subject, err)
		}
		e, err := Decode(raw.Data, raw.Sequence)
		if err != nil {
			return nil, 0, err
		}
		events = append(events, e)
		seq = raw.Sequence + 1
	}
	s.cache.put(subject, events, last.Sequence)
	return events, last.Sequence, nil
}

// EventAt returns the event stored at a stream sequence.
func (s *Store) eventAt(ctx context.Context, seq uint64) (domain.Event, error) {
	raw, err := s.stream.GetMsg(ctx, seq)
	if err != nil {
		return domain.Event{}, unavailable(fmt.Sprintf("read event %d", seq), err)
	}
	return Decode(raw.Data, raw.Sequence)
}

// Decode reads an event as stored on the stream and stamps its sequence.
func Decode(data []byte, seq uint64) (domain.Event, error) {
	var e domain.Event
	if err := json.Unmarshal(data, &e); err != nil {
		return domain.Event{}, fmt.Errorf("decode event %d: %w", seq, err)
	}
	e.Sequence = seq
	return e, nil
}

func unavailable(step string, err error) error {
	return fmt.Errorf("%s: %w", step, &domain.Error{
		Code:    domain.CodeUnavailable,
		Message: "the event store is unavailable: " + err.Error(),
	})
}

// cache keeps the events of recently loaded aggregates. Events never change, so
// an entry is valid as long as its last sequence is the subject's last sequence.
type cache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cached
}

type cached struct {
	events  []domain.Event
	lastSeq uint64
}

func newCache(max int) *cache { return &cache{max: max, entries: map[string]cached{}} }

// get returns a copy of the cached events and their last sequence (0 if none).
func (c *cache) get(subject string) ([]domain.Event, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[subject]
	return append([]domain.Event(nil), e.events...), e.lastSeq
}

func (c *cache) put(subject string, events []domain.Event, lastSeq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k := range c.entries { // evict an arbitrary tenth
			delete(c.entries, k)
			if len(c.entries) < c.max*9/10 {
				break
			}
		}
	}
	if old, ok := c.entries[subject]; !ok || old.lastSeq < lastSeq {
		c.entries[subject] = cached{events: events, lastSeq: lastSeq}
	}
}
