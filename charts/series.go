package charts

// A measure's series, drawn as a sparkline for a scorecard row or as a larger
// chart with targets and baseline, so that pages need no script to show them.

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/backbone-ci/backbone/domain"
)

// Point is one value of a series in a period such as "2014" or "2014-15".
type Point struct {
	Period string
	Value  float64
}

// Series is a measure's history as a chart draws it: the total values
// reported, the targets and the baseline. Points whose period does not parse
// are left out.
type Series struct {
	Name     string // what is measured, for the picture's accessible description
	Unit     string
	Actuals  []Point
	Targets  []Point
	Baseline *Point
}

// seriesPoint is a point placed on the time axis, at the middle of its period.
type seriesPoint struct {
	Point
	at time.Time
}

// seriesPlaced is a series whose points are placed and sorted by time.
type seriesPlaced struct {
	actuals, targets []seriesPoint
	baseline         *seriesPoint
	from, to         time.Time
	lo, hi           float64
}

func seriesPlace(s Series) seriesPlaced {
	var p seriesPlaced
	place := func(pts []Point) []seriesPoint {
		var out []seriesPoint
		for _, pt := range pts {
			period, err := domain.ParsePeriod(pt.Period)
			if err != nil || math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) {
				continue
			}
			mid := period.Start().Add(period.End().Sub(period.Start()) / 2)
			out = append(out, seriesPoint{Point: pt, at: mid})
		}
		slices.SortStableFunc(out, func(a, b seriesPoint) int { return a.at.Compare(b.at) })
		return out
	}
	p.actuals, p.targets = place(s.Actuals), place(s.Targets)
	if s.Baseline != nil {
		if b := place([]Point{*s.Baseline}); len(b) == 1 {
			p.baseline = &b[0]
		}
	}

	all := slices.Concat(p.actuals, p.targets)
	if p.baseline != nil {
		all = append(all, *p.baseline)
	}
	if len(all) == 0 {
		return p
	}
	p.from, p.to = all[0].at, all[0].at
	p.lo, p.hi = all[0].Value, all[0].Value
	for _, pt := range all {
		p.from, p.to = seriesMinTime(p.from, pt.at), seriesMaxTime(p.to, pt.at)
		p.lo, p.hi = min(p.lo, pt.Value), max(p.hi, pt.Value)
	}
	if p.hi == p.lo {
		p.lo, p.hi = p.lo-1, p.hi+1
	}
	if p.to.Equal(p.from) {
		p.from, p.to = p.from.AddDate(-1, 0, 0), p.to.AddDate(1, 0, 0)
	}
	return p
}

func seriesMinTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func seriesMaxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// seriesFrame maps times and values into a drawing area.
type seriesFrame struct {
	left, top, width, height float64
	from, to                 time.Time
	lo, hi                   float64
}

func (f seriesFrame) x(t time.Time) float64 {
	return f.left + f.width*float64(t.Sub(f.from))/float64(f.to.Sub(f.from))
}

func (f seriesFrame) y(v float64) float64 {
	return f.top + f.height*(1-(v-f.lo)/(f.hi-f.lo))
}

func (f seriesFrame) path(pts []seriesPoint) string {
	var b strings.Builder
	for i, pt := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", f.x(pt.at), f.y(pt.Value))
	}
	return b.String()
}

// Sparkline draws a series as a small trend line (120 × 32) with the latest
// target as a dashed line, for one row of a scorecard. Its accessible label
// says the first and latest values and the target in words.
func Sparkline(s Series) string {
	p := seriesPlace(s)
	label := seriesSummary(s.Name, s.Unit, p)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" `+
		`viewBox="0 0 120 32" width="120" height="32" role="img" aria-label="%s">`,
		html.EscapeString(label))
	if len(p.actuals) == 0 {
		b.WriteString(`<line x1="4" y1="16" x2="116" y2="16" class="spark-none"` +
			` stroke="#888" stroke-dasharray="2 4"/></svg>`)
		return b.String()
	}
	f := seriesFrame{left: 3, top: 3, width: 114, height: 26, from: p.from, to: p.to,
		lo: p.lo, hi: p.hi}
	if len(p.targets) > 0 {
		y := f.y(p.targets[len(p.targets)-1].Value)
		fmt.Fprintf(&b, `<line class="spark-target" x1="0" y1="%.1f" x2="120" y2="%.1f" `+
			`stroke="#b35900" stroke-width="1" stroke-dasharray="3 2"/>`, y, y)
	}
	if len(p.actuals) > 1 {
		fmt.Fprintf(&b, `<polyline class="spark-line" points="%s" fill="none" `+
			`stroke="#1f4e79" stroke-width="1.5"/>`, f.path(p.actuals))
	}
	last := p.actuals[len(p.actuals)-1]
	fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#1f4e79"/></svg>`,
		f.x(last.at), f.y(last.Value))
	return b.String()
}

