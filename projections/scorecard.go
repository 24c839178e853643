package projections

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/backbone-ci/backbone/domain"
)

// ScorecardSchema is the schema the live scorecard read model lives in.
const ScorecardSchema = "scorecard"

// Scorecard is the read model behind scorecards: partners, issues, objectives
// and their links, measures with their targets and actuals, and commitments
// with what was delivered of them.
// Each measure, and each of its breakdowns, keeps its latest actual, the target
// for that period and the domain's judgement of them (status, percent of
// target, trend and the rest), recomputed for the measures a batch touched
// (scorecard_standing.go). Reader queries it.
type Scorecard struct {
	readModel
}

var _ Projection = (*Scorecard)(nil)

// NewScorecard returns the scorecard projection into schema, ScorecardSchema when
// schema is "". It panics on a name CheckSchema refuses.
func NewScorecard(schema string) *Scorecard {
	if schema == "" {
		schema = ScorecardSchema
	}
	return &Scorecard{readModel{schema: mustSchema(schema), dir: "migrations/scorecard"}}
}

// NewScorecardProjector returns the Projector of the live scorecard read model
// (ScorecardSchema), with the default Config and the given logger.
func NewScorecardProjector(pool *pgxpool.Pool, js jetstream.JetStream, stream string,
	log *slog.Logger) *Projector {
	return NewProjector(pool, js, stream, NewScorecard(ScorecardSchema), Config{Logger: log})
}

// Apply writes a batch of events with one pipelined batch of statements, then
// brings where the series they touched stand up to date (refresh), with a
// fixed number of statements whatever the number of events.
func (s *Scorecard) Apply(ctx context.Context, tx pgx.Tx, events []domain.Event) error {
	b := &pgx.Batch{}
	touched := newTouchedSeries()
	for _, e := range events {
		if s.queue(b, e) {
			touched.add(e)
		}
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
	}

	if touched.empty() {
		return nil
	}
	return s.refresh(ctx, tx, touched)
}

// queue adds the statements that apply e to b. Every event, even one it does
// not read, moves its aggregate's version. It reports whether e may change where
// its measure stands.
func (s *Scorecard) queue(b *pgx.Batch, e domain.Event) bool {
	q := func(query string, args ...any) { b.Queue(inSchema(s.schema, query), args...) }
	id, version, at := e.AggregateID, e.AggregateVersion, e.RecordedAt

	switch p := e.Payload.(type) {
	case domain.PartnerRegisteredV1:
		q(upsertPartner, id, p.Name, string(p.Kind), version, at)
		return false
	case domain.IssueLaunchedV1:
		q(upsertIssue, id, p.Title, p.Description, version, at)
		return false
	case domain.ObjectiveDefinedV1:
		q(upsertObjective, id, p.IssueID, string(p.Perspective), p.Title, version, at,
			e.Sequence)
		return false
	case domain.MeasureDefinedV1:
		q(upsertMeasure, id, p.IssueID, p.ObjectiveID, p.Name, p.Unit, string(p.Polarity),
			string(p.Kind), p.OwnerPartnerID, periodText(p.BaselinePeriod), p.BaselineValue,
			string(p.Question), version, at, periodKey(p.BaselinePeriod))
		return true
	case domain.CommitmentMadeV1:
		q(upsertCommitment, id, p.PartnerID, nilIfZero(p.IssueID), p.ObjectiveID, p.Pooled,
			string(p.Kind), p.Description, p.AmountCents, p.Currency, p.Period.String(),
			p.Period.SortKey(), e.Source, version, at)
		return false

	case domain.ObjectivesLinkedV1:
		q(insertLink, id, p.CauseID, p.EffectID, e.Sequence)
	case domain.ObjectivesUnlinkedV1:
		q(deleteLink, p.CauseID, p.EffectID)
	case domain.PerspectiveLabelsSetV1:
		q(setLabels, id, p.Labels)
	case domain.ObjectiveRenamedV1:
		q(renameObjective, id, p.Title)
	case domain.ObjectiveRetiredV1:
		q(retireObjective, id)
	case domain.MeasureRetiredV1:
		q(retireMeasure, id)
	case domain.StatusBandsSetV1:
		q(setBand, id, p.AtRiskPercent)
	case domain.CommitmentPartlyFulfilledV1:
		q(fulfilCommitment, id, p.AmountCents, nil)
	case domain.CommitmentFulfilledV1:
		q(fulfilCommitment, id, p.AmountCents, string(domain.FulfilledCommitment))
	case domain.CommitmentWithdrawnV1:
		q(withdrawCommitment, id, string(domain.WithdrawnCommitment))
	case domain.TargetSetV1:
		q(upsertTarget, id, p.Period.String(), p.Period.SortKey(), p.Value, e.Sequence)
	case domain.ProgressReportedV1:
		q(upsertActual, id, p.Period.String(), p.Period.SortKey(), p.Disaggregation, p.Value,
			p.ReportingPartnerID, p.Note, e.Source, e.Sequence)
	case domain.ProgressCorrectedV1:
		q(correctActual, id, p.Period.String(), p.Disaggregation, p.Value, p.Reason, e.Sequence)
	}

	if touch, ok := touchVersion[e.AggregateType]; ok {
		q(touch, id, version, at)
	}
	return e.AggregateType == domain.MeasureAggregate
}

