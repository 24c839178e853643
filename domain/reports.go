package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// StrategyMap is an issue's objectives in perspective bands, top (results) to
// bottom (resources), with their cause-and-effect links and measures.
type StrategyMap struct {
	Issue IssueSummary `json:"issue"`
	Bands []MapBand    `json:"bands"`
	Links []MapLink    `json:"links"`
}

// MapBand is one perspective of a strategy map.
type MapBand struct {
	Perspective Perspective    `json:"perspective"`
	Label       string         `json:"label"`
	Objectives  []MapObjective `json:"objectives"`
}

// MapObjective is an objective on a map, with its measures' status rolled up.
type MapObjective struct {
	ID       uuid.UUID    `json:"id"`
	Title    string       `json:"title"`
	Status   Status       `json:"status"`
	Measures []MapMeasure `json:"measures"`
}

// MapMeasure is a measure under an objective on a map.
type MapMeasure struct {
	ID     uuid.UUID    `json:"id"`
	Name   string       `json:"name"`
	Unit   string       `json:"unit"`
	Status Status       `json:"status"`
	Latest *PeriodValue `json:"latest,omitempty"`
}

// MapLink says the cause objective drives the effect objective.
type MapLink struct {
	CauseID  uuid.UUID `json:"cause_objective_id"`
	EffectID uuid.UUID `json:"effect_objective_id"`
}

// StrategyMapReader reads strategy maps.
type StrategyMapReader interface {
	// StrategyMap returns an issue's map, without retired objectives and measures.
	// Errors: CodeNotFound.
	StrategyMap(ctx context.Context, issueID uuid.UUID) (StrategyMap, error)
}

// CommitmentState says where a commitment stands.
type CommitmentState string

// The states of a commitment.
const (
	OpenCommitment      CommitmentState = "open"
	FulfilledCommitment CommitmentState = "fulfilled"
	WithdrawnCommitment CommitmentState = "withdrawn"
)

// CommitmentView is one commitment as reports list it.
type CommitmentView struct {
	ID             uuid.UUID       `json:"id"`
	PartnerID      uuid.UUID       `json:"partner_id"`
	PartnerName    string          `json:"partner_name"`
	IssueID        *uuid.UUID      `json:"issue_id,omitempty"`
	IssueTitle     string          `json:"issue_title,omitempty"`
	ObjectiveID    *uuid.UUID      `json:"objective_id,omitempty"`
	ObjectiveTitle string          `json:"objective_title,omitempty"`
	Pooled         bool            `json:"pooled"`
	Kind           CommitmentKind  `json:"kind"`
	Description    string          `json:"description"`
	AmountCents    *int64          `json:"amount_cents,omitempty"`
	Currency       string          `json:"currency,omitempty"`
	FulfilledCents int64           `json:"fulfilled_cents"`
	Period         string          `json:"period"`
	State          CommitmentState `json:"state"`
	Source         string          `json:"source,omitempty"`
	Version        uint64          `json:"version"`
}

// FundingLine totals funding and in-kind commitments under one key (a funder,
// an issue, an objective or a period) in one currency. Withdrawn commitments
// count nowhere: not in the totals, not in Commitments. Undisclosed counts
// commitments without an amount; having no amount, they have no currency, so
// they are counted on the line whose Currency is "".
type FundingLine struct {
	Key            string `json:"key"`
	Label          string `json:"label"`
	Currency       string `json:"currency"`
	PledgedCents   int64  `json:"pledged_cents"`
	FulfilledCents int64  `json:"fulfilled_cents"`
	Commitments    int    `json:"commitments"`
	Undisclosed    int    `json:"undisclosed"`
}

// FundingFilter narrows a funding report; zero fields do not filter. Period
// keeps the commitments made for exactly that period. Kind is one of
// FundingKinds.
//
// TODO: a year does not take in the quarters, months or school years that
// fall in it, so ?period=2019 leaves out a pledge for 2019-Q3.
type FundingFilter struct {
	IssueID   *uuid.UUID
	PartnerID *uuid.UUID
	Period    string
	Kind      CommitmentKind
}

