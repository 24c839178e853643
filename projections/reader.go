package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/backbone-ci/backbone/domain"
)

// Reader answers the API's queries from the scorecard read model. Each call
// sends its queries as one pipelined batch in one snapshot: one round trip,
// however many measures an issue has.
type Reader struct {
	pool   *pgxpool.Pool
	schema string
}

var _ domain.ReadModel = (*Reader)(nil)

// NewReader returns a Reader on the scorecard read model in schema
// (ScorecardSchema when ""). It panics on a name CheckSchema refuses.
func NewReader(pool *pgxpool.Pool, schema string) *Reader {
	if schema == "" {
		schema = ScorecardSchema
	}
	return &Reader{pool: pool, schema: mustSchema(schema)}
}

// Position returns the stream sequence the read model has applied up to.
func (r *Reader) Position(ctx context.Context) (uint64, error) {
	return position(ctx, r.pool, r.schema)
}

// Issues lists every issue by title, with how many objectives and measures it
// has in use (not retired).
func (r *Reader) Issues(ctx context.Context) ([]domain.IssueSummary, error) {
	rows, err := r.pool.Query(ctx, r.sql(selectIssues+` ORDER BY i.title, i.id`))
	if err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	issues, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.IssueSummary,
		error) {
		return scanIssue(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	if issues == nil {
		issues = []domain.IssueSummary{}
	}
	return issues, nil
}

// Scorecard returns an issue's measures in use, population indicators apart
// from performance measures, each list ordered by perspective (results first),
// objective and measure name, each measure with its breakdowns, targets and
// whole series. Errors: CodeNotFound.
func (r *Reader) Scorecard(ctx context.Context, issueID uuid.UUID) (domain.Scorecard, error) {
	var card domain.Scorecard
	found := false
	b := snapshot()
	b.Queue(r.sql(selectIssues+` WHERE i.id = $1`), issueID).QueryRow(func(row pgx.Row) error {
		var err error
		card.Issue, err = scanIssue(row)
		return foundRow(err, &found)
	})
	views := r.queueMeasures(b, onScorecard, issueID)
	b.Queue("COMMIT")
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.Scorecard{}, fmt.Errorf("read scorecard of issue %s: %w", issueID, err)
	}
	if !found {
		return domain.Scorecard{}, domain.Errorf(domain.CodeNotFound,
			"issue %s does not exist", issueID)
	}
	fill(&card, views.list())
	return card, nil
}

// ObjectiveScorecard returns an objective's measures in use, with the
// objective, its status rolled up from theirs, and its issue. A retired
// objective still has its scorecard. Errors: CodeNotFound.
func (r *Reader) ObjectiveScorecard(ctx context.Context,
	objectiveID uuid.UUID) (domain.Scorecard, error) {
	var card domain.Scorecard
	var o domain.ObjectiveSummary
	found := false
	b := snapshot()
	b.Queue(r.sql(selectObjective), objectiveID).QueryRow(func(row pgx.Row) error {
		var perspective string
		err := row.Scan(&o.ID, &o.IssueID, &perspective, &o.Title, &o.Retired, &o.Version)
		o.Perspective = domain.Perspective(perspective)
		return foundRow(err, &found)
	})
	b.Queue(r.sql(selectIssues+` WHERE i.id = (SELECT issue_id FROM {schema}.objectives
		WHERE id = $1)`), objectiveID).QueryRow(func(row pgx.Row) error {
		var err error
		card.Issue, err = scanIssue(row)
		return ignoreNoRows(err)
	})
	views := r.queueMeasures(b, onObjectiveScorecard, objectiveID)
	b.Queue("COMMIT")
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.Scorecard{}, fmt.Errorf("read scorecard of objective %s: %w",
			objectiveID, err)
	}
	if !found {
		return domain.Scorecard{}, domain.Errorf(domain.CodeNotFound,
			"objective %s does not exist", objectiveID)
	}
	fill(&card, views.list())
	var statuses []domain.Status
	for _, m := range card.Measures {
		statuses = append(statuses, m.Status)
	}
	o.Status = domain.RollUp(statuses)
	card.Objective = &o
	return card, nil
}

