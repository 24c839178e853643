package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/backbone-ci/backbone/domain"
)

// ActivitySchema is the schema the live activity read model lives in.
const ActivitySchema = "activity"

// Activity is the read model behind the activity feed: one row per event, of
// every type, even one this build does not know, saying who changed what. A
// row names the partner and the issue the change concerns, so the feed can be
// read per issue and per partner; its sentence is written when the event is
// applied, with the names of that moment (activity_summary.go).
// ActivityReader queries it.
type Activity struct {
	readModel
}

var _ Projection = (*Activity)(nil)

// NewActivity returns the activity projection into schema, ActivitySchema
// when schema is "". It panics on a name CheckSchema refuses.
func NewActivity(schema string) *Activity {
	if schema == "" {
		schema = ActivitySchema
	}
	return &Activity{readModel{schema: mustSchema(schema), dir: "migrations/activity"}}
}

// activityColumns are the columns of a feed row, in the order Apply copies them.
var activityColumns = []string{"sequence", "event_id", "type", "recorded_at", "actor",
	"partner_id", "issue_id", "aggregate_type", "aggregate_id", "summary"}

// Apply reads the names and owners the batch refers to in one round trip,
// describes each event in stream order (so an objective defined and renamed
// in one batch reads right), then writes the lookups with one pipelined batch
// and the feed rows with one COPY.
func (a *Activity) Apply(ctx context.Context, tx pgx.Tx, events []domain.Event) error {
	k, err := a.load(ctx, tx, events)
	if err != nil {
		return err
	}
	rows := make([][]any, 0, len(events))
	b := &pgx.Batch{}
	for _, e := range events {
		partner, issue, summary := k.describe(e)
		rows = append(rows, []any{int64(e.Sequence), e.ID, e.Type, e.RecordedAt, e.Actor,
			partner, issue, e.AggregateType, e.AggregateID, summary})
		a.queueLookup(b, k, e)
	}

	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("write activity lookups: %w", err)
		}
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{a.schema, "activity"}, activityColumns,
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("write activity: %w", err)
	}
	return nil
}

// queueLookup records, after e was described, what later events need to know
// of its aggregate: names, titles and the issue it belongs to.
func (a *Activity) queueLookup(b *pgx.Batch, k *known, e domain.Event) {
	q := func(query string, args ...any) { b.Queue(inSchema(a.schema, query), args...) }
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
	case domain.MeasureDefinedV1:
		q(upsertActivityMeasure, id, p.IssueID, p.Name)
	case domain.CommitmentMadeV1:
		q(upsertActivityCommitment, id, p.PartnerID, nilIfZero(p.IssueID), p.Currency,
			p.Description)
	default:
		return
	}
	k.learn(e)
}

const upsertActivityMeasure = `
INSERT INTO {schema}.measures (id, issue_id, name) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET issue_id = excluded.issue_id, name = excluded.name`

const upsertActivityCommitment = `
INSERT INTO {schema}.commitments (id, partner_id, issue_id, currency, description)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET partner_id = excluded.partner_id,
    issue_id = excluded.issue_id, currency = excluded.currency,
    description = excluded.description`

