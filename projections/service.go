package projections

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// Service runs the projectors of a set of read models, each in its live
// schema, and reports on them. It implements domain.Operations, and answers
// the same in a process that runs none of its projectors.
type Service struct {
	pool       *pgxpool.Pool
	js         jetstream.JetStream
	stream     string
	projectors []*Projector
}

var _ domain.Operations = (*Service)(nil)

// NewService returns a Service for the named read models (all of them when
// names is empty), fed from the stream.
func NewService(pool *pgxpool.Pool, js jetstream.JetStream, stream string, names []string,
	cfg Config) (*Service, error) {
	if len(names) == 0 {
		names = Names()
	}
	s := &Service{pool: pool, js: js, stream: stream}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		p, err := New(name, "")
		if err != nil {
			return nil, err
		}
		s.projectors = append(s.projectors, NewProjector(pool, js, stream, p, cfg))
	}
	return s, nil
}

// Names lists the read models of the Service.
func (s *Service) Names() []string {
	names := make([]string, len(s.projectors))
	for i, p := range s.projectors {
		names[i] = p.projection.Name()
	}
	return names
}

// Migrate creates or updates the schema of every read model of the Service.
func (s *Service) Migrate(ctx context.Context) error {
	for _, p := range s.projectors {
		if err := MigrateProjection(ctx, s.pool, p.projection); err != nil {
			return err
		}
	}
	return nil
}

// Run runs every projector of the Service until ctx is cancelled, then
// returns nil; see Projector.Run.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, p := range s.projectors {
		wg.Go(func() { _ = p.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// Status implements domain.Operations, from the database and the stream.
func (s *Service) Status(ctx context.Context) ([]domain.ProjectorStatus, error) {
	out := make([]domain.ProjectorStatus, 0, len(s.projectors))
	for _, p := range s.projectors {
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("status of %s: %v: %w", p.projection.Name(), err,
				domain.Errorf(domain.CodeUnavailable, "the status of read model %s is "+
					"unavailable", p.projection.Name()))
		}
		out = append(out, st)
	}
	return out, nil
}

// Ready implements domain.Operations: the database answers a ping and the
// event store its stream's state.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %v: %w", err,
			domain.Errorf(domain.CodeUnavailable, "the database does not answer"))
	}
	if _, err := s.js.Stream(ctx, s.stream); err != nil {
		return fmt.Errorf("stream %s: %v: %w", s.stream, err,
			domain.Errorf(domain.CodeUnavailable, "the event store does not answer"))
	}
	return nil
}