// PartnerScorecard returns the measures in use that a partner owns or has
// reported a value of, across issues. Errors: CodeNotFound.
func (r *Reader) PartnerScorecard(ctx context.Context,
	partnerID uuid.UUID) (domain.Scorecard, error) {
	var card domain.Scorecard
	var p domain.PartnerSummary
	found := false
	b := snapshot()
	b.Queue(r.sql(selectPartner), partnerID).QueryRow(func(row pgx.Row) error {
		var kind string
		err := row.Scan(&p.ID, &p.Name, &kind, &p.Version)
		p.Kind = domain.PartnerKind(kind)
		return foundRow(err, &found)
	})
	views := r.queueMeasures(b, onPartnerScorecard, partnerID)
	b.Queue("COMMIT")
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.Scorecard{}, fmt.Errorf("read scorecard of partner %s: %w",
			partnerID, err)
	}
	if !found {
		return domain.Scorecard{}, domain.Errorf(domain.CodeNotFound,
			"partner %s does not exist", partnerID)
	}
	fill(&card, views.list())
	card.Partner = &p
	return card, nil
}

// Measure returns one measure with its targets and series. Errors: CodeNotFound.
func (r *Reader) Measure(ctx context.Context, id uuid.UUID) (domain.MeasureView, error) {
	b := snapshot()
	views := r.queueMeasures(b, `m.id = $1`, id)
	b.Queue("COMMIT")
	if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
		return domain.MeasureView{}, fmt.Errorf("read measure %s: %w", id, err)
	}
	list := views.list()
	if len(list) == 0 {
		return domain.MeasureView{}, domain.Errorf(domain.CodeNotFound,
			"measure %s does not exist", id)
	}
	return list[0], nil
}

func (r *Reader) sql(query string) string { return inSchema(r.schema, query) }

// snapshot starts a batch whose queries all read one snapshot, so that a commit
// of the projector between them cannot show a measure's row and its series at
// different points of the stream. The caller queues COMMIT last.
func snapshot() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	return b
}

// foundRow records whether a single-row query found its row; no row is not an
// error of the batch.
func foundRow(err error, found *bool) error {
	*found = err == nil
	return ignoreNoRows(err)
}

// ignoreNoRows reads a missing row as no error, for a row whose absence
// another query of the batch reports.
func ignoreNoRows(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// onScorecard selects an issue's measures in use: a retired measure, or one
// under a retired objective, keeps its history (Measure) but leaves the scorecard.
const onScorecard = `m.issue_id = $1 AND NOT m.retired AND o.retired IS NOT TRUE`

// onObjectiveScorecard selects an objective's measures in use.
const onObjectiveScorecard = `m.objective_id = $1 AND NOT m.retired`

// onPartnerScorecard selects the measures in use that a partner owns or has
// reported a value of.
const onPartnerScorecard = `NOT m.retired AND o.retired IS NOT TRUE AND (
    m.owner_partner_id = $1 OR EXISTS (SELECT 1 FROM {schema}.actuals rp
        WHERE rp.measure_id = m.id AND rp.reporting_partner_id = $1))`

// measureViews collects measures and then their breakdowns, targets and
// actuals, in the order the queries return them.
type measureViews struct {
	views []domain.MeasureView
	index map[uuid.UUID]int
}

func (v *measureViews) list() []domain.MeasureView {
	if v.views == nil {
		return []domain.MeasureView{}
	}
	return v.views
}

// queueMeasures queues the four queries that read the measures matching where
// (with $1 = arg), their breakdowns, targets and actuals, into the returned
// views.
func (r *Reader) queueMeasures(b *pgx.Batch, where string, arg any) *measureViews {
	v := &measureViews{index: map[uuid.UUID]int{}}
	b.Queue(r.sql(selectMeasures+` WHERE `+where), arg).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			m, err := scanMeasure(rows)
			if err != nil {
				return err
			}
			v.index[m.ID] = len(v.views)
			v.views = append(v.views, m)
		}
		return rows.Err()
	})
	b.Queue(r.sql(selectDisaggregations+` WHERE `+where+` ORDER BY d.disaggregation`), arg).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				id, d, err := scanDisaggregation(rows)
				if err != nil {
					return err
				}
				if i, ok := v.index[id]; ok {
					v.views[i].Disaggregations = append(v.views[i].Disaggregations, d)
				}
			}
			return rows.Err()
		})
	b.Queue(r.sql(selectTargets+` WHERE `+where+` ORDER BY t.period_key`), arg).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var id uuid.UUID
				var t domain.PeriodValue
				if err := rows.Scan(&id, &t.Period, &t.Value); err != nil {
					return err
				}
				if i, ok := v.index[id]; ok {
					v.views[i].Targets = append(v.views[i].Targets, t)
				}
			}
			return rows.Err()
		})
	b.Queue(r.sql(selectActuals+` WHERE `+where+` ORDER BY a.period_key, a.disaggregation`),
		arg).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			id, p, err := scanSeriesPoint(rows)
			if err != nil {
				return err
			}
			if i, ok := v.index[id]; ok {
				v.views[i].Series = append(v.views[i].Series, p)
			}
		}
		return rows.Err()
	})
	return v
}

