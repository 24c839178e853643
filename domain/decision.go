package domain

import "github.com/google/uuid"

// Decision is what a command decided on an aggregate's past: a new event's payload
// to append, or, when the command's effect is already recorded (a retry or a
// re-import), the event that recorded it.
type Decision struct {
	Payload  Payload
	Existing *Event
	// PartnerID is the partner the new event acts for, if any.
	PartnerID *uuid.UUID
}

// Append returns a decision to append p, acting for partner (nil for none).
func Append(p Payload, partner *uuid.UUID) Decision {
	return Decision{Payload: p, PartnerID: partner}
}

// AlreadyDone returns a decision that appends nothing because e already recorded
// the command's effect.
func AlreadyDone(e Event) Decision { return Decision{Existing: &e} }

// folder is implemented by every aggregate state.
type folder interface {
	apply(e Event)
}

// fold applies events in order to a fresh aggregate state.
func fold[T any, P interface {
	*T
	folder
}](events []Event) T {
	var s T
	for _, e := range events {
		P(&s).apply(e)
	}
	return s
}
