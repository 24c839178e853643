package charts

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/backbone-ci/backbone/domain"
	"github.com/google/uuid"
)

// smapID gives test objectives stable IDs, so that pictures are comparable.
func smapID(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(name))
}

// smapTacoma is Graduate Tacoma's cradle-to-career map as examples/tacoma has it,
// with results read as the statuses vary: 16 objectives and 9 links. With
// nineResults, the backbone's convening (O15) sits among the results, giving
// 9 results, 6 processes and 1 resource.
func smapTacoma(nineResults bool) domain.StrategyMap {
	objectives := []struct{ id, perspective, title string }{
		{"O01", "results", "Children enter kindergarten ready (early learning)"},
		{"O02", "results", "Students read proficiently by third grade (elementary)"},
		{"O03", "results", "Eighth graders succeed in math (algebra/geometry) (middle school)"},
		{"O04", "results", "Students graduate from high school"},
		{"O05", "results", "Graduates enroll in college (two- or four-year)"},
		{"O06", "results", "Students complete a college degree or technical certificate"},
		{"O07", "results", "Students earn a degree, certificate or good-wage employment " +
			"within six years of high school (2030 goal)"},
		{"O16", "results", "Students perform at or above grade level " +
			"(TPS strategic plan Goal 1: Academic Excellence)"},
		{"O08", "processes", "Early Learning & Reading Network (Collaborative Action " +
			"Network) focused on third-grade reading proficiency"},
		{"O09", "processes", "Out of School & Summer Learning Network: increase " +
			"equitable access to out-of-school and summer learning"},
		{"O10", "processes", "Tacoma College Support Network: college access supports " +
			"for high school students"},
		{"O11", "processes", "Tacoma Completes: community-wide system of supports for " +
			"college persistence and completion"},
		{"O12", "processes", "Graduate Tacoma Advocacy Network: state policy advocacy " +
			"(early learning, K-12 budgets, College Bound Scholarship opt-in, " +
			"youth-program funding)"},
		{"O13", "processes", "Tacoma STEAM Learning Network"},
		{"O15", "processes", "Backbone convening of partners across sectors " +
			"(Collaborative Action Networks)"},
		{"O14", "resources", "Align funding and resources to shared goals (aligned " +
			"funding; Community Learning Fund subgrants)"},
	}
	statuses := []domain.Status{domain.OnTrack, domain.AtRisk, domain.OffTrack,
		domain.NoTarget, domain.NoData}

	m := domain.StrategyMap{Issue: domain.IssueSummary{ID: smapID("I01"),
		Title: "Cradle-to-career success for Tacoma students (Class of 2020 goal)"}}
	bands := map[domain.Perspective]*domain.MapBand{}
	for _, p := range domain.Perspectives {
		m.Bands = append(m.Bands, domain.MapBand{Perspective: p,
			Label: smapBandLabel(domain.MapBand{Perspective: p})})
	}
	for i := range m.Bands {
		bands[m.Bands[i].Perspective] = &m.Bands[i]
	}
	for i, o := range objectives {
		p := domain.Perspective(o.perspective)
		if nineResults && o.id == "O15" {
			p = domain.Results
		}
		b := bands[p]
		b.Objectives = append(b.Objectives, domain.MapObjective{ID: smapID(o.id),
			Title: o.title, Status: statuses[i%len(statuses)],
			Measures: []domain.MapMeasure{{ID: smapID(o.id + "M"), Name: "Rate",
				Status: statuses[i%len(statuses)]}}})
	}
	for _, l := range [][2]string{{"O01", "O02"}, {"O02", "O03"}, {"O03", "O04"},
		{"O04", "O05"}, {"O05", "O06"}, {"O08", "O02"}, {"O09", "O02"},
		{"O10", "O05"}, {"O11", "O06"}} {
		m.Links = append(m.Links, domain.MapLink{CauseID: smapID(l[0]), EffectID: smapID(l[1])})
	}
	return m
}

