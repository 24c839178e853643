package domain

import (
	"strings"

	"github.com/google/uuid"
)

// Commitment is what one partner commits to an issue: an action, money or an
// in-kind contribution.
type Commitment struct {
	ID    uuid.UUID
	Made  *Event
	Terms CommitmentMadeV1
	// FulfilledCents adds up the amounts delivered so far.
	FulfilledCents int64
	Fulfilled      *Event
	Withdrawn      *Event
	// Last is the newest event of the commitment.
	Last *Event
}

// Exists reports whether the commitment was made.
func (c Commitment) Exists() bool { return c.Made != nil }

func (c *Commitment) apply(e Event) {
	c.Last = &e
	switch p := e.Payload.(type) {
	case CommitmentMadeV1:
		c.ID, c.Made, c.Terms = e.AggregateID, &e, p
	case CommitmentPartlyFulfilledV1:
		c.FulfilledCents += deref0(p.AmountCents)
	case CommitmentFulfilledV1:
		c.FulfilledCents += deref0(p.AmountCents)
		c.Fulfilled = &e
	case CommitmentWithdrawnV1:
		c.Withdrawn = &e
	}
}

func deref0(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// MakeCommitment asks to record a partner's commitment. AmountCents is integer
// cents in Currency (ISO 4217, default USD); leave it out when undisclosed.
type MakeCommitment struct {
	ID          string `json:"id"`
	PartnerID   string `json:"partner_id"`
	IssueID     string `json:"issue_id"`
	ObjectiveID string `json:"objective_id"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
	AmountCents *int64 `json:"amount_cents"`
	Currency    string `json:"currency"`
	Period      string `json:"period"`
	// Pooled commits to the shared backbone itself rather than to one issue; it
	// names no issue.
	Pooled bool   `json:"pooled"`
	Source string `json:"source"`
}

// Make decides MakeCommitment. objective is the zero Objective when none is named.
func (cm Commitment) Make(c MakeCommitment, partner Partner, issue Issue,
	objective Objective) (Decision, error) {
	var fe fieldErrors
	m := CommitmentMadeV1{
		PartnerID:   id(&fe, "partner_id", c.PartnerID),
		IssueID:     commitmentIssue(&fe, c),
		Pooled:      c.Pooled,
		ObjectiveID: optionalID(&fe, "objective_id", c.ObjectiveID),
		Kind: parseEnum(&fe, "kind", c.Kind,
			[]CommitmentKind{ActionCommitment, FundingCommitment, InKindCommitment}),
		Description: text(&fe, "description", c.Description, 1, maxDescription),
		Period:      period(&fe, "period", c.Period),
	}
	if c.Pooled && c.ObjectiveID != "" {
		fe.add("objective_id", "a pooled commitment funds the backbone and names no objective")
	}
	if m.PartnerID != uuid.Nil && !partner.Exists() {
		fe.add("partner_id", "partner %s does not exist", m.PartnerID)
	}
	if m.IssueID != uuid.Nil && !issue.Exists() {
		fe.add("issue_id", "issue %s does not exist", m.IssueID)
	}
	if m.ObjectiveID != nil && !c.Pooled {
		switch {
		case !objective.Exists():
			fe.add("objective_id", "objective %s does not exist", m.ObjectiveID)
		case objective.IssueID != m.IssueID:
			fe.add("objective_id", "objective %s belongs to another issue", m.ObjectiveID)
		}
	}
	m.AmountCents, m.Currency = amount(&fe, m.Kind, c.AmountCents, c.Currency)
	if err := fe.err(); err != nil {
		return Decision{}, err
	}

	if cm.Exists() {
		if sameTerms(cm.Terms, m) {
			return AlreadyDone(*cm.Made), nil
		}
		return Decision{}, Errorf(CodeConflict,
			"commitment %s is already made with other terms", cm.ID)
	}
	return Append(m, &m.PartnerID), nil
}

// commitmentIssue returns the issue a commitment names; a pooled one names none.
func commitmentIssue(fe *fieldErrors, c MakeCommitment) uuid.UUID {
	if !c.Pooled {
		return id(fe, "issue_id", c.IssueID)
	}
	if c.IssueID != "" {
		fe.add("issue_id", "a pooled commitment funds the backbone and names no issue")
	}
	return uuid.Nil
}

// maxCents bounds one amount, so that totals of many stay far from overflow.
const maxCents = 1_000_000_000_000_000

// amount checks the money of a commitment: actions carry none, and an amount is
// whole cents, not negative, in a three-letter currency.
func amount(fe *fieldErrors, kind CommitmentKind, cents *int64, currency string) (*int64, string) {
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if cents == nil {
		if currency != "" {
			fe.add("amount_cents", "is required when currency is given")
		}
		return nil, ""
	}
	if kind == ActionCommitment {
		fe.add("amount_cents",
			"an action commitment carries no amount; use kind funding or in_kind")
	}
	switch {
	case *cents < 0:
		fe.add("amount_cents", "must not be negative")
	case *cents > maxCents:
		fe.add("amount_cents", "must be at most %d (ten trillion in the currency)", maxCents)
	}
	if currency == "" {
		currency = "USD"
	}
	if len(currency) != 3 || strings.Trim(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		fe.add("currency", "%q is not a three-letter ISO 4217 code", currency)
	}
	return cents, currency
}

func sameTerms(a, b CommitmentMadeV1) bool {
	return a.PartnerID == b.PartnerID && a.IssueID == b.IssueID &&
		equalPtr(a.ObjectiveID, b.ObjectiveID) && a.Kind == b.Kind &&
		a.Description == b.Description && equalPtr(a.AmountCents, b.AmountCents) &&
		a.Currency == b.Currency && a.Period == b.Period && a.Pooled == b.Pooled
}

// FulfilCommitment asks to record delivery of a commitment: in part, or in full
// when Complete is set. Money commitments give the amount delivered.
type FulfilCommitment struct {
	CommitmentID string `json:"-"`
	AmountCents  *int64 `json:"amount_cents"`
	Period       string `json:"period"`
	Note         string `json:"note"`
	Complete     bool   `json:"complete"`
	Source       string `json:"source"`
}

// Fulfil decides FulfilCommitment. Deliveries never add up to more than a
// known pledge, and a fulfilled or withdrawn commitment takes no more.
func (cm Commitment) Fulfil(c FulfilCommitment) (Decision, error) {
	if err := cm.open(c.CommitmentID); err != nil {
		return Decision{}, err
	}
	var fe fieldErrors
	var p Period
	if c.Period != "" {
		p = period(&fe, "period", c.Period)
	}
	note := text(&fe, "note", c.Note, 0, maxNote)
	money := cm.Terms.Kind != ActionCommitment
	switch {
	case c.AmountCents != nil && !money:
		fe.add("amount_cents", "an action commitment is delivered without an amount")
	case c.AmountCents != nil && *c.AmountCents <= 0:
		fe.add("amount_cents", "must be more than zero")
	case c.AmountCents != nil && cm.FulfilledCents+min(*c.AmountCents, maxCents) > maxCents:
		fe.add("amount_cents", "deliveries may add up to at most %d", maxCents)
	case c.AmountCents == nil && money && !c.Complete && cm.Terms.Kind == FundingCommitment:
		fe.add("amount_cents", "is required to record part of a funding commitment")
	case c.AmountCents != nil && cm.Terms.AmountCents != nil &&
		cm.FulfilledCents+*c.AmountCents > *cm.Terms.AmountCents:
		fe.add("amount_cents", "%d more cents would exceed the pledge of %d (%d delivered)",
			*c.AmountCents, *cm.Terms.AmountCents, cm.FulfilledCents)
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if c.Complete {
		return Append(CommitmentFulfilledV1{AmountCents: c.AmountCents, Period: p, Note: note},
			&cm.Terms.PartnerID), nil
	}
	return Append(CommitmentPartlyFulfilledV1{AmountCents: c.AmountCents, Period: p, Note: note},
		&cm.Terms.PartnerID), nil
}

// WithdrawCommitment asks to record that a partner took a commitment back.
type WithdrawCommitment struct {
	CommitmentID string `json:"-"`
	Reason       string `json:"reason"`
	Source       string `json:"source"`
}

// Withdraw decides WithdrawCommitment; withdrawing twice changes nothing.
func (cm Commitment) Withdraw(c WithdrawCommitment) (Decision, error) {
	if cm.Withdrawn != nil {
		return AlreadyDone(*cm.Withdrawn), nil
	}
	if err := cm.open(c.CommitmentID); err != nil {
		return Decision{}, err
	}
	var fe fieldErrors
	w := CommitmentWithdrawnV1{Reason: text(&fe, "reason", c.Reason, 1, maxNote)}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	return Append(w, &cm.Terms.PartnerID), nil
}

// open refuses changes to a commitment that is missing, fulfilled or withdrawn.
func (cm Commitment) open(id string) error {
	switch {
	case !cm.Exists():
		return Errorf(CodeNotFound, "commitment %s does not exist", id)
	case cm.Withdrawn != nil:
		return Errorf(CodeConflict, "the commitment was withdrawn")
	case cm.Fulfilled != nil:
		return Errorf(CodeConflict, "the commitment is already fulfilled")
	}
	return nil
}
