package domain

import "testing"

func f64(v float64) *float64 { return &v }

func TestJudge(t *testing.T) {
	tests := []struct {
		name     string
		polarity Polarity
		series   []float64
		target   *float64
		baseline *float64
		want     Judgement
	}{
		{name: "nothing reported", polarity: HigherIsBetter, want: Judgement{Status: NoData}},
		{name: "no target for the latest period", polarity: HigherIsBetter, series: []float64{55},
			want: Judgement{Status: NoTarget}},
		{name: "beyond target, rising three times", polarity: HigherIsBetter,
			series: []float64{55, 61.7, 78.3, 89.9}, target: f64(85), baseline: f64(55),
			want: Judgement{Status: OnTrack, PercentOfTarget: f64(89.9 / 85 * 100),
				Variance: f64((89.9 - 85) / 85), ChangeSinceBaseline: f64(89.9 - 55),
				Trend: Better, TrendPeriods: 3}},
		{name: "a falling dropout rate is better", polarity: LowerIsBetter,
			series: []float64{17.9, 14.4}, target: f64(15),
			want: Judgement{Status: OnTrack, PercentOfTarget: f64(14.4 / 15 * 100),
				Variance: f64((14.4 - 15) / 15), Trend: Better, TrendPeriods: 1}},
		{name: "worse after better", polarity: HigherIsBetter, series: []float64{40, 50, 49},
			target: f64(50), want: Judgement{Status: AtRisk, PercentOfTarget: f64(98),
				Variance: f64(-0.02), Trend: Worse, TrendPeriods: 1}},
		{name: "flat twice", polarity: HigherIsBetter, series: []float64{1, 2, 2, 2},
			want: Judgement{Status: NoTarget, Trend: Flat, TrendPeriods: 2}},
		{name: "zero target has no percentage", polarity: LowerIsBetter, series: []float64{0},
			target: f64(0), want: Judgement{Status: OnTrack}},
		{name: "a tiny target has no infinite percentage", polarity: HigherIsBetter,
			series: []float64{1e15}, target: f64(1e-300), want: Judgement{Status: OnTrack}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.polarity, 10, tt.series, tt.target, tt.baseline)
			if got.Status != tt.want.Status || got.Trend != tt.want.Trend ||
				got.TrendPeriods != tt.want.TrendPeriods ||
				!near(got.PercentOfTarget, tt.want.PercentOfTarget) ||
				!near(got.Variance, tt.want.Variance) ||
				!near(got.ChangeSinceBaseline, tt.want.ChangeSinceBaseline) {
				t.Errorf("got %+v, want %+v", show(got), show(tt.want))
			}
		})
	}
}

func near(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	d := *a - *b
	return d < 1e-9 && d > -1e-9
}

func show(j Judgement) map[string]any {
	v := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	return map[string]any{"status": j.Status, "pct": v(j.PercentOfTarget),
		"variance": v(j.Variance), "change": v(j.ChangeSinceBaseline), "trend": j.Trend,
		"run": j.TrendPeriods}
}

func TestRollUp(t *testing.T) {
	tests := []struct {
		in   []Status
		want Status
	}{
		{nil, NoData},
		{[]Status{NoData, NoData}, NoData},
		{[]Status{NoData, NoTarget}, NoTarget},
		{[]Status{OnTrack, NoTarget}, OnTrack},
		{[]Status{OnTrack, AtRisk, NoData}, AtRisk},
		{[]Status{AtRisk, OffTrack, OnTrack}, OffTrack},
	}
	for _, tt := range tests {
		if got := RollUp(tt.in); got != tt.want {
			t.Errorf("RollUp(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
