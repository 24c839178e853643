package domain

import (
	"fmt"

	"github.com/google/uuid"
)

// Issue is a shared community issue (cradle-to-career education, health,
// homelessness) with its strategy map. The map's cause-and-effect links live
// here because the no-cycle rule spans the whole map.
type Issue struct {
	ID          uuid.UUID
	Launched    *Event
	Title       string
	Description string
	// links maps a cause objective to its effects, with the event that linked them.
	links map[uuid.UUID]map[uuid.UUID]Event
}

// Exists reports whether the issue was launched.
func (i Issue) Exists() bool { return i.Launched != nil }

func (i *Issue) apply(e Event) {
	switch p := e.Payload.(type) {
	case IssueLaunchedV1:
		i.ID, i.Launched, i.Title, i.Description = e.AggregateID, &e, p.Title, p.Description
	case ObjectivesLinkedV1:
		if i.links == nil {
			i.links = map[uuid.UUID]map[uuid.UUID]Event{}
		}
		if i.links[p.CauseID] == nil {
			i.links[p.CauseID] = map[uuid.UUID]Event{}
		}
		i.links[p.CauseID][p.EffectID] = e
	}
}

// LaunchIssue asks to launch an issue. ID is optional.
type LaunchIssue struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Source      string `json:"source"`
}

// Launch decides LaunchIssue; launching the same issue again changes nothing.
func (i Issue) Launch(c LaunchIssue) (Decision, error) {
	var fe fieldErrors
	l := IssueLaunchedV1{
		Title:       text(&fe, "title", c.Title, 1, maxName),
		Description: text(&fe, "description", c.Description, 0, maxDescription),
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if i.Exists() {
		if i.Title == l.Title && i.Description == l.Description {
			return AlreadyDone(*i.Launched), nil
		}
		return Decision{}, Errorf(CodeConflict, "issue %s is already launched as %q", i.ID, i.Title)
	}
	return Append(l, nil), nil
}

// LinkObjectives asks to record that the cause objective (from the request path)
// drives the effect objective.
type LinkObjectives struct {
	CauseID  string `json:"-"`
	EffectID string `json:"effect_objective_id"`
	Source   string `json:"source"`
}

// Link decides LinkObjectives on the issue both objectives belong to. The same
// link twice is a conflict, as is a self-link or one that would close a cycle.
// A retry of the command that made the link (same command ID) returns that link.
func (i Issue) Link(cause, effect Objective, commandID uuid.UUID) (Decision, error) {
	switch {
	case !i.Exists():
		return Decision{}, Errorf(CodeNotFound, "issue %s does not exist", cause.IssueID)
	case !cause.Exists():
		return Decision{}, Errorf(CodeNotFound, "objective %s does not exist", cause.ID)
	case !effect.Exists():
		return Decision{}, Invalid("effect_objective_id", "objective %s does not exist", effect.ID)
	case effect.IssueID != cause.IssueID:
		return Decision{}, Invalid("effect_objective_id",
			"objective %s belongs to another issue; links stay within one issue", effect.ID)
	case cause.ID == effect.ID:
		return Decision{}, Invalid("effect_objective_id", "an objective cannot cause itself")
	}
	if e, ok := i.links[cause.ID][effect.ID]; ok {
		if e.CausationID == commandID {
			return AlreadyDone(e), nil
		}
		return Decision{}, Errorf(CodeConflict, "%q already drives %q", cause.Title, effect.Title)
	}
	if i.reaches(effect.ID, cause.ID) {
		return Decision{}, Errorf(CodeConflict,
			"linking %q to %q would close a cycle: %q already leads back to %q",
			cause.Title, effect.Title, effect.Title, cause.Title)
	}
	return Append(ObjectivesLinkedV1{CauseID: cause.ID, EffectID: effect.ID}, nil), nil
}

// reaches reports whether a chain of links leads from one objective to another.
func (i Issue) reaches(from, to uuid.UUID) bool {
	seen := map[uuid.UUID]bool{}
	stack := []uuid.UUID{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == to {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		for next := range i.links[n] {
			stack = append(stack, next)
		}
	}
	return false
}

// Links returns the number of cause-and-effect links on the issue's map.
func (i Issue) Links() int {
	n := 0
	for _, effects := range i.links {
		n += len(effects)
	}
	return n
}

func (i Issue) String() string { return fmt.Sprintf("issue %s %q", i.ID, i.Title) }