// smapGenerated is a map of the size a strategy map should not outgrow: 25
// objectives in 4 bands with 30 links, most from a lower band to a higher one.
func smapGenerated() domain.StrategyMap {
	words := strings.Fields("improve increase reading math attendance families " +
		"partners data shared funding youth mentoring college career readiness " +
		"health early learning community summer network literacy completion")
	r := rand.New(rand.NewPCG(3, 25))
	var m domain.StrategyMap
	var ids [][]uuid.UUID
	for b, n := range []int{7, 6, 7, 5} {
		band := domain.MapBand{Perspective: domain.Perspectives[b]}
		var bandIDs []uuid.UUID
		for k := range n {
			var title []string
			for range 2 + r.IntN(12) {
				title = append(title, words[r.IntN(len(words))])
			}
			id := smapID(fmt.Sprintf("G%d-%d", b, k))
			band.Objectives = append(band.Objectives, domain.MapObjective{ID: id,
				Title: strings.Join(title, " "), Status: smapStatuses[r.IntN(len(smapStatuses))]})
			bandIDs = append(bandIDs, id)
		}
		m.Bands = append(m.Bands, band)
		ids = append(ids, bandIDs)
	}

	seen := map[domain.MapLink]bool{}
	for len(m.Links) < 30 {
		from := 1 + r.IntN(3)
		to := from - 1 - r.IntN(from)
		if r.IntN(6) == 0 {
			to = from
		}
		l := domain.MapLink{CauseID: ids[from][r.IntN(len(ids[from]))],
			EffectID: ids[to][r.IntN(len(ids[to]))]}
		if l.CauseID != l.EffectID && !seen[l] {
			seen[l] = true
			m.Links = append(m.Links, l)
		}
	}
	return m
}

