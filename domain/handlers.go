package domain

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// RegisterPartner registers a partner.
func (s *Commands) RegisterPartner(ctx context.Context, meta Meta,
	c RegisterPartner) (Result, error) {
	meta, id, err := s.create(meta, c.Source, c.ID)
	if err != nil {
		return Result{}, err
	}
	if meta.PartnerID == nil {
		meta.PartnerID = &id
	}
	return s.execute(ctx, meta, PartnerAggregate, id, func(es []Event) (Decision, error) {
		if err := mayAdminister(meta, "register partners"); err != nil {
			return Decision{}, err
		}
		return fold[Partner](es).Register(c)
	})
}

// LaunchIssue launches an issue.
func (s *Commands) LaunchIssue(ctx context.Context, meta Meta, c LaunchIssue) (Result, error) {
	meta, id, err := s.create(meta, c.Source, c.ID)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, IssueAggregate, id, func(es []Event) (Decision, error) {
		if err := mayAdminister(meta, "launch issues"); err != nil {
			return Decision{}, err
		}
		return fold[Issue](es).Launch(c)
	})
}

// DefineObjective defines an objective under an issue.
func (s *Commands) DefineObjective(ctx context.Context, meta Meta,
	c DefineObjective) (Result, error) {
	meta, id, err := s.create(meta, c.Source, c.ID)
	if err != nil {
		return Result{}, err
	}
	issueID, err := pathID("issue", c.IssueID)
	if err != nil {
		return Result{}, err
	}
	issue, err := load[Issue](ctx, s.Store, IssueAggregate, issueID)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, ObjectiveAggregate, id, func(es []Event) (Decision, error) {
		if err := mayAdminister(meta, "define objectives"); err != nil {
			return Decision{}, err
		}
		return fold[Objective](es).Define(c, issue)
	})
}

// LinkObjectives links a cause objective to an effect objective of the same issue.
// The decision is taken on the issue, so concurrent links cannot close a cycle.
func (s *Commands) LinkObjectives(ctx context.Context, meta Meta,
	c LinkObjectives) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	causeID, err := pathID("objective", c.CauseID)
	if err != nil {
		return Result{}, err
	}
	var fe fieldErrors
	effectID := id(&fe, "effect_objective_id", c.EffectID)
	if err := fe.err(); err != nil {
		return Result{}, err
	}
	cause, err := load[Objective](ctx, s.Store, ObjectiveAggregate, causeID)
	if err != nil {
		return Result{}, err
	}
	effect, err := load[Objective](ctx, s.Store, ObjectiveAggregate, effectID)
	if err != nil {
		return Result{}, err
	}
	cause.ID, effect.ID = causeID, effectID
	if !cause.Exists() {
		return Result{}, Errorf(CodeNotFound, "objective %s does not exist", causeID)
	}
	return s.execute(ctx, meta, IssueAggregate, cause.IssueID, func(es []Event) (Decision, error) {
		if err := mayAdminister(meta, "link objectives"); err != nil {
			return Decision{}, err
		}
		return fold[Issue](es).Link(cause, effect)
	})
}

// DefineMeasure defines a measure under an objective.
func (s *Commands) DefineMeasure(ctx context.Context, meta Meta, c DefineMeasure) (Result, error) {
	meta, id, err := s.create(meta, c.Source, c.ID)
	if err != nil {
		return Result{}, err
	}
	objectiveID, err := pathID("objective", c.ObjectiveID)
	if err != nil {
		return Result{}, err
	}
	objective, err := load[Objective](ctx, s.Store, ObjectiveAggregate, objectiveID)
	if err != nil {
		return Result{}, err
	}
	if c.OwnerPartnerID == "" && meta.Role == RoleEditor && meta.PartnerID != nil {
		c.OwnerPartnerID = meta.PartnerID.String() // an editor's measures are its partner's
	}
	if err := mayActFor(meta, optionalUUID(c.OwnerPartnerID), "define measures"); err != nil {
		return Result{}, err
	}
	owner, err := load[Partner](ctx, s.Store, PartnerAggregate, parseOr(c.OwnerPartnerID))
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, MeasureAggregate, id, func(es []Event) (Decision, error) {
		return fold[Measure](es).Define(c, objective, owner)
	})
}

