package domain

// Tests of what reports share: money written from cents and the filters of a
// funding report.

import (
	"errors"
	"math"
	"testing"

	"github.com/google/uuid"
)

func TestFormatCents(t *testing.T) {
	tests := []struct {
		cents int64
		want  string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{99, "0.99"},
		{100, "1.00"},
		{250_000_000, "2500000.00"},
		{-1, "-0.01"},
		{-12_345, "-123.45"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := FormatCents(tt.cents); got != tt.want {
			t.Errorf("FormatCents(%d) = %q, want %q", tt.cents, got, tt.want)
		}
	}
}

func TestParseFundingFilter(t *testing.T) {
	issue := uuid.MustParse("0b9a3a52-56a4-4f0e-9a57-1f3f3c1de001")
	tests := []struct {
		name                         string
		issue, partner, period, kind string
		want                         FundingFilter
		field                        string // the field an error names, "" for none
	}{
		{name: "empty filters nothing", want: FundingFilter{}},
		{name: "an issue", issue: issue.String(), want: FundingFilter{IssueID: &issue}},
		{name: "a period is written as stored", period: "2014-q3",
			want: FundingFilter{Period: "2014-Q3"}},
		{name: "a kind by its slug", kind: "in-kind",
			want: FundingFilter{Kind: InKindCommitment}},
		{name: "a malformed issue", issue: "I01", field: "issue_id"},
		{name: "a malformed partner", partner: "nobody", field: "partner_id"},
		{name: "a malformed period", period: "last year", field: "period"},
		{name: "an action is no funding", kind: "action", field: "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFundingFilter(tt.issue, tt.partner, tt.period, tt.kind)
			if tt.field != "" {
				var de *Error
				if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != tt.field {
					t.Fatalf("error %v, want one naming %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if !sameFilter(got, tt.want) {
				t.Errorf("filter %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFundingFilterNormalize(t *testing.T) {
	got, err := FundingFilter{Period: " 2019 ", Kind: "Funding"}.Normalize()
	if err != nil || got.Period != "2019" || got.Kind != FundingCommitment {
		t.Errorf("Normalize = %+v, %v; want period 2019, kind funding", got, err)
	}
	if _, err := (FundingFilter{Kind: "grant"}).Normalize(); ErrorCode(err) != CodeInvalid {
		t.Errorf("Normalize of kind grant: %v, want an invalid-input error", err)
	}
}

func sameFilter(a, b FundingFilter) bool {
	return equalPtr(a.IssueID, b.IssueID) && equalPtr(a.PartnerID, b.PartnerID) &&
		a.Period == b.Period && a.Kind == b.Kind
}

func TestParseActivityFilter(t *testing.T) {
	partner := uuid.MustParse("0b9a3a52-56a4-4f0e-9a57-1f3f3c1de001")
	tests := []struct {
		name                          string
		issue, partner, before, limit string
		want                          ActivityFilter
		field                         string // the field an error names, "" for none
	}{
		{name: "empty is the newest page", want: ActivityFilter{Limit: DefaultActivityLimit}},
		{name: "a partner's page", partner: partner.String(), before: "42", limit: "10",
			want: ActivityFilter{PartnerID: &partner, Before: 42, Limit: 10}},
		{name: "the largest page", limit: "200", want: ActivityFilter{Limit: MaxActivityLimit}},
		{name: "a malformed issue", issue: "I01", field: "issue_id"},
		{name: "before zero", before: "0", field: "before"},
		{name: "before negative", before: "-3", field: "before"},
		{name: "limit zero", limit: "0", field: "limit"},
		{name: "limit too large", limit: "201", field: "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseActivityFilter(tt.issue, tt.partner, tt.before, tt.limit)
			if tt.field != "" {
				var de *Error
				if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != tt.field {
					t.Fatalf("error %v, want one naming %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if !equalPtr(got.IssueID, tt.want.IssueID) || !equalPtr(got.PartnerID,
				tt.want.PartnerID) || got.Before != tt.want.Before || got.Limit != tt.want.Limit {
				t.Errorf("filter %+v, want %+v", got, tt.want)
			}
		})
	}
}
