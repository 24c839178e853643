package domain

import "context"

// Operations tells operators and load balancers how the machinery behind the
// read models is doing: the projectors that build them, the database they live
// in and the event store they are built from. It answers the same in every
// process, whether or not that process runs the projectors.
type Operations interface {
	// Status returns the projector of each read model, by name: how far it is,
	// how far behind the stream, and the events it could not apply.
	// Errors: CodeUnavailable.
	Status(ctx context.Context) ([]ProjectorStatus, error)
	// Ready returns nil when both the database and the event store answer.
	// Errors: CodeUnavailable.
	Ready(ctx context.Context) error
}