// Chart geometry of SeriesChart, in SVG units; the picture scales to its box.
const (
	seriesWidth  = 640.0
	seriesHeight = 300.0
	seriesLeft   = 56.0
	seriesRight  = 16.0
	seriesTop    = 16.0
	seriesBottom = 64.0
)

// SeriesChart draws a series as a chart with value and period axes: reported
// values as a solid line with dots, targets as hollow squares joined by a
// dashed line, the baseline as a dotted level line, and a legend that names
// each in words. Every point carries a tooltip with its period and value.
func SeriesChart(s Series) string {
	p := seriesPlace(s)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="series-chart" xmlns="http://www.w3.org/2000/svg" `+
		`viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, seriesWidth, seriesHeight,
		html.EscapeString(seriesSummary(s.Name, s.Unit, p)))
	if len(p.actuals)+len(p.targets) == 0 && p.baseline == nil {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">`+
			`No values reported yet</text></svg>`, seriesWidth/2, seriesHeight/2)
		return b.String()
	}

	ticks := seriesTicks(p.lo, p.hi, 5)
	f := seriesFrame{left: seriesLeft, top: seriesTop,
		width:  seriesWidth - seriesLeft - seriesRight,
		height: seriesHeight - seriesTop - seriesBottom,
		from:   p.from, to: p.to, lo: ticks[0], hi: ticks[len(ticks)-1]}
	f.from, f.to = seriesPad(p.from, p.to)

	seriesAxes(&b, f, ticks, p)
	if p.baseline != nil {
		y := f.y(p.baseline.Value)
		fmt.Fprintf(&b, `<line class="baseline" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" `+
			`stroke="#555" stroke-width="1.5" stroke-dasharray="1 3">`+
			`<title>baseline %s: %s</title></line>`, f.left, y, f.left+f.width, y,
			html.EscapeString(p.baseline.Period),
			html.EscapeString(seriesValue(p.baseline.Value, s.Unit)))
	}
	if len(p.targets) > 1 {
		fmt.Fprintf(&b, `<polyline class="target-line" points="%s" fill="none" `+
			`stroke="#b35900" stroke-width="1.5" stroke-dasharray="6 4"/>`, f.path(p.targets))
	}
	for _, t := range p.targets {
		fmt.Fprintf(&b, `<rect class="target" x="%.1f" y="%.1f" width="8" height="8" `+
			`fill="#fff" stroke="#b35900" stroke-width="2"><title>target %s: %s</title></rect>`,
			f.x(t.at)-4, f.y(t.Value)-4, html.EscapeString(t.Period),
			html.EscapeString(seriesValue(t.Value, s.Unit)))
	}
	if len(p.actuals) > 1 {
		fmt.Fprintf(&b, `<polyline class="actual-line" points="%s" fill="none" `+
			`stroke="#1f4e79" stroke-width="2.5"/>`, f.path(p.actuals))
	}
	for _, a := range p.actuals {
		fmt.Fprintf(&b, `<circle class="actual" cx="%.1f" cy="%.1f" r="4" fill="#1f4e79">`+
			`<title>%s: %s</title></circle>`, f.x(a.at), f.y(a.Value),
			html.EscapeString(a.Period), html.EscapeString(seriesValue(a.Value, s.Unit)))
	}
	seriesLegend(&b)
	b.WriteString(`</svg>`)
	return b.String()
}

