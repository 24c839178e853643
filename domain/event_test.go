package domain

// Tests of the event envelope's JSON form: every payload survives a round trip,
// and events of types or versions this build does not know pass through unchanged.

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fullEvent returns a fully filled event carrying p.
func fullEvent(aggregateType string, p Payload) Event {
	partner := uuid.New()
	return Event{
		ID:               uuid.Must(uuid.NewV7()),
		Type:             p.EventType(),
		SchemaVersion:    CurrentSchemaVersion,
		AggregateType:    aggregateType,
		AggregateID:      uuid.New(),
		AggregateVersion: 3,
		Sequence:         42,
		OccurredAt:       time.Date(2014, 6, 30, 23, 59, 59, 0, time.UTC),
		RecordedAt:       time.Date(2014, 9, 1, 10, 0, 0, 123456789, time.UTC),
		Actor:            "token:admin",
		PartnerID:        &partner,
		CorrelationID:    uuid.New(),
		CausationID:      uuid.New(),
		Source:           "https://example.org/report.pdf",
		Payload:          p,
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	owner, reporter := uuid.New(), uuid.New()
	tests := []struct {
		aggregateType string
		payload       Payload
	}{
		{PartnerAggregate, PartnerRegisteredV1{Name: "Acme Foundation", Kind: Foundation}},
		{IssueAggregate, IssueLaunchedV1{Title: "Cradle to Career", Description: "From birth"}},
		{ObjectiveAggregate, ObjectiveDefinedV1{IssueID: uuid.New(), Perspective: Processes,
			Title: "Share data"}},
		{IssueAggregate, ObjectivesLinkedV1{CauseID: uuid.New(), EffectID: uuid.New()}},
		{MeasureAggregate, MeasureDefinedV1{ObjectiveID: uuid.New(), IssueID: uuid.New(),
			Name: "Readiness", Unit: "%", Polarity: LowerIsBetter, Kind: PerformanceMeasure}},
		{MeasureAggregate, MeasureDefinedV1{ObjectiveID: uuid.New(), IssueID: uuid.New(),
			Name: "Readiness", Unit: "%", Polarity: HigherIsBetter, Kind: PopulationIndicator,
			OwnerPartnerID: &owner, BaselinePeriod: ptr(MustParsePeriod("2010-M11")),
			BaselineValue: ptr(0.0)}},
		{MeasureAggregate, TargetSetV1{Period: MustParsePeriod("2014-15"), Value: 62.5}},
		{MeasureAggregate, ProgressReportedV1{Period: MustParsePeriod("2014-Q3"), Value: 0}},
		{MeasureAggregate, ProgressReportedV1{Period: MustParsePeriod("2014-09"), Value: -1.25,
			Disaggregation: "race=Black", ReportingPartnerID: &reporter, Note: "Fall"}},
		{MeasureAggregate, ProgressCorrectedV1{Period: MustParsePeriod("2014"),
			Disaggregation: "ell=yes", Value: 58, Reason: "recount"}},
		{CommitmentAggregate, CommitmentMadeV1{PartnerID: uuid.New(), IssueID: uuid.New(),
			Kind: ActionCommitment, Description: "Tutors", Period: MustParsePeriod("2015")}},
		{CommitmentAggregate, CommitmentMadeV1{PartnerID: uuid.New(), IssueID: uuid.New(),
			ObjectiveID: ptr(uuid.New()), Kind: FundingCommitment, Description: "Grants",
			AmountCents: ptr[int64](500000), Currency: "USD", Period: MustParsePeriod("2014-15")}},
	}
	for _, tt := range tests {
		t.Run(tt.payload.EventType(), func(t *testing.T) {
			want := fullEvent(tt.aggregateType, tt.payload)
			b, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}

			var got Event
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("got error %v decoding %s", err, b)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v\nfrom %s", got, want, b)
			}
			if reflect.TypeOf(got.Payload).Kind() == reflect.Pointer {
				t.Errorf("got a %T payload, want a value", got.Payload)
			}
		})
	}
}

func TestEventJSONRoundTripEveryType(t *testing.T) {
	// Every event type this build decodes must survive a round trip, even empty.
	for eventType, newPayload := range payloadTypes {
		t.Run(eventType, func(t *testing.T) {
			want := fullEvent(MeasureAggregate, deref(newPayload()))
			if want.Type != eventType {
				t.Fatalf("got type %s from the payload, want %s", want.Type, eventType)
			}
			b, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}

			var got Event
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("got error %v decoding %s", err, b)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v\nfrom %s", got, want, b)
			}
		})
	}
}