// load reads what the read model already knows of every aggregate the events
// refer to, with one query per table in one round trip.
func (a *Activity) load(ctx context.Context, tx pgx.Tx, events []domain.Event) (*known,
	error) {
	k := newKnown()
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, e := range events {
		for _, id := range references(e) {
			if id != uuid.Nil && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}

	b := &pgx.Batch{}
	q := func(query string, scan func(pgx.Rows) error) {
		b.Queue(inSchema(a.schema, query), ids).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := scan(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	}
	q(`SELECT id, name FROM {schema}.partners WHERE id = ANY($1)`, func(rows pgx.Rows) error {
		var id uuid.UUID
		var name string
		err := rows.Scan(&id, &name)
		k.partners[id] = name
		return err
	})
	q(`SELECT id, title FROM {schema}.issues WHERE id = ANY($1)`, func(rows pgx.Rows) error {
		var id uuid.UUID
		var title string
		err := rows.Scan(&id, &title)
		k.issues[id] = title
		return err
	})
	q(`SELECT id, issue_id, title FROM {schema}.objectives WHERE id = ANY($1)`,
		func(rows pgx.Rows) error {
			var id uuid.UUID
			var o named
			err := rows.Scan(&id, &o.issue, &o.name)
			k.objectives[id] = o
			return err
		})
	q(`SELECT id, issue_id, name FROM {schema}.measures WHERE id = ANY($1)`,
		func(rows pgx.Rows) error {
			var id uuid.UUID
			var m named
			err := rows.Scan(&id, &m.issue, &m.name)
			k.measures[id] = m
			return err
		})
	q(`SELECT id, partner_id, issue_id, currency, description
		FROM {schema}.commitments WHERE id = ANY($1)`, func(rows pgx.Rows) error {
		var id uuid.UUID
		var c commitmentRef
		err := rows.Scan(&id, &c.partner, &c.issue, &c.currency, &c.description)
		k.commitments[id] = c
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("read activity lookups: %w", err)
	}
	return k, nil
}

// references lists the aggregates an event's row or sentence may name.
func references(e domain.Event) []uuid.UUID {
	ids := []uuid.UUID{e.AggregateID}
	if e.PartnerID != nil {
		ids = append(ids, *e.PartnerID)
	}
	switch p := e.Payload.(type) {
	case domain.ObjectivesLinkedV1:
		ids = append(ids, p.CauseID, p.EffectID)
	case domain.ObjectivesUnlinkedV1:
		ids = append(ids, p.CauseID, p.EffectID)
	case domain.MeasureDefinedV1:
		if p.OwnerPartnerID != nil {
			ids = append(ids, *p.OwnerPartnerID)
		}
	case domain.ProgressReportedV1:
		if p.ReportingPartnerID != nil {
			ids = append(ids, *p.ReportingPartnerID)
		}
	case domain.CommitmentMadeV1:
		ids = append(ids, p.PartnerID, p.IssueID)
		if p.ObjectiveID != nil {
			ids = append(ids, *p.ObjectiveID)
		}
	}
	return ids
}

// ActivityReader answers the activity feed from the activity read model.
type ActivityReader struct {
	pool   *pgxpool.Pool
	schema string
}

var _ domain.ActivityReader = (*ActivityReader)(nil)

// NewActivityReader returns an ActivityReader on the activity read model in
// schema (ActivitySchema when ""). It panics on a name CheckSchema refuses.
func NewActivityReader(pool *pgxpool.Pool, schema string) *ActivityReader {
	if schema == "" {
		schema = ActivitySchema
	}
	return &ActivityReader{pool: pool, schema: mustSchema(schema)}
}

// Position returns the stream sequence the activity read model has applied up to.
func (r *ActivityReader) Position(ctx context.Context) (uint64, error) {
	return position(ctx, r.pool, r.schema)
}

// Activity returns one page of the feed, newest first: the rows before
// f.Before (all when 0) of f's issue and partner. It reads one row more than
// the page holds, to know whether an older page exists.
func (r *ActivityReader) Activity(ctx context.Context,
	f domain.ActivityFilter) (domain.ActivityPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = domain.DefaultActivityLimit
	}
	limit = min(limit, domain.MaxActivityLimit)

	conds := []string{"true"}
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.IssueID != nil {
		add(`a.issue_id = $%d`, *f.IssueID)
	}
	if f.PartnerID != nil {
		add(`a.partner_id = $%d`, *f.PartnerID)
	}
	if f.Before > 0 {
		add(`a.sequence < $%d`, int64(f.Before))
	}
	query := inSchema(r.schema, selectActivity) + ` WHERE ` + strings.Join(conds, ` AND `) +
		fmt.Sprintf(` ORDER BY a.sequence DESC LIMIT %d`, limit+1)

	rows, err := r.pool.Query(ctx, query, args...)
	if err != nil {
		return domain.ActivityPage{}, fmt.Errorf("read activity: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanActivity)
	if err != nil {
		return domain.ActivityPage{}, fmt.Errorf("read activity: %w", err)
	}
	page := domain.ActivityPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = items[limit-1].Sequence
	}
	if page.Items == nil {
		page.Items = []domain.Activity{}
	}
	return page, nil
}

const selectActivity = `
SELECT a.sequence, a.event_id, a.type, a.recorded_at, a.actor, a.partner_id,
    coalesce(p.name, ''), a.issue_id, coalesce(i.title, ''), a.aggregate_type,
    a.aggregate_id, a.summary
FROM {schema}.activity a
LEFT JOIN {schema}.partners p ON p.id = a.partner_id
LEFT JOIN {schema}.issues i ON i.id = a.issue_id`

func scanActivity(row pgx.CollectableRow) (domain.Activity, error) {
	var x domain.Activity
	err := row.Scan(&x.Sequence, &x.EventID, &x.Type, &x.RecordedAt, &x.Actor, &x.PartnerID,
		&x.PartnerName, &x.IssueID, &x.IssueTitle, &x.AggregateType, &x.AggregateID,
		&x.Summary)
	x.RecordedAt = x.RecordedAt.UTC()
	return x, err
}
