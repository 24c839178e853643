package projections

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// DecodeEvent reads an event as the event store keeps it: the same result and
// the same error as json.Unmarshal into a domain.Event, in a fraction of the
// time for the events this build writes. A rebuild decodes every event once
// per read model, and encoding/json spends most of that time scanning each
// event four times (checking, then decoding the envelope, then again for the
// payload) and on reflection.
//
// The fast path reads the envelope and the payloads of this build's event
// types in one pass, as encoding/json writes them. Anything it is not sure to
// read the same way hands the whole event to json.Unmarshal: another schema
// version, an event type it does not know, a key it does not know or one
// spelled in another case, a key seen twice in the envelope, a payload before
// its type, null where a value was expected, invalid JSON or UTF-8, and
// strings with escapes, which are rare.
func DecodeEvent(data []byte) (domain.Event, error) {
	if e, ok := decodeFast(data); ok {
		return e, nil
	}
	var e domain.Event
	err := json.Unmarshal(data, &e)
	return e, err
}

// reader reads JSON from a byte slice; a method that meets something it does
// not expect returns false, and the caller falls back to encoding/json.
type reader struct {
	data []byte
	pos  int
}

// Envelope keys, as bits, to catch a key given twice.
const (
	keyID = 1 << iota
	keyType
	keySchemaVersion
	keyAggregateType
	keyAggregateID
	keyAggregateVersion
	keySequence
	keyOccurredAt
	keyRecordedAt
	keyActor
	keyPartnerID
	keyCorrelationID
	keyCausationID
	keySource
	keyPayload
)

