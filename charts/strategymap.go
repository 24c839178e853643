// Package charts draws Backbone's pictures as SVG documents, by itself: no
// browser, no plotting library, the same bytes for the same input.
package charts

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/backbone-ci/backbone/domain"
	"github.com/google/uuid"
)

// StrategyMapOptions tunes StrategyMapWith; the zero value gives the defaults.
type StrategyMapOptions struct {
	// MaxWidth is the widest the picture may be, in pixels (0 means 1400). A
	// band with more objectives than fit side by side wraps onto more rows.
	MaxWidth int
	// ObjectiveHref, when not empty, makes every objective a link. "{issue}" and
	// "{objective}" in it are replaced by the IDs, as in
	// "/issues/{issue}/objectives/{objective}".
	ObjectiveHref string
}

// StrategyMap draws an issue's strategy map as an SVG document with the default
// options. See StrategyMapWith.
func StrategyMap(m domain.StrategyMap) []byte {
	return StrategyMapWith(m, StrategyMapOptions{})
}

// StrategyMapWith draws an issue's strategy map as an SVG document: one band per
// perspective, results at the top; a box per objective, coloured by its status
// and naming it in words; an arrow from cause to effect for every link, routed
// between the boxes; and a legend. Links to objectives missing from the map,
// links from an objective to itself and repeated links are not drawn; an
// objective listed twice is drawn once, in the first band that lists it.
func StrategyMapWith(m domain.StrategyMap, o StrategyMapOptions) []byte {
	return smapDraw(smapLayout(m, o), m.Issue.ID, o)
}

// The measurements of a map, in pixels. Boxes have one width; rows and the
// channels between them grow with their contents.
const (
	smapDefaultMaxWidth = 1400
	smapMinWidth        = 520.0
	smapMargin          = 16.0
	smapLabelW          = 108.0 // the column of band labels
	smapBoxW            = 156.0
	smapBoxPad          = 10.0
	smapTitleFont       = 13.0
	smapTitleLead       = 17.0
	smapMaxLines        = 8
	smapStatusFont      = 12.0
	smapStatusH         = 24.0 // the status line at the foot of a box
	smapLabelFont       = 13.0
	smapHeaderFont      = 17.0
	smapHeaderLead      = 22.0
	smapLegendFont      = 12.0
	smapLegendLead      = 24.0
	smapMinFont         = 11.0 // no text is smaller
	smapEmptyRowH       = 40.0
	smapMinGap          = 24.0 // between columns of boxes
	smapMinChannel      = 32.0 // between rows of boxes
	smapPad             = 12.0 // from a box to the nearest track
	smapTrack           = 8.0  // between parallel tracks
	smapTrackSep        = 14.0 // between two segments sharing one track
	smapSweeps          = 8
)

// smapPoint and smapRect are in the picture's pixels, y growing downwards.
type smapPoint struct{ X, Y float64 }

type smapRect struct{ X, Y, W, H float64 }

// smapPlan is a laid-out map: everything smapDraw needs, and what tests check.
type smapPlan struct {
	Width, Height float64
	Title         string
	Header        []string
	Bands         []smapBandArea
	Boxes         []smapBox
	Arrows        []smapArrow
	Legend        []smapLegendItem
}

// smapBandArea is one perspective's stripe across the picture.
type smapBandArea struct {
	Label []string
	Rect  smapRect
	// Empty is where "No objectives yet" goes when the band has none.
	Empty *smapPoint
}

// smapBox is one objective's box, its title wrapped into Lines.
type smapBox struct {
	Objective domain.MapObjective
	Lines     []string
	Rect      smapRect
}

// smapArrow runs from the border of box Cause to the border of box Effect.
type smapArrow struct {
	Cause, Effect int
	Points        []smapPoint
}

// smapLegendItem is one entry of the legend; Status is empty for the arrow.
type smapLegendItem struct {
	At     smapPoint
	Status domain.Status
	Text   string
}

// smapGraph is the map reduced to what layout needs: objectives by index,
// bands in perspective order, links as pairs of indexes.
type smapGraph struct {
	issue  domain.IssueSummary
	labels []string
	bands  [][]int
	objs   []domain.MapObjective
	bandOf []int
	links  [][2]int
}

func smapNewGraph(m domain.StrategyMap) smapGraph {
	bands := slices.Clone(m.Bands)
	if len(bands) == 0 {
		for _, p := range domain.Perspectives {
			bands = append(bands, domain.MapBand{Perspective: p})
		}
	}
	slices.SortStableFunc(bands, func(a, b domain.MapBand) int {
		return cmp.Compare(smapRank(a.Perspective), smapRank(b.Perspective))
	})

	g := smapGraph{issue: m.Issue}
	index := map[uuid.UUID]int{}
	for b, band := range bands {
		g.labels = append(g.labels, smapBandLabel(band))
		members := []int{}
		for _, o := range band.Objectives {
			if _, seen := index[o.ID]; seen {
				continue
			}
			index[o.ID] = len(g.objs)
			members = append(members, len(g.objs))
			g.objs = append(g.objs, o)
			g.bandOf = append(g.bandOf, b)
		}
		g.bands = append(g.bands, members)
	}

	seen := map[[2]int]bool{}
	for _, l := range m.Links {
		c, okC := index[l.CauseID]
		e, okE := index[l.EffectID]
		link := [2]int{c, e}
		if !okC || !okE || c == e || seen[link] {
			continue
		}
		seen[link] = true
		g.links = append(g.links, link)
	}
	return g
}

