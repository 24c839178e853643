package domain

import (
	"fmt"

	"github.com/google/uuid"
)

// Measure is an indicator or performance measure under an objective, with its
// targets and the values partners report for it.
type Measure struct {
	ID         uuid.UUID
	Defined    *Event
	Definition MeasureDefinedV1
	Targets    map[Period]Target
	Values     map[ValueKey]Value
	Retired    *Event
	// AtRiskPercent is the measure's at-risk band; BandsSet is nil while it is
	// the default.
	AtRiskPercent float64
	BandsSet      *Event
}

// Target is the value a measure aims for in a period, and the event that set it.
type Target struct {
	Value float64
	Set   Event
}

// ValueKey names one cell of a measure's series: a period and a breakdown
// ("" for the total).
type ValueKey struct {
	Period         Period
	Disaggregation string
}

func (k ValueKey) String() string {
	if k.Disaggregation == "" {
		return k.Period.String()
	}
	return fmt.Sprintf("%s (%s)", k.Period, k.Disaggregation)
}

// Value is one reported value, as reported and as it stands after corrections.
type Value struct {
	Reported  float64
	Current   float64
	Report    Event
	Corrected *Event
}

// Exists reports whether the measure was defined.
func (m Measure) Exists() bool { return m.Defined != nil }

func (m *Measure) apply(e Event) {
	switch p := e.Payload.(type) {
	case MeasureDefinedV1:
		m.ID, m.Defined, m.Definition = e.AggregateID, &e, p
		m.Targets, m.Values = map[Period]Target{}, map[ValueKey]Value{}
		m.AtRiskPercent = AtRiskBand * 100
	case TargetSetV1:
		m.Targets[p.Period] = Target{Value: p.Value, Set: e}
	case ProgressReportedV1:
		k := ValueKey{p.Period, p.Disaggregation}
		m.Values[k] = Value{Reported: p.Value, Current: p.Value, Report: e}
	case ProgressCorrectedV1:
		k := ValueKey{p.Period, p.Disaggregation}
		v := m.Values[k]
		v.Current, v.Corrected = p.Value, &e
		m.Values[k] = v
	case MeasureRetiredV1:
		m.Retired = &e
	case StatusBandsSetV1:
		m.AtRiskPercent, m.BandsSet = p.AtRiskPercent, &e
	}
}

// open refuses new targets and values on a retired measure.
func (m Measure) open(id string) error {
	if !m.Exists() {
		return Errorf(CodeNotFound, "measure %s does not exist", id)
	}
	if m.Retired != nil {
		return Errorf(CodeConflict, "measure %q is retired and takes no new values",
			m.Definition.Name)
	}
	return nil
}

// DefineMeasure asks to define a measure under the objective in the request path.
// The baseline period and value come together or not at all.
type DefineMeasure struct {
	ID             string   `json:"id"`
	ObjectiveID    string   `json:"-"`
	Name           string   `json:"name"`
	Unit           string   `json:"unit"`
	Polarity       string   `json:"polarity"`
	Kind           string   `json:"kind"`
	OwnerPartnerID string   `json:"owner_partner_id"`
	BaselinePeriod string   `json:"baseline_period"`
	BaselineValue  *float64 `json:"baseline_value"`
	Question       string   `json:"question"`
	Source         string   `json:"source"`
}