func TestEventJSONForm(t *testing.T) {
	e := Event{
		ID:               uuid.MustParse("018f0000-0000-7000-8000-000000000001"),
		Type:             TargetSet,
		SchemaVersion:    1,
		AggregateType:    MeasureAggregate,
		AggregateID:      uuid.MustParse("018f0000-0000-7000-8000-000000000002"),
		AggregateVersion: 2,
		OccurredAt:       fixedTime,
		RecordedAt:       fixedTime,
		Actor:            "token:admin",
		CorrelationID:    uuid.MustParse("018f0000-0000-7000-8000-000000000003"),
		CausationID:      uuid.MustParse("018f0000-0000-7000-8000-000000000003"),
		Payload:          TargetSetV1{Period: MustParsePeriod("2010-M11"), Value: 60},
	}
	want := `{"id":"018f0000-0000-7000-8000-000000000001","type":"measure.target_set",` +
		`"schema_version":1,"aggregate_type":"measure",` +
		`"aggregate_id":"018f0000-0000-7000-8000-000000000002","aggregate_version":2,` +
		`"occurred_at":"2014-09-01T10:00:00Z","recorded_at":"2014-09-01T10:00:00Z",` +
		`"actor":"token:admin","correlation_id":"018f0000-0000-7000-8000-000000000003",` +
		`"causation_id":"018f0000-0000-7000-8000-000000000003",` +
		`"payload":{"period":"2010-M11","value":60}}`

	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestEventJSONUnknown(t *testing.T) {
	// Documents as the encoder writes them, so a pass through must keep every byte.
	tests := []struct {
		name     string
		doc      string
		wantType string
		wantRaw  string
	}{
		{
			name: "a type this build does not know",
			doc: `{"id":"018f0000-0000-7000-8000-000000000001","type":"partner.merged",` +
				`"schema_version":1,"aggregate_type":"partner",` +
				`"aggregate_id":"018f0000-0000-7000-8000-000000000002","aggregate_version":4,` +
				`"sequence":99,"occurred_at":"2014-09-01T10:00:00Z",` +
				`"recorded_at":"2014-09-01T10:00:00Z","actor":"token:admin",` +
				`"correlation_id":"018f0000-0000-7000-8000-000000000003",` +
				`"causation_id":"018f0000-0000-7000-8000-000000000003",` +
				`"payload":{"into":"018f0000-0000-7000-8000-000000000009","names":["A","B"]}}`,
			wantType: "partner.merged",
			wantRaw:  `{"into":"018f0000-0000-7000-8000-000000000009","names":["A","B"]}`,
		},
		{
			name: "a known type in a newer version",
			doc: `{"id":"018f0000-0000-7000-8000-000000000001","type":"measure.target_set",` +
				`"schema_version":2,"aggregate_type":"measure",` +
				`"aggregate_id":"018f0000-0000-7000-8000-000000000002","aggregate_version":2,` +
				`"occurred_at":"2014-09-01T10:00:00Z","recorded_at":"2014-09-01T10:00:00Z",` +
				`"actor":"token:admin","correlation_id":"018f0000-0000-7000-8000-000000000003",` +
				`"causation_id":"018f0000-0000-7000-8000-000000000003",` +
				`"payload":{"period":"2014","value":{"low":55,"high":60}}}`,
			wantType: TargetSet,
			wantRaw:  `{"period":"2014","value":{"low":55,"high":60}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Event
			if err := json.Unmarshal([]byte(tt.doc), &e); err != nil {
				t.Fatalf("got error %v, want the event kept", err)
			}
			u, ok := e.Payload.(UnknownPayload)
			if !ok {
				t.Fatalf("got payload %#v, want an UnknownPayload", e.Payload)
			}
			if u.EventType() != tt.wantType || string(u.Raw) != tt.wantRaw {
				t.Errorf("got %s %s, want %s %s", u.EventType(), u.Raw, tt.wantType, tt.wantRaw)
			}

			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.doc {
				t.Errorf("got  %s\nwant %s", b, tt.doc)
			}
		})
	}
}

func TestEventJSONUnknownWithoutPayload(t *testing.T) {

	var e Event
	doc := `{"type":"partner.archived","schema_version":1}`
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		t.Fatalf("got error %v, want the event kept", err)
	}
	if _, err := json.Marshal(e); err != nil {
		t.Errorf("got error %v encoding it again, want a null payload", err)
	}
}

func TestEventJSONRefuses(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		word string
	}{
		{"not JSON", `{"type":`, "unexpected end"},
		{"a payload of the wrong shape",
			`{"type":"measure.target_set","schema_version":1,"payload":{"value":"high"}}`,
			"decode measure.target_set payload"},
		{"a period that is not one",
			`{"type":"measure.target_set","schema_version":1,"payload":{"period":"2014-13"}}`,
			"not a period"},
		{"a version older than any upcaster",
			`{"type":"measure.target_set","schema_version":0,"payload":{}}`,
			"no upcaster for measure.target_set version 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Event
			err := json.Unmarshal([]byte(tt.doc), &e)
			if err == nil || !strings.Contains(err.Error(), tt.word) {
				t.Errorf("got error %v, want one mentioning %q", err, tt.word)
			}
		})
	}
}