// smapRank puts known perspectives in their order and unknown ones after them.
func smapRank(p domain.Perspective) int {
	if i := slices.Index(domain.Perspectives, p); i >= 0 {
		return i
	}
	return len(domain.Perspectives)
}

func smapBandLabel(b domain.MapBand) string {
	if s := strings.TrimSpace(b.Label); s != "" {
		return s
	}
	if b.Perspective == "" {
		return "Objectives"
	}
	return smapCapitalize(string(b.Perspective))
}

func smapCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// smapLayout lays the map out within the options' width: as many columns as
// fit, one fewer at a time while the channels the arrows need make it too wide.
func smapLayout(m domain.StrategyMap, o StrategyMapOptions) smapPlan {
	g := smapNewGraph(m)
	maxW := float64(cmp.Or(o.MaxWidth, smapDefaultMaxWidth))
	cols := 1
	for _, members := range g.bands {
		cols = max(cols, len(members))
	}
	fit := int((maxW - 2*smapMargin - smapLabelW - smapMinGap) / (smapBoxW + smapMinGap))
	cols = max(1, min(cols, fit))

	for ; cols > 1; cols-- {
		if p := smapLayoutColumns(g, cols); p.Width <= max(maxW, smapMinWidth) {
			return p
		}
	}
	return smapLayoutColumns(g, 1)
}

// smapGrid is the layout in progress. Rows are numbered top to bottom across
// bands; channel k is the space above row k (channel len(rows) is below the
// last row); gap j is the space left of column j (gap cols is right of the last).
type smapGrid struct {
	g          smapGraph
	cols       int
	row, slot  []int
	lines      [][]string
	bandRows   [][2]int // first and last row of each band
	rowObjs    [][]int
	edges      []smapEdge
	gapTracks  []int
	chanTracks []int
	sidePins   map[[2]int][]int // row and gap → edges, top to bottom
	pins       map[[2]int][]int // channel and column → edge ends (2i cause, 2i+1 effect)
	gapX, gapW []float64
	slotX      []float64
	chanY      []float64
	chanH      []float64
	rowY, rowH []float64
}

// smapEdge is how one link is routed. A side edge joins neighbours in a row
// through the gap between them. A one-channel edge leaves the cause into the
// channel next to it and enters the effect from there. A two-channel edge
// also climbs (or descends) a gap from channel from to channel to. A direct
// edge runs straight up or down its column, past rows with nothing in it.
type smapEdge struct {
	cause, effect       int
	kind                smapEdgeKind
	from, to            int // channels
	gap                 int
	gapTrack            int
	fromTrack, toTrack  int
	causePin, effectPin int
}

type smapEdgeKind int

const (
	smapSide smapEdgeKind = iota
	smapOneChannel
	smapTwoChannels
	smapDirect
)

func smapLayoutColumns(g smapGraph, cols int) smapPlan {
	s := &smapGrid{g: g, cols: cols}
	s.row, s.slot = smapArrange(g, cols)
	s.collectRows()
	for _, o := range g.objs {
		s.lines = append(s.lines, smapWrap(o.Title, smapTitleFont,
			smapBoxW-2*smapBoxPad, smapMaxLines))
	}

	s.routeEdges()
	s.assignGapTracks()
	s.placeColumns()
	s.assignPins()
	s.assignChannelTracks()
	s.placeRows()
	return s.plan()
}

// collectRows numbers the rows of every band: a band needs as many rows as
// its objectives fill, and one even when empty.
func (s *smapGrid) collectRows() {
	first := 0
	for b, members := range s.g.bands {
		n := max(1, (len(members)+s.cols-1)/s.cols)
		s.bandRows = append(s.bandRows, [2]int{first, first + n - 1})
		for range n {
			s.rowObjs = append(s.rowObjs, nil)
		}
		for _, o := range s.g.bands[b] {
			s.row[o] += first
			s.rowObjs[s.row[o]] = append(s.rowObjs[s.row[o]], o)
		}
		first += n
	}
	for _, objs := range s.rowObjs {
		slices.SortFunc(objs, func(a, b int) int { return cmp.Compare(s.slot[a], s.slot[b]) })
	}
}

// smapArrange orders each band's objectives so that links stay short and cross
// little: a few sweeps down and up the bands, sorting each band by where its
// objectives' neighbours are (a cause in the same band is wanted just before its
// effect, in reading order), keeping the best arrangement seen. It returns each
// objective's row within its band and its column.
func smapArrange(g smapGraph, cols int) (row, slot []int) {
	row, slot = make([]int, len(g.objs)), make([]int, len(g.objs))
	want := make([]float64, len(g.objs))
	order := make([][]int, len(g.bands))
	for b, members := range g.bands {
		order[b] = slices.Clone(members)
		for start := 0; start < len(members); start += cols {
			n := min(cols, len(members)-start)
			for k, o := range members[start : start+n] {
				want[o] = float64(start) + math.Floor(float64(cols-n)/2) + float64(k)
			}
		}
		smapPlace(order[b], want, cols, row, slot)
	}

	bestRow, bestSlot := slices.Clone(row), slices.Clone(slot)
	best := smapScore(g, cols, row, slot)
	for sweep := range smapSweeps {
		for k := range g.bands {
			b := k
			if sweep%2 == 1 {
				b = len(g.bands) - 1 - k
			}
			smapBarycentres(g, cols, order[b], row, slot, want)
			slices.SortStableFunc(order[b], func(x, y int) int {
				return cmp.Compare(want[x], want[y])
			})
			smapPlace(order[b], want, cols, row, slot)
		}
		if score := smapScore(g, cols, row, slot); score < best {
			best = score
			copy(bestRow, row)
			copy(bestSlot, slot)
		}
	}
	return bestRow, bestSlot
}

