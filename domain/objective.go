package domain

import "github.com/google/uuid"

// Objective is a result an issue's partners pursue together, in one perspective
// of the issue's strategy map.
type Objective struct {
	ID          uuid.UUID
	Defined     *Event
	IssueID     uuid.UUID
	Perspective Perspective
	Title       string
	// Changed is the event that last set Title (the definition or a rename).
	Changed *Event
	Retired *Event
}

// Exists reports whether the objective was defined.
func (o Objective) Exists() bool { return o.Defined != nil }

func (o *Objective) apply(e Event) {
	switch p := e.Payload.(type) {
	case ObjectiveDefinedV1:
		o.ID, o.Defined, o.Changed = e.AggregateID, &e, &e
		o.IssueID, o.Perspective, o.Title = p.IssueID, p.Perspective, p.Title
	case ObjectiveRenamedV1:
		o.Title, o.Changed = p.Title, &e
	case ObjectiveRetiredV1:
		o.Retired = &e
	}
}

// Active reports whether the objective exists and was not retired.
func (o Objective) Active() bool { return o.Exists() && o.Retired == nil }

// DefineObjective asks to define an objective under the issue in the request path.
type DefineObjective struct {
	ID          string `json:"id"`
	IssueID     string `json:"-"`
	Perspective string `json:"perspective"`
	Title       string `json:"title"`
	Source      string `json:"source"`
}

// Define decides DefineObjective; defining the same objective again changes nothing.
func (o Objective) Define(c DefineObjective, issue Issue) (Decision, error) {
	if !issue.Exists() {
		return Decision{}, Errorf(CodeNotFound, "issue %s does not exist", c.IssueID)
	}
	var fe fieldErrors
	d := ObjectiveDefinedV1{
		IssueID:     issue.ID,
		Perspective: parseEnum(&fe, "perspective", c.Perspective, Perspectives),
		Title:       text(&fe, "title", c.Title, 1, maxName),
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if o.Exists() {
		if o.IssueID == d.IssueID && o.Perspective == d.Perspective && o.Title == d.Title {
			return AlreadyDone(*o.Defined), nil
		}
		return Decision{}, Errorf(CodeConflict,
			"objective %s is already defined as %q", o.ID, o.Title)
	}
	return Append(d, nil), nil
}

// RenameObjective asks to give an objective a new title.
type RenameObjective struct {
	ObjectiveID string `json:"-"`
	Title       string `json:"title"`
	Source      string `json:"source"`
}

// Rename decides RenameObjective; the current title again changes nothing.
func (o Objective) Rename(c RenameObjective) (Decision, error) {
	if !o.Exists() {
		return Decision{}, Errorf(CodeNotFound, "objective %s does not exist", c.ObjectiveID)
	}
	var fe fieldErrors
	r := ObjectiveRenamedV1{Title: text(&fe, "title", c.Title, 1, maxName)}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if r.Title == o.Title {
		return AlreadyDone(*o.Changed), nil
	}
	if o.Retired != nil {
		return Decision{}, Errorf(CodeConflict, "objective %q is retired", o.Title)
	}
	return Append(r, nil), nil
}

// RetireObjective asks to take an objective off its issue's map.
type RetireObjective struct {
	ObjectiveID string `json:"-"`
	Reason      string `json:"reason"`
	Source      string `json:"source"`
}

// Retire decides RetireObjective; retiring a retired objective changes nothing.
func (o Objective) Retire(c RetireObjective) (Decision, error) {
	if !o.Exists() {
		return Decision{}, Errorf(CodeNotFound, "objective %s does not exist", c.ObjectiveID)
	}
	var fe fieldErrors
	r := ObjectiveRetiredV1{Reason: text(&fe, "reason", c.Reason, 1, maxNote)}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if o.Retired != nil {
		return AlreadyDone(*o.Retired), nil
	}
	return Append(r, nil), nil
}
