package domain

// Tests of registering partners and defining objectives. This file also holds the
// fixtures and assertions that every test of the package shares: histories of
// events, ready-made aggregates and checks of decisions and errors.

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fixedTime is the clock of every fixture event.
var fixedTime = time.Date(2014, 9, 1, 10, 0, 0, 0, time.UTC)

// history returns payloads as the events of one aggregate, versions 1 to n, each
// caused by a command of its own.
func history(aggregateType string, id uuid.UUID, payloads ...Payload) []Event {
	events := make([]Event, len(payloads))
	for i, p := range payloads {
		command := uuid.New()
		events[i] = Event{
			ID:               uuid.New(),
			Type:             p.EventType(),
			SchemaVersion:    CurrentSchemaVersion,
			AggregateType:    aggregateType,
			AggregateID:      id,
			AggregateVersion: uint64(i + 1),
			OccurredAt:       fixedTime,
			RecordedAt:       fixedTime,
			Actor:            "token:test",
			CorrelationID:    command,
			CausationID:      command,
			Payload:          p,
		}
	}
	return events
}

// registeredPartner returns a partner registered as Acme Foundation.
func registeredPartner() Partner {
	r := PartnerRegisteredV1{Name: "Acme Foundation", Kind: Foundation}
	return fold[Partner](history(PartnerAggregate, uuid.New(), r))
}

// launchedIssue returns an issue launched as Cradle to Career.
func launchedIssue() Issue {
	l := IssueLaunchedV1{Title: "Cradle to Career", Description: "Every child, from birth"}
	return fold[Issue](history(IssueAggregate, uuid.New(), l))
}

// definedObjective returns an objective of issue in the results perspective.
func definedObjective(issue Issue, title string) Objective {
	d := ObjectiveDefinedV1{IssueID: issue.ID, Perspective: Results, Title: title}
	return fold[Objective](history(ObjectiveAggregate, uuid.New(), d))
}

// measureWith returns a higher-is-better measure in unit, followed by more events.
func measureWith(unit string, more ...Payload) Measure {
	objective := definedObjective(launchedIssue(), "Children ready for school")
	d := MeasureDefinedV1{
		ObjectiveID: objective.ID,
		IssueID:     objective.IssueID,
		Name:        "Kindergarten readiness",
		Unit:        unit,
		Polarity:    HigherIsBetter,
		Kind:        PopulationIndicator,
	}
	return fold[Measure](history(MeasureAggregate, uuid.New(), append([]Payload{d}, more...)...))
}

func ptr[T any](v T) *T { return &v }

// wantCode checks that err is a *Error with the code want, and returns it.
func wantCode(t *testing.T, err error, want Code) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want a *Error with code %s", err, err, want)
	}
	if e.Code != want {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, want)
	}
	if e.Message == "" {
		t.Errorf("got an empty message, want one a user can act on")
	}
	return e
}

// wantInvalid checks that err refuses exactly one field, for a reason that
// mentions word.
func wantInvalid(t *testing.T, err error, field, word string) {
	t.Helper()
	e := wantCode(t, err, CodeInvalid)
	if len(e.Fields) != 1 {
		t.Fatalf("got fields %+v, want only %q", e.Fields, field)
	}
	f := e.Fields[0]
	if f.Field != field {
		t.Errorf("got field %q (%s), want %q", f.Field, f.Reason, field)
	}
	if !strings.Contains(f.Reason, word) {
		t.Errorf("got reason %q for %s, want it to mention %q", f.Reason, f.Field, word)
	}
}

// wantFields checks that err refuses each of the fields want, in any order, each
// once and for a reason.
func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	e := wantCode(t, err, CodeInvalid)
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
		if f.Reason == "" {
			t.Errorf("got no reason for %s, want one", f.Field)
		}
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("got fields %v, want %v", got, want)
	}
}

// wantOutcome checks err against a table row: no error when code is "", else a
// *Error with that code which, when field is set, refuses field (and only it) for
// a reason mentioning word.
func wantOutcome(t *testing.T, err error, code Code, field, word string) {
	t.Helper()
	switch {
	case code == "" && err != nil:
		t.Fatalf("got error %v, want none", err)
	case code == "":
	case field != "":
		wantInvalid(t, err, field, word)
	default:
		wantCode(t, err, code)
	}
}