// smapPlace fills rows of cols objectives in order, putting each as near its
// wanted place as the order and the row's width allow. Places count in reading
// order: row r, column c is place r×cols+c.
func smapPlace(order []int, want []float64, cols int, row, slot []int) {
	for start := 0; start < len(order); start += cols {
		chunk := order[start:min(start+cols, len(order))]
		prev := -1
		for k, o := range chunk {
			c := int(math.Round(want[o])) - start
			c = min(max(c, prev+1), cols-len(chunk)+k)
			row[o], slot[o] = start/cols, c
			prev = c
		}
	}
}

// smapBarycentres sets the wanted place of each member to the mean place of its
// linked objectives: their column in the member's row when in another band;
// just before or after them when in the same band. A member without links
// wants to stay where it is.
func smapBarycentres(g smapGraph, cols int, members, row, slot []int, want []float64) {
	place := func(r, c int) float64 { return float64(r*cols + c) }
	for _, o := range members {
		sum, n := 0.0, 0
		for _, l := range g.links {
			other, shift := -1, 0.0
			switch o {
			case l[0]:
				other, shift = l[1], -1
			case l[1]:
				other, shift = l[0], 1
			}
			switch {
			case other < 0:
				continue
			case g.bandOf[other] == g.bandOf[o]:
				sum += place(row[other], slot[other]) + shift
			default:
				sum += place(row[o], slot[other])
			}
			n++
		}
		want[o] = place(row[o], slot[o])
		if n > 0 {
			want[o] = sum / float64(n)
		}
	}
}

// smapScore rates an arrangement, lower is better: crossings of straight lines
// between linked boxes first; then links within a band that read backwards or
// must detour around their row; then how far links reach sideways.
func smapScore(g smapGraph, cols int, row, slot []int) int {
	offset := make([]int, len(g.bands))
	for b := 1; b < len(g.bands); b++ {
		offset[b] = offset[b-1] + max(1, (len(g.bands[b-1])+cols-1)/cols)
	}
	at := func(o int) smapPoint {
		return smapPoint{float64(slot[o]), float64(offset[g.bandOf[o]] + row[o])}
	}

	score := 0
	for i, a := range g.links {
		c, e := a[0], a[1]
		score += smapAbs(slot[c] - slot[e])
		if g.bandOf[c] == g.bandOf[e] && row[c]*cols+slot[c] > row[e]*cols+slot[e] {
			score += 20
		}
		if g.bandOf[c] == g.bandOf[e] && row[c] == row[e] && smapAbs(slot[c]-slot[e]) > 1 {
			score += 10
		}
		for _, b := range g.links[i+1:] {
			if c == b[0] || c == b[1] || e == b[0] || e == b[1] {
				continue
			}
			if smapCross(at(c), at(e), at(b[0]), at(b[1])) {
				score += 100
			}
		}
	}
	return score
}

// smapCross reports whether segments pq and rs cross at a point inside both.
func smapCross(p, q, r, s smapPoint) bool {
	side := func(a, b, c smapPoint) float64 {
		return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X)
	}
	return side(p, q, r)*side(p, q, s) < 0 && side(r, s, p)*side(r, s, q) < 0
}

func smapAbs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// routeEdges decides the channels and gap of every link's route.
func (s *smapGrid) routeEdges() {
	for _, l := range s.g.links {
		e := smapEdge{cause: l[0], effect: l[1], kind: smapOneChannel}
		rc, re := s.row[e.cause], s.row[e.effect]
		cc, ce := s.slot[e.cause], s.slot[e.effect]
		switch {
		case rc == re && smapAbs(cc-ce) == 1:
			e.kind, e.gap = smapSide, max(cc, ce)
		case rc == re:
			e.from, e.to = rc, rc
		case re < rc:
			e.from, e.to = rc, re+1
		default:
			e.from, e.to = rc+1, re
		}
		if e.kind == smapOneChannel && e.from != e.to {
			e.kind = smapTwoChannels
		}
		s.edges = append(s.edges, e)
	}

	ends := map[[2]int]int{}
	for _, e := range s.edges {
		if e.kind != smapSide {
			ends[[2]int{e.from, s.slot[e.cause]}]++
			ends[[2]int{e.to, s.slot[e.effect]}]++
		}
	}
	for i := range s.edges {
		e := &s.edges[i]
		cc, ce := s.slot[e.cause], s.slot[e.effect]
		switch {
		case e.kind != smapTwoChannels:
		case cc == ce && s.columnClear(*e) &&
			ends[[2]int{e.from, cc}] == 1 && ends[[2]int{e.to, ce}] == 1:
			e.kind = smapDirect
		default:
			e.gap = s.chooseGap(i, cc, ce)
		}
	}
}

