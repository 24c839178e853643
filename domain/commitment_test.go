package domain

// Tests of commitments: what a partner may commit to an issue, and in what money.

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// commitmentWorld is what a commitment refers to: a partner, an issue, an
// objective of that issue and one of another issue.
type commitmentWorld struct {
	partner     Partner
	issue       Issue
	objective   Objective
	otherIssues Objective
}

func newCommitmentWorld() commitmentWorld {
	issue := launchedIssue()
	return commitmentWorld{
		partner:     registeredPartner(),
		issue:       issue,
		objective:   definedObjective(issue, "Third-graders read well"),
		otherIssues: definedObjective(launchedIssue(), "Fewer emergency visits"),
	}
}

// fund returns a command to fund the world's issue with $5,000 in 2014-15.
func (w commitmentWorld) fund() MakeCommitment {
	return MakeCommitment{PartnerID: w.partner.ID.String(), IssueID: w.issue.ID.String(),
		Kind: "funding", Description: "Summer reading grants", AmountCents: ptr[int64](500000),
		Period: "2014-15"}
}

func TestCommitmentMake(t *testing.T) {
	w := newCommitmentWorld()

	// refs are the aggregates Make is given, loaded by the IDs the command names.
	type refs struct {
		partner   Partner
		issue     Issue
		objective Objective
	}
	tests := []struct {
		name         string
		edit         func(c *MakeCommitment, r *refs)
		wantAmount   *int64
		wantCurrency string
		code         Code
		field        string
		word         string
	}{
		{name: "funding, currency by default USD", edit: func(c *MakeCommitment, r *refs) {},
			wantAmount: ptr[int64](500000), wantCurrency: "USD"},
		{name: "funding in euros, lower case",
			edit:       func(c *MakeCommitment, r *refs) { c.Currency = " eur " },
			wantAmount: ptr[int64](500000), wantCurrency: "EUR"},
		{name: "funding of zero", edit: func(c *MakeCommitment, r *refs) {
			c.AmountCents = ptr[int64](0)
		}, wantAmount: ptr[int64](0), wantCurrency: "USD"},
		{name: "funding undisclosed",
			edit: func(c *MakeCommitment, r *refs) { c.AmountCents = nil }},
		{name: "in kind with a value",
			edit:       func(c *MakeCommitment, r *refs) { c.Kind = "In Kind" },
			wantAmount: ptr[int64](500000), wantCurrency: "USD"},
		{name: "an action", edit: func(c *MakeCommitment, r *refs) {
			c.Kind, c.AmountCents = "action", nil
		}},
		{name: "toward an objective of the issue", edit: func(c *MakeCommitment, r *refs) {
			c.ObjectiveID, r.objective = w.objective.ID.String(), w.objective
		}, wantAmount: ptr[int64](500000), wantCurrency: "USD"},
		{name: "an action with an amount",
			edit: func(c *MakeCommitment, r *refs) { c.Kind = "action" },
			code: CodeInvalid, field: "amount_cents", word: "action commitment carries no amount"},
		{name: "a negative amount",
			edit: func(c *MakeCommitment, r *refs) { c.AmountCents = ptr[int64](-1) },
			code: CodeInvalid, field: "amount_cents", word: "not be negative"},
		{name: "a currency without an amount",
			edit: func(c *MakeCommitment, r *refs) { c.AmountCents, c.Currency = nil, "USD" },
			code: CodeInvalid, field: "amount_cents", word: "required when currency is given"},
		{name: "a currency of two letters",
			edit: func(c *MakeCommitment, r *refs) { c.Currency = "US" },
			code: CodeInvalid, field: "currency", word: `"US" is not a three-letter`},
		{name: "a currency of four letters",
			edit: func(c *MakeCommitment, r *refs) { c.Currency = "EURO" },
			code: CodeInvalid, field: "currency", word: "three-letter"},
		{name: "a currency with a digit",
			edit: func(c *MakeCommitment, r *refs) { c.Currency = "E1R" },
			code: CodeInvalid, field: "currency", word: "three-letter"},
		{name: "a currency symbol",
			edit: func(c *MakeCommitment, r *refs) { c.Currency = "$" },
			code: CodeInvalid, field: "currency", word: "three-letter"},
		{name: "missing kind", edit: func(c *MakeCommitment, r *refs) { c.Kind = "" },
			code: CodeInvalid, field: "kind", word: "required; one of action, funding, in_kind"},
		{name: "unknown kind", edit: func(c *MakeCommitment, r *refs) { c.Kind = "grant" },
			code: CodeInvalid, field: "kind", word: `"grant" is not one of`},
		{name: "missing description",
			edit: func(c *MakeCommitment, r *refs) { c.Description = " " },
			code: CodeInvalid, field: "description", word: "required"},
		{name: "description of 4001 characters", edit: func(c *MakeCommitment, r *refs) {
			c.Description = strings.Repeat("d", 4001)
		}, code: CodeInvalid, field: "description", word: "at most 4000"},
		{name: "missing period", edit: func(c *MakeCommitment, r *refs) { c.Period = "" },
			code: CodeInvalid, field: "period", word: "required"},
		{name: "period not a period",
			edit: func(c *MakeCommitment, r *refs) { c.Period = "2014-Q5" },
			code: CodeInvalid, field: "period", word: "not a period"},
		{name: "missing partner", edit: func(c *MakeCommitment, r *refs) {
			c.PartnerID, r.partner = "", Partner{}
		}, code: CodeInvalid, field: "partner_id", word: "required"},
		{name: "partner that is not a UUID", edit: func(c *MakeCommitment, r *refs) {
			c.PartnerID, r.partner = "acme", Partner{}
		}, code: CodeInvalid, field: "partner_id", word: `"acme" is not a UUID`},
		{name: "partner that does not exist", edit: func(c *MakeCommitment, r *refs) {
			c.PartnerID, r.partner = uuid.NewString(), Partner{}
		}, code: CodeInvalid, field: "partner_id", word: "does not exist"},
		{name: "missing issue", edit: func(c *MakeCommitment, r *refs) {
			c.IssueID, r.issue = "", Issue{}
		}, code: CodeInvalid, field: "issue_id", word: "required"},
		{name: "issue that does not exist", edit: func(c *MakeCommitment, r *refs) {
			c.IssueID, r.issue = uuid.NewString(), Issue{}
		}, code: CodeInvalid, field: "issue_id", word: "does not exist"},
		{name: "objective that is not a UUID", edit: func(c *MakeCommitment, r *refs) {
			c.ObjectiveID = "reading"
		}, code: CodeInvalid, field: "objective_id", word: "not a UUID"},
		{name: "objective that does not exist", edit: func(c *MakeCommitment, r *refs) {
			c.ObjectiveID = uuid.NewString()
		}, code: CodeInvalid, field: "objective_id", word: "does not exist"},
		{name: "objective of another issue", edit: func(c *MakeCommitment, r *refs) {
			c.ObjectiveID, r.objective = w.otherIssues.ID.String(), w.otherIssues
		}, code: CodeInvalid, field: "objective_id", word: "belongs to another issue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.fund()
			r := refs{partner: w.partner, issue: w.issue}
			tt.edit(&c, &r)

			d, err := Commitment{}.Make(c, r.partner, r.issue, r.objective)
			wantOutcome(t, err, tt.code, tt.field, tt.word)
			if tt.code != "" {
				return
			}
			m := wantAppend[CommitmentMadeV1](t, d, err)
			if !equalPtr(m.AmountCents, tt.wantAmount) || m.Currency != tt.wantCurrency {
				t.Errorf("got amount %v %q, want %v %q",
					ptrString(m.AmountCents), m.Currency,
					ptrString(tt.wantAmount), tt.wantCurrency)
			}
			if m.PartnerID != w.partner.ID || m.IssueID != w.issue.ID {
				t.Errorf("got partner %s and issue %s, want %s and %s",
					m.PartnerID, m.IssueID, w.partner.ID, w.issue.ID)
			}
			if d.PartnerID == nil || *d.PartnerID != w.partner.ID {
				t.Errorf("got decision partner %v, want the committing partner %s",
					d.PartnerID, w.partner.ID)
			}
		})
	}
}

