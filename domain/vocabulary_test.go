package domain

import (
	"context"
	"strings"
	"testing"
)

func TestTextRefusesControlCharacters(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"Tacoma Public Schools", true},
		{"line one\nline two\ttabbed", true},
		{"Evil\x00Partner", false},
		{"bell\x07", false},
		{"c1\u0080 inside", false},
		{"by \u202eadmin", false},
	}
	for _, tt := range tests {
		var fe fieldErrors
		text(&fe, "name", tt.in, 1, maxName)
		if got := len(fe) == 0; got != tt.valid {
			t.Errorf("text(%q): valid %v, want %v (%v)", tt.in, got, tt.valid, fe)
		}
	}
}

func TestDisaggregationBounds(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"race=Black", "race=Black"},
		{" Income = low-income ", "income=low-income"},
		{strings.Repeat("k", 40) + "=x", strings.Repeat("k", 40) + "=x"},
		{strings.Repeat("k", 41) + "=x", ""},
		{"race=Black\x00", ""},
		{"race=" + strings.Repeat("v", 101), ""},
	}
	for _, tt := range tests {
		var fe fieldErrors
		got := disaggregation(&fe, "disaggregation", tt.in)
		if got != tt.want || (tt.want == "") != (len(fe) > 0) {
			t.Errorf("disaggregation(%.30q) = %q, errors %v; want %q", tt.in, got, fe, tt.want)
		}
	}
}

func TestReportingTheCorrectedValueAgainChangesNothing(t *testing.T) {
	m := fold[Measure]([]Event{
		{AggregateVersion: 1, Payload: MeasureDefinedV1{Name: "Rate", Unit: "%",
			Polarity: HigherIsBetter, Kind: PopulationIndicator}},
		{AggregateVersion: 2, Payload: ProgressReportedV1{Period: MustParsePeriod("2001"),
			Value: 98}},
		{AggregateVersion: 3, Payload: ProgressCorrectedV1{Period: MustParsePeriod("2001"),
			Value: 99, Reason: "typo"}},
	})
	for _, v := range []float64{98, 99} {
		d, err := m.Report(ReportProgress{Period: "2001", Value: &v}, Partner{})
		if err != nil || d.Existing == nil || d.Payload != nil {
			t.Errorf("report %v again: decision %+v, err %v; want the existing event", v, d, err)
		}
	}
	other := 97.0
	_, err := m.Report(ReportProgress{Period: "2001", Value: &other}, Partner{})
	if ErrorCode(err) != CodeConflict {
		t.Errorf("report another value: %v, want a conflict", err)
	}
}

func TestAmountIsBounded(t *testing.T) {
	var fe fieldErrors
	big := int64(maxCents + 1)
	amount(&fe, FundingCommitment, &big, "USD")
	if len(fe) != 1 || fe[0].Field != "amount_cents" {
		t.Errorf("amount above the bound: %v, want one amount_cents error", fe)
	}
}

func TestReportingAPeriodThatHasNotBegun(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	v := 50.0
	report := func(period string) error {
		_, err := w.cmds.ReportProgress(ctx, byAdmin,
			ReportProgress{MeasureID: w.measure.String(), Period: period, Value: &v})
		return err
	}
	wantInvalid(t, report("2027"), "period", "has not begun")
	if err := report("2026-Q4"); err != nil {
		t.Errorf("the current quarter: %v, want it recorded", err)
	}
}
