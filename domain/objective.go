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
}

// Exists reports whether the objective was defined.
func (o Objective) Exists() bool { return o.Defined != nil }

func (o *Objective) apply(e Event) {
	if d, ok := e.Payload.(ObjectiveDefinedV1); ok {
		o.ID, o.Defined = e.AggregateID, &e
		o.IssueID, o.Perspective, o.Title = d.IssueID, d.Perspective, d.Title
	}
}

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
		return Decision{}, Errorf(CodeConflict, "objective %s is already defined as %q", o.ID, o.Title)
	}
	return Append(d, nil), nil
}