// Define decides DefineMeasure. owner is the zero Partner when none is named.
func (m Measure) Define(c DefineMeasure, objective Objective, owner Partner) (Decision, error) {
	if !objective.Exists() {
		return Decision{}, Errorf(CodeNotFound, "objective %s does not exist", c.ObjectiveID)
	}
	var fe fieldErrors
	d := MeasureDefinedV1{
		ObjectiveID:    objective.ID,
		IssueID:        objective.IssueID,
		Name:           text(&fe, "name", c.Name, 1, maxName),
		Unit:           text(&fe, "unit", c.Unit, 1, maxUnit),
		Polarity:       parseEnum(&fe, "polarity", c.Polarity, Polarities),
		Kind:           parseEnum(&fe, "kind", c.Kind, MeasureKinds),
		OwnerPartnerID: optionalID(&fe, "owner_partner_id", c.OwnerPartnerID),
	}
	if c.Question != "" {
		d.Question = parseEnum(&fe, "question", c.Question, Questions)
		if d.Kind == PopulationIndicator {
			fe.add("question", "only performance measures answer a performance question")
		}
	}
	if objective.Retired != nil {
		fe.add("objective", "objective %q is retired and takes no new measures", objective.Title)
	}
	if d.OwnerPartnerID != nil && !owner.Exists() {
		fe.add("owner_partner_id", "partner %s does not exist", d.OwnerPartnerID)
	}
	switch {
	case c.BaselinePeriod != "" && c.BaselineValue != nil:
		p := period(&fe, "baseline_period", c.BaselinePeriod)
		v := value(&fe, "baseline_value", c.BaselineValue, d.Unit)
		d.BaselinePeriod, d.BaselineValue = &p, &v
	case c.BaselinePeriod != "":
		fe.add("baseline_value", "is required when baseline_period is given")
	case c.BaselineValue != nil:
		fe.add("baseline_period", "is required when baseline_value is given")
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}

	if m.Exists() {
		if sameDefinition(m.Definition, d) {
			return AlreadyDone(*m.Defined), nil
		}
		return Decision{}, Errorf(CodeConflict,
			"measure %s is already defined as %q", m.ID, m.Definition.Name)
	}
	return Append(d, d.OwnerPartnerID), nil
}