func decodeFast(data []byte) (domain.Event, bool) {
	var e domain.Event
	r := reader{data: data}
	seen := 0
	ok := r.object(func(key []byte) bool {
		var bit int
		var ok bool
		switch string(key) {
		case "id":
			bit, ok = keyID, r.uuid(&e.ID)
		case "type":
			bit, ok = keyType, r.eventType(&e.Type)
		case "schema_version":
			bit, ok = keySchemaVersion, r.int(&e.SchemaVersion)
		case "aggregate_type":
			bit, ok = keyAggregateType, r.aggregateType(&e.AggregateType)
		case "aggregate_id":
			bit, ok = keyAggregateID, r.uuid(&e.AggregateID)
		case "aggregate_version":
			bit, ok = keyAggregateVersion, r.uint(&e.AggregateVersion)
		case "sequence":
			bit, ok = keySequence, r.uint(&e.Sequence)
		case "occurred_at":
			bit, ok = keyOccurredAt, r.time(&e.OccurredAt)
		case "recorded_at":
			bit, ok = keyRecordedAt, r.time(&e.RecordedAt)
		case "actor":
			bit, ok = keyActor, r.string(&e.Actor)
		case "partner_id":
			bit, ok = keyPartnerID, r.uuidPtr(&e.PartnerID)
		case "correlation_id":
			bit, ok = keyCorrelationID, r.uuid(&e.CorrelationID)
		case "causation_id":
			bit, ok = keyCausationID, r.uuid(&e.CausationID)
		case "source":
			bit, ok = keySource, r.string(&e.Source)
		case "payload":
			// The payload's type must be known, and its version the current one.
			if seen&keyType == 0 || seen&keySchemaVersion == 0 ||
				e.SchemaVersion != domain.CurrentSchemaVersion {
				return false
			}
			bit = keyPayload
			e.Payload, ok = r.payload(e.Type)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	if !ok || seen&keyPayload == 0 {
		return domain.Event{}, false
	}
	r.space()
	return e, r.pos == len(r.data)
}

// payload reads the payload of an event type this build knows.
func (r *reader) payload(eventType string) (domain.Payload, bool) {
	switch eventType {
	case domain.ProgressReported:
		var p domain.ProgressReportedV1
		return p, r.object(func(key []byte) bool {
			switch string(key) {
			case "period":
				return r.period(&p.Period)
			case "value":
				return r.float(&p.Value)
			case "disaggregation":
				return r.string(&p.Disaggregation)
			case "reporting_partner_id":
				return r.uuidPtr(&p.ReportingPartnerID)
			case "note":
				return r.string(&p.Note)
			}
			return false
		})
	case domain.TargetSet:
		var p domain.TargetSetV1
		return p, r.object(func(key []byte) bool {
			switch string(key) {
			case "period":
				return r.period(&p.Period)
			case "value":
				return r.float(&p.Value)
			}
			return false
		})
	case domain.ProgressCorrected:
		var p domain.ProgressCorrectedV1
		return p, r.object(func(key []byte) bool {
			switch string(key) {
			case "period":
				return r.period(&p.Period)
			case "disaggregation":
				return r.string(&p.Disaggregation)
			case "value":
				return r.float(&p.Value)
			case "reason":
				return r.string(&p.Reason)
			}
			return false
		})
	}
	return r.rarePayload(eventType)
}

// rarePayload reads the payloads of the event types other than values and
// targets.
func (r *reader) rarePayload(eventType string) (domain.Payload, bool) {
	switch eventType {
	case domain.PartnerRegistered:
		var p domain.PartnerRegisteredV1
		return p, r.object(func(key []byte) bool {
			switch string(key) {
			case "name":
				return r.string(&p.Name)
			case "kind":
				return r.string((*string)(&p.Kind))
			}
			return false
		})
	case domain.IssueLaunched:
		var p domain.IssueLaunchedV1
		return p, r.object(func(key []byte) bool {
			switch string(key) {
			case "title":
				return r.string(&p.Title)
			case "description":
				return r.string(&p.Description)
			}
			return false
		})
	case domain.ObjectiveDefined:
		var p domain.ObjectiveDefinedV1
		return p, r.object(func(key []byte) bool {
			switch string(key) {
			case "issue_id":
				return r.uuid(&p.IssueID)
			case "perspective":
				return r.string((*string)(&p.Perspective))
			case "title":
				return r.string(&p.Title)
			}
			return false
		})
	case domain.ObjectivesLinked, domain.ObjectivesUnlinked:
		var cause, effect uuid.UUID
		ok := r.object(func(key []byte) bool {
			switch string(key) {
			case "cause_objective_id":
				return r.uuid(&cause)
			case "effect_objective_id":
				return r.uuid(&effect)
			}
			return false
		})
		if eventType == domain.ObjectivesUnlinked {
			return domain.ObjectivesUnlinkedV1{CauseID: cause, EffectID: effect}, ok
		}
		return domain.ObjectivesLinkedV1{CauseID: cause, EffectID: effect}, ok
	case domain.MeasureDefined:
		return r.measureDefined()
	case domain.CommitmentMade:
		return r.commitmentMade()
	}
	return r.changePayload(eventType)
}

func (r *reader) measureDefined() (domain.Payload, bool) {
	var p domain.MeasureDefinedV1
	return p, r.object(func(key []byte) bool {
		switch string(key) {
		case "objective_id":
			return r.uuid(&p.ObjectiveID)
		case "issue_id":
			return r.uuid(&p.IssueID)
		case "name":
			return r.string(&p.Name)
		case "unit":
			return r.string(&p.Unit)
		case "polarity":
			return r.string((*string)(&p.Polarity))
		case "kind":
			return r.string((*string)(&p.Kind))
		case "owner_partner_id":
			return r.uuidPtr(&p.OwnerPartnerID)
		case "baseline_period":
			return r.periodPtr(&p.BaselinePeriod)
		case "baseline_value":
			return r.floatPtr(&p.BaselineValue)
		case "question":
			return r.string((*string)(&p.Question))
		}
		return false
	})
}

func (r *reader) commitmentMade() (domain.Payload, bool) {
	var p domain.CommitmentMadeV1
	return p, r.object(func(key []byte) bool {
		switch string(key) {
		case "partner_id":
			return r.uuid(&p.PartnerID)
		case "issue_id":
			return r.uuid(&p.IssueID)
		case "pooled":
			return r.bool(&p.Pooled)
		case "objective_id":
			return r.uuidPtr(&p.ObjectiveID)
		case "kind":
			return r.string((*string)(&p.Kind))
		case "description":
			return r.string(&p.Description)
		case "amount_cents":
			return r.int64Ptr(&p.AmountCents)
		case "currency":
			return r.string(&p.Currency)
		case "period":
			return r.period(&p.Period)
		}
		return false
	})
}

// changePayload reads the payloads of changes to maps, measures and
// commitments.
func (r *reader) changePayload(eventType string) (domain.Payload, bool) {
	var text string // a title or a reason
	textOf := func(name string) func([]byte) bool {
		return func(key []byte) bool { return string(key) == name && r.string(&text) }
	}
	switch eventType {
	case domain.ObjectiveRenamed:
		ok := r.object(textOf("title"))
		return domain.ObjectiveRenamedV1{Title: text}, ok
	case domain.ObjectiveRetired:
		ok := r.object(textOf("reason"))
		return domain.ObjectiveRetiredV1{Reason: text}, ok
	case domain.MeasureRetired:
		ok := r.object(textOf("reason"))
		return domain.MeasureRetiredV1{Reason: text}, ok
	case domain.CommitmentWithdrawn:
		ok := r.object(textOf("reason"))
		return domain.CommitmentWithdrawnV1{Reason: text}, ok
	case domain.StatusBandsSet:
		var p domain.StatusBandsSetV1
		return p, r.object(func(key []byte) bool {
			return string(key) == "at_risk_percent" && r.float(&p.AtRiskPercent)
		})
	case domain.CommitmentPartFulfilled, domain.CommitmentFulfilled:
		var p domain.CommitmentFulfilledV1
		ok := r.object(func(key []byte) bool {
			switch string(key) {
			case "amount_cents":
				return r.int64Ptr(&p.AmountCents)
			case "period":
				return r.period(&p.Period)
			case "note":
				return r.string(&p.Note)
			}
			return false
		})
		if eventType == domain.CommitmentPartFulfilled {
			return domain.CommitmentPartlyFulfilledV1(p), ok
		}
		return p, ok
	case domain.PerspectiveLabelsSet:
		return r.labels()
	}
	return nil, false
}

// labels reads PerspectiveLabelsSetV1: its map is made even when empty, as
// encoding/json makes it, and a second "labels" key, which encoding/json
// would merge into the first, falls back.
func (r *reader) labels() (domain.Payload, bool) {
	var p domain.PerspectiveLabelsSetV1
	ok := r.object(func(key []byte) bool {
		if string(key) != "labels" || p.Labels != nil {
			return false
		}
		p.Labels = map[domain.Perspective]string{}
		return r.object(func(key []byte) bool {
			var label string
			if !r.string(&label) || !utf8.Valid(key) {
				return false
			}
			p.Labels[domain.Perspective(key)] = label
			return true
		})
	})
	return p, ok
}

// space skips white space.
func (r *reader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// next skips white space and consumes c.
func (r *reader) next(c byte) bool {
	r.space()
	if r.pos < len(r.data) && r.data[r.pos] == c {
		r.pos++
		return true
	}
	return false
}

// object reads an object, handing each key to member, which reads the value.
// An empty object is fine; every payload field may be left out.
func (r *reader) object(member func(key []byte) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		r.space()
		key, ok := r.plainString()
		if !ok || !r.next(':') {
			return false
		}
		r.space()
		if !member(key) {
			return false
		}
		if r.next(',') {
			continue
		}
		return r.next('}')
	}
}

// plainString reads a string without escapes, returning its bytes unquoted;
// a string with an escape, a control character or invalid UTF-8 is left to
// encoding/json.
func (r *reader) plainString() ([]byte, bool) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return nil, false
	}
	start := r.pos + 1
	ascii := true
	for i := start; i < len(r.data); i++ {
		switch c := r.data[i]; {
		case c == '"':
			s := r.data[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			r.pos = i + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (r *reader) string(dst *string) bool {
	s, ok := r.plainString()
	if ok {
		*dst = string(s)
	}
	return ok
}

// eventType reads an event type without allocating for the known ones.
func (r *reader) eventType(dst *string) bool {
	s, ok := r.plainString()
	if !ok {
		return false
	}
	switch string(s) {
	case domain.ProgressReported:
		*dst = domain.ProgressReported
	case domain.TargetSet:
		*dst = domain.TargetSet
	case domain.ProgressCorrected:
		*dst = domain.ProgressCorrected
	case domain.CommitmentMade:
		*dst = domain.CommitmentMade
	default:
		*dst = string(s)
	}
	return true
}

// aggregateType reads an aggregate type without allocating for the known ones.
func (r *reader) aggregateType(dst *string) bool {
	s, ok := r.plainString()
	if !ok {
		return false
	}
	switch string(s) {
	case domain.MeasureAggregate:
		*dst = domain.MeasureAggregate
	case domain.CommitmentAggregate:
		*dst = domain.CommitmentAggregate
	case domain.PartnerAggregate:
		*dst = domain.PartnerAggregate
	case domain.IssueAggregate:
		*dst = domain.IssueAggregate
	case domain.ObjectiveAggregate:
		*dst = domain.ObjectiveAggregate
	default:
		*dst = string(s)
	}
	return true
}

// uuid reads a UUID as uuid.UUID's UnmarshalText does.
func (r *reader) uuid(dst *uuid.UUID) bool {
	s, ok := r.plainString()
	if !ok {
		return false
	}
	id, err := uuid.ParseBytes(s)
	if err != nil {
		return false
	}
	*dst = id
	return true
}

// null consumes null, which sets a pointer to nil.
func (r *reader) null() bool {
	if len(r.data)-r.pos >= 4 && string(r.data[r.pos:r.pos+4]) == "null" {
		r.pos += 4
		return true
	}
	return false
}

func (r *reader) uuidPtr(dst **uuid.UUID) bool {
	if r.null() {
		*dst = nil
		return true
	}
	var id uuid.UUID
	if !r.uuid(&id) {
		return false
	}
	*dst = &id
	return true
}

// time reads a time as time.Time's UnmarshalJSON does.
func (r *reader) time(dst *time.Time) bool {
	start := r.pos
	if _, ok := r.plainString(); !ok {
		return false
	}
	return dst.UnmarshalJSON(r.data[start:r.pos]) == nil
}

// period reads a period as domain.Period's UnmarshalText does.
func (r *reader) period(dst *domain.Period) bool {
	s, ok := r.plainString()
	return ok && dst.UnmarshalText(s) == nil
}

func (r *reader) periodPtr(dst **domain.Period) bool {
	if r.null() {
		*dst = nil
		return true
	}
	var p domain.Period
	if !r.period(&p) {
		return false
	}
	*dst = &p
	return true
}

// number returns the next JSON number literal; anything that is not one by
// JSON's grammar is left to encoding/json.
func (r *reader) number() ([]byte, bool) {
	d, i := r.data, r.pos
	digits := func() bool {
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	n := d[r.pos:i]
	r.pos = i
	return n, true
}

func (r *reader) float(dst *float64) bool {
	n, ok := r.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return false
	}
	*dst = f
	return true
}

func (r *reader) floatPtr(dst **float64) bool {
	if r.null() {
		*dst = nil
		return true
	}
	var f float64
	if !r.float(&f) {
		return false
	}
	*dst = &f
	return true
}

func (r *reader) int(dst *int) bool {
	n, ok := r.number()
	if !ok {
		return false
	}
	i, err := strconv.ParseInt(string(n), 10, strconv.IntSize)
	if err != nil {
		return false
	}
	*dst = int(i)
	return true
}

func (r *reader) int64Ptr(dst **int64) bool {
	if r.null() {
		*dst = nil
		return true
	}
	n, ok := r.number()
	if !ok {
		return false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return false
	}
	*dst = &i
	return true
}

func (r *reader) uint(dst *uint64) bool {
	n, ok := r.number()
	if !ok {
		return false
	}
	u, err := strconv.ParseUint(string(n), 10, 64)
	if err != nil {
		return false
	}
	*dst = u
	return true
}

func (r *reader) bool(dst *bool) bool {
	switch {
	case len(r.data)-r.pos >= 4 && string(r.data[r.pos:r.pos+4]) == "true":
		*dst, r.pos = true, r.pos+4
	case len(r.data)-r.pos >= 5 && string(r.data[r.pos:r.pos+5]) == "false":
		*dst, r.pos = false, r.pos+5
	default:
		return false
	}
	return true
}
