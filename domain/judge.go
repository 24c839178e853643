package domain

import "math"

// Trend is the direction of a measure's latest change, judged by polarity.
type Trend string

// The trend directions.
const (
	Better Trend = "better"
	Worse  Trend = "worse"
	Flat   Trend = "flat"
)

// Judgement is the scorecard arithmetic users expect for one measure or row.
type Judgement struct {
	Status Status `json:"status"`
	// PercentOfTarget is actual ÷ target × 100.
	PercentOfTarget *float64 `json:"percent_of_target,omitempty"`
	// Variance is (actual − target) ÷ target.
	Variance *float64 `json:"variance,omitempty"`
	// ChangeSinceBaseline is actual − baseline, in the measure's unit.
	ChangeSinceBaseline *float64 `json:"change_since_baseline,omitempty"`
	Trend               Trend    `json:"trend,omitempty"`
	// TrendPeriods is how many period-to-period changes the current trend has run.
	TrendPeriods int `json:"trend_periods,omitempty"`
}

// Judge judges a series of values ordered by period, the last being the latest
// actual, against the target for the latest period (nil when none) and the
// baseline (nil when none). An empty series has no data.
func Judge(p Polarity, atRiskPercent float64, series []float64,
	target, baseline *float64) Judgement {
	if len(series) == 0 {
		return Judgement{Status: NoData}
	}
	actual := series[len(series)-1]
	j := Judgement{Status: NoTarget}
	if target != nil {
		j.Status = StatusWithin(p, actual, *target, atRiskPercent)
		pct := actual / *target * 100
		v := (actual - *target) / *target
		if finite(pct) && finite(v) { // a target of 0 (or nearly) has no percentage
			j.PercentOfTarget, j.Variance = &pct, &v
		}
	}
	if d := actual - deref0f(baseline); baseline != nil && finite(d) {
		j.ChangeSinceBaseline = &d
	}
	j.Trend, j.TrendPeriods = trend(p, series)
	return j
}

// trend returns the direction of the last change and how many consecutive
// changes, ending with the last, went the same way.
func trend(p Polarity, series []float64) (Trend, int) {
	if len(series) < 2 {
		return "", 0
	}
	dir := func(i int) Trend { return direction(p, series[i-1], series[i]) }
	last := dir(len(series) - 1)
	n := 1
	for i := len(series) - 2; i >= 1 && dir(i) == last; i-- {
		n++
	}
	return last, n
}

// direction judges the change from a to b: a change smaller than a millionth of
// the larger magnitude is flat.
func direction(p Polarity, a, b float64) Trend {
	if math.Abs(b-a) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) {
		return Flat
	}
	if (b > a) == (p != LowerIsBetter) {
		return Better
	}
	return Worse
}

// RollUp gives an objective the status of its measures: the worst judged one
// (off track, then at risk, then on track); no_target when values exist but none
// is judged; no_data when nothing was reported.
func RollUp(statuses []Status) Status {
	rank := map[Status]int{OffTrack: 5, AtRisk: 4, OnTrack: 3, NoTarget: 2, NoData: 1}
	worst := NoData
	for _, s := range statuses {
		if rank[s] > rank[worst] {
			worst = s
		}
	}
	return worst
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func deref0f(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
