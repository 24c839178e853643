package projections

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// known is what the activity read model knows of the aggregates one batch
// refers to: loaded before the batch, then taught by the batch's own
// definitions as they are applied, in stream order.
type known struct {
	partners    map[uuid.UUID]string
	issues      map[uuid.UUID]string
	objectives  map[uuid.UUID]named
	measures    map[uuid.UUID]named
	commitments map[uuid.UUID]commitmentRef
}

// named is an objective or a measure: the issue it belongs to and its title.
type named struct {
	issue uuid.UUID
	name  string
}

// commitmentRef is what a commitment's later events are described with.
type commitmentRef struct {
	partner     uuid.UUID
	issue       *uuid.UUID
	currency    string
	description string
}

func newKnown() *known {
	return &known{partners: map[uuid.UUID]string{}, issues: map[uuid.UUID]string{},
		objectives: map[uuid.UUID]named{}, measures: map[uuid.UUID]named{},
		commitments: map[uuid.UUID]commitmentRef{}}
}

// learn records what a defining event tells of its aggregate.
func (k *known) learn(e domain.Event) {
	id := e.AggregateID
	switch p := e.Payload.(type) {
	case domain.PartnerRegisteredV1:
		k.partners[id] = p.Name
	case domain.IssueLaunchedV1:
		k.issues[id] = p.Title
	case domain.ObjectiveDefinedV1:
		k.objectives[id] = named{issue: p.IssueID, name: p.Title}
	case domain.ObjectiveRenamedV1:
		if o, ok := k.objectives[id]; ok {
			o.name = p.Title
			k.objectives[id] = o
		}
	case domain.MeasureDefinedV1:
		k.measures[id] = named{issue: p.IssueID, name: p.Name}
	case domain.CommitmentMadeV1:
		k.commitments[id] = commitmentRef{partner: p.PartnerID, issue: nilIfZero(p.IssueID),
			currency: p.Currency, description: p.Description}
	}
}

// place returns the partner and the issue an event concerns: the envelope's
// partner, or the commitment's; the issue itself, or the one the objective,
// measure or commitment belongs to. Either is nil when none is known.
func (k *known) place(e domain.Event) (partner, issue *uuid.UUID) {
	partner = e.PartnerID
	id := e.AggregateID
	switch e.AggregateType {
	case domain.PartnerAggregate:
		partner = &id
	case domain.IssueAggregate:
		issue = &id
	case domain.ObjectiveAggregate:
		if o, ok := k.objectives[id]; ok {
			issue = &o.issue
		}
	case domain.MeasureAggregate:
		if m, ok := k.measures[id]; ok {
			issue = &m.issue
		}
	case domain.CommitmentAggregate:
		if c, ok := k.commitments[id]; ok {
			partner, issue = &c.partner, c.issue
		}
	}

	switch p := e.Payload.(type) {
	case domain.ObjectiveDefinedV1:
		issue = &p.IssueID
	case domain.MeasureDefinedV1:
		issue = &p.IssueID
	case domain.CommitmentMadeV1:
		partner, issue = &p.PartnerID, nilIfZero(p.IssueID)
	}
	return partner, issue
}

// describe returns the partner and the issue an event concerns and the
// sentence the feed shows for it. A change a partner makes reads with the
// partner as its subject ("Tacoma Public Schools reported 82.6 for 2015 on
// ..."); the shared agenda's changes read without one ("Launched the issue
// ..."). An event type this build does not know gets a generic sentence.
func (k *known) describe(e domain.Event) (partner, issue *uuid.UUID, summary string) {
	partner, issue = k.place(e)
	who := ""
	if partner != nil {
		who = k.partners[*partner]
	}

	var phrase string
	switch p := e.Payload.(type) {
	case domain.PartnerRegisteredV1:
		who, phrase = "", fmt.Sprintf("registered %s as a partner (%s)", p.Name,
			strings.ReplaceAll(string(p.Kind), "_", " "))
	case domain.IssueLaunchedV1:
		who, phrase = "", "launched the issue "+p.Title
	case domain.ObjectiveDefinedV1:
		who, phrase = "", fmt.Sprintf("defined the objective %s (%s)", p.Title, p.Perspective)
	case domain.MeasureDefinedV1:
		who, phrase = "", "defined the measure "+p.Name
		if p.OwnerPartnerID != nil && k.partners[*p.OwnerPartnerID] != "" {
			phrase += ", owned by " + k.partners[*p.OwnerPartnerID]
		}
	case domain.CommitmentMadeV1:
		phrase = k.committed(p)
	default:
		if phrase = k.change(e); phrase == "" {
			who, phrase = "", fmt.Sprintf("recorded %s on %s", e.Type, k.aggregateName(e))
		}
	}
	return partner, issue, sentence(who, phrase)
}