// smapNode is an XML element read back from a picture.
type smapNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []smapNode `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n smapNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all lists n and its descendants that match, in document order.
func (n smapNode) all(match func(smapNode) bool) []smapNode {
	var found []smapNode
	if match(n) {
		found = append(found, n)
	}
	for _, c := range n.Nodes {
		found = append(found, c.all(match)...)
	}
	return found
}

func smapClass(class string) func(smapNode) bool {
	return func(n smapNode) bool { return n.attr("class") == class }
}

func smapElement(name string) func(smapNode) bool {
	return func(n smapNode) bool { return n.XMLName.Local == name }
}

// smapParse reads every token of an SVG document, failing on any error, and
// returns its root element.
func smapParse(t *testing.T, svg []byte) smapNode {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	for range len(svg) + 1 { // a token takes at least one byte
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("picture is not well-formed XML: %v\n%s", err, svg)
		}
	}
	var root smapNode
	if err := xml.Unmarshal(svg, &root); err != nil {
		t.Fatalf("unmarshal picture: %v", err)
	}
	return root
}

func smapObjectiveCount(m domain.StrategyMap) int {
	n := 0
	for _, b := range m.Bands {
		n += len(b.Objectives)
	}
	return n
}

// smapMaps are the maps every property below must hold for.
func smapMaps() map[string]domain.StrategyMap {
	tricky := domain.StrategyMap{Bands: []domain.MapBand{
		{Perspective: domain.Results, Label: `Results & "impact" <mission>`,
			Objectives: []domain.MapObjective{
				{ID: smapID("a"), Title: `Fish & chips <for> "all" 'kids'`,
					Status: domain.OnTrack},
				{ID: smapID("b"), Title: "Pneumonoultramicroscopicsilicovolcanoconiosis-free " +
					"neighbourhoods everywhere", Status: domain.Status("paused_for_review")},
				{ID: smapID("e"), Title: "Unknown status", Status: domain.Status(
					"waiting_for_the_steering_committee_to_decide_on_targets")},
			}},
		{Perspective: domain.Processes, Objectives: []domain.MapObjective{
			{ID: smapID("c"), Title: "A < B && C > D", Status: domain.OffTrack},
			{ID: smapID("d"), Title: "Line\nbreak and\ttab", Status: ""},
		}},
	}, Links: []domain.MapLink{{CauseID: smapID("c"), EffectID: smapID("a")},
		{CauseID: smapID("d"), EffectID: smapID("b")},
		{CauseID: smapID("a"), EffectID: smapID("b")}}}

	oneBandEmpty := smapTacoma(false)
	oneBandEmpty.Bands = oneBandEmpty.Bands[:3]

	return map[string]domain.StrategyMap{
		"Tacoma as imported":         smapTacoma(false),
		"Tacoma with nine results":   smapTacoma(true),
		"25 objectives and 30 links": smapGenerated(),
		"titles that need escaping":  tricky,
		"no bands at all":            {},
		"a band with no objectives":  oneBandEmpty,
		"one objective": {Bands: []domain.MapBand{{Perspective: domain.Resources,
			Objectives: []domain.MapObjective{{ID: smapID("x"), Title: "Alone"}}}}},
		"links within one band and upwards": smapChainsMap(),
	}
}

// smapLayouts lays every map of smapMaps out at several widths, from one that
// makes bands wrap onto many rows to the default.
func smapLayouts() map[string]smapPlan {
	plans := map[string]smapPlan{}
	for name, m := range smapMaps() {
		for _, width := range []int{0, 1200, 800, 500} {
			o := StrategyMapOptions{MaxWidth: width}
			plans[fmt.Sprintf("%s at width %d", name, width)] = smapLayout(m, o)
		}
	}
	return plans
}

// smapChainsMap links objectives within one band, both ways and far apart.
func smapChainsMap() domain.StrategyMap {
	var m domain.StrategyMap
	for b, n := range []int{6, 3} {
		band := domain.MapBand{Perspective: domain.Perspectives[b*3]}
		for k := range n {
			band.Objectives = append(band.Objectives, domain.MapObjective{
				ID:    smapID(fmt.Sprintf("%d%d", b, k)),
				Title: fmt.Sprintf("Objective %d.%d", b, k)})
		}
		m.Bands = append(m.Bands, band)
	}
	for _, l := range [][2]string{{"00", "05"}, {"05", "00"}, {"01", "02"}, {"02", "01"},
		{"03", "01"}, {"10", "05"}, {"10", "00"}, {"11", "12"}, {"12", "03"}, {"04", "10"}} {
		m.Links = append(m.Links, domain.MapLink{CauseID: smapID(l[0]), EffectID: smapID(l[1])})
	}
	return m
}

func TestStrategyMapDrawsEveryObjectiveWithItsTitleAndStatusInWords(t *testing.T) {
	t.Parallel()
	for name, m := range smapMaps() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := smapParse(t, StrategyMap(m))
			groups := root.all(smapClass("objective"))
			if got, want := len(groups), smapObjectiveCount(m); got != want {
				t.Fatalf("objectives drawn: got %d, want %d", got, want)
			}

			var i int
			for _, o := range smapNewGraph(m).objs {
				g := groups[i]
				i++
				titles := g.all(smapElement("title"))
				if len(titles) == 0 || !strings.HasPrefix(titles[0].Text, o.Title+"\n") {
					t.Errorf("objective %q: tooltip does not start with its title", o.Title)
				}
				shown, want := smapShownTitle(g), smapLetters(o.Title)
				if !strings.HasSuffix(shown, "…") && smapLetters(shown) != want {
					t.Errorf("title shown: got %q, want %q", shown, want)
				}
				status := g.all(smapClass("status"))
				if len(status) != 1 || status[0].Text != smapStatusLabel(o.Status) {
					t.Errorf("objective %q: status words %v, want %q", o.Title, status,
						smapStatusLabel(o.Status))
				}
			}
		})
	}
}

// smapShownTitle joins the lines of an objective's box.
func smapShownTitle(g smapNode) string {
	var lines []string
	for _, ts := range g.all(smapElement("tspan")) {
		lines = append(lines, ts.Text)
	}
	return strings.Join(lines, " ")
}

// smapLetters is text without the spaces and hyphens wrapping adds or takes.
func smapLetters(text string) string {
	return strings.NewReplacer(" ", "", "\n", "", "\t", "", "-", "").Replace(text)
}

func TestStrategyMapDrawsOneArrowPerDrawableLink(t *testing.T) {
	t.Parallel()
	m := smapTacoma(false)
	extra := []domain.MapLink{
		{CauseID: smapID("O01"), EffectID: smapID("O02")},     // repeated
		{CauseID: smapID("O03"), EffectID: smapID("O03")},     // to itself
		{CauseID: smapID("nowhere"), EffectID: smapID("O02")}, // not on the map
	}
	tests := []struct {
		name  string
		links []domain.MapLink
		want  int
	}{
		{"every link of the Tacoma map", m.Links, 9},
		{"repeated, circular and dangling links left out", append(m.Links, extra...), 9},
		{"no links", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := m
			m.Links = tt.links
			root := smapParse(t, StrategyMap(m))
			if got := len(root.all(smapClass("link"))); got != tt.want {
				t.Errorf("arrows: got %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("generated map", func(t *testing.T) {
		t.Parallel()
		root := smapParse(t, StrategyMap(smapGenerated()))
		if got, want := len(root.all(smapClass("link"))), 30; got != want {
			t.Errorf("arrows: got %d, want %d", got, want)
		}
	})
}

func TestStrategyMapBoxesDoNotOverlap(t *testing.T) {
	t.Parallel()
	for name, p := range smapLayouts() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for i, a := range p.Boxes {
				for _, b := range p.Boxes[i+1:] {
					if smapOverlap(a.Rect, b.Rect, -smapMinGap/2) {
						t.Errorf("boxes %q and %q are closer than half a gap: %v %v",
							a.Objective.Title, b.Objective.Title, a.Rect, b.Rect)
					}
				}
			}
		})
	}
}

// smapOverlap reports whether a and b, each grown by grow on every side,
// share more than a border.
func smapOverlap(a, b smapRect, grow float64) bool {
	return a.X-grow < b.X+b.W+grow && b.X-grow < a.X+a.W+grow &&
		a.Y-grow < b.Y+b.H+grow && b.Y-grow < a.Y+a.H+grow
}

func TestStrategyMapArrowsRunBetweenBoxes(t *testing.T) {
	t.Parallel()
	for name, p := range smapLayouts() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, a := range p.Arrows {
				smapCheckArrow(t, p, a)
			}
			smapCheckNoSharedRuns(t, p)
		})
	}
}

// smapCheckArrow checks that an arrow runs from its cause's border to its
// effect's border in horizontal and vertical segments that enter no box.
func smapCheckArrow(t *testing.T, p smapPlan, a smapArrow) {
	t.Helper()
	name := p.Boxes[a.Cause].Objective.Title + " → " + p.Boxes[a.Effect].Objective.Title
	pts := a.Points
	if len(pts) < 2 {
		t.Fatalf("%s: got %d points, want 2 or more", name, len(pts))
	}
	if !smapOnBorder(p.Boxes[a.Cause].Rect, pts[0]) {
		t.Errorf("%s: starts at %v, not on the cause's border %v", name, pts[0],
			p.Boxes[a.Cause].Rect)
	}
	if !smapOnBorder(p.Boxes[a.Effect].Rect, pts[len(pts)-1]) {
		t.Errorf("%s: ends at %v, not on the effect's border %v", name, pts[len(pts)-1],
			p.Boxes[a.Effect].Rect)
	}
	for i := 1; i < len(pts); i++ {
		seg := smapSegmentRect(pts[i-1], pts[i])
		if seg.W > 0.01 && seg.H > 0.01 {
			t.Errorf("%s: segment %v–%v is diagonal", name, pts[i-1], pts[i])
		}
		for _, b := range p.Boxes {
			if smapOverlap(seg, b.Rect, -0.5) {
				t.Errorf("%s: segment %v–%v passes through box %q %v", name,
					pts[i-1], pts[i], b.Objective.Title, b.Rect)
			}
		}
	}
	last := smapSegmentRect(pts[len(pts)-2], pts[len(pts)-1])
	if got := last.W + last.H; got < 10 {
		t.Errorf("%s: last segment is %.1f px long, too short to show its head", name, got)
	}
}

func smapSegmentRect(a, b smapPoint) smapRect {
	return smapRect{min(a.X, b.X), min(a.Y, b.Y), math.Abs(a.X - b.X), math.Abs(a.Y - b.Y)}
}

func smapOnBorder(r smapRect, pt smapPoint) bool {
	const e = 0.01
	inX := pt.X >= r.X-e && pt.X <= r.X+r.W+e
	inY := pt.Y >= r.Y-e && pt.Y <= r.Y+r.H+e
	onX := math.Abs(pt.X-r.X) < e || math.Abs(pt.X-r.X-r.W) < e
	onY := math.Abs(pt.Y-r.Y) < e || math.Abs(pt.Y-r.Y-r.H) < e
	return (inX && onY) || (inY && onX)
}

// smapCheckNoSharedRuns checks that no two arrows run along the same line for
// a stretch, where a reader could not tell them apart.
func smapCheckNoSharedRuns(t *testing.T, p smapPlan) {
	t.Helper()
	type run struct {
		arrow int
		seg   smapRect
	}
	var runs []run
	for i, a := range p.Arrows {
		for k := 1; k < len(a.Points); k++ {
			runs = append(runs, run{i, smapSegmentRect(a.Points[k-1], a.Points[k])})
		}
	}
	for i, r := range runs {
		for _, q := range runs[i+1:] {
			if r.arrow == q.arrow {
				continue
			}
			horizontal := r.seg.H == 0 && q.seg.H == 0 && math.Abs(r.seg.Y-q.seg.Y) < 1 &&
				math.Min(r.seg.X+r.seg.W, q.seg.X+q.seg.W)-math.Max(r.seg.X, q.seg.X) > 0
			vertical := r.seg.W == 0 && q.seg.W == 0 && math.Abs(r.seg.X-q.seg.X) < 1 &&
				math.Min(r.seg.Y+r.seg.H, q.seg.Y+q.seg.H)-math.Max(r.seg.Y, q.seg.Y) > 0
			if horizontal || vertical {
				t.Errorf("arrows %d and %d share a run: %v and %v", r.arrow, q.arrow,
					r.seg, q.seg)
			}
		}
	}
}

func TestStrategyMapTextStaysInsideItsBox(t *testing.T) {
	t.Parallel()
	for name, p := range smapLayouts() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, b := range p.Boxes {
				if got, max := len(b.Lines), smapMaxLines; got < 1 || got > max {
					t.Errorf("%q: %d lines, want 1 to %d", b.Objective.Title, got, max)
				}
				for _, line := range b.Lines {
					if w := smapTextWidth(line, smapTitleFont); w > b.Rect.W-2*smapBoxPad {
						t.Errorf("%q: line %q is %.0f px wide, the box has room for %.0f",
							b.Objective.Title, line, w, b.Rect.W-2*smapBoxPad)
					}
				}
				if need := smapBoxH(len(b.Lines)); need > b.Rect.H {
					t.Errorf("%q: needs %.0f px of height, has %.0f", b.Objective.Title,
						need, b.Rect.H)
				}
				word := smapStatusLabel(b.Objective.Status)
				if w := 18 + smapTextWidth(word, smapStatusFont*1.08); w > b.Rect.W-2*smapBoxPad {
					t.Errorf("%q: status %q does not fit", b.Objective.Title, word)
				}
			}
		})
	}
}

func TestStrategyMapStaysLegibleAt25Objectives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		options  StrategyMapOptions
		maxWidth float64
	}{
		{"default width", StrategyMapOptions{}, smapDefaultMaxWidth},
		{"common page", StrategyMapOptions{MaxWidth: 1200}, 1200},
		{"narrow page", StrategyMapOptions{MaxWidth: 800}, 800},
		{"wide screen", StrategyMapOptions{MaxWidth: 2400}, 2400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := smapGenerated()
			svg := StrategyMapWith(m, tt.options)
			root := smapParse(t, svg)
			smapKeep(t, fmt.Sprintf("strategymap-25-%d.svg", int(tt.maxWidth)), svg)

			width, _ := strconv.ParseFloat(root.attr("width"), 64)
			height, _ := strconv.ParseFloat(root.attr("height"), 64)
			if width > tt.maxWidth || width < smapMinWidth {
				t.Errorf("width: got %.0f, want %.0f to %.0f", width, smapMinWidth, tt.maxWidth)
			}
			if height > 4000 {
				t.Errorf("height: got %.0f, want at most 4000", height)
			}
			if got, want := root.attr("viewBox"), fmt.Sprintf("0 0 %s %s",
				root.attr("width"), root.attr("height")); got != want {
				t.Errorf("viewBox: got %q, want %q", got, want)
			}

			sized := root.all(func(n smapNode) bool { return n.attr("font-size") != "" })
			for _, n := range sized {
				size, err := strconv.ParseFloat(n.attr("font-size"), 64)
				if err != nil || size < smapMinFont {
					t.Errorf("font size %q, want at least %v", n.attr("font-size"), smapMinFont)
				}
			}
			for _, b := range smapLayout(m, tt.options).Boxes {
				if b.Rect.W < smapBoxW {
					t.Errorf("box %q is %.0f px wide, want %v", b.Objective.Title, b.Rect.W,
						smapBoxW)
				}
			}
		})
	}
}

func TestStrategyMapPutsBandsInPerspectiveOrder(t *testing.T) {
	t.Parallel()
	m := smapTacoma(false)
	reversed := m
	reversed.Bands = nil
	for i := len(m.Bands) - 1; i >= 0; i-- {
		reversed.Bands = append(reversed.Bands, m.Bands[i])
	}

	p := smapLayout(reversed, StrategyMapOptions{})
	wantLabels := []string{"Results", "Stakeholders", "Processes", "Resources"}
	for i, band := range p.Bands {
		if got := strings.Join(band.Label, " "); got != wantLabels[i] {
			t.Errorf("band %d: got %q, want %q", i, got, wantLabels[i])
		}
		if i > 0 && band.Rect.Y < p.Bands[i-1].Rect.Y+p.Bands[i-1].Rect.H-0.01 {
			t.Errorf("band %q starts above the end of the band before it", wantLabels[i])
		}
	}
	for _, b := range p.Boxes {
		band := p.Bands[smapRank(smapPerspectiveOf(m, b.Objective.ID))]
		if !smapOverlap(b.Rect, band.Rect, 0) || b.Rect.Y < band.Rect.Y ||
			b.Rect.Y+b.Rect.H > band.Rect.Y+band.Rect.H {
			t.Errorf("box %q lies outside its band %v", b.Objective.Title, band.Rect)
		}
	}
	if !bytes.Equal(StrategyMap(m), StrategyMap(reversed)) {
		t.Error("the same map with its bands in another order draws differently")
	}
}

func smapPerspectiveOf(m domain.StrategyMap, id uuid.UUID) domain.Perspective {
	for _, b := range m.Bands {
		for _, o := range b.Objectives {
			if o.ID == id {
				return b.Perspective
			}
		}
	}
	return ""
}

func TestStrategyMapIsDeterministic(t *testing.T) {
	t.Parallel()
	for name, m := range smapMaps() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first := StrategyMap(m)
			for range 5 {
				if !bytes.Equal(StrategyMap(m), first) {
					t.Fatal("drawing the same map twice gave different pictures")
				}
			}
		})
	}
}

func TestStrategyMapLinksEachObjectiveToItsPage(t *testing.T) {
	t.Parallel()
	m := smapTacoma(false)
	root := smapParse(t, StrategyMapWith(m, StrategyMapOptions{
		ObjectiveHref: "/issues/{issue}/objectives/{objective}?from=map&view=full"}))
	links := root.all(smapElement("a"))
	if got, want := len(links), smapObjectiveCount(m); got != want {
		t.Fatalf("links: got %d, want %d", got, want)
	}
	want := "/issues/" + smapID("I01").String() + "/objectives/" + smapID("O01").String() +
		"?from=map&view=full"
	if got := links[0].attr("href"); got != want {
		t.Errorf("href: got %q, want %q", got, want)
	}

	if got := len(smapParse(t, StrategyMap(m)).all(smapElement("a"))); got != 0 {
		t.Errorf("links without a template: got %d, want 0", got)
	}
}

func TestStrategyMapShowsEmptyBandsAndEmptyMaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		m          domain.StrategyMap
		wantBands  int
		wantEmpty  int
		wantLegend int
	}{
		{"no bands draws the four perspectives", domain.StrategyMap{}, 4, 4, 6},
		{"a band without objectives says so", domain.StrategyMap{Bands: []domain.MapBand{
			{Perspective: domain.Results, Objectives: []domain.MapObjective{{ID: smapID("r"),
				Title: "Ready"}}},
			{Perspective: domain.Resources, Label: "Capacity"},
		}}, 2, 1, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svg := StrategyMap(tt.m)
			root := smapParse(t, svg)
			bands := root.all(smapClass("bands"))[0]
			if got := len(bands.all(smapElement("rect"))); got != 2*tt.wantBands {
				t.Errorf("band rectangles: got %d, want %d", got, 2*tt.wantBands)
			}
			if got := bytes.Count(svg, []byte("No objectives yet")); got != tt.wantEmpty {
				t.Errorf("empty bands marked: got %d, want %d", got, tt.wantEmpty)
			}
			legend := root.all(smapClass("legend"))[0]
			if got := len(legend.all(smapElement("text"))); got != tt.wantLegend {
				t.Errorf("legend entries: got %d, want %d", got, tt.wantLegend)
			}
		})
	}
}

func TestStrategyMapLaysTacomaOut(t *testing.T) {
	t.Parallel()
	for _, nine := range []bool{false, true} {
		t.Run(fmt.Sprintf("nine results %v", nine), func(t *testing.T) {
			t.Parallel()
			m := smapTacoma(nine)
			p := smapLayout(m, StrategyMapOptions{})
			if got, want := len(p.Boxes), 16; got != want {
				t.Fatalf("boxes: got %d, want %d", got, want)
			}
			if p.Width > smapDefaultMaxWidth || p.Height > 1600 {
				t.Errorf("size: got %.0f × %.0f, want at most %d × 1600", p.Width, p.Height,
					smapDefaultMaxWidth)
			}

			// The cradle-to-career chain reads left to right, row by row,
			at := map[uuid.UUID]smapRect{}
			for _, b := range p.Boxes {
				at[b.Objective.ID] = b.Rect
			}
			chain := []string{"O01", "O02", "O03", "O04", "O05", "O06"}
			for i := 1; i < len(chain); i++ {
				a, b := at[smapID(chain[i-1])], at[smapID(chain[i])]
				if b.Y < a.Y || (b.Y == a.Y && b.X <= a.X) {
					t.Errorf("%s is not after %s: %v, %v", chain[i], chain[i-1], a, b)
				}
			}

			// and its links run straight from box to box.
			for _, a := range p.Arrows[:len(chain)-1] {
				if len(a.Points) != 2 || a.Points[0].Y != a.Points[1].Y {
					t.Errorf("%s → %s: got route %v, want one horizontal segment",
						p.Boxes[a.Cause].Objective.Title, p.Boxes[a.Effect].Objective.Title,
						a.Points)
				}
			}

			smapKeep(t, map[bool]string{true: "strategymap.svg",
				false: "strategymap-imported.svg"}[nine], StrategyMap(m))
		})
	}
}

// smapKeep writes a picture into the folder BACKBONE_ARTIFACTS names, if any,
// for a person to look at.
func smapKeep(t *testing.T, name string, svg []byte) {
	t.Helper()
	dir := os.Getenv("BACKBONE_ARTIFACTS")
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), svg, 0o644); err != nil {
		t.Fatalf("keep picture: %v", err)
	}
}

func TestSmapStatusLabelNamesStatusesInWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status domain.Status
		want   string
	}{
		{domain.OnTrack, "On track"},
		{domain.AtRisk, "At risk"},
		{domain.OffTrack, "Off track"},
		{domain.NoTarget, "No target"},
		{domain.NoData, "No data"},
		{"", "No data"},
		{"paused", "Paused"},
		{"waiting_for_the_steering_committee", "Waiting for the…"},
	}
	for _, tt := range tests {
		if got := smapStatusLabel(tt.status); got != tt.want {
			t.Errorf("status %q: got %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestSmapWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		maxLines int
		want     []string
	}{
		{"short text stays on one line", "ab cd", 3, []string{"ab cd"}},
		{"blank text has no lines", " \t\n", 3, nil},
		{"whitespace collapses", "a \n\t b", 3, []string{"a b"}},
		{"words wrap at the width", "aaaa bbbb cccc", 3, []string{"aaaa", "bbbb", "cccc"}},
		{"a long word breaks with hyphens", "abcdefghijkl", 5,
			[]string{"abcde-", "fghijkl"}},
		{"cut text ends in an ellipsis after a whole word", "ab cd ef gh ij kl", 2,
			[]string{"ab cd", "ef…"}},
		{"a cut word ends in an ellipsis", "aaaa bbbb cccc dddd", 2, []string{"aaaa", "bbb…"}},
	}
	width := smapTextWidth("abcde-", 10)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := smapWrap(tt.text, 10, width, tt.maxLines)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
