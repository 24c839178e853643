package domain

// Tests of periods: the forms ParsePeriod accepts and refuses, the canonical form
// String writes, the order of Compare and SortKey, and PeriodContaining.

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in        string
		kind      PeriodKind
		canonical string
		start     string // first day, 2006-01-02
		end       string // first day after
	}{
		{"2014", Year, "2014", "2014-01-01", "2015-01-01"},
		{"1900", Year, "1900", "1900-01-01", "1901-01-01"},
		{"2200", Year, "2200", "2200-01-01", "2201-01-01"},
		{"2014-15", SchoolYear, "2014-15", "2014-07-01", "2015-07-01"},
		{"2010-11", SchoolYear, "2010-11", "2010-07-01", "2011-07-01"},
		{"2011-12", SchoolYear, "2011-12", "2011-07-01", "2012-07-01"},
		{"1999-00", SchoolYear, "1999-00", "1999-07-01", "2000-07-01"},
		{"2099-00", SchoolYear, "2099-00", "2099-07-01", "2100-07-01"},
		{"2014-Q1", Quarter, "2014-Q1", "2014-01-01", "2014-04-01"},
		{"2014-Q3", Quarter, "2014-Q3", "2014-07-01", "2014-10-01"},
		{"2014-q4", Quarter, "2014-Q4", "2014-10-01", "2015-01-01"},
		{"2014-01", Month, "2014-01", "2014-01-01", "2014-02-01"},
		{"2014-09", Month, "2014-09", "2014-09-01", "2014-10-01"},
		{"2014-12", Month, "2014-12", "2014-12-01", "2015-01-01"},
		{"2014-M09", Month, "2014-09", "2014-09-01", "2014-10-01"},
		{"2014-m12", Month, "2014-12", "2014-12-01", "2015-01-01"},
		{"2010-M11", Month, "2010-M11", "2010-11-01", "2010-12-01"},
		{"2011-M12", Month, "2011-M12", "2011-12-01", "2012-01-01"},
		{"2000-M01", Month, "2000-M01", "2000-01-01", "2000-02-01"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePeriod(tt.in)
			if err != nil {
				t.Fatalf("got error %v, want a period", err)
			}
			if p.Kind() != tt.kind {
				t.Errorf("got kind %d, want %d", p.Kind(), tt.kind)
			}
			if got := p.String(); got != tt.canonical {
				t.Errorf("got String %q, want %q", got, tt.canonical)
			}
			if got := p.Start().Format(time.DateOnly); got != tt.start {
				t.Errorf("got start %s, want %s", got, tt.start)
			}
			if got := p.End().Format(time.DateOnly); got != tt.end {
				t.Errorf("got end %s, want %s", got, tt.end)
			}

			again, err := ParsePeriod(p.String())
			if err != nil || again != p {
				t.Errorf("got %v (%v) parsing String %q back, want %v", again, err, p, p)
			}
		})
	}
}

func TestParsePeriodRefuses(t *testing.T) {
	tests := []struct {
		in  string
		why string // a word of the reason
	}{
		{"", "too short"},
		{"14", "too short"},
		{"201", "too short"},
		{"abcd", "four-digit year"},
		{"+201", "four-digit year"},
		{"-201", "four-digit year"},
		{" 2014", "four-digit year"},
		{"20x4", "four-digit year"},
		{"1800", "between 1900 and 2200"},
		{"1899", "between 1900 and 2200"},
		{"2201", "between 1900 and 2200"},
		{"0014", "between 1900 and 2200"},
		{"2014-13", "a month must be 01 to 12"},
		{"2014-16", "a month must be 01 to 12"},
		{"2014-14", "a month must be 01 to 12"},
		{"2014-00", "a month must be 01 to 12"},
		{"2014-99", "a month must be 01 to 12"},
		{"2014-+9", "two digits"},
		{"2014-1a", "two digits"},
		{"2014-Q0", "Q1 to Q4"},
		{"2014-Q5", "Q1 to Q4"},
		{"2014-Qa", "Q1 to Q4"},
		{"2014-M00", "M01 to M12"},
		{"2014-M13", "M01 to M12"},
		{"2014-M+1", "M01 to M12"},
		{"2014-M1", "two digits"},
		{"2014-1", "unknown form"},
		{"20140", "unknown form"},
		{"2014-", "unknown form"},
		{"2014/09", "unknown form"},
		{"2014-09-01", "unknown form"},
		{"2014-Q3 ", "unknown form"},
		{"2014-2015", "unknown form"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePeriod(tt.in)
			if err == nil {
				t.Fatalf("got period %v (kind %d), want an error", p, p.Kind())
			}
			if !p.IsZero() {
				t.Errorf("got period %v with the error, want the zero Period", p)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.why) {
				t.Errorf("got %q, want a reason mentioning %q", msg, tt.why)
			}
			if !strings.Contains(msg, "2014-Q3") {
				t.Errorf("got %q, want it to show the accepted forms", msg)
			}
		})
	}
}

func TestMustParsePeriodPanicsOnBadInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("got no panic for %q, want one", "2014-13")
		}
	}()
	MustParsePeriod("2014-13")
}