// change describes the events that change an aggregate defined before; ""
// for a type it does not know.
func (k *known) change(e domain.Event) string {
	id := e.AggregateID
	measure, objective := k.measures[id].name, k.objectives[id].name
	commitment := quote(k.commitments[id].description)
	switch p := e.Payload.(type) {
	case domain.PerspectiveLabelsSetV1:
		return "relabelled the perspectives of the strategy map of " + k.issues[id]
	case domain.ObjectivesLinkedV1:
		return fmt.Sprintf("linked %s as a cause of %s", k.objectives[p.CauseID].name,
			k.objectives[p.EffectID].name)
	case domain.ObjectivesUnlinkedV1:
		return fmt.Sprintf("removed the link from %s to %s", k.objectives[p.CauseID].name,
			k.objectives[p.EffectID].name)
	case domain.ObjectiveRenamedV1:
		return fmt.Sprintf("renamed the objective %s to %s", quote(objective), quote(p.Title))
	case domain.ObjectiveRetiredV1:
		return "retired the objective " + objective + because(p.Reason)
	case domain.TargetSetV1:
		return fmt.Sprintf("set the target of %s for %s to %s", measure, p.Period,
			number(p.Value))
	case domain.ProgressReportedV1:
		return fmt.Sprintf("reported %s for %s on %s%s", number(p.Value), p.Period, measure,
			breakdown(p.Disaggregation))
	case domain.ProgressCorrectedV1:
		return fmt.Sprintf("corrected %s for %s%s to %s", measure, p.Period,
			breakdown(p.Disaggregation), number(p.Value)) + because(p.Reason)
	case domain.MeasureRetiredV1:
		return "retired the measure " + measure + because(p.Reason)
	case domain.StatusBandsSetV1:
		return fmt.Sprintf("set %s at risk within %s%% of its target", measure,
			number(p.AtRiskPercent))
	case domain.CommitmentPartlyFulfilledV1:
		if p.AmountCents == nil {
			return "delivered part of the commitment " + commitment
		}
		return fmt.Sprintf("delivered %s of the commitment %s",
			money(*p.AmountCents, k.commitments[id].currency), commitment)
	case domain.CommitmentFulfilledV1:
		if p.AmountCents == nil {
			return "fulfilled the commitment " + commitment
		}
		return fmt.Sprintf("fulfilled the commitment %s, delivering %s", commitment,
			money(*p.AmountCents, k.commitments[id].currency))
	case domain.CommitmentWithdrawnV1:
		return "withdrew the commitment " + commitment + because(p.Reason)
	}
	return ""
}

// committed describes a new commitment: what, to what, for when.
func (k *known) committed(p domain.CommitmentMadeV1) string {
	to := "the shared backbone"
	switch {
	case p.ObjectiveID != nil && k.objectives[*p.ObjectiveID].name != "":
		to = k.objectives[*p.ObjectiveID].name
	case p.IssueID != uuid.Nil:
		to = k.issues[p.IssueID]
	}
	what := "funding"
	if p.Kind == domain.InKindCommitment {
		what = "in-kind support"
	}
	switch {
	case p.Kind == domain.ActionCommitment:
		return fmt.Sprintf("committed to act on %s for %s: %s", to, p.Period,
			quote(p.Description))
	case p.AmountCents == nil:
		what += " of an undisclosed amount"
	default:
		what = money(*p.AmountCents, p.Currency) + " of " + what
	}
	return fmt.Sprintf("committed %s to %s for %s: %s", what, to, p.Period, quote(p.Description))
}

// aggregateName names an event's aggregate for the generic sentence.
func (k *known) aggregateName(e domain.Event) string {
	id := e.AggregateID
	name := ""
	switch e.AggregateType {
	case domain.PartnerAggregate:
		name = k.partners[id]
	case domain.IssueAggregate:
		name = k.issues[id]
	case domain.ObjectiveAggregate:
		name = k.objectives[id].name
	case domain.MeasureAggregate:
		name = k.measures[id].name
	case domain.CommitmentAggregate:
		name = quote(k.commitments[id].description)
	}
	if name == "" || name == quote("") {
		name = id.String()
	}
	return fmt.Sprintf("the %s %s", e.AggregateType, name)
}

// sentence puts a subject before a phrase, or capitalises the phrase.
func sentence(who, phrase string) string {
	if who != "" {
		return who + " " + phrase
	}
	r, n := utf8.DecodeRuneInString(phrase)
	return string(unicode.ToUpper(r)) + phrase[n:]
}

// number writes a value as entered: 82.6, not 82.600000.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// money writes cents with thousands separators and the currency, exactly:
// "2,500,000.00 USD".
func money(cents int64, currency string) string {
	s := domain.FormatCents(cents)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return strings.TrimSpace(sign + whole + "." + frac + " " + currency)
}

func breakdown(disaggregation string) string {
	if disaggregation == "" {
		return ""
	}
	return " (" + disaggregation + ")"
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + quote(reason)
}

// quote puts free text in quotes, cut to 80 characters: descriptions run long.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 80 {
		s = strings.TrimSpace(string([]rune(s)[:79])) + "…"
	}
	return "“" + s + "”"
}