// wantAppend checks that d appends a payload of type P, and returns it.
func wantAppend[P Payload](t *testing.T, d Decision, err error) P {
	t.Helper()
	if err != nil {
		t.Fatalf("got error %v, want a new event", err)
	}
	if d.Existing != nil {
		t.Fatalf("got the existing event %s, want a new one", d.Existing.Type)
	}
	p, ok := d.Payload.(P)
	if !ok {
		var want P
		t.Fatalf("got payload %#v, want a %T", d.Payload, want)
	}
	return p
}

// wantAlreadyDone checks that d appends nothing and names the event want.
func wantAlreadyDone(t *testing.T, d Decision, err error, want Event) {
	t.Helper()
	if err != nil {
		t.Fatalf("got error %v, want the existing event", err)
	}
	if d.Payload != nil {
		t.Fatalf("got a new %s, want nothing appended", d.Payload.EventType())
	}
	if d.Existing == nil {
		t.Fatalf("got no existing event, want %s %s", want.Type, want.ID)
	}
	if d.Existing.ID != want.ID {
		t.Errorf("got existing event %s %s, want %s %s",
			d.Existing.Type, d.Existing.ID, want.Type, want.ID)
	}
}

func TestPartnerRegister(t *testing.T) {
	tests := []struct {
		name     string
		command  RegisterPartner
		wantName string
		wantKind PartnerKind
		code     Code
		field    string
		word     string
	}{
		{name: "a name and a kind", command: RegisterPartner{Name: "Acme", Kind: "business"},
			wantName: "Acme", wantKind: Business},
		{name: "name is trimmed", command: RegisterPartner{Name: "  Acme \n", Kind: "business"},
			wantName: "Acme", wantKind: Business},
		{name: "name of 200 characters",
			command:  RegisterPartner{Name: strings.Repeat("é", 200), Kind: "business"},
			wantName: strings.Repeat("é", 200), wantKind: Business},
		{name: "kind in words", command: RegisterPartner{Name: "UW", Kind: "United Way"},
			wantName: "UW", wantKind: UnitedWay},
		{name: "kind with a dash", command: RegisterPartner{Name: "UW", Kind: "united-way"},
			wantName: "UW", wantKind: UnitedWay},
		{name: "kind in capitals", command: RegisterPartner{Name: "H", Kind: "HEALTH_SYSTEM"},
			wantName: "H", wantKind: HealthSystem},
		{name: "name of 201 characters",
			command: RegisterPartner{Name: strings.Repeat("a", 201), Kind: "business"},
			code:    CodeInvalid, field: "name", word: "at most 200"},
		{name: "empty name", command: RegisterPartner{Kind: "business"},
			code: CodeInvalid, field: "name", word: "required"},
		{name: "whitespace-only name", command: RegisterPartner{Name: " \t\n ", Kind: "business"},
			code: CodeInvalid, field: "name", word: "required"},
		{name: "name not UTF-8", command: RegisterPartner{Name: "Acme \xff", Kind: "business"},
			code: CodeInvalid, field: "name", word: "UTF-8"},
		{name: "missing kind", command: RegisterPartner{Name: "Acme"},
			code: CodeInvalid, field: "kind", word: "required"},
		{name: "unknown kind", command: RegisterPartner{Name: "Acme", Kind: "church"},
			code: CodeInvalid, field: "kind", word: `"church" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Partner{}.Register(tt.command)
			wantOutcome(t, err, tt.code, tt.field, tt.word)
			if tt.code != "" {
				return
			}
			r := wantAppend[PartnerRegisteredV1](t, d, err)
			if r.Name != tt.wantName || r.Kind != tt.wantKind {
				t.Errorf("got %q (%s), want %q (%s)", r.Name, r.Kind, tt.wantName, tt.wantKind)
			}
			if d.PartnerID != nil {
				t.Errorf("got partner %s, want none: the handler names the new partner",
					d.PartnerID)
			}
		})
	}
}

func TestPartnerRegisterAgain(t *testing.T) {
	p := registeredPartner() // Acme Foundation, foundation

	tests := []struct {
		name    string
		command RegisterPartner
		code    Code
	}{
		{name: "same details",
			command: RegisterPartner{Name: "Acme Foundation", Kind: "foundation"}},
		{name: "same details, other spelling",
			command: RegisterPartner{Name: " Acme Foundation ", Kind: "Foundation"}},
		{name: "other name", command: RegisterPartner{Name: "Acme", Kind: "foundation"},
			code: CodeConflict},
		{name: "other kind", command: RegisterPartner{Name: "Acme Foundation", Kind: "nonprofit"},
			code: CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Register(tt.command)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			wantAlreadyDone(t, d, err, *p.Registered)
		})
	}

	t.Run("invalid input is refused before the conflict", func(t *testing.T) {
		_, err := p.Register(RegisterPartner{Name: "Acme Foundation", Kind: "church"})
		wantInvalid(t, err, "kind", "not one of")
	})
}

func TestPartnerRegisterNamesEveryFault(t *testing.T) {
	_, err := Partner{}.Register(RegisterPartner{})

	wantFields(t, err, "name", "kind")
	if !strings.Contains(err.Error(), "name: is required") {
		t.Errorf("got message %q, want it to list the fields", err)
	}
}

func TestObjectiveDefine(t *testing.T) {
	issue := launchedIssue()

	tests := []struct {
		name            string
		command         DefineObjective
		wantPerspective Perspective
		wantTitle       string
		field           string
		word            string
	}{
		{name: "each perspective: results", wantPerspective: Results,
			command:   DefineObjective{Perspective: "results", Title: "Ready for school"},
			wantTitle: "Ready for school"},
		{name: "each perspective: stakeholders", wantPerspective: Stakeholders,
			command:   DefineObjective{Perspective: "Stakeholders", Title: "Families engaged"},
			wantTitle: "Families engaged"},
		{name: "each perspective: processes", wantPerspective: Processes,
			command:   DefineObjective{Perspective: "PROCESSES", Title: " Share data "},
			wantTitle: "Share data"},
		{name: "each perspective: resources", wantPerspective: Resources,
			command:   DefineObjective{Perspective: "resources", Title: strings.Repeat("r", 200)},
			wantTitle: strings.Repeat("r", 200)},
		{name: "title of 201 characters",
			command: DefineObjective{Perspective: "results", Title: strings.Repeat("r", 201)},
			field:   "title", word: "at most 200"},
		{name: "whitespace-only title",
			command: DefineObjective{Perspective: "results", Title: "  "},
			field:   "title", word: "required"},
		{name: "missing perspective", command: DefineObjective{Title: "Ready"},
			field: "perspective", word: "required"},
		{name: "unknown perspective",
			command: DefineObjective{Perspective: "customers", Title: "R"},
			field:   "perspective", word: `"customers" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.command.IssueID = issue.ID.String()
			d, err := Objective{}.Define(tt.command, issue)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.word)
				return
			}
			o := wantAppend[ObjectiveDefinedV1](t, d, err)
			want := ObjectiveDefinedV1{IssueID: issue.ID, Perspective: tt.wantPerspective,
				Title: tt.wantTitle}
			if o != want {
				t.Errorf("got %+v, want %+v", o, want)
			}
		})
	}

	t.Run("issue that does not exist", func(t *testing.T) {
		missing := uuid.New().String()
		_, err := Objective{}.Define(
			DefineObjective{IssueID: missing, Perspective: "results", Title: "R"}, Issue{})
		e := wantCode(t, err, CodeNotFound)
		if !strings.Contains(e.Message, missing) {
			t.Errorf("got message %q, want it to name issue %s", e.Message, missing)
		}
	})
}

func TestObjectiveDefineAgain(t *testing.T) {
	issue := launchedIssue()
	o := definedObjective(issue, "Ready for school") // results

	tests := []struct {
		name    string
		command DefineObjective
		issue   Issue
		code    Code
	}{
		{name: "same details",
			command: DefineObjective{Perspective: "results", Title: "Ready for school"},
			issue:   issue},
		{name: "same details, other spelling",
			command: DefineObjective{Perspective: "Results", Title: " Ready for school"},
			issue:   issue},
		{name: "other title",
			command: DefineObjective{Perspective: "results", Title: "Ready"}, issue: issue,
			code: CodeConflict},
		{name: "other perspective",
			command: DefineObjective{Perspective: "processes", Title: "Ready for school"},
			issue:   issue, code: CodeConflict},
		{name: "other issue",
			command: DefineObjective{Perspective: "results", Title: "Ready for school"},
			issue:   launchedIssue(), code: CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := o.Define(tt.command, tt.issue)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			wantAlreadyDone(t, d, err, *o.Defined)
		})
	}
}
