package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/backbone-ci/backbone/domain"
)

// FundingSchema is the schema the live funding read model lives in.
const FundingSchema = "funding"

// Funding is the read model behind funding reports: funding and in-kind
// commitments (action commitments carry no money and are left out), what was
// delivered of each and whether it was withdrawn, with the names of partners,
// issues and objectives that reports show. FundingReader queries it.
type Funding struct {
	readModel
}

var _ Projection = (*Funding)(nil)

// NewFunding returns the funding projection into schema, FundingSchema when
// schema is "". It panics on a name CheckSchema refuses.
func NewFunding(schema string) *Funding {
	if schema == "" {
		schema = FundingSchema
	}
	return &Funding{readModel{schema: mustSchema(schema), dir: "migrations/funding"}}
}

// Apply writes a batch of events with one pipelined batch of statements.
func (f *Funding) Apply(ctx context.Context, tx pgx.Tx, events []domain.Event) error {
	b := &pgx.Batch{}
	for _, e := range events {
		f.queue(b, e)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write funding events: %w", err)
	}
	return nil
}

// queue adds the statements that apply e to b. Every event of a commitment,
// even one it does not read, moves the commitment's version.
func (f *Funding) queue(b *pgx.Batch, e domain.Event) {
	q := func(query string, args ...any) { b.Queue(inSchema(f.schema, query), args...) }
	id := e.AggregateID

	switch p := e.Payload.(type) {
	case domain.PartnerRegisteredV1:
		q(upsertPartnerName, id, p.Name)
	case domain.IssueLaunchedV1:
		q(upsertIssueTitle, id, p.Title)
	case domain.ObjectiveDefinedV1:
		q(upsertObjectiveTitle, id, p.IssueID, p.Title)
	case domain.ObjectiveRenamedV1:
		q(renameObjectiveTitle, id, p.Title)
	case domain.CommitmentMadeV1:
		if slices.Contains(domain.FundingKinds, p.Kind) {
			q(upsertFundingCommitment, id, p.PartnerID, nilIfZero(p.IssueID), p.ObjectiveID,
				p.Pooled, string(p.Kind), p.Description, p.AmountCents, p.Currency,
				p.Period.String(), p.Period.SortKey(), e.Source, e.AggregateVersion,
				e.RecordedAt)
		}
	case domain.CommitmentPartlyFulfilledV1:
		q(fulfilFundingCommitment, id, p.AmountCents, nil)
	case domain.CommitmentFulfilledV1:
		q(fulfilFundingCommitment, id, p.AmountCents, string(domain.FulfilledCommitment))
	case domain.CommitmentWithdrawnV1:
		q(setFundingCommitmentState, id, string(domain.WithdrawnCommitment))
	}
	if e.AggregateType == domain.CommitmentAggregate {
		q(touchTable("commitments"), id, e.AggregateVersion, e.RecordedAt)
	}
}

// The lookups below are shared by the funding and activity read models, whose
// tables of names have these columns.

const upsertPartnerName = `
INSERT INTO {schema}.partners (id, name) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET name = excluded.name`

const upsertIssueTitle = `
INSERT INTO {schema}.issues (id, title) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET title = excluded.title`

const upsertObjectiveTitle = `
INSERT INTO {schema}.objectives (id, issue_id, title) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET issue_id = excluded.issue_id, title = excluded.title`

const renameObjectiveTitle = `
UPDATE {schema}.objectives SET title = $2 WHERE id = $1`

const upsertFundingCommitment = `
INSERT INTO {schema}.commitments (id, partner_id, issue_id, objective_id, pooled, kind,
    description, amount_cents, currency, period, period_key, source, version, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET partner_id = excluded.partner_id,
    issue_id = excluded.issue_id, objective_id = excluded.objective_id,
    pooled = excluded.pooled, kind = excluded.kind, description = excluded.description,
    amount_cents = excluded.amount_cents, currency = excluded.currency,
    period = excluded.period, period_key = excluded.period_key, source = excluded.source,
    version = excluded.version, updated_at = excluded.updated_at`

