package projections

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// decodeCases are events of every type this build writes, with optional
// fields set and left out.
func decodeCases() map[string]domain.Event {
	partner := uuid.MustParse("5b1f3c52-3a4e-4d1c-9c55-0d0a3b9a1c01")
	objective := uuid.MustParse("0f6f5a7e-1b1d-4a55-8a9e-5a4c3e2b1a00")
	period := domain.MustParsePeriod("2014-15")
	baseline, cents, zero := 41.5, int64(2_500_000_00), int64(0)
	envelope := func(p domain.Payload, partner *uuid.UUID) domain.Event {
		at := time.Date(2026, 12, 4, 15, 4, 5, 123456789, time.UTC)
		return domain.Event{
			ID: uuid.MustParse("01938a2b-7c1d-7e5f-8a9b-0c1d2e3f4a5b"), Type: p.EventType(),
			SchemaVersion: domain.CurrentSchemaVersion, AggregateType: domain.MeasureAggregate,
			AggregateID:      uuid.MustParse("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"),
			AggregateVersion: 42, OccurredAt: at.Add(-time.Hour), RecordedAt: at,
			Actor: "token:admin", PartnerID: partner,
			CorrelationID: uuid.MustParse("11111111-2222-4333-8444-555555555555"),
			CausationID:   uuid.MustParse("66666666-7777-4888-9999-aaaaaaaaaaaa"),
			Source:        "https://data.example.org/tacoma/measures.csv#row=12",
			Payload:       p,
		}
	}
	return map[string]domain.Event{
		"partner registered": envelope(domain.PartnerRegisteredV1{Name: "Tacoma Public Schools",
			Kind: domain.SchoolDistrict}, &partner),
		"issue launched": envelope(domain.IssueLaunchedV1{Title: "Early learning",
			Description: "Children ready for kindergarten — in every neighbourhood"}, nil),
		"objective defined": envelope(domain.ObjectiveDefinedV1{IssueID: partner,
			Perspective: domain.Processes, Title: "Enrol in pre-K"}, nil),
		"objectives linked": envelope(domain.ObjectivesLinkedV1{CauseID: partner,
			EffectID: objective}, nil),
		"objectives unlinked": envelope(domain.ObjectivesUnlinkedV1{CauseID: objective,
			EffectID: partner}, nil),
		"measure defined in full": envelope(domain.MeasureDefinedV1{ObjectiveID: objective,
			IssueID: partner, Name: "Third graders reading", Unit: "%",
			Polarity: domain.HigherIsBetter, Kind: domain.PerformanceMeasure,
			OwnerPartnerID: &partner, BaselinePeriod: &period, BaselineValue: &baseline,
			Question: domain.BetterOff}, &partner),
		"measure defined bare": envelope(domain.MeasureDefinedV1{ObjectiveID: objective,
			Name: "Graduation", Unit: "per 1,000 residents", Polarity: domain.LowerIsBetter,
			Kind: domain.PopulationIndicator}, nil),
		"target set": envelope(domain.TargetSetV1{Period: domain.MustParsePeriod("2030"),
			Value: 90}, nil),
		"progress reported": envelope(domain.ProgressReportedV1{
			Period: domain.MustParsePeriod("2024-Q3"), Value: 57.3,
			Disaggregation: "race=Native American", ReportingPartnerID: &partner,
			Note: "Preliminary"}, &partner),
		"progress reported bare": envelope(domain.ProgressReportedV1{
			Period: domain.MustParsePeriod("2010-M11"), Value: -0.000125}, nil),
		"progress corrected": envelope(domain.ProgressCorrectedV1{
			Period: domain.MustParsePeriod("2024-09"), Disaggregation: "district=Bethel",
			Value: 1e21, Reason: "Typo"}, nil),
		"commitment made": envelope(domain.CommitmentMadeV1{PartnerID: partner,
			IssueID: objective, ObjectiveID: &objective, Kind: domain.FundingCommitment,
			Description: "Two years of tutors", AmountCents: &cents, Currency: "USD",
			Period: period}, &partner),
		"commitment pooled": envelope(domain.CommitmentMadeV1{PartnerID: partner,
			Pooled: true, Kind: domain.InKindCommitment, Description: "Office space",
			AmountCents: &zero, Period: domain.MustParsePeriod("2025")}, &partner),
		"labels set": envelope(domain.PerspectiveLabelsSetV1{Labels: map[domain.Perspective]string{
			domain.Results: "Community results", domain.Resources: "Capacity"}}, nil),
		"labels cleared": envelope(domain.PerspectiveLabelsSetV1{
			Labels: map[domain.Perspective]string{}}, nil),
		"objective renamed": envelope(domain.ObjectiveRenamedV1{Title: "Enrol early"}, nil),
		"objective retired": envelope(domain.ObjectiveRetiredV1{Reason: "Merged"}, nil),
		"measure retired":   envelope(domain.MeasureRetiredV1{Reason: "Replaced"}, nil),
		"bands set":         envelope(domain.StatusBandsSetV1{AtRiskPercent: 12.5}, nil),
		"partly fulfilled": envelope(domain.CommitmentPartlyFulfilledV1{AmountCents: &cents,
			Note: "First instalment"}, &partner),
		"fulfilled": envelope(domain.CommitmentFulfilledV1{
			Period: domain.MustParsePeriod("2026-Q1")}, &partner),
		"withdrawn": envelope(domain.CommitmentWithdrawnV1{Reason: "Budget cut"}, &partner),
	}
}

