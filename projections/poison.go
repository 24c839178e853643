package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PoisonPolicy says what a projector does with a poison event: one it cannot
// decode, or one whose Apply fails for a reason other than an unavailable
// database. Either way the event is recorded with its sequence and error and
// shows in Status; it never vanishes silently.
type PoisonPolicy string

const (
	// PoisonPark records the event in the read model's parked_events, skips it
	// and goes on: the read model stays current but lacks that event.
	PoisonPark PoisonPolicy = "park"
	// PoisonStop holds the read model just before the event, retrying it with
	// growing pauses (up to 30s), until a fix lets it apply or an operator
	// restarts the projector with PoisonPark.
	PoisonStop PoisonPolicy = "stop"
)

// ParsePoisonPolicy reads "park" or "stop"; "" is PoisonPark.
func ParsePoisonPolicy(s string) (PoisonPolicy, error) {
	switch PoisonPolicy(s) {
	case "", PoisonPark:
		return PoisonPark, nil
	case PoisonStop:
		return PoisonStop, nil
	}
	return "", fmt.Errorf("on-poison %q: use park or stop", s)
}

// parkAfter is how many times in a row an event must fail alone before
// PoisonPark parks it: a failure that passes by itself is not poison.
const parkAfter = 3

// strikes counts the failures in a row of the event at seq.
type strikes struct {
	seq uint64
	n   int
}

// stuckError is the failure of the one event the read model is stuck on.
type stuckError struct {
	seq       uint64
	eventType string
	err       error
}

func (e *stuckError) Error() string {
	return fmt.Sprintf("stuck on event %d (%s): %v", e.seq, e.eventType, e.err)
}

func (e *stuckError) Unwrap() error { return e.err }

// failed handles a batch, continuing checkpoint, that did not commit. The
// next tries go one event at a time up to the batch's end, so that the events
// before the one at fault are applied. An event that fails alone is the one at
// fault: it is recorded as the event the read model is stuck on and, with
// PoisonPark, parked once it failed parkAfter times in a row while the
// database answers. failed returns nil when it parked the event, else the
// error to retry on. A cancellation or a moved checkpoint is no failure.
func (p *Projector) failed(ctx context.Context, checkpoint uint64, batch []message,
	err error) error {
	if ctx.Err() != nil || errors.Is(err, errCheckpointMoved) {
		return err
	}
	p.narrowUntil = max(p.narrowUntil, batch[len(batch)-1].seq)
	if len(batch) > 1 {
		return err
	}

	m := batch[0]
	if p.strikes.seq != m.seq {
		p.strikes = strikes{seq: m.seq}
	}
	p.strikes.n++
	if p.strikes.n >= parkAfter && p.cfg.OnPoison == PoisonPark && !p.unavailable(ctx, err) {
		return p.park(ctx, checkpoint, m, err)
	}
	p.recordStuck(ctx, checkpoint, m, err)
	return &stuckError{seq: m.seq, eventType: m.eventType, err: err}
}

// park records m, which follows checkpoint, in parked_events and moves the
// checkpoint past it, in one transaction.
func (p *Projector) park(ctx context.Context, checkpoint uint64, m message, cause error) error {
	tx, err := p.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin parking event %d: %w", m.seq, err)
	}
	defer rollback(ctx, tx)

	b := &pgx.Batch{}
	b.Queue(inSchema(p.projection.Schema(), parkEvent), m.seq, m.subject, m.eventType,
		cause.Error())
	p.queueMove(b, checkpoint, m.seq, 1)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("park event %d: %w", m.seq, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("park event %d: %w", m.seq, err)
	}
	p.log.Error("projector parked an event it cannot apply; the read model goes on "+
		"without it", "sequence", m.seq, "type", m.eventType, "err", cause)
	return nil
}

// recordStuck writes the event the read model is stuck on beside its
// checkpoint, so that Status shows it in every process. It keeps the time of
// the first failure while the same event fails again. A failure to write it is
// only logged: the database is likely why the event failed.
func (p *Projector) recordStuck(ctx context.Context, checkpoint uint64, m message,
	cause error) {
	_, err := p.pool.Exec(ctx, inSchema(p.projection.Schema(), recordStuck),
		m.seq, m.eventType, cause.Error(), checkpoint)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("projector cannot record the event it is stuck on",
			"sequence", m.seq, "err", err)
	}
}

const recordStuck = `
UPDATE {schema}.checkpoint
SET stuck_since = CASE WHEN stuck_sequence = $1 THEN stuck_since ELSE now() END,
    stuck_sequence = $1, stuck_event_type = $2, stuck_error = $3
WHERE sequence = $4`

// unavailable reports whether a failure comes from the database rather than
// from the event: a lost or refused connection, a timeout, a conflict with
// another transaction, or a database that does not answer a ping now.
func (p *Projector) unavailable(ctx context.Context, err error) bool {
	if transient(err) {
		return true
	}
	ping, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.pool.Ping(ping) != nil
}

// transient reports errors that say nothing about the event being applied.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"40", // transaction rollback: serialization failure, deadlock
			"53", // insufficient resources
			"55", // object not in prerequisite state: lock not available
			"57", // operator intervention: cancelled, shutting down
			"58": // system error
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
