package domain

// Tests of measures: defining one, setting targets, reporting and correcting
// values, and judging an actual against its target.

import (
	"math"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestMeasureDefine(t *testing.T) {
	objective := definedObjective(launchedIssue(), "Children ready for school")
	owner := registeredPartner()
	baseline := func(period string, value float64) func(c *DefineMeasure) {
		return func(c *DefineMeasure) { c.BaselinePeriod, c.BaselineValue = period, &value }
	}
	valid := func() DefineMeasure {
		return DefineMeasure{ObjectiveID: objective.ID.String(), Name: "Kindergarten readiness",
			Unit: "%", Polarity: "higher", Kind: "population"}
	}

	tests := []struct {
		name  string
		edit  func(c *DefineMeasure)
		owner Partner
		field string
		word  string
	}{
		{name: "the least a measure needs", edit: func(c *DefineMeasure) {}},
		{name: "name of 200 characters",
			edit: func(c *DefineMeasure) { c.Name = strings.Repeat("n", 200) }},
		{name: "name of 200 two-byte characters",
			edit: func(c *DefineMeasure) { c.Name = strings.Repeat("ñ", 200) }},
		{name: "name of 201 characters",
			edit:  func(c *DefineMeasure) { c.Name = strings.Repeat("n", 201) },
			field: "name", word: "at most 200 characters (got 201)"},
		{name: "empty name", edit: func(c *DefineMeasure) { c.Name = "" },
			field: "name", word: "required"},
		{name: "whitespace-only name", edit: func(c *DefineMeasure) { c.Name = " \t " },
			field: "name", word: "required"},
		{name: "name not UTF-8", edit: func(c *DefineMeasure) { c.Name = "\xc3(" },
			field: "name", word: "UTF-8"},
		{name: "empty unit", edit: func(c *DefineMeasure) { c.Unit = "" },
			field: "unit", word: "required"},
		{name: "unit of 41 characters",
			edit:  func(c *DefineMeasure) { c.Unit = strings.Repeat("u", 41) },
			field: "unit", word: "at most 40"},
		{name: "polarity lower", edit: func(c *DefineMeasure) { c.Polarity = "Lower" }},
		{name: "missing polarity", edit: func(c *DefineMeasure) { c.Polarity = "" },
			field: "polarity", word: "required; one of higher, lower"},
		{name: "unknown polarity", edit: func(c *DefineMeasure) { c.Polarity = "up" },
			field: "polarity", word: `"up" is not one of higher, lower`},
		{name: "kind performance", edit: func(c *DefineMeasure) { c.Kind = " Performance " }},
		{name: "missing kind", edit: func(c *DefineMeasure) { c.Kind = "" },
			field: "kind", word: "required"},
		{name: "unknown kind", edit: func(c *DefineMeasure) { c.Kind = "indicator" },
			field: "kind", word: `"indicator" is not one of population, performance`},
		{name: "owner that exists",
			edit:  func(c *DefineMeasure) { c.OwnerPartnerID = owner.ID.String() },
			owner: owner},
		{name: "owner that does not exist",
			edit:  func(c *DefineMeasure) { c.OwnerPartnerID = uuid.NewString() },
			field: "owner_partner_id", word: "does not exist"},
		{name: "owner that is not a UUID",
			edit:  func(c *DefineMeasure) { c.OwnerPartnerID = "acme" },
			field: "owner_partner_id", word: `"acme" is not a UUID`},
		{name: "owner that is the nil UUID",
			edit:  func(c *DefineMeasure) { c.OwnerPartnerID = uuid.Nil.String() },
			field: "owner_partner_id", word: "is not a UUID"},
		{name: "baseline period and value",
			edit: baseline("2013-14", 57)},
		{name: "baseline period without value",
			edit:  func(c *DefineMeasure) { c.BaselinePeriod = "2013-14" },
			field: "baseline_value", word: "required when baseline_period is given"},
		{name: "baseline value without period",
			edit:  func(c *DefineMeasure) { c.BaselineValue = ptr(57.0) },
			field: "baseline_period", word: "required when baseline_value is given"},
		{name: "baseline period not a period",
			edit:  baseline("2014-13", 57),
			field: "baseline_period", word: "not a period"},
		{name: "baseline above 100 %",
			edit:  baseline("2014", 100.5),
			field: "baseline_value", word: "outside 0-100"},
		{name: "baseline below 0 %",
			edit:  baseline("2014", -1.0),
			field: "baseline_value", word: "outside 0-100"},
		{name: "baseline above 100 in another unit",
			edit: func(c *DefineMeasure) {
				c.Unit, c.BaselinePeriod, c.BaselineValue = "students", "2014", ptr(1500.0)
			}},
		{name: "baseline not a number",
			edit: func(c *DefineMeasure) {
				c.BaselinePeriod, c.BaselineValue = "2014", ptr(math.NaN())
			},
			field: "baseline_value", word: "finite"},
		{name: "baseline infinite",
			edit: func(c *DefineMeasure) {
				c.Unit, c.BaselinePeriod, c.BaselineValue = "students", "2014", ptr(math.Inf(1))
			},
			field: "baseline_value", word: "finite"},
		{name: "baseline too large",
			edit: func(c *DefineMeasure) {
				c.Unit, c.BaselinePeriod, c.BaselineValue = "dollars", "2014", ptr(2e15)
			},
			field: "baseline_value", word: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			d, err := Measure{}.Define(c, objective, tt.owner)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.word)
				return
			}
			m := wantAppend[MeasureDefinedV1](t, d, err)
			if m.ObjectiveID != objective.ID || m.IssueID != objective.IssueID {
				t.Errorf("got objective %s of issue %s, want %s of %s",
					m.ObjectiveID, m.IssueID, objective.ID, objective.IssueID)
			}
			if !equalPtr(d.PartnerID, m.OwnerPartnerID) {
				t.Errorf("got decision partner %v, want the owner %v",
					d.PartnerID, m.OwnerPartnerID)
			}
		})
	}
}