func ptrString[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestCommitmentMakeNamesEveryFault(t *testing.T) {
	_, err := Commitment{}.Make(MakeCommitment{AmountCents: ptr[int64](-5), Currency: "dollars"},
		Partner{}, Issue{}, Objective{})

	wantFields(t, err, "partner_id", "issue_id", "kind", "description", "period",
		"amount_cents", "currency")
}

func TestCommitmentMakeAgain(t *testing.T) {
	w := newCommitmentWorld()
	d, err := Commitment{}.Make(w.fund(), w.partner, w.issue, Objective{})
	first := wantAppend[CommitmentMadeV1](t, d, err)
	cm := fold[Commitment](history(CommitmentAggregate, uuid.New(), first))

	tests := []struct {
		name     string
		edit     func(c *MakeCommitment)
		conflict bool
	}{
		{name: "same terms", edit: func(c *MakeCommitment) {}},
		{name: "same terms, currency spelled out",
			edit: func(c *MakeCommitment) { c.Currency, c.Kind = "usd", "Funding" }},
		{name: "other amount", edit: func(c *MakeCommitment) { c.AmountCents = ptr[int64](1) },
			conflict: true},
		{name: "amount withheld", edit: func(c *MakeCommitment) { c.AmountCents = nil },
			conflict: true},
		{name: "other currency", edit: func(c *MakeCommitment) { c.Currency = "CAD" },
			conflict: true},
		{name: "other kind", edit: func(c *MakeCommitment) { c.Kind = "in_kind" }, conflict: true},
		{name: "other description", edit: func(c *MakeCommitment) { c.Description = "Grants" },
			conflict: true},
		{name: "other period", edit: func(c *MakeCommitment) { c.Period = "2015-16" },
			conflict: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.fund()
			tt.edit(&c)
			d, err := cm.Make(c, w.partner, w.issue, Objective{})
			if tt.conflict {
				wantCode(t, err, CodeConflict)
				return
			}
			wantAlreadyDone(t, d, err, *cm.Made)
		})
	}

	t.Run("toward an objective", func(t *testing.T) {
		c := w.fund()
		c.ObjectiveID = w.objective.ID.String()
		_, err := cm.Make(c, w.partner, w.issue, w.objective)
		wantCode(t, err, CodeConflict)
	})
}