// fill puts rows into a scorecard in scorecard order: all of them in Measures,
// and each in Population or Performance by its kind.
func fill(card *domain.Scorecard, rows []domain.MeasureView) {
	slices.SortStableFunc(rows, scorecardOrder)
	card.Measures = rows
	card.Population, card.Performance = []domain.MeasureView{}, []domain.MeasureView{}
	for _, m := range rows {
		if m.Kind == domain.PerformanceMeasure {
			card.Performance = append(card.Performance, m)
		} else {
			card.Population = append(card.Population, m)
		}
	}
}

// scorecardOrder sorts measures by issue (a partner's scorecard spans issues),
// perspective top to bottom, objective, then measure name.
func scorecardOrder(a, b domain.MeasureView) int {
	return cmp.Or(
		cmp.Compare(a.IssueTitle, b.IssueTitle),
		slices.Compare(a.IssueID[:], b.IssueID[:]),
		cmp.Compare(perspectiveRank(a.Perspective), perspectiveRank(b.Perspective)),
		cmp.Compare(a.ObjectiveTitle, b.ObjectiveTitle),
		slices.Compare(a.ObjectiveID[:], b.ObjectiveID[:]),
		cmp.Compare(a.Name, b.Name),
		slices.Compare(a.ID[:], b.ID[:]),
	)
}

// perspectiveRank is a perspective's place in domain.Perspectives; unknown
// perspectives sort last.
func perspectiveRank(p domain.Perspective) int {
	if i := slices.Index(domain.Perspectives, p); i >= 0 {
		return i
	}
	return len(domain.Perspectives)
}

const selectIssues = `
SELECT i.id, i.title, i.description, i.version,
    (SELECT count(*) FROM {schema}.objectives o WHERE o.issue_id = i.id AND NOT o.retired),
    (SELECT count(*) FROM {schema}.measures m
        LEFT JOIN {schema}.objectives o ON o.id = m.objective_id
        WHERE m.issue_id = i.id AND NOT m.retired AND o.retired IS NOT TRUE)
FROM {schema}.issues i`

func scanIssue(row pgx.Row) (domain.IssueSummary, error) {
	var i domain.IssueSummary
	err := row.Scan(&i.ID, &i.Title, &i.Description, &i.Version, &i.Objectives, &i.Measures)
	return i, err
}

const selectMeasures = `
SELECT m.id, m.issue_id, coalesce(i.title, ''), m.objective_id, coalesce(o.title, ''),
    coalesce(o.perspective, ''), m.name, m.unit, m.polarity, m.kind, m.question,
    m.owner_partner_id, coalesce(p.name, ''), m.baseline_period, m.baseline_value,
    m.latest_period, m.latest_value, m.latest_corrected, m.latest_target,
    m.at_risk_percent, ` + judgementColumns + `, m.version, m.updated_at
FROM {schema}.measures m
LEFT JOIN {schema}.issues i ON i.id = m.issue_id
LEFT JOIN {schema}.objectives o ON o.id = m.objective_id
LEFT JOIN {schema}.partners p ON p.id = m.owner_partner_id`

// judgementColumns are the columns of a measure's domain.Judgement, in
// judgementDest's order.
const judgementColumns = `m.status, m.percent_of_target, m.variance,
    m.change_since_baseline, m.trend, m.trend_periods`