// SetTarget sets a measure's target for a period.
func (s *Commands) SetTarget(ctx context.Context, meta Meta, c SetTarget) (Result, error) {
	return on(ctx, s, meta, c.Source, MeasureAggregate, c.MeasureID,
		guard(meta, "set targets", Measure.SetTarget), c)
}

// ReportProgress records an actual value of a measure.
func (s *Commands) ReportProgress(ctx context.Context, meta Meta,
	c ReportProgress) (Result, error) {
	if p, err := ParsePeriod(strings.TrimSpace(c.Period)); err == nil &&
		p.Start().After(s.now()) {
		return Result{}, Invalid("period", "%s has not begun; actuals are reported for "+
			"periods that have started (set a target for a future period)", p)
	}
	if c.ReportingPartnerID == "" && meta.Role == RoleEditor && meta.PartnerID != nil {
		c.ReportingPartnerID = meta.PartnerID.String()
	}
	if c.ReportingPartnerID != "" {
		reporter := optionalUUID(c.ReportingPartnerID)
		if err := mayActFor(meta, reporter, "report progress"); err != nil {
			return Result{}, err
		}
	}
	reporter, err := load[Partner](ctx, s.Store, PartnerAggregate, parseOr(c.ReportingPartnerID))
	if err != nil {
		return Result{}, err
	}
	report := func(m Measure, c ReportProgress) (Decision, error) { return m.Report(c, reporter) }
	return on(ctx, s, meta, c.Source, MeasureAggregate, c.MeasureID,
		guard(meta, "report progress", report), c)
}

// CorrectProgress replaces a reported value of a measure.
func (s *Commands) CorrectProgress(ctx context.Context, meta Meta,
	c CorrectProgress) (Result, error) {
	return on(ctx, s, meta, c.Source, MeasureAggregate, c.MeasureID,
		guard(meta, "correct values", Measure.Correct), c)
}

// RetireMeasure stops a measure from taking new values.
func (s *Commands) RetireMeasure(ctx context.Context, meta Meta, c RetireMeasure) (Result, error) {
	return on(ctx, s, meta, c.Source, MeasureAggregate, c.MeasureID,
		guard(meta, "retire measures", Measure.Retire), c)
}

// SetStatusBands sets a measure's at-risk band.
func (s *Commands) SetStatusBands(ctx context.Context, meta Meta,
	c SetStatusBands) (Result, error) {
	return on(ctx, s, meta, c.Source, MeasureAggregate, c.MeasureID,
		guard(meta, "set status bands", Measure.SetBands), c)
}

// RenameObjective gives an objective a new title.
func (s *Commands) RenameObjective(ctx context.Context, meta Meta,
	c RenameObjective) (Result, error) {
	return on(ctx, s, meta, c.Source, ObjectiveAggregate, c.ObjectiveID,
		adminOnly(meta, "rename objectives", Objective.Rename), c)
}

// RetireObjective takes an objective off its issue's map.
func (s *Commands) RetireObjective(ctx context.Context, meta Meta,
	c RetireObjective) (Result, error) {
	return on(ctx, s, meta, c.Source, ObjectiveAggregate, c.ObjectiveID,
		adminOnly(meta, "retire objectives", Objective.Retire), c)
}

// SetPerspectiveLabels renames the bands of an issue's strategy map.
func (s *Commands) SetPerspectiveLabels(ctx context.Context, meta Meta,
	c SetPerspectiveLabels) (Result, error) {
	return on(ctx, s, meta, c.Source, IssueAggregate, c.IssueID,
		adminOnly(meta, "label perspectives", Issue.SetLabels), c)
}

// FulfilCommitment records delivery of a commitment, in part or in full.
func (s *Commands) FulfilCommitment(ctx context.Context, meta Meta,
	c FulfilCommitment) (Result, error) {
	return on(ctx, s, meta, c.Source, CommitmentAggregate, c.CommitmentID,
		forPartner(meta, "fulfil commitments", Commitment.Fulfil), c)
}

// WithdrawCommitment records that a partner took a commitment back.
func (s *Commands) WithdrawCommitment(ctx context.Context, meta Meta,
	c WithdrawCommitment) (Result, error) {
	return on(ctx, s, meta, c.Source, CommitmentAggregate, c.CommitmentID,
		forPartner(meta, "withdraw commitments", Commitment.Withdraw), c)
}