// fulfilFundingCommitment adds a delivered amount and, when $3 is not NULL,
// sets the commitment's state.
//
// TODO: an amount delivered of a commitment whose pledge was undisclosed has no
// currency, so reports total it on the line whose currency is "".
const fulfilFundingCommitment = `
UPDATE {schema}.commitments
SET fulfilled_cents = fulfilled_cents + coalesce($2::bigint, 0), state = coalesce($3, state)
WHERE id = $1`

const setFundingCommitmentState = `
UPDATE {schema}.commitments SET state = $2 WHERE id = $1`

// FundingReader answers funding reports from the funding read model, all of a
// report's queries in one snapshot and one round trip.
type FundingReader struct {
	pool   *pgxpool.Pool
	schema string
}

var _ domain.FundingReader = (*FundingReader)(nil)

// NewFundingReader returns a FundingReader on the funding read model in schema
// (FundingSchema when ""). It panics on a name CheckSchema refuses.
func NewFundingReader(pool *pgxpool.Pool, schema string) *FundingReader {
	if schema == "" {
		schema = FundingSchema
	}
	return &FundingReader{pool: pool, schema: mustSchema(schema)}
}

// Position returns the stream sequence the funding read model has applied up to.
func (r *FundingReader) Position(ctx context.Context) (uint64, error) {
	return position(ctx, r.pool, r.schema)
}

// Funding returns the report of the commitments f selects: totals per
// currency, by funder, issue, objective and period, pooled funding, and every
// commitment with its state, withdrawn ones too. Sums are bigint, exact; a sum
// beyond the range of int64 fails rather than round. Errors: CodeInvalid for a
// malformed period or kind.
func (r *FundingReader) Funding(ctx context.Context,
	f domain.FundingFilter) (domain.FundingReport, error) {
	f, err := f.Normalize()
	if err != nil {
		return domain.FundingReport{}, err
	}
	report := domain.FundingReport{Commitments: []domain.CommitmentView{}}

	b := snapshot()
	r.queueLines(b, totalLines, f, false, &report.Totals)
	r.queueLines(b, funderLines, f, false, &report.ByFunder)
	r.queueLines(b, issueLines, f, false, &report.ByIssue)
	r.queueLines(b, objectiveLines, f, false, &report.ByObjective)
	r.queueLines(b, periodLines, f, false, &report.ByPeriod)
	pooled := f
	pooled.IssueID = nil
	r.queueLines(b, funderLines, pooled, true, &report.Pooled.ByFunder)
	b.Queue(r.sql(`SELECT count(*) FROM {schema}.issues`)).
		QueryRow(func(row pgx.Row) error { return row.Scan(&report.Pooled.IssuesServed) })
	where, args := fundingWhere(f, "true")
	b.Queue(r.sql(selectFundingCommitments+where+` ORDER BY c.period_key, p.name, c.id`),
		args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			c, err := scanCommitment(rows)
			if err != nil {
				return err
			}
			report.Commitments = append(report.Commitments, c)
		}
		return rows.Err()
	})
	b.Queue("COMMIT")
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.FundingReport{}, fmt.Errorf("read funding report: %w", err)
	}
	return report, nil
}

func (r *FundingReader) sql(query string) string { return inSchema(r.schema, query) }

// dimension is what a table of a funding report totals by: the key and label
// of a line, and the order of the lines (before currency).
type dimension struct {
	key, label, order string
}

var (
	totalLines = dimension{key: `'` + domain.TotalKey + `'`,
		label: `'All funding and in-kind support'`, order: `key`}
	funderLines = dimension{key: `c.partner_id::text`, label: `coalesce(p.name, '')`,
		order: `label, key`}
	issueLines = dimension{key: `coalesce(c.issue_id::text, '` + domain.PooledKey + `')`,
		label: `CASE WHEN c.issue_id IS NULL THEN 'Shared backbone (pooled)'
			ELSE coalesce(i.title, '') END`,
		order: `bool_or(c.issue_id IS NULL), label, key`}
	objectiveLines = dimension{key: `coalesce(c.objective_id::text, '')`,
		label: `CASE WHEN c.objective_id IS NULL THEN 'No objective named'
			ELSE coalesce(o.title, '') END`,
		order: `bool_or(c.objective_id IS NULL), label, key`}
	periodLines = dimension{key: `c.period`, label: `c.period`, order: `min(c.period_key)`}
)

