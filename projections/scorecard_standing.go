package projections

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
)

// This file keeps where measures stand. After each batch, refresh reads the
// series the batch touched (a measure's total or one breakdown), lets
// domain.Judge decide status, percent of target, variance, change since
// baseline and trend, and writes the judgements back: a fixed number of
// statements per batch, whatever the number of series.

// tailLength is how many of a series' newest values refresh reads at first:
// enough to judge the trend of most series. A series whose trend runs through
// all of them is read again whole, so the trend's length is never cut short.
const tailLength = 8

// series is one line of a measure's values: its total (disaggregation "") or
// one breakdown, oldest value first.
type series struct {
	measure        uuid.UUID
	disaggregation string
	polarity       domain.Polarity
	band           float64
	baseline       *float64
	periods        []string
	values         []float64
	// corrected and target belong to the latest value.
	corrected bool
	target    *float64
}

func (s *series) judge() domain.Judgement {
	return domain.Judge(s.polarity, s.band, s.values, s.target, s.baseline)
}

// cutShort reports whether the series was read in part and its trend may run
// further back than the part read.
func (s *series) cutShort(j domain.Judgement) bool {
	return len(s.values) == tailLength && j.TrendPeriods >= tailLength-1
}

type seriesKey struct {
	measure        uuid.UUID
	disaggregation string
}

// touchedSeries collects the series a batch may have changed: every series of
// a measure whose target or band changed, else only the series a report or a
// correction names.
type touchedSeries struct {
	whole           []uuid.UUID
	isWhole         map[uuid.UUID]bool
	measures        []uuid.UUID
	disaggregations []string
	seen            map[seriesKey]bool
}

func newTouchedSeries() *touchedSeries {
	return &touchedSeries{isWhole: map[uuid.UUID]bool{}, seen: map[seriesKey]bool{}}
}

// add records the series a measure's event may change.
func (t *touchedSeries) add(e domain.Event) {
	switch p := e.Payload.(type) {
	case domain.MeasureDefinedV1:
		t.one(e.AggregateID, "")
	case domain.ProgressReportedV1:
		t.one(e.AggregateID, p.Disaggregation)
	case domain.ProgressCorrectedV1:
		t.one(e.AggregateID, p.Disaggregation)
	default:
		if !t.isWhole[e.AggregateID] {
			t.isWhole[e.AggregateID] = true
			t.whole = append(t.whole, e.AggregateID)
		}
	}
}

func (t *touchedSeries) one(measure uuid.UUID, disaggregation string) {
	if k := (seriesKey{measure, disaggregation}); !t.seen[k] {
		t.seen[k] = true
		t.measures, t.disaggregations = append(t.measures, measure),
			append(t.disaggregations, disaggregation)
	}
}

func (t *touchedSeries) empty() bool { return len(t.whole) == 0 && len(t.measures) == 0 }

// refresh judges the touched series and stores the results. A breakdown's
// first value adds its row to the disaggregations table here, once per batch.
func (s *Scorecard) refresh(ctx context.Context, tx pgx.Tx, t *touchedSeries) error {
	b := &pgx.Batch{}
	b.Queue(inSchema(s.schema, insertDisaggregations), t.measures, t.disaggregations)
	var all []*series
	b.Queue(inSchema(s.schema, selectSeries), t.whole, t.measures, t.disaggregations,
		tailLength).Query(func(rows pgx.Rows) error {
		var err error
		all, err = scanSeries(rows)
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("read series: %w", err)
	}

	var again []uuid.UUID
	var againNames []string
	index := map[seriesKey]int{}
	for i, sr := range all {
		if sr.cutShort(sr.judge()) {
			again, againNames = append(again, sr.measure), append(againNames, sr.disaggregation)
			index[seriesKey{sr.measure, sr.disaggregation}] = i
		}
	}
	if len(again) > 0 {
		rows, err := tx.Query(ctx, inSchema(s.schema, selectSeries), []uuid.UUID{}, again,
			againNames, nil)
		if err != nil {
			return fmt.Errorf("read whole series: %w", err)
		}
		whole, err := scanSeries(rows)
		if err != nil {
			return fmt.Errorf("read whole series: %w", err)
		}
		for _, sr := range whole {
			all[index[seriesKey{sr.measure, sr.disaggregation}]] = sr
		}
	}

	var totals, breakdowns standings
	for _, sr := range all {
		if sr.disaggregation == "" {
			totals.add(sr, sr.judge())
		} else {
			breakdowns.add(sr, sr.judge())
		}
	}
	b = &pgx.Batch{}
	b.Queue(inSchema(s.schema, updateMeasureStanding), totals.args()...)
	b.Queue(inSchema(s.schema, updateDisaggregationStanding), breakdowns.args()...)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("update where measures stand: %w", err)
	}
	return nil
}

// scanSeries groups the rows of selectSeries into series, and closes rows.
func scanSeries(rows pgx.Rows) ([]*series, error) {
	defer rows.Close()
	var all []*series
	var cur *series
	for rows.Next() {
		var (
			next      series
			polarity  string
			band      *float64
			period    *string
			value     *float64
			corrected *bool
			target    *float64
		)
		err := rows.Scan(&next.measure, &next.disaggregation, &polarity, &band,
			&next.baseline, &period, &value, &corrected, &target)
		if err != nil {
			return nil, err
		}
		if cur == nil || cur.measure != next.measure ||
			cur.disaggregation != next.disaggregation {
			next.polarity, next.band = domain.Polarity(polarity), domain.AtRiskBand*100
			if band != nil {
				next.band = *band
			}
			cur = &next
			all = append(all, cur)
		}
		if period != nil && value != nil {
			cur.periods, cur.values = append(cur.periods, *period), append(cur.values, *value)
			cur.corrected, cur.target = corrected != nil && *corrected, target
		}
	}
	return all, rows.Err()
}

