package projections

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
)

// This file keeps where measures stand. After each batch, refresh reads the
// series of every measure the batch touched (its total and each breakdown),
// lets domain.Judge decide status, percent of target, variance, change since
// baseline and trend, and writes the judgements back: a fixed number of
// statements per batch, whatever the number of measures.

// tailLength is how many of a series' newest values refresh reads at first:
// enough to judge the trend of most series. A series whose trend runs through
// all of them is read again whole, so the trend's length is never cut short.
const tailLength = 16

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

// refresh judges every series of the given measures and stores the results.
func (s *Scorecard) refresh(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) error {
	all, err := s.readSeries(ctx, tx, seriesOfMeasures, tailLength, ids)
	if err != nil {
		return err
	}
	var again []uuid.UUID
	var againNames []string
	for _, sr := range all {
		if sr.cutShort(sr.judge()) {
			again = append(again, sr.measure)
			againNames = append(againNames, sr.disaggregation)
		}
	}
	if len(again) > 0 {
		whole, err := s.readSeries(ctx, tx, seriesListed, nil, again, againNames)
		if err != nil {
			return err
		}
		index := map[seriesKey]int{}
		for i, sr := range all {
			index[seriesKey{sr.measure, sr.disaggregation}] = i
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
	b := &pgx.Batch{}
	b.Queue(inSchema(s.schema, updateMeasureStanding), totals.args()...)
	b.Queue(inSchema(s.schema, updateDisaggregationStanding), breakdowns.args()...)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("update where measures stand: %w", err)
	}
	return nil
}

// readSeries runs selectSeries with the given set of series and limit (nil:
// every value) and groups its rows into series.
func (s *Scorecard) readSeries(ctx context.Context, tx pgx.Tx, which string, limit any,
	args ...any) ([]*series, error) {
	query := inSchema(s.schema, fmt.Sprintf(selectSeries, which, len(args)+1))
	rows, err := tx.Query(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("read series: %w", err)
	}
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
			return nil, fmt.Errorf("read series: %w", err)
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
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read series: %w", err)
	}
	return all, nil
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

// selectSeries reads series oldest value first: for each, the measure's
// polarity and band, the baseline (the measure's own for its total; for a
// breakdown, the breakdown's value in the measure's baseline period), and its
// newest values (all of them when the limit is NULL), each with whether it was
// corrected and the target for its period. The first %s selects the series;
// the second %d is the limit's parameter number.
const selectSeries = `
WITH s AS (%s)
SELECT s.measure_id, s.disaggregation, m.polarity, m.at_risk_percent,
    CASE WHEN s.disaggregation = '' THEN m.baseline_value ELSE b.current_value END,
    a.period, a.current_value, a.corrected, t.value
FROM s
JOIN {schema}.measures m ON m.id = s.measure_id
LEFT JOIN {schema}.actuals b ON b.measure_id = s.measure_id
    AND b.period = m.baseline_period AND b.disaggregation = s.disaggregation
LEFT JOIN LATERAL (
    SELECT a.period, a.period_key, a.current_value, a.corrected
    FROM {schema}.actuals a
    WHERE a.measure_id = s.measure_id AND a.disaggregation = s.disaggregation
    ORDER BY a.period_key DESC
    LIMIT $%d
) a ON true
LEFT JOIN {schema}.targets t ON t.measure_id = s.measure_id AND t.period = a.period
ORDER BY s.measure_id, s.disaggregation, a.period_key`

// seriesOfMeasures selects the total and every breakdown of the measures in $1.
const seriesOfMeasures = `
SELECT m.id AS measure_id, '' AS disaggregation
FROM {schema}.measures m WHERE m.id = ANY($1::uuid[])
UNION ALL
SELECT d.measure_id, d.disaggregation
FROM {schema}.disaggregations d WHERE d.measure_id = ANY($1::uuid[])`

// seriesListed selects the series named by the measures in $1 and the
// breakdowns in $2.
const seriesListed = `
SELECT * FROM unnest($1::uuid[], $2::text[]) AS l (measure_id, disaggregation)`

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