// columnClear reports whether nothing is drawn in the edge's column in the
// rows between its boxes, so that it can run straight through them.
func (s *smapGrid) columnClear(e smapEdge) bool {
	c := s.slot[e.cause]
	lo, hi := min(s.row[e.cause], s.row[e.effect]), max(s.row[e.cause], s.row[e.effect])
	for r := lo + 1; r < hi; r++ {
		if len(s.rowObjs[r]) == 0 && c == 0 { // where "No objectives yet" is written
			return false
		}
		for _, o := range s.rowObjs[r] {
			if s.slot[o] == c {
				return false
			}
		}
	}
	return true
}

// chooseGap picks the gap for edge i to climb: between its columns (or beside
// its one column) unless that gap is crowded by the edges routed before it, in
// which case a gap one column further out may do.
func (s *smapGrid) chooseGap(i, cc, ce int) int {
	lo, hi := min(cc, ce)+1, max(cc, ce)
	if cc == ce {
		lo, hi = cc, cc+1
	}
	mid := float64(cc+ce+1) / 2
	best, bestCost := lo, math.Inf(1)
	for j := max(0, lo-1); j <= min(s.cols, hi+1); j++ {
		cost := math.Abs(float64(j)-mid) / 10
		if j < lo || j > hi {
			cost += 2
		}
		for _, f := range s.edges[:i] {
			if f.kind == smapTwoChannels && f.gap == j && smapSpansMeet(s.edges[i], f) {
				cost++
			}
		}
		if cost < bestCost {
			best, bestCost = j, cost
		}
	}
	return best
}

// smapSpansMeet reports whether two climbing edges pass a channel in common.
func smapSpansMeet(e, f smapEdge) bool {
	return max(e.from, e.to) >= min(f.from, f.to) && max(f.from, f.to) >= min(e.from, e.to)
}

// assignGapTracks gives each climbing edge a vertical track in its gap, apart
// from every other edge climbing past the same channels.
func (s *smapGrid) assignGapTracks() {
	s.gapTracks = make([]int, s.cols+1)
	for j := range s.gapTracks {
		var used [][]int
		for i := range s.edges {
			e := &s.edges[i]
			if e.kind != smapTwoChannels || e.gap != j {
				continue
			}
			t := slices.IndexFunc(used, func(others []int) bool {
				return !slices.ContainsFunc(others, func(k int) bool {
					return smapSpansMeet(*e, s.edges[k])
				})
			})
			if t < 0 {
				t = len(used)
				used = append(used, nil)
			}
			used[t] = append(used[t], i)
			e.gapTrack = t
		}
		s.gapTracks[j] = len(used)
	}
}

// placeColumns sets the x of every gap and column, gaps widening for tracks.
func (s *smapGrid) placeColumns() {
	x := smapMargin + smapLabelW
	for j := 0; j <= s.cols; j++ {
		s.gapX = append(s.gapX, x)
		s.gapW = append(s.gapW, smapSpread(s.gapTracks[j], smapMinGap))
		x += s.gapW[j]
		if j < s.cols {
			s.slotX = append(s.slotX, x)
			x += smapBoxW
		}
	}
}

// smapSpread is the size of a gap or channel holding n tracks.
func smapSpread(n int, least float64) float64 {
	return max(least, 2*smapPad+float64(n-1)*smapTrack)
}

// smapTrackAt is the position of track t of n in a space starting at start.
func smapTrackAt(start, size float64, t, n int) float64 {
	return start + (size-float64(n-1)*smapTrack)/2 + float64(t)*smapTrack
}

// assignPins spreads the ends of arrows along box borders, ordered by where
// each arrow heads, so that an edge between boxes stacked in one column can
// run straight. A box's top faces the channel of its row, its bottom the next.
func (s *smapGrid) assignPins() {
	s.pins = map[[2]int][]int{}
	s.sidePins = map[[2]int][]int{}
	heading := map[int]float64{} // pin end → where it heads
	for i, e := range s.edges {
		if e.kind == smapSide {
			key := [2]int{s.row[e.cause], e.gap}
			s.sidePins[key] = append(s.sidePins[key], i)
			continue
		}
		causeKey := [2]int{e.from, s.slot[e.cause]}
		effectKey := [2]int{e.to, s.slot[e.effect]}
		causeTo, effectTo := float64(e.gap), float64(e.gap)
		if e.kind == smapOneChannel || e.kind == smapDirect {
			causeTo, effectTo = float64(s.slot[e.effect])+0.5, float64(s.slot[e.cause])+0.5
		}
		s.pins[causeKey] = append(s.pins[causeKey], 2*i)
		heading[2*i] = causeTo
		if causeKey != effectKey {
			s.pins[effectKey] = append(s.pins[effectKey], 2*i+1)
			heading[2*i+1] = effectTo
		}
	}

	for _, ends := range s.pins {
		slices.SortStableFunc(ends, func(a, b int) int {
			return cmp.Or(cmp.Compare(heading[a], heading[b]), cmp.Compare(a, b))
		})
		for k, end := range ends {
			e := &s.edges[end/2]
			if end%2 == 0 {
				e.causePin = k
			}
			if end%2 == 1 || s.straight(*e) {
				e.effectPin = k
			}
		}
	}
}

// straight reports whether an edge joins boxes stacked in one column, across
// the channel between them.
func (s *smapGrid) straight(e smapEdge) bool {
	return e.kind == smapOneChannel && s.slot[e.cause] == s.slot[e.effect]
}