// queueLines queues the query of one table of the report into dst: the
// commitments f selects, not withdrawn, totalled per key and currency;
// pooledOnly keeps only the pooled ones.
func (r *FundingReader) queueLines(b *pgx.Batch, d dimension, f domain.FundingFilter,
	pooledOnly bool, dst *[]domain.FundingLine) {
	scope := `c.state <> 'withdrawn'`
	if pooledOnly {
		scope += ` AND c.pooled`
	}
	where, args := fundingWhere(f, scope)
	query := fmt.Sprintf(selectFundingLines, d.key, d.label) + where +
		` GROUP BY 1, 2, 3 ORDER BY ` + d.order + `, currency`
	*dst = []domain.FundingLine{}
	b.Queue(r.sql(query), args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var l domain.FundingLine
			err := rows.Scan(&l.Key, &l.Label, &l.Currency, &l.PledgedCents, &l.FulfilledCents,
				&l.Commitments, &l.Undisclosed)
			if err != nil {
				return err
			}
			*dst = append(*dst, l)
		}
		return rows.Err()
	})
}

// fundingWhere returns a WHERE clause of scope and the conditions f sets, with
// their arguments numbered from $1.
func fundingWhere(f domain.FundingFilter, scope string) (string, []any) {
	conds := []string{scope}
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.IssueID != nil {
		add(`c.issue_id = $%d`, *f.IssueID)
	}
	if f.PartnerID != nil {
		add(`c.partner_id = $%d`, *f.PartnerID)
	}
	if f.Period != "" {
		add(`c.period = $%d`, f.Period)
	}
	if f.Kind != "" {
		add(`c.kind = $%d`, string(f.Kind))
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args
}

// selectFundingLines totals commitments under a key and a label (%s, %s) per
// currency. PostgreSQL sums bigint as numeric; the cast back fails on
// overflow instead of rounding.
const selectFundingLines = `
SELECT %s AS key, %s AS label, c.currency AS currency,
    coalesce(sum(c.amount_cents), 0)::bigint, coalesce(sum(c.fulfilled_cents), 0)::bigint,
    count(*), count(*) FILTER (WHERE c.amount_cents IS NULL)
FROM {schema}.commitments c
LEFT JOIN {schema}.partners p ON p.id = c.partner_id
LEFT JOIN {schema}.issues i ON i.id = c.issue_id
LEFT JOIN {schema}.objectives o ON o.id = c.objective_id`

const selectFundingCommitments = `
SELECT c.id, c.partner_id, coalesce(p.name, ''), c.issue_id, coalesce(i.title, ''),
    c.objective_id, coalesce(o.title, ''), c.pooled, c.kind, c.description,
    c.amount_cents, c.currency, c.fulfilled_cents, c.period, c.state, c.source, c.version
FROM {schema}.commitments c
LEFT JOIN {schema}.partners p ON p.id = c.partner_id
LEFT JOIN {schema}.issues i ON i.id = c.issue_id
LEFT JOIN {schema}.objectives o ON o.id = c.objective_id`

func scanCommitment(row pgx.Row) (domain.CommitmentView, error) {
	var c domain.CommitmentView
	var kind, state string
	err := row.Scan(&c.ID, &c.PartnerID, &c.PartnerName, &c.IssueID, &c.IssueTitle,
		&c.ObjectiveID, &c.ObjectiveTitle, &c.Pooled, &kind, &c.Description, &c.AmountCents,
		&c.Currency, &c.FulfilledCents, &c.Period, &state, &c.Source, &c.Version)
	c.Kind, c.State = domain.CommitmentKind(kind), domain.CommitmentState(state)
	return c, err
}