func TestPeriodOrder(t *testing.T) {
	// Periods sort by the day after they end, then by their first day, so a
	// longer period sorts before the shorter ones that close it.
	want := []string{
		"2010-M11", // ends 2010-12-01
		"2010-11",  // school year, ends 2011-07-01
		"2013-14",  // ends 2014-07-01, starts 2013-07-01
		"2014-Q2",  // ends 2014-07-01, starts 2014-04-01
		"2014-06",  // ends 2014-07-01, starts 2014-06-01
		"2014",     // ends 2015-01-01, starts 2014-01-01
		"2014-Q4",  // ends 2015-01-01, starts 2014-10-01
		"2014-12",  // ends 2015-01-01, starts 2014-12-01
		"2015-01",
		"2015-Q1",
		"2015-03",
		"2014-15",
		"2015-Q2",
		"2015-06",
		"2015",
	}
	periods := make([]Period, len(want))
	for i, s := range want {
		periods[i] = MustParsePeriod(s)
	}

	for seed := range uint64(20) {
		shuffled := slices.Clone(periods)
		rand.New(rand.NewPCG(seed, 7)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})

		byCompare := slices.Clone(shuffled)
		slices.SortFunc(byCompare, Period.Compare)
		if got := periodStrings(byCompare); !slices.Equal(got, want) {
			t.Fatalf("seed %d: sorted by Compare got %v, want %v", seed, got, want)
		}

		bySortKey := slices.Clone(shuffled)
		slices.SortFunc(bySortKey, func(a, b Period) int {
			return strings.Compare(a.SortKey(), b.SortKey())
		})
		if got := periodStrings(bySortKey); !slices.Equal(got, want) {
			t.Fatalf("seed %d: sorted by SortKey got %v, want %v", seed, got, want)
		}
	}
}

func TestPeriodSortKeyFollowsCompare(t *testing.T) {
	var periods []Period
	for _, s := range []string{"1900", "1999-00", "2014", "2014-15", "2014-Q3", "2014-07",
		"2014-09", "2014-M09", "2015-Q2", "2015-06", "2200", "2200-01", "2200-M12"} {
		periods = append(periods, MustParsePeriod(s))
	}
	for _, p := range periods {
		for _, q := range periods {
			compare := p.Compare(q)
			byKey := strings.Compare(p.SortKey(), q.SortKey())
			if compare != byKey {
				t.Errorf("%v vs %v: got Compare %d and SortKey order %d, want them equal",
					p, q, compare, byKey)
			}
			if p.Before(q) != (compare < 0) {
				t.Errorf("%v.Before(%v) = %v, want %v", p, q, p.Before(q), compare < 0)
			}
			if (compare == 0) != (p == q) {
				t.Errorf("%v vs %v: got Compare %d, want 0 only for equal periods",
					p, q, compare)
			}
		}
	}
}

func periodStrings(ps []Period) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestPeriodContaining(t *testing.T) {
	tests := []struct {
		kind PeriodKind
		at   string
		want string
	}{
		{Year, "2014-01-01", "2014"},
		{Year, "2014-12-31", "2014"},
		{SchoolYear, "2014-06-30", "2013-14"},
		{SchoolYear, "2014-07-01", "2014-15"},
		{SchoolYear, "2015-01-15", "2014-15"},
		{SchoolYear, "1999-09-01", "1999-00"},
		{Quarter, "2014-03-31", "2014-Q1"},
		{Quarter, "2014-04-01", "2014-Q2"},
		{Quarter, "2014-09-30", "2014-Q3"},
		{Quarter, "2014-12-31", "2014-Q4"},
		{Month, "2014-09-15", "2014-09"},
		{Month, "2010-11-30", "2010-M11"},
		{0, "2014-09-15", "2014"},
	}
	for _, tt := range tests {
		t.Run(tt.at+" "+tt.want, func(t *testing.T) {
			at, err := time.Parse(time.DateOnly, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			got := PeriodContaining(tt.kind, at)
			if got != MustParsePeriod(tt.want) {
				t.Errorf("got %v, want %s", got, tt.want)
			}
			if at.Before(got.Start()) || !at.Before(got.End()) {
				t.Errorf("got %v from %s to %s, which does not hold %s",
					got, got.Start().Format(time.DateOnly), got.End().Format(time.DateOnly), tt.at)
			}
		})
	}
}

func TestPeriodText(t *testing.T) {
	type doc struct {
		Period Period `json:"period"`
	}

	t.Run("canonical form in JSON", func(t *testing.T) {
		b, err := json.Marshal(doc{MustParsePeriod("2010-m11")})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(b), `{"period":"2010-M11"}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})

	t.Run("any accepted form from JSON", func(t *testing.T) {
		var d doc
		if err := json.Unmarshal([]byte(`{"period":"2014-q3"}`), &d); err != nil {
			t.Fatal(err)
		}
		if want := MustParsePeriod("2014-Q3"); d.Period != want {
			t.Errorf("got %v, want %v", d.Period, want)
		}
	})

	t.Run("empty text is the zero Period", func(t *testing.T) {
		d := doc{MustParsePeriod("2014")}
		if err := json.Unmarshal([]byte(`{"period":""}`), &d); err != nil {
			t.Fatal(err)
		}
		if !d.Period.IsZero() || d.Period.String() != "" {
			t.Errorf("got %v, want the zero Period", d.Period)
		}
	})

	t.Run("bad text is an error", func(t *testing.T) {
		var d doc
		err := json.Unmarshal([]byte(`{"period":"2014-13"}`), &d)
		if err == nil || !strings.Contains(err.Error(), "not a period") {
			t.Errorf("got %v, want a period error", err)
		}
	})
}