// pinX is the x of pin k on the border of a box in column c facing channel ch.
func (s *smapGrid) pinX(ch, c, k int) float64 {
	n := len(s.pins[[2]int{ch, c}])
	return s.slotX[c] + smapBoxW*float64(k+1)/float64(n+1)
}

// smapSpan is a horizontal stretch of an edge in a channel.
type smapSpan struct {
	edge   int
	to     bool // the stretch next to the effect
	lo, hi float64
}

// assignChannelTracks gives every horizontal stretch a track in its channel,
// apart from stretches on the same track by at least smapTrackSep.
func (s *smapGrid) assignChannelTracks() {
	spans := make([][]smapSpan, len(s.rowObjs)+1)
	add := func(ch, edge int, to bool, a, b float64) {
		spans[ch] = append(spans[ch], smapSpan{edge, to, min(a, b), max(a, b)})
	}
	for i, e := range s.edges {
		switch {
		case e.kind == smapOneChannel && !s.straight(e):
			add(e.from, i, false, s.causeX(e), s.effectX(e))
		case e.kind == smapTwoChannels:
			add(e.from, i, false, s.causeX(e), s.climbX(e))
			add(e.to, i, true, s.climbX(e), s.effectX(e))
		}
	}

	s.chanTracks = make([]int, len(spans))
	for ch, list := range spans {
		slices.SortFunc(list, func(a, b smapSpan) int {
			return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi),
				cmp.Compare(a.edge, b.edge))
		})
		var ends []float64
		for _, sp := range list {
			t := slices.IndexFunc(ends, func(end float64) bool {
				return end+smapTrackSep <= sp.lo
			})
			if t < 0 {
				t = len(ends)
				ends = append(ends, 0)
			}
			ends[t] = sp.hi
			if sp.to {
				s.edges[sp.edge].toTrack = t
			} else {
				s.edges[sp.edge].fromTrack = t
			}
		}
		s.chanTracks[ch] = len(ends)
	}
}

func (s *smapGrid) causeX(e smapEdge) float64 {
	return s.pinX(e.from, s.slot[e.cause], e.causePin)
}

func (s *smapGrid) effectX(e smapEdge) float64 {
	return s.pinX(e.to, s.slot[e.effect], e.effectPin)
}

func (s *smapGrid) climbX(e smapEdge) float64 {
	return smapTrackAt(s.gapX[e.gap], s.gapW[e.gap], e.gapTrack, s.gapTracks[e.gap])
}

// placeRows sets the y of every channel and row, below the header; a row is as
// tall as its tallest box, a channel as its tracks need.
func (s *smapGrid) placeRows() {
	y := smapMargin
	if h := s.header(); len(h) > 0 {
		y += float64(len(h))*smapHeaderLead + 4
	}

	for k := 0; k <= len(s.rowObjs); k++ {
		s.chanY = append(s.chanY, y)
		s.chanH = append(s.chanH, smapSpread(s.chanTracks[k], smapMinChannel))
		y += s.chanH[k]
		if k == len(s.rowObjs) {
			break
		}
		h := smapEmptyRowH
		for _, o := range s.rowObjs[k] {
			h = max(h, smapBoxH(len(s.lines[o])))
		}
		s.rowY, s.rowH = append(s.rowY, y), append(s.rowH, h)
		y += h
	}
}

func smapBoxH(lines int) float64 {
	return 2*smapBoxPad + float64(lines)*smapTitleLead + smapStatusH
}

func (s *smapGrid) header() []string {
	return smapWrap(s.g.issue.Title, smapHeaderFont*1.08, s.gridRight()-2*smapMargin, 2)
}

func (s *smapGrid) gridRight() float64 {
	return max(s.gapX[s.cols]+s.gapW[s.cols]+smapMargin, smapMinWidth)
}

func (s *smapGrid) chanMid(ch int) float64 { return s.chanY[ch] + s.chanH[ch]/2 }

func (s *smapGrid) chanTrackY(ch, t int) float64 {
	return smapTrackAt(s.chanY[ch], s.chanH[ch], t, s.chanTracks[ch])
}

// plan turns the grid into rectangles, polylines and text positions.
func (s *smapGrid) plan() smapPlan {
	p := smapPlan{Width: s.gridRight(), Title: s.g.issue.Title, Header: s.header()}
	last := len(s.rowObjs)
	for b, rows := range s.bandRows {
		top, bottom := s.chanMid(rows[0]), s.chanMid(rows[1]+1)
		if b == 0 {
			top = s.chanY[0]
		}
		if b == len(s.bandRows)-1 {
			bottom = s.chanY[last] + s.chanH[last]
		}
		area := smapBandArea{
			Label: smapWrap(s.g.labels[b], smapLabelFont*1.08, smapLabelW-20, 4),
			Rect:  smapRect{smapMargin, top, p.Width - 2*smapMargin, bottom - top},
		}
		if len(s.g.bands[b]) == 0 {
			area.Empty = &smapPoint{s.slotX[0], s.rowY[rows[0]] + s.rowH[rows[0]]/2}
		}
		p.Bands = append(p.Bands, area)
	}

	for o, obj := range s.g.objs {
		r := smapRect{s.slotX[s.slot[o]], s.rowY[s.row[o]], smapBoxW, s.rowH[s.row[o]]}
		p.Boxes = append(p.Boxes, smapBox{Objective: obj, Lines: s.lines[o], Rect: r})
	}
	for i, e := range s.edges {
		p.Arrows = append(p.Arrows, smapArrow{e.cause, e.effect, s.polyline(i)})
	}

	p.Legend, p.Height = smapLegend(s.chanY[last]+s.chanH[last]+14, p.Width)
	return p
}