func TestMeasureDefineNormalises(t *testing.T) {
	objective := definedObjective(launchedIssue(), "Children ready for school")
	owner := registeredPartner()

	d, err := Measure{}.Define(DefineMeasure{Name: " Readiness ", Unit: " % ", Polarity: "LOWER",
		Kind: "Performance", OwnerPartnerID: " " + owner.ID.String() + " ",
		BaselinePeriod: "2014-m09", BaselineValue: ptr(40.0)}, objective, owner)

	m := wantAppend[MeasureDefinedV1](t, d, err)
	want := MeasureDefinedV1{ObjectiveID: objective.ID, IssueID: objective.IssueID,
		Name: "Readiness", Unit: "%", Polarity: LowerIsBetter, Kind: PerformanceMeasure,
		OwnerPartnerID: &owner.ID, BaselinePeriod: ptr(MustParsePeriod("2014-09")),
		BaselineValue: ptr(40.0)}
	if !sameDefinition(m, want) || m.IssueID != want.IssueID {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

func TestMeasureDefineNamesEveryFault(t *testing.T) {
	objective := definedObjective(launchedIssue(), "Children ready for school")

	_, err := Measure{}.Define(DefineMeasure{OwnerPartnerID: "x", BaselineValue: ptr(1.0)},
		objective, Partner{})

	wantFields(t, err, "name", "unit", "polarity", "kind", "owner_partner_id", "baseline_period")
}

func TestMeasureDefineUnderMissingObjective(t *testing.T) {
	missing := uuid.NewString()

	_, err := Measure{}.Define(DefineMeasure{ObjectiveID: missing, Name: "R", Unit: "%",
		Polarity: "higher", Kind: "population"}, Objective{}, Partner{})

	e := wantCode(t, err, CodeNotFound)
	if !strings.Contains(e.Message, missing) {
		t.Errorf("got message %q, want it to name objective %s", e.Message, missing)
	}
}

func TestMeasureDefineAgain(t *testing.T) {
	objective := definedObjective(launchedIssue(), "Children ready for school")
	owner := registeredPartner()
	command := DefineMeasure{Name: "Readiness", Unit: "%", Polarity: "higher",
		Kind: "population", OwnerPartnerID: owner.ID.String(),
		BaselinePeriod: "2013-14", BaselineValue: ptr(57.0)}
	d, err := Measure{}.Define(command, objective, owner)
	first := wantAppend[MeasureDefinedV1](t, d, err)
	m := fold[Measure](history(MeasureAggregate, uuid.New(), first))

	tests := []struct {
		name      string
		edit      func(c *DefineMeasure)
		objective Objective
		conflict  bool
	}{
		{name: "same details", edit: func(c *DefineMeasure) {}},
		{name: "same details, other spelling", edit: func(c *DefineMeasure) {
			c.Name, c.Polarity, c.Kind = "Readiness ", "Higher", "POPULATION"
		}},
		{name: "other name", edit: func(c *DefineMeasure) { c.Name = "Ready" }, conflict: true},
		{name: "other unit", edit: func(c *DefineMeasure) { c.Unit = "percent" }, conflict: true},
		{name: "other polarity", edit: func(c *DefineMeasure) { c.Polarity = "lower" },
			conflict: true},
		{name: "other kind", edit: func(c *DefineMeasure) { c.Kind = "performance" },
			conflict: true},
		{name: "no owner", edit: func(c *DefineMeasure) { c.OwnerPartnerID = "" }, conflict: true},
		{name: "other baseline period",
			edit: func(c *DefineMeasure) { c.BaselinePeriod = "2012-13" }, conflict: true},
		{name: "other baseline value",
			edit: func(c *DefineMeasure) { c.BaselineValue = ptr(58.0) }, conflict: true},
		{name: "no baseline", edit: func(c *DefineMeasure) {
			c.BaselinePeriod, c.BaselineValue = "", nil
		}, conflict: true},
		{name: "other objective", edit: func(c *DefineMeasure) {},
			objective: definedObjective(launchedIssue(), "Other"), conflict: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := command
			tt.edit(&c)
			o := objective
			if tt.objective.Exists() {
				o = tt.objective
			}
			d, err := m.Define(c, o, owner)
			if tt.conflict {
				wantCode(t, err, CodeConflict)
				return
			}
			wantAlreadyDone(t, d, err, *m.Defined)
		})
	}
}

// TestMeasureValues checks the rules every value of a measure follows, through
// SetTarget, Report and Correct alike.
func TestMeasureValues(t *testing.T) {
	tests := []struct {
		name  string
		unit  string
		value *float64
		word  string // of the reason the value is refused; "" when it is accepted
	}{
		{name: "0 %", unit: "%", value: ptr(0.0)},
		{name: "100 %", unit: "%", value: ptr(100.0)},
		{name: "57.5 percent", unit: "Percent", value: ptr(57.5)},
		{name: "above 100 %", unit: "%", value: ptr(100.01), word: "outside 0-100"},
		{name: "below 0 %", unit: "%", value: ptr(-0.5), word: "outside 0-100"},
		{name: "above 100 percentage", unit: "percentage", value: ptr(120.0),
			word: "outside 0-100"},
		{name: "above 100 students", unit: "students", value: ptr(1200.0)},
		{name: "negative change", unit: "points", value: ptr(-3.5)},
		{name: "missing", unit: "%", value: nil, word: "required"},
		{name: "NaN", unit: "students", value: ptr(math.NaN()), word: "finite"},
		{name: "NaN %", unit: "%", value: ptr(math.NaN()), word: "finite"},
		{name: "+Inf", unit: "students", value: ptr(math.Inf(1)), word: "finite"},
		{name: "-Inf", unit: "students", value: ptr(math.Inf(-1)), word: "finite"},
		{name: "1e15", unit: "dollars", value: ptr(1e15)},
		{name: "beyond 1e15", unit: "dollars", value: ptr(-1.5e15), word: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reported := ProgressReportedV1{Period: MustParsePeriod("2014"), Value: 7}
			m := measureWith(tt.unit, reported)
			decisions := []struct {
				name   string
				decide func() (Decision, error)
			}{
				{"target", func() (Decision, error) {
					return m.SetTarget(SetTarget{Period: "2015", Value: tt.value})
				}},
				{"report", func() (Decision, error) {
					return m.Report(ReportProgress{Period: "2015", Value: tt.value}, Partner{})
				}},
				{"correction", func() (Decision, error) {
					c := CorrectProgress{Period: "2014", Value: tt.value, Reason: "typo"}
					return m.Correct(c)
				}},
			}
			for _, dd := range decisions {
				t.Run(dd.name, func(t *testing.T) {
					d, err := dd.decide()
					if tt.word != "" {
						wantInvalid(t, err, "value", tt.word)
						return
					}
					if err != nil || d.Payload == nil {
						t.Errorf("got %+v, %v, want a new event", d, err)
					}
				})
			}
		})
	}
}

