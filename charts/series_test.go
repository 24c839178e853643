package charts

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// graduation is the shape of a Tacoma measure: yearly values, a later target
// and a baseline.
var graduation = Series{
	Name: "Graduation rate <TPS> & partners",
	Unit: "%",
	Actuals: []Point{{"2014", 78.3}, {"2010", 55}, {"2011", 61.7}, {"2015", 82.6},
		{"not a period", 99}},
	Targets:  []Point{{"2020", 85}},
	Baseline: &Point{"2010", 55},
}

// parse checks that an SVG is well-formed XML and returns its elements by name
// and its character data.
func parse(t *testing.T, svg string) (map[string]int, string) {
	t.Helper()
	elements := map[string]int{}
	var text strings.Builder
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return elements, text.String()
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			elements[tok.Name.Local]++
			for _, a := range tok.Attr {
				if a.Name.Local == "aria-label" {
					text.WriteString(a.Value + "\n")
				}
			}
		case xml.CharData:
			text.Write(tok)
		}
	}
}

func TestSparkline(t *testing.T) {
	t.Run("a trend line, its latest value and a target line", func(t *testing.T) {
		elements, text := parse(t, Sparkline(graduation))
		for name, want := range map[string]int{"polyline": 1, "circle": 1, "line": 1} {
			if elements[name] != want {
				t.Errorf("%d <%s>, want %d", elements[name], name, want)
			}
		}
		want := "Graduation rate <TPS> & partners: 55 % in 2010 to 82.6 % in 2015; " +
			"target 85 % in 2020; baseline 55 % in 2010"
		if !strings.Contains(text, want) {
			t.Errorf("label %q, want %q", text, want)
		}
	})

	t.Run("no values says so", func(t *testing.T) {
		_, text := parse(t, Sparkline(Series{Name: "Families surveyed"}))
		if !strings.Contains(text, "no values reported yet") {
			t.Errorf("label %q", text)
		}
	})

	t.Run("one value is a dot", func(t *testing.T) {
		elements, _ := parse(t, Sparkline(Series{Name: "x", Actuals: []Point{{"2014-Q3", 4}}}))
		if elements["circle"] != 1 || elements["polyline"] != 0 {
			t.Errorf("elements %v, want one circle and no line", elements)
		}
	})
}

func TestSeriesChart(t *testing.T) {
	t.Run("values, targets and baseline, each named", func(t *testing.T) {
		elements, text := parse(t, SeriesChart(graduation))
		if elements["circle"] != 4+1 { // four values and the legend's sample
			t.Errorf("%d circles, want 5", elements["circle"])
		}
		if elements["rect"] != 1+1 {
			t.Errorf("%d target squares, want 2 with the legend's", elements["rect"])
		}
		for _, want := range []string{"2014: 78.3 %", "target 2020: 85 %", "baseline 2010: 55 %",
			"reported", "target", "baseline", "2010", "2015", "2020"} {
			if !strings.Contains(text, want) {
				t.Errorf("chart text lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "not a period") {
			t.Error("a point with a malformed period was drawn")
		}
	})

	t.Run("an empty series says so", func(t *testing.T) {
		_, text := parse(t, SeriesChart(Series{Name: "Families surveyed"}))
		if !strings.Contains(text, "No values reported yet") {
			t.Errorf("text %q", text)
		}
	})
}

func TestSeriesTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		first  float64
		step   float64
	}{
		{55, 85, 50, 10},
		{0.2, 0.9, 0.2, 0.2},
		{-3, 12, -5, 5},
		{1000, 250000, 0, 100000},
	} {
		ticks := seriesTicks(tc.lo, tc.hi, 5)
		if ticks[0] != tc.first || ticks[len(ticks)-1] < tc.hi {
			t.Errorf("ticks(%v, %v) = %v, want from %v to at least %v",
				tc.lo, tc.hi, ticks, tc.first, tc.hi)
		}
		if len(ticks) > 1 && !near(ticks[1]-ticks[0], tc.step) {
			t.Errorf("ticks(%v, %v) step %v, want %v", tc.lo, tc.hi, ticks[1]-ticks[0], tc.step)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