// FundingKinds are the kinds of commitment a funding report covers.
var FundingKinds = []CommitmentKind{FundingCommitment, InKindCommitment}

// ParseFundingFilter builds a FundingFilter from text, such as a query
// string's; an empty value filters nothing. Errors: CodeInvalid, naming the
// field at fault (issue_id, partner_id, period or kind).
func ParseFundingFilter(issueID, partnerID, period, kind string) (FundingFilter, error) {
	var fe fieldErrors
	f := FundingFilter{
		IssueID:   optionalID(&fe, "issue_id", issueID),
		PartnerID: optionalID(&fe, "partner_id", partnerID),
	}
	if strings.TrimSpace(period) != "" {
		f.Period = periodText(&fe, "period", period)
	}
	if strings.TrimSpace(kind) != "" {
		f.Kind = parseEnum(&fe, "kind", kind, FundingKinds)
	}
	return f, fe.err()
}

// Normalize checks a filter built by hand and writes its period and kind the
// way commitments store them, so "2014-q3" finds "2014-Q3" and "in-kind"
// finds in_kind. Errors: CodeInvalid, naming period or kind.
func (f FundingFilter) Normalize() (FundingFilter, error) {
	var fe fieldErrors
	if strings.TrimSpace(f.Period) != "" {
		f.Period = periodText(&fe, "period", f.Period)
	}
	if strings.TrimSpace(string(f.Kind)) != "" {
		f.Kind = parseEnum(&fe, "kind", string(f.Kind), FundingKinds)
	}
	return f, fe.err()
}

// periodText parses a period and returns it written the one way it is stored.
func periodText(fe *fieldErrors, field, s string) string {
	p := period(fe, field, s)
	if p.IsZero() {
		return ""
	}
	return p.String()
}

// FundingReport is who funds what, across issues, including pooled funding of
// the shared backbone. Money is integer cents per currency, never a float.
//
// Totals has one line per currency, keyed "total". ByIssue keys pooled
// commitments, which name no issue, PooledKey; ByObjective keys commitments
// that name no objective "". Each table adds up to Totals. The issue filter
// leaves Pooled alone: pooled funding serves every issue, the filtered one too.
type FundingReport struct {
	Totals      []FundingLine    `json:"totals"`
	ByFunder    []FundingLine    `json:"by_funder"`
	ByIssue     []FundingLine    `json:"by_issue"`
	ByObjective []FundingLine    `json:"by_objective"`
	ByPeriod    []FundingLine    `json:"by_period"`
	Pooled      PooledFunding    `json:"pooled"`
	Commitments []CommitmentView `json:"commitments"`
}

// The keys of FundingReport's lines that name no partner, issue or objective.
const (
	TotalKey  = "total"
	PooledKey = "pooled"
)

// PooledFunding is funding committed to the backbone itself, and the number of
// issues that shared infrastructure serves (every issue launched).
type PooledFunding struct {
	ByFunder     []FundingLine `json:"by_funder"`
	IssuesServed int           `json:"issues_served"`
}

// FundingReader reads funding reports.
type FundingReader interface {
	// Position returns the stream sequence the funding read model has applied
	// up to; each read model has its own.
	Position(ctx context.Context) (uint64, error)
	// Funding returns the report of the commitments f selects.
	// Errors: CodeInvalid for a malformed period or kind.
	Funding(ctx context.Context, f FundingFilter) (FundingReport, error)
}