func sameDefinition(a, b MeasureDefinedV1) bool {
	return a.ObjectiveID == b.ObjectiveID && a.Name == b.Name && a.Unit == b.Unit &&
		a.Polarity == b.Polarity && a.Kind == b.Kind &&
		equalPtr(a.OwnerPartnerID, b.OwnerPartnerID) &&
		equalPtr(a.BaselinePeriod, b.BaselinePeriod) &&
		equalPtr(a.BaselineValue, b.BaselineValue) && a.Question == b.Question
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// SetTarget asks to set the measure's target for a period.
type SetTarget struct {
	MeasureID string   `json:"-"`
	Period    string   `json:"period"`
	Value     *float64 `json:"value"`
	Source    string   `json:"source"`
}

// SetTarget decides SetTarget. A new value for a period replaces the old target;
// the same value again changes nothing.
func (m Measure) SetTarget(c SetTarget) (Decision, error) {
	if err := m.open(c.MeasureID); err != nil {
		return Decision{}, err
	}
	var fe fieldErrors
	t := TargetSetV1{
		Period: period(&fe, "period", c.Period),
		Value:  value(&fe, "value", c.Value, m.Definition.Unit),
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if old, ok := m.Targets[t.Period]; ok && old.Value == t.Value {
		return AlreadyDone(old.Set), nil
	}
	return Append(t, nil), nil
}

// ReportProgress asks to record an actual value of the measure for a period.
type ReportProgress struct {
	MeasureID          string   `json:"-"`
	Period             string   `json:"period"`
	Value              *float64 `json:"value"`
	Disaggregation     string   `json:"disaggregation"`
	ReportingPartnerID string   `json:"reporting_partner_id"`
	Note               string   `json:"note"`
	Source             string   `json:"source"`
}

// Report decides ReportProgress. reporter is the zero Partner when none is named.
// A period and breakdown hold one reported value: the same value again changes
// nothing, another value must come as a correction.
func (m Measure) Report(c ReportProgress, reporter Partner) (Decision, error) {
	if err := m.open(c.MeasureID); err != nil {
		return Decision{}, err
	}
	var fe fieldErrors
	r := ProgressReportedV1{
		Period:             period(&fe, "period", c.Period),
		Value:              value(&fe, "value", c.Value, m.Definition.Unit),
		Disaggregation:     disaggregation(&fe, "disaggregation", c.Disaggregation),
		ReportingPartnerID: optionalID(&fe, "reporting_partner_id", c.ReportingPartnerID),
		Note:               text(&fe, "note", c.Note, 0, maxNote),
	}
	if r.ReportingPartnerID != nil && !reporter.Exists() {
		fe.add("reporting_partner_id", "partner %s does not exist", r.ReportingPartnerID)
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}

	k := ValueKey{r.Period, r.Disaggregation}
	if old, ok := m.Values[k]; ok {
		switch {
		case old.Corrected != nil && old.Current == r.Value:
			return AlreadyDone(*old.Corrected), nil
		case old.Reported == r.Value:
			return AlreadyDone(old.Report), nil
		}
		return Decision{}, Errorf(CodeConflict,
			"%s already has the value %v for %s; send a correction to change it",
			m.Definition.Name, old.Current, k)
	}
	return Append(r, r.ReportingPartnerID), nil
}

// CorrectProgress asks to replace a reported value, giving the reason.
type CorrectProgress struct {
	MeasureID      string   `json:"-"`
	Period         string   `json:"period"`
	Disaggregation string   `json:"disaggregation"`
	Value          *float64 `json:"value"`
	Reason         string   `json:"reason"`
	Source         string   `json:"source"`
}

// Correct decides CorrectProgress: only a reported value can be corrected, and a
// correction to the value already standing changes nothing.
func (m Measure) Correct(c CorrectProgress) (Decision, error) {
	if !m.Exists() {
		return Decision{}, Errorf(CodeNotFound, "measure %s does not exist", c.MeasureID)
	}
	var fe fieldErrors
	r := ProgressCorrectedV1{
		Period:         period(&fe, "period", c.Period),
		Disaggregation: disaggregation(&fe, "disaggregation", c.Disaggregation),
		Value:          value(&fe, "value", c.Value, m.Definition.Unit),
		Reason:         text(&fe, "reason", c.Reason, 1, maxNote),
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}

	k := ValueKey{r.Period, r.Disaggregation}
	old, ok := m.Values[k]
	switch {
	case !ok:
		return Decision{}, Invalid("period", "no value was reported for %s to correct", k)
	case old.Current == r.Value && old.Corrected != nil:
		return AlreadyDone(*old.Corrected), nil
	case old.Current == r.Value:
		return AlreadyDone(old.Report), nil
	}
	return Append(r, nil), nil
}

// RetireMeasure asks to stop a measure from taking new values.
type RetireMeasure struct {
	MeasureID string `json:"-"`
	Reason    string `json:"reason"`
	Source    string `json:"source"`
}

// Retire decides RetireMeasure; retiring a retired measure changes nothing.
func (m Measure) Retire(c RetireMeasure) (Decision, error) {
	if !m.Exists() {
		return Decision{}, Errorf(CodeNotFound, "measure %s does not exist", c.MeasureID)
	}
	var fe fieldErrors
	r := MeasureRetiredV1{Reason: text(&fe, "reason", c.Reason, 1, maxNote)}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if m.Retired != nil {
		return AlreadyDone(*m.Retired), nil
	}
	return Append(r, nil), nil
}

// SetStatusBands asks to change how far short of target a measure is at risk.
type SetStatusBands struct {
	MeasureID     string   `json:"-"`
	AtRiskPercent *float64 `json:"at_risk_percent"`
	Source        string   `json:"source"`
}

// SetBands decides SetStatusBands: the band is 0-100 percent of the target.
func (m Measure) SetBands(c SetStatusBands) (Decision, error) {
	if !m.Exists() {
		return Decision{}, Errorf(CodeNotFound, "measure %s does not exist", c.MeasureID)
	}
	var fe fieldErrors
	b := StatusBandsSetV1{AtRiskPercent: value(&fe, "at_risk_percent", c.AtRiskPercent, "%")}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if m.BandsSet != nil && m.AtRiskPercent == b.AtRiskPercent {
		return AlreadyDone(*m.BandsSet), nil
	}
	return Append(b, nil), nil
}
