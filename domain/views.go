package domain

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ReadModel answers the queries of the API and the UI from projections. Reads
// are eventually consistent: Position says how far into the stream they are.
type ReadModel interface {
	// Position returns the stream sequence the read model has applied up to.
	Position(ctx context.Context) (uint64, error)
	// Issues lists every issue, by title.
	Issues(ctx context.Context) ([]IssueSummary, error)
	// Scorecard returns an issue's measures with status and series.
	// Errors: CodeNotFound.
	Scorecard(ctx context.Context, issueID uuid.UUID) (Scorecard, error)
	// ObjectiveScorecard returns the measures of one objective, with the
	// objective and its issue. Errors: CodeNotFound.
	ObjectiveScorecard(ctx context.Context, objectiveID uuid.UUID) (Scorecard, error)
	// PartnerScorecard returns the measures a partner owns or reports values
	// of, across issues. Errors: CodeNotFound.
	PartnerScorecard(ctx context.Context, partnerID uuid.UUID) (Scorecard, error)
	// Measure returns one measure with its series and targets.
	// Errors: CodeNotFound.
	Measure(ctx context.Context, id uuid.UUID) (MeasureView, error)
}

// IssueSummary is an issue as listed.
type IssueSummary struct {
	ID          uuid.UUID `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Objectives  int       `json:"objectives"`
	Measures    int       `json:"measures"`
	Version     uint64    `json:"version"`
}

// ObjectiveSummary is the objective an objective's scorecard is about.
type ObjectiveSummary struct {
	ID          uuid.UUID   `json:"id"`
	IssueID     uuid.UUID   `json:"issue_id"`
	Perspective Perspective `json:"perspective"`
	Title       string      `json:"title"`
	Retired     bool        `json:"retired"`
	// Status is its measures' statuses rolled up (RollUp).
	Status  Status `json:"status"`
	Version uint64 `json:"version"`
}

// PartnerSummary is the partner a partner's scorecard is about.
type PartnerSummary struct {
	ID      uuid.UUID   `json:"id"`
	Name    string      `json:"name"`
	Kind    PartnerKind `json:"kind"`
	Version uint64      `json:"version"`
}

// Scorecard is a set of measures against their targets: an issue's, an
// objective's or a partner's. Population indicators and performance measures
// are listed apart, as Results-Based Accountability keeps them; each list is
// ordered by perspective (results first), objective, then measure name.
type Scorecard struct {
	// Issue is the scorecard's issue; zero on a partner's scorecard, which
	// spans issues (each row names its own).
	Issue IssueSummary `json:"issue,omitzero"`
	// Objective is set on an objective's scorecard.
	Objective *ObjectiveSummary `json:"objective,omitempty"`
	// Partner is set on a partner's scorecard.
	Partner *PartnerSummary `json:"partner,omitempty"`
	// Population holds the population indicators: community results no
	// partner controls alone.
	Population []MeasureView `json:"population"`
	// Performance holds the performance measures, each tagged by the question
	// it answers.
	Performance []MeasureView `json:"performance"`
	// Measures is every row, both kinds, in one list for callers that show
	// them together; it stays out of JSON, which keeps the kinds apart.
	Measures []MeasureView `json:"-"`
}

// MeasureView is one row of a scorecard: a measure, where it stands and its
// whole series. Where it stands is the domain's Judgement of its latest total
// (not disaggregated) value, embedded: status, percent_of_target, variance,
// change_since_baseline, trend and trend_periods.
type MeasureView struct {
	ID             uuid.UUID   `json:"id"`
	IssueID        uuid.UUID   `json:"issue_id"`
	IssueTitle     string      `json:"issue_title"`
	ObjectiveID    uuid.UUID   `json:"objective_id"`
	ObjectiveTitle string      `json:"objective_title"`
	Perspective    Perspective `json:"perspective"`
	Name           string      `json:"name"`
	Unit           string      `json:"unit"`
	Polarity       Polarity    `json:"polarity"`
	Kind           MeasureKind `json:"kind"`
	// Question is the performance question a performance measure answers;
	// empty for population indicators and untagged measures.
	Question         Question     `json:"question,omitempty"`
	OwnerPartnerID   *uuid.UUID   `json:"owner_partner_id,omitempty"`
	OwnerPartnerName string       `json:"owner_partner_name,omitempty"`
	Baseline         *PeriodValue `json:"baseline,omitempty"`
	// Latest is the newest total (not disaggregated) value, as it stands after
	// corrections.
	Latest *PeriodValue `json:"latest,omitempty"`
	// Corrected says Latest was corrected after it was reported.
	Corrected bool `json:"corrected"`
	// Target is the target for Latest's period, if one was set.
	Target *float64 `json:"target,omitempty"`
	// AtRiskPercent is the measure's status band: how far short of its target,
	// in percent of the target, it is still at risk rather than off track.
	AtRiskPercent float64 `json:"at_risk_percent"`
	Judgement
	// Disaggregations are the measure's breakdowns (race=Black), by name.
	Disaggregations []DisaggregatedRow `json:"disaggregations"`
	Targets         []PeriodValue      `json:"targets"`
	Series          []SeriesPoint      `json:"series"`
	Version         uint64             `json:"version"`
	Updated         time.Time          `json:"updated_at"`
}

// DisaggregatedRow is where one breakdown of a measure stands: its latest
// value judged like the measure's own, against the measure's target for that
// period where one applies, and its change since the measure's baseline
// period when the breakdown has a value for it.
type DisaggregatedRow struct {
	Disaggregation string      `json:"disaggregation"`
	Latest         PeriodValue `json:"latest"`
	// Corrected says Latest was corrected after it was reported.
	Corrected bool `json:"corrected"`
	// Target is the measure's target for Latest's period, if one was set.
	Target *float64 `json:"target,omitempty"`
	Judgement
}

// PeriodValue is a value in a period.
type PeriodValue struct {
	Period string  `json:"period"`
	Value  float64 `json:"value"`
}

// SeriesPoint is one reported value, with its breakdown and provenance.
type SeriesPoint struct {
	Period             string     `json:"period"`
	Disaggregation     string     `json:"disaggregation,omitempty"`
	Value              float64    `json:"value"`
	ReportedValue      float64    `json:"reported_value"`
	Corrected          bool       `json:"corrected"`
	CorrectionReason   string     `json:"correction_reason,omitempty"`
	ReportingPartnerID *uuid.UUID `json:"reporting_partner_id,omitempty"`
	Note               string     `json:"note,omitempty"`
	Source             string     `json:"source,omitempty"`
	Sequence           uint64     `json:"sequence"`
}

// Role is what a principal may do.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"
	RoleEditor  Role = "partner_editor"
	RoleAnalyst Role = "analyst"
	RoleViewer  Role = "viewer"
)

// Principal is who a request acts as, once authenticated.
type Principal struct {
	Actor     string     `json:"actor"`
	Role      Role       `json:"role"`
	PartnerID *uuid.UUID `json:"partner_id,omitempty"`
}

// Authenticator turns a bearer token into a principal.
type Authenticator interface {
	// Authenticate returns the principal of a token. Errors: CodeUnauthorized.
	Authenticate(ctx context.Context, token string) (Principal, error)
}