// standings collects judgements column by column, for one update from arrays.
type standings struct {
	measures, disaggregations, statuses, trends []string
	periods                                     []*string
	values, targets, percents, variances        []*float64
	changes                                     []*float64
	corrected                                   []bool
	trendPeriods                                []int32
}

func (st *standings) add(s *series, j domain.Judgement) {
	var period *string
	var value *float64
	if n := len(s.values); n > 0 {
		period, value = &s.periods[n-1], &s.values[n-1]
	}
	st.measures = append(st.measures, s.measure.String())
	st.disaggregations = append(st.disaggregations, s.disaggregation)
	st.periods, st.values = append(st.periods, period), append(st.values, value)
	st.corrected, st.targets = append(st.corrected, s.corrected), append(st.targets, s.target)
	st.statuses = append(st.statuses, string(j.Status))
	st.percents, st.variances = append(st.percents, j.PercentOfTarget),
		append(st.variances, j.Variance)
	st.changes = append(st.changes, j.ChangeSinceBaseline)
	st.trends = append(st.trends, string(j.Trend))
	st.trendPeriods = append(st.trendPeriods, int32(j.TrendPeriods))
}

// args are the arrays of updateMeasureStanding and updateDisaggregationStanding.
func (st *standings) args() []any {
	return []any{st.measures, st.disaggregations, st.periods, st.values, st.corrected,
		st.targets, st.statuses, st.percents, st.variances, st.changes, st.trends,
		st.trendPeriods}
}

// insertDisaggregations adds the breakdowns among the series $1, $2 that have
// no row yet.
const insertDisaggregations = `
INSERT INTO {schema}.disaggregations (measure_id, disaggregation)
SELECT * FROM unnest($1::uuid[], $2::text[]) AS u (measure_id, disaggregation)
WHERE u.disaggregation <> ''
ON CONFLICT (measure_id, disaggregation) DO NOTHING`

// selectSeries reads series, oldest value first: the total and every
// breakdown of the measures in $1, and the series of the measures in $2 and
// breakdowns in $3. For each, the measure's polarity and band; the baseline
// (the measure's own for its total; for a breakdown, the breakdown's value in
// the measure's baseline period); and its newest $4 values (all when $4 is
// NULL), each with whether it was corrected and the target for its period.
// Every lookup is LATERAL with LIMIT so that it stays an index lookup however
// stale the statistics of tables growing during a rebuild: a hash join would
// read the whole of actuals for every batch.
const selectSeries = `
WITH s AS (
    SELECT m.id AS measure_id, '' AS disaggregation
    FROM {schema}.measures m WHERE m.id = ANY($1::uuid[])
    UNION
    SELECT d.measure_id, d.disaggregation
    FROM {schema}.disaggregations d WHERE d.measure_id = ANY($1::uuid[])
    UNION
    SELECT * FROM unnest($2::uuid[], $3::text[])
)
SELECT s.measure_id, s.disaggregation, m.polarity, m.at_risk_percent,
    CASE WHEN s.disaggregation = '' THEN m.baseline_value ELSE b.current_value END,
    a.period, a.current_value, a.corrected, t.value
FROM s
JOIN LATERAL (
    SELECT m.polarity, m.at_risk_percent, m.baseline_value, m.baseline_period_key
    FROM {schema}.measures m WHERE m.id = s.measure_id
    LIMIT 1
) m ON true
LEFT JOIN LATERAL (
    SELECT b.current_value FROM {schema}.actuals b
    WHERE s.disaggregation <> '' AND b.measure_id = s.measure_id
        AND b.disaggregation = s.disaggregation AND b.period_key = m.baseline_period_key
    LIMIT 1
) b ON true
LEFT JOIN LATERAL (
    SELECT a.period, a.period_key, a.current_value, a.corrected
    FROM {schema}.actuals a
    WHERE a.measure_id = s.measure_id AND a.disaggregation = s.disaggregation
    ORDER BY a.period_key DESC
    LIMIT $4
) a ON true
LEFT JOIN LATERAL (
    SELECT t.value FROM {schema}.targets t
    WHERE t.measure_id = s.measure_id AND t.period = a.period
    LIMIT 1
) t ON true
ORDER BY s.measure_id, s.disaggregation, a.period_key`

const updateMeasureStanding = `
UPDATE {schema}.measures m
SET latest_period = u.period, latest_value = u.value, latest_corrected = u.corrected,
    latest_target = u.target, status = u.status, percent_of_target = u.percent,
    variance = u.variance, change_since_baseline = u.change, trend = u.trend,
    trend_periods = u.trend_periods
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::bool[], $6::float8[],
    $7::text[], $8::float8[], $9::float8[], $10::float8[], $11::text[], $12::int[])
    AS u (id, disaggregation, period, value, corrected, target, status, percent,
        variance, change, trend, trend_periods)
WHERE m.id = u.id`

const updateDisaggregationStanding = `
UPDATE {schema}.disaggregations d
SET latest_period = u.period, latest_value = u.value, latest_corrected = u.corrected,
    latest_target = u.target, status = u.status, percent_of_target = u.percent,
    variance = u.variance, change_since_baseline = u.change, trend = u.trend,
    trend_periods = u.trend_periods
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::bool[], $6::float8[],
    $7::text[], $8::float8[], $9::float8[], $10::float8[], $11::text[], $12::int[])
    AS u (id, disaggregation, period, value, corrected, target, status, percent,
        variance, change, trend, trend_periods)
WHERE d.measure_id = u.id AND d.disaggregation = u.disaggregation`