// polyline is the route of an edge, from the cause's border to the effect's.
func (s *smapGrid) polyline(i int) []smapPoint {
	e := s.edges[i]
	if e.kind == smapSide {
		pins := s.sidePins[[2]int{s.row[e.cause], e.gap}]
		k := slices.Index(pins, i)
		r := s.row[e.cause]
		y := s.rowY[r] + s.rowH[r]*float64(k+1)/float64(len(pins)+1)
		left, right := s.slotX[e.gap-1]+smapBoxW, s.slotX[e.gap]
		if s.slot[e.cause] > s.slot[e.effect] {
			left, right = right, left
		}
		return []smapPoint{{left, y}, {right, y}}
	}

	cx, ex := s.causeX(e), s.effectX(e)
	start := smapPoint{cx, s.border(e.cause, e.from)}
	end := smapPoint{ex, s.border(e.effect, e.to)}
	if s.straight(e) || e.kind == smapDirect {
		return []smapPoint{start, end}
	}
	y1 := s.chanTrackY(e.from, e.fromTrack)
	if e.kind == smapOneChannel {
		return []smapPoint{start, {cx, y1}, {ex, y1}, end}
	}
	gx, y2 := s.climbX(e), s.chanTrackY(e.to, e.toTrack)
	return []smapPoint{start, {cx, y1}, {gx, y1}, {gx, y2}, {ex, y2}, end}
}

// border is the y of the side of box o that faces channel ch.
func (s *smapGrid) border(o, ch int) float64 {
	r := s.row[o]
	if ch == r {
		return s.rowY[r]
	}
	return s.rowY[r] + s.rowH[r]
}

// smapStatuses are the statuses the legend explains, best first.
var smapStatuses = []domain.Status{
	domain.OnTrack, domain.AtRisk, domain.OffTrack, domain.NoTarget, domain.NoData,
}

// smapLegend flows the legend's entries in rows from y, within width, and
// returns them with the picture's full height.
func smapLegend(y, width float64) ([]smapLegendItem, float64) {
	var items []smapLegendItem
	for _, st := range smapStatuses {
		items = append(items, smapLegendItem{Status: st, Text: smapStatusWord(st)})
	}
	items = append(items, smapLegendItem{Text: "cause drives effect"})

	x := smapMargin
	for i := range items {
		w := 22 + smapTextWidth(items[i].Text, smapLegendFont) + 24
		if items[i].Status == "" {
			w += 14
		}
		if x+w > width-smapMargin && x > smapMargin {
			x, y = smapMargin, y+smapLegendLead
		}
		items[i].At = smapPoint{x, y}
		x += w
	}
	return items, y + smapLegendLead + smapMargin
}

// smapStatusWord is how a status reads on the map.
func smapStatusWord(st domain.Status) string {
	switch st {
	case domain.OnTrack:
		return "On track"
	case domain.AtRisk:
		return "At risk"
	case domain.OffTrack:
		return "Off track"
	case domain.NoTarget:
		return "No target"
	case domain.NoData, "":
		return "No data"
	}
	return smapCapitalize(strings.ReplaceAll(string(st), "_", " "))
}

// smapStyle is how a status looks: border and icon colour, fill, icon shape.
type smapStyle struct {
	stroke, fill, icon string
	dashed             bool
}

func smapStyleOf(st domain.Status) smapStyle {
	switch st {
	case domain.OnTrack:
		return smapStyle{"#1a7f37", "#e6f4ea", "circle", false}
	case domain.AtRisk:
		return smapStyle{"#b7791f", "#fff4d6", "triangle", false}
	case domain.OffTrack:
		return smapStyle{"#c53030", "#fde8e8", "square", false}
	case domain.NoTarget:
		return smapStyle{"#4a5568", "#edf2f7", "dash", false}
	}
	return smapStyle{"#718096", "#ffffff", "ring", true}
}

