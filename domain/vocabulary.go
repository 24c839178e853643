package domain

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// PartnerKind says what sort of organisation a partner is.
type PartnerKind string

// The kinds of partner.
const (
	SchoolDistrict PartnerKind = "school_district"
	University     PartnerKind = "university"
	Foundation     PartnerKind = "foundation"
	UnitedWay      PartnerKind = "united_way"
	Business       PartnerKind = "business"
	Nonprofit      PartnerKind = "nonprofit"
	HealthSystem   PartnerKind = "health_system"
	Government     PartnerKind = "government"
	OtherPartner   PartnerKind = "other"
)

// PartnerKinds lists every partner kind in display order.
var PartnerKinds = []PartnerKind{SchoolDistrict, University, Foundation, UnitedWay,
	Business, Nonprofit, HealthSystem, Government, OtherPartner}

// Perspective is a band of a strategy map, from mission results down to resources.
type Perspective string

// The perspectives of a nonprofit balanced scorecard, top to bottom.
const (
	Results      Perspective = "results"
	Stakeholders Perspective = "stakeholders"
	Processes    Perspective = "processes"
	Resources    Perspective = "resources"
)

// Perspectives lists the perspectives top to bottom.
var Perspectives = []Perspective{Results, Stakeholders, Processes, Resources}

// Polarity says which direction of a measure is good news.
type Polarity string

// The polarities.
const (
	HigherIsBetter Polarity = "higher"
	LowerIsBetter  Polarity = "lower"
)

// Polarities lists both polarities.
var Polarities = []Polarity{HigherIsBetter, LowerIsBetter}

// MeasureKind separates population indicators (community results no partner
// controls) from performance measures (a program's own work).
type MeasureKind string

// The kinds of measure.
const (
	PopulationIndicator MeasureKind = "population"
	PerformanceMeasure  MeasureKind = "performance"
)

// Question is the question of Results-Based Accountability a performance
// measure answers.
type Question string

// The three performance questions.
const (
	HowMuch   Question = "how_much"   // How much did we do?
	HowWell   Question = "how_well"   // How well did we do it?
	BetterOff Question = "better_off" // Is anyone better off?
)

// Questions lists the performance questions in RBA's order.
var Questions = []Question{HowMuch, HowWell, BetterOff}

// MeasureKinds lists both kinds of measure.
var MeasureKinds = []MeasureKind{PopulationIndicator, PerformanceMeasure}

// CommitmentKind says what a partner commits.
type CommitmentKind string

// The kinds of commitment.
const (
	ActionCommitment  CommitmentKind = "action"
	FundingCommitment CommitmentKind = "funding"
	InKindCommitment  CommitmentKind = "in_kind"
)

// slug lowers s and joins its words with underscores, so "United Way",
// "united-way" and "united_way" all read the same.
func slug(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

// parseEnum checks s against the allowed values, by slug.
func parseEnum[T ~string](fe *fieldErrors, field, s string, allowed []T) T {
	v := T(slug(s))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	if s == "" {
		fe.add(field, "is required; one of %s", strings.Join(names, ", "))
	} else {
		fe.add(field, "%q is not one of %s", s, strings.Join(names, ", "))
	}
	return ""
}

// text checks a required or optional string's length in characters.
func text(fe *fieldErrors, field, s string, min, max int) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		fe.add(field, "must be valid UTF-8")
	case hasControl(s):
		fe.add(field, "must not contain control characters such as NUL")
	case n < min && min == 1:
		fe.add(field, "is required")
	case n < min:
		fe.add(field, "must be at least %d characters", min)
	case n > max:
		fe.add(field, "must be at most %d characters (got %d)", max, n)
	}
	return s
}

// hasControl reports a C0 or C1 control character other than tab and line breaks,
// which no figure's text needs and which PostgreSQL refuses (NUL), or a bidi
// control, which can make a line read backwards.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return true
		}
		if unicode.Is(unicode.Bidi_Control, r) { // U+202E would reverse what follows
			return true
		}
	}
	return false
}

// Text limits.
const (
	maxName        = 200
	maxDescription = 4000
	maxNote        = 2000
	maxUnit        = 40
	maxSource      = 2000
)

// id parses a required UUID; the zero UUID is refused.
func id(fe *fieldErrors, field, s string) uuid.UUID {
	if strings.TrimSpace(s) == "" {
		fe.add(field, "is required")
		return uuid.Nil
	}
	u, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil || u == uuid.Nil {
		fe.add(field, "%q is not a UUID", s)
		return uuid.Nil
	}
	return u
}

// optionalID parses a UUID that may be left empty.
func optionalID(fe *fieldErrors, field, s string) *uuid.UUID {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	u := id(fe, field, s)
	if u == uuid.Nil {
		return nil
	}
	return &u
}

// period parses a required period.
func period(fe *fieldErrors, field, s string) Period {
	if strings.TrimSpace(s) == "" {
		fe.add(field, "is required; use 2014, 2014-15, 2014-Q3 or 2014-09")
		return Period{}
	}
	p, err := ParsePeriod(strings.TrimSpace(s))
	if err != nil {
		fe.add(field, "%s", err.Error())
	}
	return p
}

// value checks that v is a finite number that fits the unit.
func value(fe *fieldErrors, field string, v *float64, unit string) float64 {
	if v == nil {
		fe.add(field, "is required")
		return 0
	}
	switch {
	case math.IsNaN(*v) || math.IsInf(*v, 0):
		fe.add(field, "must be a finite number")
	case IsPercent(unit) && (*v < 0 || *v > 100):
		fe.add(field, "%v is outside 0-100 for a %% measure", *v)
	case math.Abs(*v) > 1e15:
		fe.add(field, "%v is too large", *v)
	}
	return *v
}

// IsPercent reports whether unit is a percentage, whose values lie in 0-100.
func IsPercent(unit string) bool {
	u := strings.ToLower(strings.TrimSpace(unit))
	return u == "%" || u == "percent" || u == "percentage"
}

// disaggregation checks an optional "key=value" breakdown such as "race=Black".
func disaggregation(fe *fieldErrors, field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	key, val, ok := strings.Cut(s, "=")
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if !ok || key == "" || val == "" {
		fe.add(field, "%q must have the form key=value, such as race=Black", s)
		return ""
	}
	if strings.Trim(strings.ToLower(key), "abcdefghijklmnopqrstuvwxyz_") != "" || len(key) > 40 {
		fe.add(field, "the key %.40q must be at most 40 letters and underscores", key)
		return ""
	}
	if utf8.RuneCountInString(val) > 100 || strings.Contains(val, "=") || hasControl(val) ||
		!utf8.ValidString(val) {
		fe.add(field, "the value %.100q must be at most 100 characters, without '=' "+
			"or control characters", val)
		return ""
	}
	return fmt.Sprintf("%s=%s", strings.ToLower(key), val)
}