// TestDecodeEventTakesTheFastPath checks that the events this build writes
// decode on the fast path, to what encoding/json decodes.
func TestDecodeEventTakesTheFastPath(t *testing.T) {
	for name, e := range decodeCases() {
		t.Run(name, func(t *testing.T) {
			data, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := decodeFast(data)
			if !ok {
				t.Fatalf("the fast path gave up on %s", data)
			}
			var want domain.Event
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, want)
			}
		})
	}
}

// TestDecodeEventAgreesWithEncodingJSON feeds DecodeEvent what the fast path
// must not misread: each case must decode, or fail, as with json.Unmarshal.
func TestDecodeEventAgreesWithEncodingJSON(t *testing.T) {
	report, err := json.Marshal(decodeCases()["progress reported"])
	if err != nil {
		t.Fatal(err)
	}
	plain := string(report)
	const partner = "5b1f3c52-3a4e-4d1c-9c55-0d0a3b9a1c01"
	const recorded = "2026-12-04T15:04:05.123456789Z"
	const id = "01938a2b-7c1d-7e5f-8a9b-0c1d2e3f4a5b"
	head := func(eventType string) string { // up to the payload's value
		return `{"type":"` + eventType + `","schema_version":1,"payload":`
	}
	swap := func(old, new string) string {
		if !strings.Contains(plain, old) {
			t.Fatalf("the event has no %s", old)
		}
		return strings.Replace(plain, old, new, 1)
	}
	cases := map[string]string{
		"as written":             plain,
		"white space":            strings.NewReplacer(`,`, " ,\n\t", `:`, "\r: ").Replace(plain),
		"trailing garbage":       plain + "x",
		"cut short":              plain[:len(plain)-1],
		"a key in another case":  swap(`"actor"`, `"Actor"`),
		"an unknown key":         swap(`"actor"`, `"extra":[1,{"a":null}],"actor"`),
		"a key twice":            swap(`"actor":"token:admin"`, `"actor":"a","actor":"b"`),
		"the type twice":         swap(`"payload"`, `"type":"measure.target_set","payload"`),
		"the payload first":      `{"payload":{"value":1},` + plain[1:],
		"an escaped string":      swap(`"Preliminary"`, `"Pre\u003climinary\" \\ \n"`),
		"an escaped key":         swap(`"note"`, `"n\u006fte"`),
		"invalid UTF-8":          swap(`"Preliminary"`, "\"Pre\xffliminary\""),
		"UTF-8":                  swap(`"Preliminary"`, `"Prélîminary ✓"`),
		"a control character":    swap(`"Preliminary"`, "\"Pre\tliminary\""),
		"schema version 2":       swap(`"schema_version":1`, `"schema_version":2`),
		"schema version 1.0":     swap(`"schema_version":1`, `"schema_version":1.0`),
		"schema version 0":       swap(`"schema_version":1`, `"schema_version":0`),
		"an unknown type":        swap(`"measure.progress_reported"`, `"measure.renamed"`),
		"a version out of range": swap(`"aggregate_version":42`, `"aggregate_version":-1`),
		"a version as exponent":  swap(`"aggregate_version":42`, `"aggregate_version":4e1`),
		"a value with a plus":    swap(`"value":57.3`, `"value":+57.3`),
		"a value with a zero":    swap(`"value":57.3`, `"value":057.3`),
		"a value as exponent":    swap(`"value":57.3`, `"value":-5.73E+1`),
		"a value too large":      swap(`"value":57.3`, `"value":1e400`),
		"a value as a string":    swap(`"value":57.3`, `"value":"57.3"`),
		"a null value":           swap(`"value":57.3`, `"value":null`),
		"a null partner":         swap(`"partner_id":"`+partner+`"`, `"partner_id":null`),
		"a null reporter": swap(`"reporting_partner_id":"`+partner+`"`,
			`"reporting_partner_id":null`),
		"a null time":      swap(`"recorded_at":"`+recorded+`"`, `"recorded_at":null`),
		"a bad time":       swap(`"recorded_at":"2026-12`, `"recorded_at":"2026-13`),
		"a bad period":     swap(`"2024-Q3"`, `"2024-Q5"`),
		"a UUID in braces": swap(`"id":"`+id+`"`, `"id":"{`+id+`}"`),
		"a bad UUID":       swap(`"id":"01938a2b`, `"id":"x1938a2b`),
		"a null payload":   swap(`"payload":{`, `"payload":null,"p":{`),
		"no payload":       swap(`"payload":{`, `"p":{`),
		"an empty payload": head("measure.progress_reported") + `{}}`,
		"an array":         `[` + plain + `]`,
		"empty":            ``,
		"labels twice": head("issue.perspective_labels_set") +
			`{"labels":{"results":"A"},"labels":{"stakeholders":"B"}}}`,
		"a null label": head("issue.perspective_labels_set") +
			`{"labels":{"results":null}}}`,
		"a pooled flag as a string": head("commitment.made") + `{"pooled":"true"}}`,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) { agree(t, []byte(data)) })
	}
}