// FormatCents writes integer cents as a decimal amount with two decimals,
// "2500000.00", exactly: no float is involved.
//
// TODO: every currency is written with two decimals, so amounts in a currency
// with none (JPY) or three (BHD) read a hundred or ten times off.
func FormatCents(cents int64) string {
	sign, n := "", uint64(cents)
	if cents < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// Activity is one change in the feed: who changed what, and when.
type Activity struct {
	Sequence      uint64     `json:"sequence"`
	EventID       uuid.UUID  `json:"event_id"`
	Type          string     `json:"type"`
	RecordedAt    time.Time  `json:"recorded_at"`
	Actor         string     `json:"actor"`
	PartnerID     *uuid.UUID `json:"partner_id,omitempty"`
	PartnerName   string     `json:"partner_name,omitempty"`
	IssueID       *uuid.UUID `json:"issue_id,omitempty"`
	IssueTitle    string     `json:"issue_title,omitempty"`
	AggregateType string     `json:"aggregate_type"`
	AggregateID   uuid.UUID  `json:"aggregate_id"`
	Summary       string     `json:"summary"`
}

// ActivityFilter selects a page of the feed, newest first. Before is the
// sequence the page ends before (0 for the newest); Limit defaults to
// DefaultActivityLimit and is at most MaxActivityLimit.
type ActivityFilter struct {
	IssueID   *uuid.UUID
	PartnerID *uuid.UUID
	Before    uint64
	Limit     int
}

// ActivityPage is one page of the feed; Next is the Before of the next page, 0
// at the end.
type ActivityPage struct {
	Items []Activity `json:"items"`
	Next  uint64     `json:"next,omitempty"`
}

// The sizes of a page of the activity feed.
const (
	DefaultActivityLimit = 50
	MaxActivityLimit     = 200
)

// ParseActivityFilter builds an ActivityFilter from text, such as a query
// string's; an empty value filters nothing and an empty limit is the default.
// Errors: CodeInvalid, naming the field at fault (issue_id, partner_id,
// before or limit).
func ParseActivityFilter(issueID, partnerID, before, limit string) (ActivityFilter, error) {
	var fe fieldErrors
	f := ActivityFilter{
		IssueID:   optionalID(&fe, "issue_id", issueID),
		PartnerID: optionalID(&fe, "partner_id", partnerID),
		Limit:     DefaultActivityLimit,
	}
	if before = strings.TrimSpace(before); before != "" {
		n, err := strconv.ParseUint(before, 10, 64)
		if err != nil || n == 0 {
			fe.add("before", "%q is not a sequence of the feed, a whole number above 0", before)
		}
		f.Before = n
	}
	if limit = strings.TrimSpace(limit); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxActivityLimit {
			fe.add("limit", "%q is not a page size from 1 to %d", limit, MaxActivityLimit)
		}
		f.Limit = n
	}
	return f, fe.err()
}

// ActivityReader reads the activity feed.
type ActivityReader interface {
	// Position returns the stream sequence the activity read model has applied
	// up to; each read model has its own.
	Position(ctx context.Context) (uint64, error)
	// Activity returns one page of the feed, newest first. A Limit beyond
	// MaxActivityLimit is cut to it. It returns no error codes of its own.
	Activity(ctx context.Context, f ActivityFilter) (ActivityPage, error)
}

// ProjectorStatus is how far one projector is, for operators.
type ProjectorStatus struct {
	Name     string `json:"name"`
	Schema   string `json:"schema"`
	Position uint64 `json:"position"`
	// StreamLast is the stream's newest sequence; Behind = StreamLast − Position.
	StreamLast uint64 `json:"stream_last"`
	Behind     uint64 `json:"behind"`
	// OldestUnprocessedAge is how long the oldest event not yet applied has
	// waited, in seconds; 0 when caught up.
	OldestUnprocessedAge float64 `json:"oldest_unprocessed_age_seconds"`
	// Active says a process runs the projector now (it holds the read model's
	// lock); a read model nobody projects falls behind.
	Active bool `json:"active"`
	// Poisoned lists the events parked (skipped) and the one the projector is
	// stuck on (Parked false), if any.
	Poisoned []Poison `json:"poisoned"`
}

// Poison is an event a projector could not apply.
type Poison struct {
	Sequence  uint64    `json:"sequence"`
	EventType string    `json:"event_type"`
	Error     string    `json:"error"`
	At        time.Time `json:"at"`
	Parked    bool      `json:"parked"`
}

// PartnerReader lists partners.
type PartnerReader interface {
	// Partners returns every partner, by name.
	Partners(ctx context.Context) ([]PartnerSummary, error)
}