// seriesAxes draws the value grid with its labels and the period labels,
// leaving out period labels that would overlap their left neighbour.
func seriesAxes(b *strings.Builder, f seriesFrame, ticks []float64, p seriesPlaced) {
	b.WriteString(`<g class="axes" font-size="12" fill="#333">`)
	for _, t := range ticks {
		y := f.y(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+
			`<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			f.left, y, f.left+f.width, y, f.left-6, y+4, seriesNumber(t))
	}
	labels := slices.Concat(p.actuals, p.targets)
	if p.baseline != nil {
		labels = append(labels, *p.baseline)
	}
	slices.SortStableFunc(labels, func(a, b seriesPoint) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.Period, b.Period))
	})
	lastX := math.Inf(-1)
	baseY := f.top + f.height
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888"/>`,
		f.left, baseY, f.left+f.width, baseY)
	for _, l := range labels {
		x := f.x(l.at)
		if x-lastX < 52 {
			continue
		}
		lastX = x
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`,
			x, baseY+18, html.EscapeString(l.Period))
	}
	b.WriteString(`</g>`)
}

// seriesLegend names each mark in words, beside a sample of its line.
func seriesLegend(b *strings.Builder) {
	y := seriesHeight - 14
	fmt.Fprintf(b, `<g class="legend" font-size="12" fill="#333">`+
		`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#1f4e79" stroke-width="2.5"/>`+
		`<circle cx="%.0f" cy="%.0f" r="4" fill="#1f4e79"/>`+
		`<text x="%.0f" y="%.0f">reported</text>`,
		seriesLeft, y, seriesLeft+28, y, seriesLeft+14, y, seriesLeft+34, y+4)
	x := seriesLeft + 110
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#b35900" `+
		`stroke-width="1.5" stroke-dasharray="6 4"/>`+
		`<rect x="%.0f" y="%.0f" width="8" height="8" fill="#fff" stroke="#b35900" `+
		`stroke-width="2"/><text x="%.0f" y="%.0f">target</text>`,
		x, y, x+28, y, x+10, y-4, x+34, y+4)
	x += 100
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#555" `+
		`stroke-width="1.5" stroke-dasharray="1 3"/><text x="%.0f" y="%.0f">baseline</text></g>`,
		x, y, x+28, y, x+34, y+4)
}

// seriesPad widens a time range by a twentieth on each side, so that the
// first and last points do not sit on the chart's edges.
func seriesPad(from, to time.Time) (time.Time, time.Time) {
	pad := to.Sub(from) / 20
	return from.Add(-pad), to.Add(pad)
}

// seriesTicks returns about n round values that span lo to hi, first and last
// at or beyond them.
func seriesTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(n-1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	first := math.Floor(lo/step) * step
	var ticks []float64
	for v := first; len(ticks) < 2*n+2; v += step {
		ticks = append(ticks, v)
		if v >= hi {
			break
		}
	}
	return ticks
}

// seriesSummary says in words what a chart shows.
func seriesSummary(name, unit string, p seriesPlaced) string {
	var parts []string
	switch len(p.actuals) {
	case 0:
		parts = append(parts, name+": no values reported yet")
	case 1:
		a := p.actuals[0]
		parts = append(parts, fmt.Sprintf("%s: %s in %s", name, seriesValue(a.Value, unit),
			a.Period))
	default:
		a, z := p.actuals[0], p.actuals[len(p.actuals)-1]
		parts = append(parts, fmt.Sprintf("%s: %s in %s to %s in %s", name,
			seriesValue(a.Value, unit), a.Period, seriesValue(z.Value, unit), z.Period))
	}
	if n := len(p.targets); n > 0 {
		t := p.targets[n-1]
		parts = append(parts, fmt.Sprintf("target %s in %s", seriesValue(t.Value, unit),
			t.Period))
	}
	if p.baseline != nil {
		parts = append(parts, fmt.Sprintf("baseline %s in %s",
			seriesValue(p.baseline.Value, unit), p.baseline.Period))
	}
	return strings.Join(parts, "; ")
}

// seriesValue formats a value with its unit, such as "57 %"; callers escape it.
func seriesValue(v float64, unit string) string {
	if unit == "" {
		return seriesNumber(v)
	}
	return seriesNumber(v) + " " + unit
}

// seriesNumber formats a number with at most two decimals and no trailing zeros.
func seriesNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