// smapWrap breaks text into at most maxLines lines no wider than width at the
// given font size, splitting words too long for a line and ending a cut text
// with an ellipsis.
func smapWrap(text string, font, width float64, maxLines int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		for _, piece := range smapBreakWord(word, font, width) {
			switch {
			case line == "":
				line = piece
			case smapTextWidth(line+" "+piece, font) <= width:
				line += " " + piece
			default:
				lines = append(lines, line)
				line = piece
			}
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	if len(lines) <= maxLines {
		return lines
	}

	lines[maxLines-1] = smapEllipsize(lines[maxLines-1], font, width)
	return lines[:maxLines]
}

// smapEllipsize ends a line with an ellipsis, dropping whole words to make
// room, or letters when the line is one word.
func smapEllipsize(line string, font, width float64) string {
	words := strings.Fields(line)
	for len(words) > 1 && smapTextWidth(strings.Join(words, " ")+"…", font) > width {
		words = words[:len(words)-1]
	}
	cut := []rune(strings.Join(words, " "))
	for len(cut) > 0 && smapTextWidth(string(cut)+"…", font) > width {
		cut = cut[:len(cut)-1]
	}
	return strings.TrimRight(string(cut), " ,;:-") + "…"
}

// smapBreakWord splits a word wider than width into pieces that fit, each but
// the last ending in a hyphen.
func smapBreakWord(word string, font, width float64) []string {
	var pieces []string
	rest := []rune(word)
	for smapTextWidth(string(rest), font) > width && len(rest) > 1 {
		n := 1
		for n < len(rest)-1 && smapTextWidth(string(rest[:n+1])+"-", font) <= width {
			n++
		}
		pieces = append(pieces, string(rest[:n])+"-")
		rest = rest[n:]
	}
	return append(pieces, string(rest))
}

// smapGlyphWidths are the advance widths of ASCII ' ' to '~' in a Helvetica-like
// sans-serif, in thousandths of an em.
var smapGlyphWidths = [95]uint16{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
	1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
	667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
	333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
	556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
}

// smapTextWidth estimates the width of s at a font size, erring wide: the
// viewer's font is unknown, so wrapping keeps a margin of 6 %.
func smapTextWidth(s string, font float64) float64 {
	em := 0.0
	for _, r := range s {
		switch {
		case r >= ' ' && r <= '~':
			em += float64(smapGlyphWidths[r-' '])
		case r == '…' || r >= 0x2E80:
			em += 1000
		default:
			em += 667
		}
	}
	return em / 1000 * font * 1.06
}

// smapDraw writes the plan as an SVG document.
func smapDraw(p smapPlan, issue uuid.UUID, o StrategyMapOptions) []byte {
	var b bytes.Buffer
	w, h := smapNum(p.Width), smapNum(p.Height)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" `+
		`xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 %s %s" width="%s" `+
		`height="%s" role="img" aria-labelledby="smap-title smap-desc" `+
		`font-family="Helvetica, Arial, Liberation Sans, sans-serif">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<title id="smap-title">%s</title>`+"\n", smapEscape(smapTitle(p)))
	fmt.Fprintf(&b, `<desc id="smap-desc">%s</desc>`+"\n", smapEscape(smapSummary(p)))
	b.WriteString(`<defs><marker id="smap-arrowhead" viewBox="0 0 10 10" refX="10" ` +
		`refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" ` +
		`orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#2d3748"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%s" height="%s" fill="#ffffff"/>`+"\n", w, h)

	for i, line := range p.Header {
		fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" font-weight="bold" `+
			`fill="#1a202c">%s</text>`+"\n", smapNum(smapMargin),
			smapNum(smapMargin+float64(i)*smapHeaderLead+smapHeaderFont),
			smapNum(smapHeaderFont), smapEscape(line))
	}
	smapDrawBands(&b, p)
	smapDrawBoxes(&b, p, issue, o.ObjectiveHref)
	smapDrawArrows(&b, p)
	smapDrawLegend(&b, p)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func smapTitle(p smapPlan) string {
	if strings.TrimSpace(p.Title) == "" {
		return "Strategy map"
	}
	return "Strategy map: " + p.Title
}

func smapSummary(p smapPlan) string {
	return fmt.Sprintf("%d objectives in %d perspectives, top to bottom, with %d "+
		"cause-and-effect links.", len(p.Boxes), len(p.Bands), len(p.Arrows))
}

func smapDrawBands(b *bytes.Buffer, p smapPlan) {
	b.WriteString(`<g class="bands">` + "\n")
	for i, band := range p.Bands {
		fill := []string{"#f7f9fb", "#eef2f6"}[i%2]
		r := band.Rect
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n",
			smapNum(r.X), smapNum(r.Y), smapNum(r.W), smapNum(r.H), fill)
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" fill="#dfe6ee"/>`+"\n",
			smapNum(r.X), smapNum(r.Y), smapNum(smapLabelW-8), smapNum(r.H))

		y := r.Y + r.H/2 - float64(len(band.Label))*smapTitleLead/2 + smapLabelFont
		for k, line := range band.Label {
			fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" font-weight="bold" `+
				`fill="#2d3748">%s</text>`+"\n", smapNum(r.X+10),
				smapNum(y+float64(k)*smapTitleLead), smapNum(smapLabelFont), smapEscape(line))
		}
		if band.Empty != nil {
			fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" font-style="italic" `+
				`fill="#4a5568">No objectives yet</text>`+"\n", smapNum(band.Empty.X),
				smapNum(band.Empty.Y+4), smapNum(smapStatusFont))
		}
	}
	b.WriteString("</g>\n")
}

