package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
)

var _ domain.PartnerReader = (*Reader)(nil)

// Partners implements domain.PartnerReader from the scorecard read model.
func (r *Reader) Partners(ctx context.Context) ([]domain.PartnerSummary, error) {
	rows, err := r.pool.Query(ctx, inSchema(r.schema,
		`SELECT id, name, kind FROM {schema}.partners ORDER BY name, id`))
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.PartnerSummary, error) {
		var p domain.PartnerSummary
		err := row.Scan(&p.ID, &p.Name, &p.Kind)
		return p, err
	})
}
