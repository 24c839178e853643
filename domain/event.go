package domain

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Aggregate types: each names the consistency boundary an event belongs to.
const (
	PartnerAggregate    = "partner"
	IssueAggregate      = "issue"
	ObjectiveAggregate  = "objective"
	MeasureAggregate    = "measure"
	CommitmentAggregate = "commitment"
)

// Event is the envelope every change travels in: stored on the stream, applied by
// projectors, delivered by webhooks and exported, always in this JSON form.
type Event struct {
	ID               uuid.UUID  `json:"id"`
	Type             string     `json:"type"`
	SchemaVersion    int        `json:"schema_version"`
	AggregateType    string     `json:"aggregate_type"`
	AggregateID      uuid.UUID  `json:"aggregate_id"`
	AggregateVersion uint64     `json:"aggregate_version"`
	Sequence         uint64     `json:"sequence,omitempty"`
	OccurredAt       time.Time  `json:"occurred_at"`
	RecordedAt       time.Time  `json:"recorded_at"`
	Actor            string     `json:"actor"`
	PartnerID        *uuid.UUID `json:"partner_id,omitempty"`
	CorrelationID    uuid.UUID  `json:"correlation_id"`
	CausationID      uuid.UUID  `json:"causation_id"`
	Source           string     `json:"source,omitempty"`
	Payload          Payload    `json:"payload"`
}

// Payload is the body of an event; its type names the event.
type Payload interface {
	EventType() string
}

// Event types, version 1.
const (
	PartnerRegistered = "partner.registered"
	IssueLaunched     = "issue.launched"
	ObjectiveDefined  = "objective.defined"
	ObjectivesLinked  = "objective.linked"
	MeasureDefined    = "measure.defined"
	TargetSet         = "measure.target_set"
	ProgressReported  = "measure.progress_reported"
	ProgressCorrected = "measure.progress_corrected"
	CommitmentMade    = "commitment.made"

	PerspectiveLabelsSet    = "issue.perspective_labels_set"
	ObjectiveRenamed        = "objective.renamed"
	ObjectiveRetired        = "objective.retired"
	ObjectivesUnlinked      = "objective.unlinked"
	MeasureRetired          = "measure.retired"
	StatusBandsSet          = "measure.status_bands_set"
	CommitmentPartFulfilled = "commitment.partly_fulfilled"
	CommitmentFulfilled     = "commitment.fulfilled"
	CommitmentWithdrawn     = "commitment.withdrawn"
)

// CurrentSchemaVersion is the payload version this code writes.
const CurrentSchemaVersion = 1

// PartnerRegisteredV1 records a new partner of the backbone.
type PartnerRegisteredV1 struct {
	Name string      `json:"name"`
	Kind PartnerKind `json:"kind"`
}

// IssueLaunchedV1 records a new shared community issue.
type IssueLaunchedV1 struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// ObjectiveDefinedV1 records an objective in one perspective of an issue's map.
type ObjectiveDefinedV1 struct {
	IssueID     uuid.UUID   `json:"issue_id"`
	Perspective Perspective `json:"perspective"`
	Title       string      `json:"title"`
}

// ObjectivesLinkedV1 records that the cause objective drives the effect objective.
// It is stored on the issue's subject: the no-cycle rule spans the whole map.
type ObjectivesLinkedV1 struct {
	CauseID  uuid.UUID `json:"cause_objective_id"`
	EffectID uuid.UUID `json:"effect_objective_id"`
}

// MeasureDefinedV1 records a measure under an objective.
type MeasureDefinedV1 struct {
	ObjectiveID    uuid.UUID   `json:"objective_id"`
	IssueID        uuid.UUID   `json:"issue_id"`
	Name           string      `json:"name"`
	Unit           string      `json:"unit"`
	Polarity       Polarity    `json:"polarity"`
	Kind           MeasureKind `json:"kind"`
	OwnerPartnerID *uuid.UUID  `json:"owner_partner_id,omitempty"`
	BaselinePeriod *Period     `json:"baseline_period,omitempty"`
	BaselineValue  *float64    `json:"baseline_value,omitempty"`
	// Question tags a performance measure: how much did we do, how well did we
	// do it, is anyone better off.
	Question Question `json:"question,omitempty"`
}

// TargetSetV1 records the value a measure aims for in a period.
type TargetSetV1 struct {
	Period Period  `json:"period"`
	Value  float64 `json:"value"`
}