// agree fails the test unless DecodeEvent and json.Unmarshal agree on data.
func agree(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := DecodeEvent(data)
	var want domain.Event
	wantErr := json.Unmarshal(data, &want)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("DecodeEvent: %v; json.Unmarshal: %v\n%s", gotErr, wantErr, data)
	case gotErr != nil && gotErr.Error() != wantErr.Error():
		t.Errorf("DecodeEvent: %v; json.Unmarshal: %v", gotErr, wantErr)
	case gotErr == nil && !reflect.DeepEqual(got, want):
		t.Errorf("got\n%#v\nwant\n%#v\nfrom %s", got, want, data)
	}
}

// TestDecodeEventAgreesOnMutations garbles events at random, byte by byte and
// slice by slice, and checks DecodeEvent against json.Unmarshal on each.
func TestDecodeEventAgreesOnMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte(`{}[]:,"\\ 0123456789.eE+-nulltruefalse\u00e9\xff\t`)
	var seeds [][]byte
	for _, e := range decodeCases() {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	slices.SortFunc(seeds, bytes.Compare)
	for range 20_000 {
		data := slices.Clone(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(data))
			switch rng.IntN(4) {
			case 0:
				data = slices.Delete(data, i, min(len(data), i+1+rng.IntN(8)))
			case 1:
				data = slices.Insert(data, i, alphabet[rng.IntN(len(alphabet))])
			case 2:
				data[i] = alphabet[rng.IntN(len(alphabet))]
			default:
				j := rng.IntN(len(data))
				data = slices.Insert(data, i, data[min(i, j):max(i, j)]...)
			}
			if len(data) == 0 {
				break
			}
		}
		agree(t, data)
		if t.Failed() {
			return
		}
	}
}

// FuzzDecodeEvent checks that DecodeEvent agrees with json.Unmarshal on any
// input.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range decodeCases() {
		data, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { agree(t, data) })
}

// BenchmarkDecodeEvent compares the fast path with encoding/json on a
// progress report, the event a rebuild decodes most.
func BenchmarkDecodeEvent(b *testing.B) {
	data, err := json.Marshal(decodeCases()["progress reported"])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("DecodeEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeEvent(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e domain.Event
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
