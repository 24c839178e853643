package domain

import "context"

// RegisterPartner registers a partner.
func (s *Commands) RegisterPartner(ctx context.Context, meta Meta, c RegisterPartner) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	id, err := newID(meta, c.ID)
	if err != nil {
		return Result{}, err
	}
	if meta.PartnerID == nil {
		meta.PartnerID = &id
	}
	return s.execute(ctx, meta, PartnerAggregate, id, func(es []Event) (Decision, error) {
		return fold[Partner](es).Register(c)
	})
}

// LaunchIssue launches an issue.
func (s *Commands) LaunchIssue(ctx context.Context, meta Meta, c LaunchIssue) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	id, err := newID(meta, c.ID)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, IssueAggregate, id, func(es []Event) (Decision, error) {
		return fold[Issue](es).Launch(c)
	})
}

// DefineObjective defines an objective under an issue.
func (s *Commands) DefineObjective(ctx context.Context, meta Meta, c DefineObjective) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	issueID, err := pathID("issue", c.IssueID)
	if err != nil {
		return Result{}, err
	}
	id, err := newID(meta, c.ID)
	if err != nil {
		return Result{}, err
	}
	issue, err := load[Issue](ctx, s.Store, IssueAggregate, issueID)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, ObjectiveAggregate, id, func(es []Event) (Decision, error) {
		return fold[Objective](es).Define(c, issue)
	})
}

// LinkObjectives links a cause objective to an effect objective of the same issue.
// The decision is taken on the issue, so concurrent links cannot close a cycle.
func (s *Commands) LinkObjectives(ctx context.Context, meta Meta, c LinkObjectives) (Result, error) {
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
		return fold[Issue](es).Link(cause, effect, meta.commandID)
	})
}

// DefineMeasure defines a measure under an objective.
func (s *Commands) DefineMeasure(ctx context.Context, meta Meta, c DefineMeasure) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	objectiveID, err := pathID("objective", c.ObjectiveID)
	if err != nil {
		return Result{}, err
	}
	id, err := newID(meta, c.ID)
	if err != nil {
		return Result{}, err
	}
	objective, err := load[Objective](ctx, s.Store, ObjectiveAggregate, objectiveID)
	if err != nil {
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
	meta.Source = c.Source
	return s.onMeasure(ctx, meta, c.MeasureID, func(m Measure) (Decision, error) {
		return m.SetTarget(c)
	})
}

// ReportProgress records an actual value of a measure.
func (s *Commands) ReportProgress(ctx context.Context, meta Meta, c ReportProgress) (Result, error) {
	meta.Source = c.Source
	reporter, err := load[Partner](ctx, s.Store, PartnerAggregate, parseOr(c.ReportingPartnerID))
	if err != nil {
		return Result{}, err
	}
	return s.onMeasure(ctx, meta, c.MeasureID, func(m Measure) (Decision, error) {
		return m.Report(c, reporter)
	})
}

// CorrectProgress replaces a reported value of a measure.
func (s *Commands) CorrectProgress(ctx context.Context, meta Meta, c CorrectProgress) (Result, error) {
	meta.Source = c.Source
	return s.onMeasure(ctx, meta, c.MeasureID, func(m Measure) (Decision, error) {
		return m.Correct(c)
	})
}

func (s *Commands) onMeasure(ctx context.Context, meta Meta, measureID string,
	decide func(Measure) (Decision, error)) (Result, error) {
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	id, err := pathID("measure", measureID)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, meta, MeasureAggregate, id, func(es []Event) (Decision, error) {
		return decide(fold[Measure](es))
	})
}

// MakeCommitment records a partner's commitment to an issue.
func (s *Commands) MakeCommitment(ctx context.Context, meta Meta, c MakeCommitment) (Result, error) {
	meta.Source = c.Source
	meta, err := s.prepare(meta)
	if err != nil {
		return Result{}, err
	}
	id, err := newID(meta, c.ID)
	if err != nil {
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
