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
}

// Exists reports whether the commitment was made.
func (c Commitment) Exists() bool { return c.Made != nil }

func (c *Commitment) apply(e Event) {
	if m, ok := e.Payload.(CommitmentMadeV1); ok {
		c.ID, c.Made, c.Terms = e.AggregateID, &e, m
	}
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
	Source      string `json:"source"`
}

// Make decides MakeCommitment. objective is the zero Objective when none is named.
func (cm Commitment) Make(c MakeCommitment, partner Partner, issue Issue,
	objective Objective) (Decision, error) {
	var fe fieldErrors
	m := CommitmentMadeV1{
		PartnerID:   id(&fe, "partner_id", c.PartnerID),
		IssueID:     id(&fe, "issue_id", c.IssueID),
		ObjectiveID: optionalID(&fe, "objective_id", c.ObjectiveID),
		Kind: parseEnum(&fe, "kind", c.Kind,
			[]CommitmentKind{ActionCommitment, FundingCommitment, InKindCommitment}),
		Description: text(&fe, "description", c.Description, 1, maxDescription),
		Period:      period(&fe, "period", c.Period),
	}
	if m.PartnerID != uuid.Nil && !partner.Exists() {
		fe.add("partner_id", "partner %s does not exist", m.PartnerID)
	}
	if m.IssueID != uuid.Nil && !issue.Exists() {
		fe.add("issue_id", "issue %s does not exist", m.IssueID)
	}
	if m.ObjectiveID != nil {
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
		return Decision{}, Errorf(CodeConflict, "commitment %s is already made with other terms", cm.ID)
	}
	return Append(m, &m.PartnerID), nil
}

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
		fe.add("amount_cents", "an action commitment carries no amount; use kind funding or in_kind")
	}
	if *cents < 0 {
		fe.add("amount_cents", "must not be negative")
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
		a.Currency == b.Currency && a.Period == b.Period
}