func TestMeasureSetTarget(t *testing.T) {
	m := measureWith("%", TargetSetV1{Period: MustParsePeriod("2015"), Value: 60})
	set := m.Targets[MustParsePeriod("2015")].Set

	t.Run("a first target for a period", func(t *testing.T) {
		d, err := m.SetTarget(SetTarget{Period: "2014-15", Value: ptr(55.0)})
		got := wantAppend[TargetSetV1](t, d, err)
		if want := (TargetSetV1{Period: MustParsePeriod("2014-15"), Value: 55}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("the same target again", func(t *testing.T) {
		d, err := m.SetTarget(SetTarget{Period: "2015", Value: ptr(60.0)})
		wantAlreadyDone(t, d, err, set)
	})
	t.Run("a new target replaces the old one", func(t *testing.T) {
		d, err := m.SetTarget(SetTarget{Period: "2015", Value: ptr(65.0)})
		p := wantAppend[TargetSetV1](t, d, err)
		after := fold[Measure](append(history(MeasureAggregate, m.ID, m.Definition, set.Payload),
			history(MeasureAggregate, m.ID, p)...))
		if got := after.Targets[MustParsePeriod("2015")].Value; got != 65 {
			t.Errorf("got target %v after the new one, want 65", got)
		}
	})
	t.Run("missing period", func(t *testing.T) {
		_, err := m.SetTarget(SetTarget{Value: ptr(60.0)})
		wantInvalid(t, err, "period", "required")
	})
	t.Run("period not a period", func(t *testing.T) {
		_, err := m.SetTarget(SetTarget{Period: "2014-Q5", Value: ptr(60.0)})
		wantInvalid(t, err, "period", "Q1 to Q4")
	})
	t.Run("measure that does not exist", func(t *testing.T) {
		_, err := Measure{}.SetTarget(SetTarget{MeasureID: "m1", Period: "2015", Value: ptr(1.0)})
		wantCode(t, err, CodeNotFound)
	})
}

func TestMeasureReport(t *testing.T) {
	reporter := registeredPartner()
	m := measureWith("%")

	tests := []struct {
		name     string
		command  ReportProgress
		reporter Partner
		want     ProgressReportedV1 // when field is ""
		field    string
		word     string
	}{
		{name: "a total for a year", command: ReportProgress{Period: "2014", Value: ptr(57.0)},
			want: ProgressReportedV1{Period: MustParsePeriod("2014"), Value: 57}},
		{name: "a breakdown", command: ReportProgress{Period: "2014-Q3", Value: ptr(41.0),
			Disaggregation: "race=Black"},
			want: ProgressReportedV1{Period: MustParsePeriod("2014-Q3"), Value: 41,
				Disaggregation: "race=Black"}},
		{name: "a breakdown, spaced and capitalised",
			command: ReportProgress{Period: "2014", Value: ptr(41.0),
				Disaggregation: " Home_Language = Spanish "},
			want: ProgressReportedV1{Period: MustParsePeriod("2014"), Value: 41,
				Disaggregation: "home_language=Spanish"}},
		{name: "a reporting partner and a note",
			command: ReportProgress{Period: "2014", Value: ptr(57.0),
				ReportingPartnerID: reporter.ID.String(), Note: " Fall assessment "},
			reporter: reporter,
			want: ProgressReportedV1{Period: MustParsePeriod("2014"), Value: 57,
				ReportingPartnerID: &reporter.ID, Note: "Fall assessment"}},
		{name: "reporting partner that does not exist",
			command: ReportProgress{Period: "2014", Value: ptr(57.0),
				ReportingPartnerID: uuid.NewString()},
			field: "reporting_partner_id", word: "does not exist"},
		{name: "reporting partner that is not a UUID",
			command: ReportProgress{Period: "2014", Value: ptr(57.0), ReportingPartnerID: "acme"},
			field:   "reporting_partner_id", word: "not a UUID"},
		{name: "breakdown without '='",
			command: ReportProgress{Period: "2014", Value: ptr(1.0), Disaggregation: "Black"},
			field:   "disaggregation", word: "key=value"},
		{name: "breakdown without key",
			command: ReportProgress{Period: "2014", Value: ptr(1.0), Disaggregation: "=Black"},
			field:   "disaggregation", word: "key=value"},
		{name: "breakdown without value",
			command: ReportProgress{Period: "2014", Value: ptr(1.0), Disaggregation: "race= "},
			field:   "disaggregation", word: "key=value"},
		{name: "breakdown key with a digit",
			command: ReportProgress{Period: "2014", Value: ptr(1.0), Disaggregation: "grade3=yes"},
			field:   "disaggregation", word: "letters and underscores"},
		{name: "breakdown key with a space",
			command: ReportProgress{Period: "2014", Value: ptr(1.0), Disaggregation: "home l=es"},
			field:   "disaggregation", word: "letters and underscores"},
		{name: "breakdown value with '='",
			command: ReportProgress{Period: "2014", Value: ptr(1.0), Disaggregation: "a=b=c"},
			field:   "disaggregation", word: "without '='"},
		{name: "breakdown value of 101 characters",
			command: ReportProgress{Period: "2014", Value: ptr(1.0),
				Disaggregation: "school=" + strings.Repeat("s", 101)},
			field: "disaggregation", word: "at most 100 characters"},
		{name: "note of 2001 characters",
			command: ReportProgress{Period: "2014", Value: ptr(1.0),
				Note: strings.Repeat("n", 2001)},
			field: "note", word: "at most 2000"},
		{name: "missing period", command: ReportProgress{Value: ptr(1.0)},
			field: "period", word: "required"},
		{name: "period not a period", command: ReportProgress{Period: "14", Value: ptr(1.0)},
			field: "period", word: "not a period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Report(tt.command, tt.reporter)
			if tt.field != "" {
				wantInvalid(t, err, tt.field, tt.word)
				return
			}
			got := wantAppend[ProgressReportedV1](t, d, err)
			if got.Period != tt.want.Period || got.Value != tt.want.Value ||
				got.Disaggregation != tt.want.Disaggregation || got.Note != tt.want.Note ||
				!equalPtr(got.ReportingPartnerID, tt.want.ReportingPartnerID) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !equalPtr(d.PartnerID, tt.want.ReportingPartnerID) {
				t.Errorf("got decision partner %v, want the reporter %v",
					d.PartnerID, tt.want.ReportingPartnerID)
			}
		})
	}

	t.Run("measure that does not exist", func(t *testing.T) {
		c := ReportProgress{MeasureID: "m1", Period: "2014", Value: ptr(1.0)}
		_, err := Measure{}.Report(c, Partner{})
		wantCode(t, err, CodeNotFound)
	})
}

func TestMeasureReportAgain(t *testing.T) {
	y2014 := MustParsePeriod("2014-09")
	m := measureWith("%",
		ProgressReportedV1{Period: y2014, Value: 57},
		ProgressReportedV1{Period: y2014, Value: 41, Disaggregation: "race=Black"})
	total := m.Values[ValueKey{y2014, ""}].Report
	black := m.Values[ValueKey{y2014, "race=Black"}].Report

	tests := []struct {
		name     string
		command  ReportProgress
		existing *Event // the event it repeats, if any
		conflict bool
	}{
		{name: "same value", command: ReportProgress{Period: "2014-09", Value: ptr(57.0)},
			existing: &total},
		{name: "same value, period in another form",
			command: ReportProgress{Period: "2014-M09", Value: ptr(57.0)}, existing: &total},
		{name: "same value, with a note", existing: &total,
			command: ReportProgress{Period: "2014-09", Value: ptr(57.0), Note: "again"}},
		{name: "same breakdown and value", existing: &black,
			command: ReportProgress{Period: "2014-09", Value: ptr(41.0),
				Disaggregation: "Race=Black"}},
		{name: "other value", command: ReportProgress{Period: "2014-09", Value: ptr(58.0)},
			conflict: true},
		{name: "other value for the breakdown", conflict: true,
			command: ReportProgress{Period: "2014-09", Value: ptr(57.0),
				Disaggregation: "race=Black"}},
		{name: "another breakdown",
			command: ReportProgress{Period: "2014-09", Value: ptr(57.0),
				Disaggregation: "race=Asian"}},
		{name: "another breakdown value, case kept",
			command: ReportProgress{Period: "2014-09", Value: ptr(57.0),
				Disaggregation: "race=black"}},
		{name: "another period", command: ReportProgress{Period: "2014-Q3", Value: ptr(58.0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Report(tt.command, Partner{})
			switch {
			case tt.conflict:
				e := wantCode(t, err, CodeConflict)
				if !strings.Contains(e.Message, "correction") {
					t.Errorf("got %q, want it to point to a correction", e.Message)
				}
			case tt.existing != nil:
				wantAlreadyDone(t, d, err, *tt.existing)
			default:
				wantAppend[ProgressReportedV1](t, d, err)
			}
		})
	}
}

func TestMeasureCorrect(t *testing.T) {
	y2014, y2015 := MustParsePeriod("2014"), MustParsePeriod("2015")
	m := measureWith("%",
		ProgressReportedV1{Period: y2014, Value: 57},
		ProgressReportedV1{Period: y2015, Value: 60},
		ProgressCorrectedV1{Period: y2015, Value: 62, Reason: "late returns"})
	report2014 := m.Values[ValueKey{y2014, ""}].Report
	correction2015 := *m.Values[ValueKey{y2015, ""}].Corrected

	t.Run("the fold keeps the reported and the current value", func(t *testing.T) {
		v := m.Values[ValueKey{y2015, ""}]
		if v.Reported != 60 || v.Current != 62 {
			t.Errorf("got reported %v and current %v, want 60 and 62", v.Reported, v.Current)
		}
	})

	tests := []struct {
		name     string
		command  CorrectProgress
		existing *Event
		field    string
		word     string
	}{
		{name: "a new value",
			command: CorrectProgress{Period: "2014", Value: ptr(58.0), Reason: "recount"}},
		{name: "back to the reported value",
			command: CorrectProgress{Period: "2015", Value: ptr(60.0), Reason: "undo"}},
		{name: "the reported value, never corrected", existing: &report2014,
			command: CorrectProgress{Period: "2014", Value: ptr(57.0), Reason: "check"}},
		{name: "the corrected value again", existing: &correction2015,
			command: CorrectProgress{Period: "2015", Value: ptr(62.0), Reason: "late returns"}},
		{name: "the corrected value, another reason", existing: &correction2015,
			command: CorrectProgress{Period: "2015", Value: ptr(62.0), Reason: "audit"}},
		{name: "a period never reported",
			command: CorrectProgress{Period: "2013", Value: ptr(50.0), Reason: "r"},
			field:   "period", word: "no value was reported for 2013"},
		{name: "a breakdown never reported",
			command: CorrectProgress{Period: "2014", Disaggregation: "race=Black",
				Value: ptr(50.0), Reason: "r"},
			field: "period", word: "no value was reported for 2014 (race=Black)"},
		{name: "missing reason", command: CorrectProgress{Period: "2014", Value: ptr(58.0)},
			field: "reason", word: "required"},
		{name: "whitespace-only reason",
			command: CorrectProgress{Period: "2014", Value: ptr(58.0), Reason: "\n"},
			field:   "reason", word: "required"},
		{name: "reason of 2001 characters",
			command: CorrectProgress{Period: "2014", Value: ptr(58.0),
				Reason: strings.Repeat("r", 2001)},
			field: "reason", word: "at most 2000"},
		{name: "bad breakdown",
			command: CorrectProgress{Period: "2014", Disaggregation: "race", Value: ptr(58.0),
				Reason: "r"},
			field: "disaggregation", word: "key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Correct(tt.command)
			switch {
			case tt.field != "":
				wantInvalid(t, err, tt.field, tt.word)
			case tt.existing != nil:
				wantAlreadyDone(t, d, err, *tt.existing)
			default:
				got := wantAppend[ProgressCorrectedV1](t, d, err)
				if got.Value != *tt.command.Value || got.Reason != tt.command.Reason {
					t.Errorf("got %+v, want value %v for %q",
						got, *tt.command.Value, tt.command.Reason)
				}
				if d.PartnerID != nil {
					t.Errorf("got partner %s, want none", d.PartnerID)
				}
			}
		})
	}

	t.Run("measure that does not exist", func(t *testing.T) {
		_, err := Measure{}.Correct(CorrectProgress{MeasureID: "m1", Period: "2014",
			Value: ptr(1.0), Reason: "r"})
		wantCode(t, err, CodeNotFound)
	})
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name     string
		polarity Polarity
		actual   float64
		target   float64
		want     Status
	}{
		{"higher: at target", HigherIsBetter, 80, 80, OnTrack},
		{"higher: beyond target", HigherIsBetter, 95, 80, OnTrack},
		{"higher: just short", HigherIsBetter, 79.9, 80, AtRisk},
		{"higher: 10% short", HigherIsBetter, 90, 100, AtRisk},
		{"higher: beyond 10% short", HigherIsBetter, 89.9, 100, OffTrack},
		{"higher: far short", HigherIsBetter, 10, 100, OffTrack},
		{"higher: target 0, at it", HigherIsBetter, 0, 0, OnTrack},
		{"higher: target 0, above", HigherIsBetter, 0.5, 0, OnTrack},
		{"higher: target 0, below", HigherIsBetter, -0.001, 0, OffTrack},
		{"higher: negative target, at it", HigherIsBetter, -10, -10, OnTrack},
		{"higher: negative target, beyond", HigherIsBetter, -4, -10, OnTrack},
		{"higher: negative target, within 10%", HigherIsBetter, -11, -10, AtRisk},
		{"higher: negative target, beyond 10%", HigherIsBetter, -11.5, -10, OffTrack},
		{"lower: at target", LowerIsBetter, 20, 20, OnTrack},
		{"lower: beyond target", LowerIsBetter, 12, 20, OnTrack},
		{"lower: 10% over", LowerIsBetter, 22, 20, AtRisk},
		{"lower: within 10% over", LowerIsBetter, 21, 20, AtRisk},
		{"lower: beyond 10% over", LowerIsBetter, 22.5, 20, OffTrack},
		{"lower: target 0, at it", LowerIsBetter, 0, 0, OnTrack},
		{"lower: target 0, above", LowerIsBetter, 0.001, 0, OffTrack},
		{"lower: negative target, at it", LowerIsBetter, -10, -10, OnTrack},
		{"lower: negative target, beyond", LowerIsBetter, -15, -10, OnTrack},
		{"lower: negative target, within 10%", LowerIsBetter, -9, -10, AtRisk},
		{"lower: negative target, beyond 10%", LowerIsBetter, -8.5, -10, OffTrack},
		{"no polarity reads as higher", "", 95, 100, AtRisk},
		{"not a number is off track", HigherIsBetter, math.NaN(), 100, OffTrack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusOf(tt.polarity, tt.actual, tt.target); got != tt.want {
				t.Errorf("StatusOf(%q, %v, %v) = %s, want %s",
					tt.polarity, tt.actual, tt.target, got, tt.want)
			}
		})
	}
}