func scanMeasure(row pgx.Row) (domain.MeasureView, error) {
	m := domain.MeasureView{Disaggregations: []domain.DisaggregatedRow{},
		Targets: []domain.PeriodValue{}, Series: []domain.SeriesPoint{}}
	var (
		perspective, polarity, kind, question string
		baselinePeriod, latestPeriod          *string
		baselineValue, latestValue, band      *float64
		updated                               time.Time
	)
	dest := []any{&m.ID, &m.IssueID, &m.IssueTitle, &m.ObjectiveID, &m.ObjectiveTitle,
		&perspective, &m.Name, &m.Unit, &polarity, &kind, &question, &m.OwnerPartnerID,
		&m.OwnerPartnerName, &baselinePeriod, &baselineValue, &latestPeriod, &latestValue,
		&m.Corrected, &m.Target, &band}
	judgement, keep := judgementDest(&m.Judgement)
	dest = append(append(dest, judgement...), &m.Version, &updated)
	if err := row.Scan(dest...); err != nil {
		return m, err
	}
	keep()
	m.Perspective, m.Polarity = domain.Perspective(perspective), domain.Polarity(polarity)
	m.Kind, m.Question = domain.MeasureKind(kind), domain.Question(question)
	m.Baseline = periodValue(baselinePeriod, baselineValue)
	m.Latest = periodValue(latestPeriod, latestValue)
	m.AtRiskPercent = domain.AtRiskBand * 100
	if band != nil {
		m.AtRiskPercent = *band
	}
	m.Updated = updated.UTC()
	return m, nil
}

// judgementDest returns scan destinations for a judgement's columns (status,
// percent of target, variance, change since baseline, trend, trend periods) and
// a function that moves what was scanned into j.
func judgementDest(j *domain.Judgement) ([]any, func()) {
	var status, trend string
	var periods int32
	dest := []any{&status, &j.PercentOfTarget, &j.Variance, &j.ChangeSinceBaseline, &trend,
		&periods}
	return dest, func() {
		j.Status, j.Trend, j.TrendPeriods = domain.Status(status), domain.Trend(trend),
			int(periods)
	}
}

// selectDisaggregations reads measures' breakdowns, each with its judgement in
// judgementDest's order.
const selectDisaggregations = `
SELECT d.measure_id, d.disaggregation, d.latest_period, d.latest_value,
    d.latest_corrected, d.latest_target, d.status, d.percent_of_target, d.variance,
    d.change_since_baseline, d.trend, d.trend_periods
FROM {schema}.disaggregations d
JOIN {schema}.measures m ON m.id = d.measure_id
LEFT JOIN {schema}.objectives o ON o.id = m.objective_id`

func scanDisaggregation(rows pgx.Rows) (uuid.UUID, domain.DisaggregatedRow, error) {
	var id uuid.UUID
	var d domain.DisaggregatedRow
	var period *string
	var value *float64
	dest := []any{&id, &d.Disaggregation, &period, &value, &d.Corrected, &d.Target}
	judgement, keep := judgementDest(&d.Judgement)
	if err := rows.Scan(append(dest, judgement...)...); err != nil {
		return id, d, err
	}
	keep()
	if v := periodValue(period, value); v != nil {
		d.Latest = *v
	}
	return id, d, nil
}

func periodValue(period *string, value *float64) *domain.PeriodValue {
	if period == nil || value == nil {
		return nil
	}
	return &domain.PeriodValue{Period: *period, Value: *value}
}

const selectObjective = `
SELECT o.id, o.issue_id, o.perspective, o.title, o.retired, o.version
FROM {schema}.objectives o WHERE o.id = $1`

const selectPartner = `
SELECT p.id, p.name, p.kind, p.version FROM {schema}.partners p WHERE p.id = $1`

const selectTargets = `
SELECT t.measure_id, t.period, t.value
FROM {schema}.targets t
JOIN {schema}.measures m ON m.id = t.measure_id
LEFT JOIN {schema}.objectives o ON o.id = m.objective_id`

// selectActuals reads a series; a point's sequence is that of the event behind
// its current value: the correction if there was one, else the report.
const selectActuals = `
SELECT a.measure_id, a.period, a.disaggregation, a.current_value, a.reported_value,
    a.corrected, a.correction_reason, a.reporting_partner_id, a.note, a.source,
    coalesce(a.corrected_sequence, a.reported_sequence)
FROM {schema}.actuals a
JOIN {schema}.measures m ON m.id = a.measure_id
LEFT JOIN {schema}.objectives o ON o.id = m.objective_id`

func scanSeriesPoint(rows pgx.Rows) (uuid.UUID, domain.SeriesPoint, error) {
	var id uuid.UUID
	var p domain.SeriesPoint
	err := rows.Scan(&id, &p.Period, &p.Disaggregation, &p.Value, &p.ReportedValue,
		&p.Corrected, &p.CorrectionReason, &p.ReportingPartnerID, &p.Note, &p.Source,
		&p.Sequence)
	return id, p, err
}
