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

// Scorecard is an issue's measures against their targets.
type Scorecard struct {
	Issue    IssueSummary  `json:"issue"`
	Measures []MeasureView `json:"measures"`
}

// MeasureView is one row of a scorecard: a measure, where it stands and its
// whole series.
type MeasureView struct {
	ID               uuid.UUID    `json:"id"`
	IssueID          uuid.UUID    `json:"issue_id"`
	ObjectiveID      uuid.UUID    `json:"objective_id"`
	ObjectiveTitle   string       `json:"objective_title"`
	Perspective      Perspective  `json:"perspective"`
	Name             string       `json:"name"`
	Unit             string       `json:"unit"`
	Polarity         Polarity     `json:"polarity"`
	Kind             MeasureKind  `json:"kind"`
	OwnerPartnerID   *uuid.UUID   `json:"owner_partner_id,omitempty"`
	OwnerPartnerName string       `json:"owner_partner_name,omitempty"`
	Baseline         *PeriodValue `json:"baseline,omitempty"`
	// Latest is the newest total (not disaggregated) value.
	Latest *PeriodValue `json:"latest,omitempty"`
	// Target is the target for Latest's period, if one was set.
	Target  *float64      `json:"target,omitempty"`
	Status  Status        `json:"status"`
	Targets []PeriodValue `json:"targets"`
	Series  []SeriesPoint `json:"series"`
	Version uint64        `json:"version"`
	Updated time.Time     `json:"updated_at"`
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