// UnlinkObjectives removes a cause-and-effect link from an issue's map.
func (s *Commands) UnlinkObjectives(ctx context.Context, meta Meta,
	c UnlinkObjectives) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	causeID, err := pathID("objective", c.CauseID)
	if err != nil {
		return Result{}, err
	}
	effectID, err := pathID("objective", c.EffectID)
	if err != nil {
		return Result{}, err
	}
	cause, err := load[Objective](ctx, s.Store, ObjectiveAggregate, causeID)
	if err != nil {
		return Result{}, err
	}
	if !cause.Exists() {
		return Result{}, Errorf(CodeNotFound, "objective %s does not exist", causeID)
	}
	return s.execute(ctx, meta, IssueAggregate, cause.IssueID, func(es []Event) (Decision, error) {
		if err := mayAdminister(meta, "unlink objectives"); err != nil {
			return Decision{}, err
		}
		return fold[Issue](es).Unlink(causeID, effectID)
	})
}

// create prepares a command that creates an aggregate, and picks its ID.
func (s *Commands) create(meta Meta, source, givenID string) (Meta, uuid.UUID, error) {
	meta.Source = source
	meta, err := s.prepare(meta)
	if err != nil {
		return meta, uuid.Nil, err
	}
	id, err := newID(meta, givenID)
	return meta, id, err
}

// on runs a command on the aggregate its request path names.
func on[T any, P interface {
	*T
	folder
}, C any](ctx context.Context, s *Commands, meta Meta, source, aggregateType, pathValue string,
	decide func(T, C) (Decision, error), c C) (Result, error) {
	meta.Source = source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	id, err := pathID(aggregateType, pathValue)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, aggregateType, id, func(es []Event) (Decision, error) {
		return decide(fold[T, P](es), c)
	})
}

// MakeCommitment records a partner's commitment to an issue.
func (s *Commands) MakeCommitment(ctx context.Context, meta Meta,
	c MakeCommitment) (Result, error) {
	meta, id, err := s.create(meta, c.Source, c.ID)
	if err != nil {
		return Result{}, err
	}
	if err := mayActFor(meta, optionalUUID(c.PartnerID), "make commitments"); err != nil {
		return Result{}, err
	}
	partner, err := load[Partner](ctx, s.Store, PartnerAggregate, parseOr(c.PartnerID))
	if err != nil {
		return Result{}, err
	}
	issue, err := load[Issue](ctx, s.Store, IssueAggregate, parseOr(c.IssueID))
	if err != nil {
		return Result{}, err
	}
	objective, err := load[Objective](ctx, s.Store, ObjectiveAggregate, parseOr(c.ObjectiveID))
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, CommitmentAggregate, id, func(es []Event) (Decision, error) {
		return fold[Commitment](es).Make(c, partner, issue, objective)
	})
}

// guard checks that the actor may report on the measure before deciding.
func guard[C any](meta Meta, what string,
	decide func(Measure, C) (Decision, error)) func(Measure, C) (Decision, error) {
	return func(m Measure, c C) (Decision, error) {
		if err := mayReportOn(meta, m, what); err != nil {
			return Decision{}, err
		}
		return decide(m, c)
	}
}

// adminOnly checks that the actor is a backbone admin before deciding.
func adminOnly[T, C any](meta Meta, what string,
	decide func(T, C) (Decision, error)) func(T, C) (Decision, error) {
	return func(t T, c C) (Decision, error) {
		if err := mayAdminister(meta, what); err != nil {
			return Decision{}, err
		}
		return decide(t, c)
	}
}

// forPartner checks that the actor acts for the commitment's partner.
func forPartner[C any](meta Meta, what string,
	decide func(Commitment, C) (Decision, error)) func(Commitment, C) (Decision, error) {
	return func(cm Commitment, c C) (Decision, error) {
		if cm.Exists() {
			if err := mayActFor(meta, &cm.Terms.PartnerID, what); err != nil {
				return Decision{}, err
			}
		}
		return decide(cm, c)
	}
}

// optionalUUID returns the UUID in s, or nil when s is not one.
func optionalUUID(s string) *uuid.UUID {
	u, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	return &u
}