func smapDrawBoxes(b *bytes.Buffer, p smapPlan, issue uuid.UUID, href string) {
	b.WriteString(`<g class="objectives">` + "\n")
	for _, box := range p.Boxes {
		o, r := box.Objective, box.Rect
		st := smapStyleOf(o.Status)
		if href != "" {
			url := strings.NewReplacer("{issue}", issue.String(),
				"{objective}", o.ID.String()).Replace(href)
			fmt.Fprintf(b, `<a href="%s" xlink:href="%s">`, smapEscape(url), smapEscape(url))
		}
		fmt.Fprintf(b, `<g class="objective" data-status="%s"><title>%s</title>`,
			smapEscape(string(o.Status)), smapEscape(smapTooltip(o)))

		dash := ""
		if st.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="%s" `+
			`stroke="%s" stroke-width="2"%s/>`, smapNum(r.X), smapNum(r.Y), smapNum(r.W),
			smapNum(r.H), st.fill, st.stroke, dash)

		fmt.Fprintf(b, `<text font-size="%s" fill="#1a202c">`, smapNum(smapTitleFont))
		for k, line := range box.Lines {
			fmt.Fprintf(b, `<tspan x="%s" y="%s">%s</tspan>`, smapNum(r.X+smapBoxPad),
				smapNum(r.Y+smapBoxPad+smapTitleFont+float64(k)*smapTitleLead),
				smapEscape(line))
		}
		b.WriteString(`</text>`)

		foot := smapPoint{r.X + smapBoxPad, r.Y + r.H - smapBoxPad - 6}
		smapDrawStatus(b, foot, o.Status)
		b.WriteString("</g>")
		if href != "" {
			b.WriteString("</a>")
		}
		b.WriteString("\n")
	}
	b.WriteString("</g>\n")
}

// smapTooltip is an objective's full title, status and measures.
func smapTooltip(o domain.MapObjective) string {
	lines := []string{o.Title, "Status: " + smapStatusWord(o.Status)}
	for _, m := range o.Measures {
		lines = append(lines, fmt.Sprintf("• %s: %s", m.Name, smapStatusWord(m.Status)))
	}
	return strings.Join(lines, "\n")
}

// smapDrawStatus draws a status's icon and word with their middle at y, left at x.
func smapDrawStatus(b *bytes.Buffer, at smapPoint, st domain.Status) {
	smapDrawIcon(b, smapPoint{at.X + 6, at.Y}, st)
	fmt.Fprintf(b, `<text class="status" x="%s" y="%s" font-size="%s" font-weight="bold" `+
		`fill="#1a202c">%s</text>`, smapNum(at.X+18), smapNum(at.Y+4),
		smapNum(smapStatusFont), smapEscape(smapStatusLabel(st)))
}

// smapStatusLabel is a status's word as it fits beside its icon in a box; only
// a status unknown to the domain can be long enough to be cut.
func smapStatusLabel(st domain.Status) string {
	word, font := smapStatusWord(st), smapStatusFont*1.08
	if room := smapBoxW - 2*smapBoxPad - 18; smapTextWidth(word, font) > room {
		return smapEllipsize(word, font, room)
	}
	return word
}

// smapDrawIcon draws a status's shape, so that the status shows without colour.
func smapDrawIcon(b *bytes.Buffer, c smapPoint, st domain.Status) {
	s := smapStyleOf(st)
	x, y := smapNum(c.X), smapNum(c.Y)
	switch s.icon {
	case "circle":
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="5.5" fill="%s"/>`, x, y, s.stroke)
	case "triangle":
		fmt.Fprintf(b, `<path d="M%s,%s l6,11 h-12 z" fill="%s"/>`,
			x, smapNum(c.Y-6), s.stroke)
	case "square":
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="10" height="10" fill="%s"/>`,
			smapNum(c.X-5), smapNum(c.Y-5), s.stroke)
	case "dash":
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="12" height="3" fill="%s"/>`,
			smapNum(c.X-6), smapNum(c.Y-1.5), s.stroke)
	default:
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="4.5" fill="none" stroke="%s" `+
			`stroke-width="2"/>`, x, y, s.stroke)
	}
}

// smapDrawArrows draws each link on a white halo, so that crossing arrows
// stay apart.
func smapDrawArrows(b *bytes.Buffer, p smapPlan) {
	b.WriteString(`<g class="links" fill="none" stroke-linejoin="round">` + "\n")
	for _, a := range p.Arrows {
		d := smapPath(a.Points)
		title := p.Boxes[a.Cause].Objective.Title + " → " + p.Boxes[a.Effect].Objective.Title
		fmt.Fprintf(b, `<path d="%s" stroke="#ffffff" stroke-width="5"/>`, d)
		fmt.Fprintf(b, `<path class="link" d="%s" stroke="#2d3748" stroke-width="1.6" `+
			`marker-end="url(#smap-arrowhead)"><title>%s</title></path>`+"\n",
			d, smapEscape(title))
	}
	b.WriteString("</g>\n")
}

func smapPath(points []smapPoint) string {
	var d strings.Builder
	for i, pt := range points {
		if i > 0 {
			d.WriteString(" L")
		} else {
			d.WriteString("M")
		}
		d.WriteString(smapNum(pt.X) + "," + smapNum(pt.Y))
	}
	return d.String()
}

func smapDrawLegend(b *bytes.Buffer, p smapPlan) {
	b.WriteString(`<g class="legend">` + "\n")
	for _, it := range p.Legend {
		mid := smapPoint{it.At.X, it.At.Y + smapLegendLead/2}
		if it.Status != "" {
			smapDrawIcon(b, smapPoint{mid.X + 6, mid.Y}, it.Status)
			fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" fill="#1a202c">%s</text>`+"\n",
				smapNum(mid.X+18), smapNum(mid.Y+4), smapNum(smapLegendFont),
				smapEscape(it.Text))
			continue
		}
		fmt.Fprintf(b, `<path d="M%s,%s h28" stroke="#2d3748" stroke-width="1.6" `+
			`marker-end="url(#smap-arrowhead)"/>`, smapNum(mid.X), smapNum(mid.Y))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="%s" fill="#1a202c">%s</text>`+"\n",
			smapNum(mid.X+36), smapNum(mid.Y+4), smapNum(smapLegendFont), smapEscape(it.Text))
	}
	b.WriteString("</g>\n")
}

// smapEscape escapes text for XML character data and attribute values.
func smapEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// smapNum formats a coordinate to a tenth of a pixel, without trailing zeros.
func smapNum(x float64) string {
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
}
