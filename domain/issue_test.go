package domain

// Tests of issues: launching one and linking the objectives of its strategy map.

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestIssueLaunch(t *testing.T) {
	tests := []struct {
		name    string
		command LaunchIssue
		want    IssueLaunchedV1
		field   string
		word    string
	}{
		{name: "a title", command: LaunchIssue{Title: "Cradle to Career"},
			want: IssueLaunchedV1{Title: "Cradle to Career"}},
		{name: "a title and a description, trimmed",
			command: LaunchIssue{Title: " Cradle to Career ", Description: " From birth \n"},
			want:    IssueLaunchedV1{Title: "Cradle to Career", Description: "From birth"}},
		{name: "title of 200 characters", command: LaunchIssue{Title: strings.Repeat("t", 200)},
			want: IssueLaunchedV1{Title: strings.Repeat("t", 200)}},
		{name: "description of 4000 characters",
			command: LaunchIssue{Title: "T", Description: strings.Repeat("d", 4000)},
			want:    IssueLaunchedV1{Title: "T", Description: strings.Repeat("d", 4000)}},
		{name: "title of 201 characters", command: LaunchIssue{Title: strings.Repeat("t", 201)},
			field: "title", word: "at most 200"},
		{name: "empty title", command: LaunchIssue{Description: "D"},
			field: "title", word: "required"},
		{name: "whitespace-only title", command: LaunchIssue{Title: "   "},
			field: "title", word: "required"},
		{name: "description of 4001 characters",
			command: LaunchIssue{Title: "T", Description: strings.Repeat("d", 4001)},
			field:   "description", word: "at most 4000"},
		{name: "description not UTF-8", command: LaunchIssue{Title: "T", Description: "\xff"},
			field: "description", word: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Issue{}.Launch(tt.command)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.word)
				return
			}
			if got := wantAppend[IssueLaunchedV1](t, d, err); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIssueLaunchAgain(t *testing.T) {
	issue := launchedIssue()
	const title, description = "Cradle to Career", "Every child, from birth"

	tests := []struct {
		name     string
		command  LaunchIssue
		conflict bool
	}{
		{name: "same details",
			command: LaunchIssue{Title: title, Description: description}},
		{name: "same details, spaced",
			command: LaunchIssue{Title: title + " ", Description: " " + description}},
		{name: "other title", conflict: true,
			command: LaunchIssue{Title: "Cradle to career", Description: description}},
		{name: "other description", conflict: true,
			command: LaunchIssue{Title: "Cradle to Career"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := issue.Launch(tt.command)
			if tt.conflict {
				wantCode(t, err, CodeConflict)
				return
			}
			wantAlreadyDone(t, d, err, *issue.Launched)
		})
	}
}

// strategyMap is an issue with four objectives of its own and one of another issue.
type strategyMap struct {
	issue         Issue
	a, b, c, d    Objective
	otherIssues   Objective
	launchPayload Payload
}

func newStrategyMap() strategyMap {
	issue := launchedIssue()
	return strategyMap{
		issue:         issue,
		a:             definedObjective(issue, "Families read at home"),
		b:             definedObjective(issue, "Children ready for school"),
		c:             definedObjective(issue, "Third-graders read well"),
		d:             definedObjective(issue, "Students graduate"),
		otherIssues:   definedObjective(launchedIssue(), "Fewer emergency visits"),
		launchPayload: issue.Launched.Payload,
	}
}

// linked returns the map's issue with the given links, cause then effect.
func (s strategyMap) linked(pairs ...[2]Objective) Issue {
	payloads := []Payload{s.launchPayload}
	for _, p := range pairs {
		payloads = append(payloads, ObjectivesLinkedV1{CauseID: p[0].ID, EffectID: p[1].ID})
	}
	return fold[Issue](history(IssueAggregate, s.issue.ID, payloads...))
}

func TestIssueLink(t *testing.T) {
	s := newStrategyMap()
	a, b, c, d := s.a, s.b, s.c, s.d

	tests := []struct {
		name          string
		links         [][2]Objective
		cause, effect Objective
		code          Code
		field         string
		word          string
	}{
		{name: "a first link", cause: a, effect: b},
		{name: "a second effect of one cause", links: [][2]Objective{{a, b}}, cause: a, effect: c},
		{name: "a second cause of one effect", links: [][2]Objective{{a, b}}, cause: c, effect: b},
		{name: "a diamond closes without a cycle",
			links: [][2]Objective{{a, b}, {a, c}, {b, d}}, cause: c, effect: d},
		{name: "a link to itself", cause: a, effect: a,
			code: CodeInvalid, field: "effect_objective_id", word: "cannot cause itself"},
		{name: "an effect of another issue", cause: a, effect: s.otherIssues,
			code: CodeInvalid, field: "effect_objective_id", word: "another issue"},
		{name: "an effect that does not exist", cause: a, effect: Objective{ID: uuid.New()},
			code: CodeInvalid, field: "effect_objective_id", word: "does not exist"},
		{name: "a cause that does not exist", cause: Objective{ID: uuid.New()}, effect: b,
			code: CodeNotFound},
		{name: "the same link again, by another command", links: [][2]Objective{{a, b}},
			cause: a, effect: b, code: CodeConflict},
		{name: "the reverse of a link", links: [][2]Objective{{a, b}}, cause: b, effect: a,
			code: CodeConflict},
		{name: "a link that closes a cycle of three", links: [][2]Objective{{a, b}, {b, c}},
			cause: c, effect: a, code: CodeConflict},
		{name: "a link that closes a cycle through a diamond",
			links: [][2]Objective{{a, b}, {a, c}, {b, d}, {c, d}}, cause: d, effect: a,
			code: CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issue := s.linked(tt.links...)
			decision, err := issue.Link(tt.cause, tt.effect)
			wantOutcome(t, err, tt.code, tt.field, tt.word)
			if tt.code != "" {
				return
			}
			got := wantAppend[ObjectivesLinkedV1](t, decision, err)
			want := ObjectivesLinkedV1{CauseID: tt.cause.ID, EffectID: tt.effect.ID}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}

	t.Run("an issue that does not exist", func(t *testing.T) {
		_, err := Issue{}.Link(a, b)
		wantCode(t, err, CodeNotFound)
	})
}

func TestIssueLinkCycleMessage(t *testing.T) {
	s := newStrategyMap()
	issue := s.linked([2]Objective{s.a, s.b}, [2]Objective{s.b, s.c})

	_, err := issue.Link(s.c, s.a)

	e := wantCode(t, err, CodeConflict)
	for _, title := range []string{s.a.Title, s.c.Title, "cycle"} {
		if !strings.Contains(e.Message, title) {
			t.Errorf("got %q, want it to mention %q", e.Message, title)
		}
	}
}

func TestIssueLinksCount(t *testing.T) {
	s := newStrategyMap()
	tests := []struct {
		name  string
		links [][2]Objective
		want  int
	}{
		{"no links", nil, 0},
		{"a chain", [][2]Objective{{s.a, s.b}, {s.b, s.c}, {s.c, s.d}}, 3},
		{"a fan", [][2]Objective{{s.a, s.b}, {s.a, s.c}, {s.a, s.d}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.linked(tt.links...).Links(); got != tt.want {
				t.Errorf("got %d links, want %d", got, tt.want)
			}
		})
	}
}

func TestIssueUnlinkTwiceChangesNothing(t *testing.T) {
	s := newStrategyMap()
	issue := s.linked([2]Objective{s.a, s.b})
	d, err := issue.Unlink(s.a.ID, s.b.ID)
	wantAppend[ObjectivesUnlinkedV1](t, d, err)

	removed := Event{AggregateVersion: 9, Payload: d.Payload}
	issue.apply(removed)
	again, err := issue.Unlink(s.a.ID, s.b.ID)
	wantAlreadyDone(t, again, err, removed)

	_, err = issue.Unlink(s.b.ID, s.a.ID)
	wantCode(t, err, CodeNotFound)
}