// touchVersion moves an aggregate's version and time, by aggregate type.
var touchVersion = map[string]string{
	domain.PartnerAggregate:    touchTable("partners"),
	domain.IssueAggregate:      touchTable("issues"),
	domain.ObjectiveAggregate:  touchTable("objectives"),
	domain.MeasureAggregate:    touchTable("measures"),
	domain.CommitmentAggregate: touchTable("commitments"),
}

func touchTable(table string) string {
	return `UPDATE {schema}.` + table + ` SET version = $2, updated_at = $3 WHERE id = $1`
}

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func periodText(p *domain.Period) *string {
	if p == nil {
		return nil
	}
	s := p.String()
	return &s
}

func periodKey(p *domain.Period) *string {
	if p == nil {
		return nil
	}
	s := p.SortKey()
	return &s
}

const upsertPartner = `
INSERT INTO {schema}.partners (id, name, kind, version, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
    version = excluded.version, updated_at = excluded.updated_at`

const upsertIssue = `
INSERT INTO {schema}.issues (id, title, description, version, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
    version = excluded.version, updated_at = excluded.updated_at`

// upsertObjective keeps the sequence of the objective's definition, the order
// strategy maps list objectives in.
const upsertObjective = `
INSERT INTO {schema}.objectives (id, issue_id, perspective, title, version, updated_at,
    sequence)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET issue_id = excluded.issue_id,
    perspective = excluded.perspective, title = excluded.title,
    version = excluded.version, updated_at = excluded.updated_at,
    sequence = coalesce(objectives.sequence, excluded.sequence)`

const insertLink = `
INSERT INTO {schema}.objective_links (issue_id, cause_id, effect_id, sequence)
VALUES ($1, $2, $3, $4)
ON CONFLICT (cause_id, effect_id) DO NOTHING`

const upsertMeasure = `
INSERT INTO {schema}.measures (id, issue_id, objective_id, name, unit, polarity, kind,
    owner_partner_id, baseline_period, baseline_value, question, version, updated_at,
    baseline_period_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET issue_id = excluded.issue_id,
    objective_id = excluded.objective_id, name = excluded.name, unit = excluded.unit,
    polarity = excluded.polarity, kind = excluded.kind,
    owner_partner_id = excluded.owner_partner_id,
    baseline_period = excluded.baseline_period, baseline_value = excluded.baseline_value,
    baseline_period_key = excluded.baseline_period_key, question = excluded.question,
    version = excluded.version, updated_at = excluded.updated_at`

const upsertTarget = `
INSERT INTO {schema}.targets (measure_id, period, period_key, value, sequence)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (measure_id, period) DO UPDATE SET value = excluded.value,
    sequence = excluded.sequence`

const upsertActual = `
INSERT INTO {schema}.actuals (measure_id, period, period_key, disaggregation,
    reported_value, current_value, reporting_partner_id, note, source, reported_sequence)
VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)
ON CONFLICT (measure_id, period, disaggregation) DO UPDATE SET
    reported_value = excluded.reported_value, current_value = excluded.current_value,
    corrected = false, correction_reason = '', corrected_sequence = NULL,
    reporting_partner_id = excluded.reporting_partner_id, note = excluded.note,
    source = excluded.source, reported_sequence = excluded.reported_sequence`

const correctActual = `
UPDATE {schema}.actuals
SET current_value = $4, corrected = true, correction_reason = $5, corrected_sequence = $6
WHERE measure_id = $1 AND period = $2 AND disaggregation = $3`

const upsertCommitment = `
INSERT INTO {schema}.commitments (id, partner_id, issue_id, objective_id, pooled, kind,
    description, amount_cents, currency, period, period_key, source, version, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET partner_id = excluded.partner_id,
    issue_id = excluded.issue_id, objective_id = excluded.objective_id,
    pooled = excluded.pooled, kind = excluded.kind, description = excluded.description,
    amount_cents = excluded.amount_cents, currency = excluded.currency,
    period = excluded.period, period_key = excluded.period_key, source = excluded.source,
    version = excluded.version, updated_at = excluded.updated_at`

// fulfilCommitment adds a delivered amount and, when $3 is not NULL, sets the
// commitment's state.
const fulfilCommitment = `
UPDATE {schema}.commitments
SET fulfilled_cents = fulfilled_cents + coalesce($2::bigint, 0), state = coalesce($3, state)
WHERE id = $1`

const withdrawCommitment = `
UPDATE {schema}.commitments SET state = $2 WHERE id = $1`

const deleteLink = `
DELETE FROM {schema}.objective_links WHERE cause_id = $1 AND effect_id = $2`

const setLabels = `
UPDATE {schema}.issues SET perspective_labels = $2 WHERE id = $1`

const renameObjective = `
UPDATE {schema}.objectives SET title = $2 WHERE id = $1`

const retireObjective = `
UPDATE {schema}.objectives SET retired = true WHERE id = $1`

const retireMeasure = `
UPDATE {schema}.measures SET retired = true WHERE id = $1`

const setBand = `
UPDATE {schema}.measures SET at_risk_percent = $2 WHERE id = $1`