// ProgressReportedV1 records an actual value of a measure for a period.
type ProgressReportedV1 struct {
	Period             Period     `json:"period"`
	Value              float64    `json:"value"`
	Disaggregation     string     `json:"disaggregation,omitempty"`
	ReportingPartnerID *uuid.UUID `json:"reporting_partner_id,omitempty"`
	Note               string     `json:"note,omitempty"`
}

// ProgressCorrectedV1 replaces a reported value; the reported one stays in history.
type ProgressCorrectedV1 struct {
	Period         Period  `json:"period"`
	Disaggregation string  `json:"disaggregation,omitempty"`
	Value          float64 `json:"value"`
	Reason         string  `json:"reason"`
}

// CommitmentMadeV1 records what a partner commits to an issue: an action, money
// or an in-kind contribution. Money is integer cents; no amount means undisclosed.
type CommitmentMadeV1 struct {
	PartnerID uuid.UUID `json:"partner_id"`
	// IssueID is zero for pooled funding of the shared backbone itself.
	IssueID     uuid.UUID      `json:"issue_id,omitzero"`
	Pooled      bool           `json:"pooled,omitempty"`
	ObjectiveID *uuid.UUID     `json:"objective_id,omitempty"`
	Kind        CommitmentKind `json:"kind"`
	Description string         `json:"description"`
	AmountCents *int64         `json:"amount_cents,omitempty"`
	Currency    string         `json:"currency,omitempty"`
	Period      Period         `json:"period"`
}

// PerspectiveLabelsSetV1 renames the bands of an issue's strategy map; a
// perspective missing from Labels keeps its default name.
type PerspectiveLabelsSetV1 struct {
	Labels map[Perspective]string `json:"labels"`
}

// ObjectiveRenamedV1 records an objective's new title.
type ObjectiveRenamedV1 struct {
	Title string `json:"title"`
}

// ObjectiveRetiredV1 takes an objective off its map; its history stays.
type ObjectiveRetiredV1 struct {
	Reason string `json:"reason"`
}

// ObjectivesUnlinkedV1 removes a cause-and-effect link; stored on the issue.
type ObjectivesUnlinkedV1 struct {
	CauseID  uuid.UUID `json:"cause_objective_id"`
	EffectID uuid.UUID `json:"effect_objective_id"`
}

// MeasureRetiredV1 stops a measure from taking new values; its history stays.
type MeasureRetiredV1 struct {
	Reason string `json:"reason"`
}

// StatusBandsSetV1 sets how far short of its target a measure is still at risk
// rather than off track, in percent of the target.
type StatusBandsSetV1 struct {
	AtRiskPercent float64 `json:"at_risk_percent"`
}

// CommitmentPartlyFulfilledV1 records part of a commitment delivered: for money,
// an amount in the commitment's currency.
type CommitmentPartlyFulfilledV1 struct {
	AmountCents *int64 `json:"amount_cents,omitempty"`
	Period      Period `json:"period,omitzero"`
	Note        string `json:"note,omitempty"`
}

// CommitmentFulfilledV1 records a commitment delivered in full; AmountCents is
// the last instalment, if any.
type CommitmentFulfilledV1 struct {
	AmountCents *int64 `json:"amount_cents,omitempty"`
	Period      Period `json:"period,omitzero"`
	Note        string `json:"note,omitempty"`
}

// CommitmentWithdrawnV1 records that a partner took a commitment back.
type CommitmentWithdrawnV1 struct {
	Reason string `json:"reason"`
}

// EventType implementations name each payload's event.
func (PartnerRegisteredV1) EventType() string { return PartnerRegistered }
func (IssueLaunchedV1) EventType() string     { return IssueLaunched }
func (ObjectiveDefinedV1) EventType() string  { return ObjectiveDefined }
func (ObjectivesLinkedV1) EventType() string  { return ObjectivesLinked }
func (MeasureDefinedV1) EventType() string    { return MeasureDefined }
func (TargetSetV1) EventType() string         { return TargetSet }
func (ProgressReportedV1) EventType() string  { return ProgressReported }
func (ProgressCorrectedV1) EventType() string { return ProgressCorrected }
func (CommitmentMadeV1) EventType() string    { return CommitmentMade }

