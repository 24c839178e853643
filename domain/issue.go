package domain

import (
	"fmt"
	"maps"

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
	// Labels renames perspectives on this issue's map.
	Labels    map[Perspective]string
	LabelsSet *Event
	// links maps a cause objective to its effects, with the event that linked them.
	links map[uuid.UUID]map[uuid.UUID]Event
	// unlinked holds the event that last removed each link.
	unlinked map[[2]uuid.UUID]Event
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
	case ObjectivesUnlinkedV1:
		delete(i.links[p.CauseID], p.EffectID)
		if i.unlinked == nil {
			i.unlinked = map[[2]uuid.UUID]Event{}
		}
		i.unlinked[[2]uuid.UUID{p.CauseID, p.EffectID}] = e
	case PerspectiveLabelsSetV1:
		i.Labels, i.LabelsSet = p.Labels, &e
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
// (A retry of the command that made a link is recognised before it is decided
// again, by Commands.)
func (i Issue) Link(cause, effect Objective) (Decision, error) {
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
	case cause.Retired != nil || effect.Retired != nil:
		return Decision{}, Errorf(CodeConflict, "a retired objective takes no new links")
	}
	if _, ok := i.links[cause.ID][effect.ID]; ok {
		return Decision{}, Errorf(CodeConflict, "%q already drives %q", cause.Title, effect.Title)
	}
	if i.reaches(effect.ID, cause.ID) {
		return Decision{}, Errorf(CodeConflict,
			"linking %q to %q would close a cycle: %q already leads back to %q",
			cause.Title, effect.Title, effect.Title, cause.Title)
	}
	return Append(ObjectivesLinkedV1{CauseID: cause.ID, EffectID: effect.ID}, nil), nil
}

// UnlinkObjectives asks to remove the link from the cause objective in the path
// to the effect objective in the path.
type UnlinkObjectives struct {
	CauseID  string `json:"-"`
	EffectID string `json:"-"`
	Reason   string `json:"reason"`
	Source   string `json:"source"`
}

// Unlink decides UnlinkObjectives. Removing a removed link changes nothing; a
// link that never existed is not found.
func (i Issue) Unlink(causeID, effectID uuid.UUID) (Decision, error) {
	if _, ok := i.links[causeID][effectID]; !ok {
		if e, ok := i.unlinked[[2]uuid.UUID{causeID, effectID}]; ok {
			return AlreadyDone(e), nil
		}
		return Decision{}, Errorf(CodeNotFound,
			"objective %s does not drive objective %s", causeID, effectID)
	}
	return Append(ObjectivesUnlinkedV1{CauseID: causeID, EffectID: effectID}, nil), nil
}

// SetPerspectiveLabels asks to rename the bands of an issue's strategy map.
type SetPerspectiveLabels struct {
	IssueID string            `json:"-"`
	Labels  map[string]string `json:"labels"`
	Source  string            `json:"source"`
}

// SetLabels decides SetPerspectiveLabels. Keys are perspectives; an empty label
// restores the default name.
func (i Issue) SetLabels(c SetPerspectiveLabels) (Decision, error) {
	if !i.Exists() {
		return Decision{}, Errorf(CodeNotFound, "issue %s does not exist", c.IssueID)
	}
	var fe fieldErrors
	labels := map[Perspective]string{}
	for k, v := range c.Labels {
		p := parseEnum(&fe, "labels."+k, k, Perspectives)
		if v = text(&fe, "labels."+k, v, 0, 60); p != "" && v != "" {
			labels[p] = v
		}
	}
	if err := fe.err(); err != nil {
		return Decision{}, err
	}
	if i.LabelsSet != nil && maps.Equal(i.Labels, labels) {
		return AlreadyDone(*i.LabelsSet), nil
	}
	return Append(PerspectiveLabelsSetV1{Labels: labels}, nil), nil
}

// Label returns the name of a perspective on this issue's map.
func (i Issue) Label(p Perspective) string {
	if l := i.Labels[p]; l != "" {
		return l
	}
	return DefaultLabel(p)
}

// DefaultLabel returns a perspective's name when an issue sets none.
func DefaultLabel(p Perspective) string {
	switch p {
	case Results:
		return "Results"
	case Stakeholders:
		return "Stakeholders"
	case Processes:
		return "Processes"
	case Resources:
		return "Resources"
	}
	return string(p)
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