func (PerspectiveLabelsSetV1) EventType() string      { return PerspectiveLabelsSet }
func (ObjectiveRenamedV1) EventType() string          { return ObjectiveRenamed }
func (ObjectiveRetiredV1) EventType() string          { return ObjectiveRetired }
func (ObjectivesUnlinkedV1) EventType() string        { return ObjectivesUnlinked }
func (MeasureRetiredV1) EventType() string            { return MeasureRetired }
func (StatusBandsSetV1) EventType() string            { return StatusBandsSet }
func (CommitmentPartlyFulfilledV1) EventType() string { return CommitmentPartFulfilled }
func (CommitmentFulfilledV1) EventType() string       { return CommitmentFulfilled }
func (CommitmentWithdrawnV1) EventType() string       { return CommitmentWithdrawn }

// UnknownPayload keeps the raw body of an event type this build does not know, so
// a reader older than the writer skips it instead of failing.
type UnknownPayload struct {
	Type string
	Raw  json.RawMessage
}

// EventType returns the unknown type's name.
func (u UnknownPayload) EventType() string { return u.Type }

// MarshalJSON writes the raw body back unchanged.
func (u UnknownPayload) MarshalJSON() ([]byte, error) {
	if len(u.Raw) == 0 {
		return []byte("null"), nil
	}
	return u.Raw, nil
}

// payloadTypes makes an empty payload of the current version for each event type.
var payloadTypes = map[string]func() Payload{
	PartnerRegistered: func() Payload { return &PartnerRegisteredV1{} },
	IssueLaunched:     func() Payload { return &IssueLaunchedV1{} },
	ObjectiveDefined:  func() Payload { return &ObjectiveDefinedV1{} },
	ObjectivesLinked:  func() Payload { return &ObjectivesLinkedV1{} },
	MeasureDefined:    func() Payload { return &MeasureDefinedV1{} },
	TargetSet:         func() Payload { return &TargetSetV1{} },
	ProgressReported:  func() Payload { return &ProgressReportedV1{} },
	ProgressCorrected: func() Payload { return &ProgressCorrectedV1{} },
	CommitmentMade:    func() Payload { return &CommitmentMadeV1{} },

	PerspectiveLabelsSet:    func() Payload { return &PerspectiveLabelsSetV1{} },
	ObjectiveRenamed:        func() Payload { return &ObjectiveRenamedV1{} },
	ObjectiveRetired:        func() Payload { return &ObjectiveRetiredV1{} },
	ObjectivesUnlinked:      func() Payload { return &ObjectivesUnlinkedV1{} },
	MeasureRetired:          func() Payload { return &MeasureRetiredV1{} },
	StatusBandsSet:          func() Payload { return &StatusBandsSetV1{} },
	CommitmentPartFulfilled: func() Payload { return &CommitmentPartlyFulfilledV1{} },
	CommitmentFulfilled:     func() Payload { return &CommitmentFulfilledV1{} },
	CommitmentWithdrawn:     func() Payload { return &CommitmentWithdrawnV1{} },
}

// upcasters turn an older payload version into the next one, keyed by event type
// and the version they read. Version 1 is the only version so far.
var upcasters = map[string]map[int]func(json.RawMessage) (json.RawMessage, error){}

// UnmarshalJSON decodes an envelope and its payload, upcasting old payload
// versions to the current one.
func (e *Event) UnmarshalJSON(b []byte) error {
	type envelope Event
	var raw struct {
		envelope
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = Event(raw.envelope)

	body := raw.Payload
	for v := e.SchemaVersion; v < CurrentSchemaVersion; v++ {
		up, ok := upcasters[e.Type][v]
		if !ok {
			return fmt.Errorf("no upcaster for %s version %d", e.Type, v)
		}
		var err error
		if body, err = up(body); err != nil {
			return fmt.Errorf("upcast %s version %d: %w", e.Type, v, err)
		}
	}

	newPayload, ok := payloadTypes[e.Type]
	if !ok || e.SchemaVersion > CurrentSchemaVersion {
		e.Payload = UnknownPayload{Type: e.Type, Raw: body}
		return nil
	}
	p := newPayload()
	if err := json.Unmarshal(body, p); err != nil {
		return fmt.Errorf("decode %s payload: %w", e.Type, err)
	}
	e.Payload = deref(p)
	e.SchemaVersion = CurrentSchemaVersion
	return nil
}

// deref turns the pointer payloads of payloadTypes into values, so code can switch
// on value types only.
func deref(p Payload) Payload {
	return reflect.ValueOf(p).Elem().Interface().(Payload)
}
