package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// The workload of "backbone bench": a Collective Impact effort at work. It
// sets up partners, issues, objectives with their cause-and-effect links and
// measures, then runs a long stretch of use in which progress reports dominate,
// with targets, corrections, commitments and their fulfilment, and now and then
// a change to a strategy map. Each event is the envelope domain.Commands would
// append for the matching command: versions count up per aggregate, payloads
// pass the domain's rules, and a correction, target or fulfilment only refers to
// what exists. bench_test.go replays the workload through domain.Commands to
// keep it so.

// workloadConfig sizes a workload.
type workloadConfig struct {
	Events     int // events in all, set-up included
	Partners   int
	Issues     int
	Objectives int // per issue
	Measures   int
	Seed       uint64
}

// Shares of the events after set-up, in events per thousand.
const (
	shareReport     = 850
	shareTarget     = 70
	shareCorrection = 30
	shareCommitment = 30
	shareFulfilment = 15
	shareWithdrawal = 2
	shareRename     = 1
	shareBands      = 1
	shareLabels     = 1
)

// benchActor is the actor of every event: a trusted internal caller.
const benchActor = "token:bench"

// workload generates events; run it once per use, in one goroutine.
type workload struct {
	cfg   workloadConfig
	rng   *rand.Rand
	now   func() time.Time
	emit  func(domain.Event) error
	count map[string]int // events per type

	partners   []uuid.UUID
	issues     []*benchIssue
	objectives []*benchObjective
	measures   []*benchMeasure
	weights    []float64 // cumulative report weights of measures
	open       []*benchCommitment
	made       int // commitments made so far
	versions   map[uuid.UUID]uint64
	corrected  map[cellKey]float64 // current value of corrected cells
	targets    map[cellKey]float64 // target per measure and period index
	startYear  int
}

type benchIssue struct {
	id     uuid.UUID
	labels int // label sets so far
}

type benchObjective struct {
	id, issue   uuid.UUID
	perspective int // index in domain.Perspectives
	title       string
	renames     int
}

type benchMeasure struct {
	index     int
	id        uuid.UUID
	unit      string
	kind      domain.PeriodKind
	breakdown []string // disaggregations reported after each period's total
	owner     *uuid.UUID
	next      int // index of the period being reported
	cell      int // within it: 0 the total, i the breakdown[i-1]
	band      float64
}

type benchCommitment struct {
	id        uuid.UUID
	partner   uuid.UUID
	kind      domain.CommitmentKind
	pledge    *int64
	delivered int64
}

// cellKey names a measure's period (by index) and breakdown (0 the total).
type cellKey struct{ measure, period, cell int }

// newWorkload checks the sizes and places the reports in time, so that the
// series reach last year when the events run out: the domain takes actuals
// only for periods that have begun.
func newWorkload(cfg workloadConfig, now func() time.Time) (*workload, error) {
	switch {
	case cfg.Partners < 1 || cfg.Issues < 1 || cfg.Objectives < 4 || cfg.Measures < 1:
		return nil, fmt.Errorf("bench needs a partner, an issue, four objectives " +
			"per issue and a measure at least")
	case cfg.Events < 2*setupEvents(cfg):
		return nil, fmt.Errorf("%d events are too few: the set-up alone takes %d; "+
			"ask for at least %d", cfg.Events, setupEvents(cfg), 2*setupEvents(cfg))
	}
	w := &workload{
		cfg:       cfg,
		rng:       rand.New(rand.NewPCG(cfg.Seed, 0x6261636b626f6e65)),
		now:       now,
		count:     map[string]int{},
		versions:  map[uuid.UUID]uint64{},
		corrected: map[cellKey]float64{},
		targets:   map[cellKey]float64{},
	}
	w.planMeasures()

	reports := float64(cfg.Events-setupEvents(cfg)) * shareReport / 1000
	years := int(math.Ceil(reports / w.weights[len(w.weights)-1]))
	w.startYear = now().Year() - 1 - years
	if w.startYear <= 1900 {
		return nil, fmt.Errorf("%d events on %d measures reach back before 1900; "+
			"raise --measures", cfg.Events, cfg.Measures)
	}
	return w, nil
}

// setupEvents is how many events the set-up takes: partners, issues,
// objectives, links (every objective below the top band drives one above it)
// and measures.
func setupEvents(c workloadConfig) int {
	bands := len(domain.Perspectives)
	links := c.Issues * (c.Objectives - (c.Objectives+bands-1)/bands)
	return c.Partners + c.Issues + c.Issues*c.Objectives + links + c.Measures
}

// stableID names a workload's aggregate: the same seed gives the same IDs.
func (w *workload) stableID(kind string, n int) uuid.UUID {
	return domain.StableID(fmt.Sprintf("bench %d %s %d", w.cfg.Seed, kind, n))
}

// planMeasures decides each measure's unit, period kind and breakdowns, and
// weights it by how many values it takes a year.
func (w *workload) planMeasures() {
	var total float64
	for i := range w.cfg.Measures {
		m := &benchMeasure{index: i, id: w.stableID("measure", i)}
		m.kind = []domain.PeriodKind{domain.Year, domain.SchoolYear, domain.Quarter,
			domain.Month}[w.rng.IntN(4)]
		switch r := w.rng.IntN(10); {
		case r < 2:
			m.breakdown = raceBreakdown
		case r < 3:
			m.breakdown = districtBreakdown
		}
		w.measures = append(w.measures, m)
		total += float64(perYear(m.kind) * (1 + len(m.breakdown)))
		w.weights = append(w.weights, total)
	}
}

var raceBreakdown = []string{"race=Black", "race=White", "race=Hispanic", "race=Asian",
	"race=Native American", "race=Multiracial"}

var districtBreakdown = []string{"district=Tacoma", "district=Franklin Pierce",
	"district=Puyallup", "district=Bethel"}

func perYear(k domain.PeriodKind) int {
	switch k {
	case domain.Quarter:
		return 4
	case domain.Month:
		return 12
	}
	return 1
}

// period returns the i-th period of a measure's series, from startYear on.
func (w *workload) period(m *benchMeasure, i int) domain.Period {
	y, n := w.startYear+i/perYear(m.kind), i%perYear(m.kind)
	switch m.kind {
	case domain.Quarter:
		return domain.PeriodContaining(domain.Quarter, benchDate(y, 3*n+1))
	case domain.Month:
		return domain.PeriodContaining(domain.Month, benchDate(y, n+1))
	case domain.SchoolYear:
		return domain.PeriodContaining(domain.SchoolYear, benchDate(y, 9))
	}
	return domain.PeriodContaining(domain.Year, benchDate(y, 1))
}

func benchDate(year, month int) time.Time {
	return time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
}

// yearOf returns the year the i-th period of a measure falls in.
func (w *workload) yearOf(m *benchMeasure, i int) int {
	return w.startYear + i/perYear(m.kind)
}

// run generates the workload's events in order and hands each to emit; it
// stops at the first error emit returns.
func (w *workload) run(emit func(domain.Event) error) error {
	w.emit = emit
	if err := w.setUp(); err != nil {
		return err
	}
	for n := setupEvents(w.cfg); n < w.cfg.Events; n++ {
		if err := w.step(); err != nil {
			return err
		}
	}
	return nil
}

// event stamps an envelope as domain.Commands does: a new event ID, the next
// version of the aggregate, the command's ID as correlation and causation.
func (w *workload) event(aggregateType string, id uuid.UUID, partner *uuid.UUID,
	source string, p domain.Payload) error {
	w.versions[id]++
	command := uuid.Must(uuid.NewV7())
	now := w.now().UTC()
	w.count[p.EventType()]++
	return w.emit(domain.Event{
		ID:               uuid.Must(uuid.NewV7()),
		Type:             p.EventType(),
		SchemaVersion:    domain.CurrentSchemaVersion,
		AggregateType:    aggregateType,
		AggregateID:      id,
		AggregateVersion: w.versions[id],
		OccurredAt:       now,
		RecordedAt:       now,
		Actor:            benchActor,
		PartnerID:        partner,
		CorrelationID:    command,
		CausationID:      command,
		Source:           source,
		Payload:          p,
	})
}

// setUp registers the partners and lays out the issues' strategy maps.
func (w *workload) setUp() error {
	for i := range w.cfg.Partners {
		id := w.stableID("partner", i)
		kind := domain.PartnerKinds[i%len(domain.PartnerKinds)]
		p := domain.PartnerRegisteredV1{Name: fmt.Sprintf("Partner %03d", i+1), Kind: kind}
		if err := w.event(domain.PartnerAggregate, id, &id, "", p); err != nil {
			return err
		}
		w.partners = append(w.partners, id)
	}
	for i := range w.cfg.Issues {
		if err := w.launch(i); err != nil {
			return err
		}
	}
	for _, m := range w.measures {
		if err := w.define(m); err != nil {
			return err
		}
	}
	return nil
}

var issueTitles = []string{"Kindergarten readiness", "Early-grade reading",
	"Middle-grade math", "High-school graduation", "Postsecondary completion"}

// launch launches an issue, defines its objectives band by band and links
// each objective below the top band to one in the band above, so no link
// closes a cycle.
func (w *workload) launch(i int) error {
	is := &benchIssue{id: w.stableID("issue", i)}
	title := fmt.Sprintf("Issue %d", i+1)
	if i < len(issueTitles) {
		title = issueTitles[i]
	}
	p := domain.IssueLaunchedV1{Title: title, Description: "Shared agenda on " + title}
	if err := w.event(domain.IssueAggregate, is.id, nil, "", p); err != nil {
		return err
	}
	w.issues = append(w.issues, is)

	var mine []*benchObjective
	for j := range w.cfg.Objectives {
		o := &benchObjective{id: w.stableID("objective", len(w.objectives)), issue: is.id,
			perspective: j % len(domain.Perspectives),
			title:       fmt.Sprintf("%s: objective %d", title, j+1)}
		d := domain.ObjectiveDefinedV1{IssueID: is.id,
			Perspective: domain.Perspectives[o.perspective], Title: o.title}
		if err := w.event(domain.ObjectiveAggregate, o.id, nil, "", d); err != nil {
			return err
		}
		w.objectives, mine = append(w.objectives, o), append(mine, o)
	}
	for _, cause := range mine {
		if cause.perspective == 0 {
			continue
		}
		effect := mine[w.pickAbove(mine, cause.perspective)]
		l := domain.ObjectivesLinkedV1{CauseID: cause.id, EffectID: effect.id}
		if err := w.event(domain.IssueAggregate, is.id, nil, "", l); err != nil {
			return err
		}
	}
	return nil
}

// pickAbove returns the index of a random objective in the band above band.
func (w *workload) pickAbove(objectives []*benchObjective, band int) int {
	var above []int
	for i, o := range objectives {
		if o.perspective == band-1 {
			above = append(above, i)
		}
	}
	return above[w.rng.IntN(len(above))]
}

var measureNames = []string{"Children ready for kindergarten",
	"Third graders reading at grade level", "Eighth graders passing math",
	"On-time graduation", "Students enrolling after high school",
	"Young adults with a credential", "Families served", "Tutoring hours",
	"Chronic absence", "Young adults employed"}

// define defines a measure under an objective: a population indicator or a
// performance measure with its question, owned by a partner or not.
func (w *workload) define(m *benchMeasure) error {
	o := w.objectives[m.index%len(w.objectives)]
	d := domain.MeasureDefinedV1{
		ObjectiveID: o.id,
		IssueID:     o.issue,
		Name: fmt.Sprintf("%s %04d", measureNames[m.index%len(measureNames)],
			m.index+1),
		Polarity: domain.HigherIsBetter,
		Kind:     domain.PopulationIndicator,
		Unit:     []string{"%", "%", "per 1,000 residents", "count"}[w.rng.IntN(4)],
	}
	if w.rng.IntN(10) < 6 {
		d.Kind = domain.PerformanceMeasure
		d.Question = domain.Questions[w.rng.IntN(len(domain.Questions))]
		d.Unit = map[domain.Question]string{domain.HowMuch: "count", domain.HowWell: "%",
			domain.BetterOff: "%"}[d.Question]
	}
	if w.rng.IntN(8) == 0 {
		d.Polarity = domain.LowerIsBetter
	}
	if w.rng.IntN(10) < 6 {
		owner := w.partners[w.rng.IntN(len(w.partners))]
		m.owner, d.OwnerPartnerID = &owner, &owner
	}
	m.unit = d.Unit
	if w.rng.IntN(2) == 0 {
		period := domain.PeriodContaining(m.kind, benchDate(w.startYear-1, 9))
		value := w.reported(m, -1, 0)
		d.BaselinePeriod, d.BaselineValue = &period, &value
	}
	return w.event(domain.MeasureAggregate, m.id, d.OwnerPartnerID, "", d)
}

// step generates one event after the set-up, drawn by the shares; when the
// draw has nothing to act on yet (no open commitment, nothing to correct) it
// reports progress instead.
func (w *workload) step() error {
	r := w.rng.IntN(1000)
	for _, s := range []struct {
		share int
		gen   func() (bool, error)
	}{
		{shareTarget, w.setTarget},
		{shareCorrection, w.correct},
		{shareCommitment, w.commit},
		{shareFulfilment, w.fulfil},
		{shareWithdrawal, w.withdraw},
		{shareRename, w.rename},
		{shareBands, w.setBands},
		{shareLabels, w.setLabels},
	} {
		if r < s.share {
			if done, err := s.gen(); done || err != nil {
				return err
			}
			break
		}
		r -= s.share
	}
	return w.report()
}

// pickMeasure returns a measure at random, in proportion to how many values it
// takes a year, so every series moves through time at about the same pace.
func (w *workload) pickMeasure() *benchMeasure {
	x := w.rng.Float64() * w.weights[len(w.weights)-1]
	return w.measures[sort.SearchFloat64s(w.weights, x)%len(w.measures)]
}

// report reports the next value of a measure's series: each period's total,
// then its breakdowns, mostly by the measure's owner.
func (w *workload) report() error {
	m := w.pickMeasure()
	for tries := 0; w.period(m, m.next).Start().After(w.now()); tries++ {
		if tries == 100 {
			return fmt.Errorf("the measures' series reached today; raise --measures")
		}
		m = w.pickMeasure()
	}
	p := domain.ProgressReportedV1{
		Period: w.period(m, m.next),
		Value:  w.reported(m, m.next, m.cell),
	}
	if m.cell > 0 {
		p.Disaggregation = m.breakdown[m.cell-1]
	}
	switch r := w.rng.IntN(10); {
	case r < 7 && m.owner != nil:
		p.ReportingPartnerID = m.owner
	case r < 8:
		p.ReportingPartnerID = &w.partners[w.rng.IntN(len(w.partners))]
	}
	if w.rng.IntN(10) == 0 {
		p.Note = "Preliminary figure; the final one follows the audit."
	}
	source := ""
	if w.rng.IntN(10) < 3 {
		source = fmt.Sprintf("https://data.example.org/measures/%04d.csv#period=%s",
			m.index+1, p.Period)
	}

	if m.cell++; m.cell > len(m.breakdown) {
		m.next, m.cell = m.next+1, 0
	}
	return w.event(domain.MeasureAggregate, m.id, p.ReportingPartnerID, source, p)
}

// reported is the value first reported in a cell: a function of the cell, so
// a correction knows it without the workload keeping every value.
func (w *workload) reported(m *benchMeasure, period, cell int) float64 {
	h := uint64(m.index)<<40 ^ uint64(int64(period))<<8 ^ uint64(cell) ^ w.cfg.Seed<<56
	h = mix64(h)
	frac := float64(h>>11) / (1 << 53)
	switch m.unit {
	case "%":
		return math.Round(frac*1000) / 10
	case "count":
		return math.Round(frac * 5000)
	}
	return math.Round(frac*2000) / 10
}

// mix64 scrambles a number (SplitMix64's finaliser).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// correct replaces a value reported in one of a measure's recent periods.
func (w *workload) correct() (bool, error) {
	m := w.pickMeasure()
	if m.next == 0 {
		return false, nil
	}
	period := max(0, m.next-1-w.rng.IntN(4))
	cell := w.rng.IntN(1 + len(m.breakdown))
	key := cellKey{m.index, period, cell}
	old, ok := w.corrected[key]
	if !ok {
		old = w.reported(m, period, cell)
	}
	value := w.changed(m.unit, old)
	w.corrected[key] = value

	p := domain.ProgressCorrectedV1{Period: w.period(m, period), Value: value,
		Reason: "The partner re-ran its figures after a data-entry error."}
	if cell > 0 {
		p.Disaggregation = m.breakdown[cell-1]
	}
	return true, w.event(domain.MeasureAggregate, m.id, nil, "", p)
}

// changed returns a value near old but not equal to it, within the unit's range.
func (w *workload) changed(unit string, old float64) float64 {
	step := float64(1+w.rng.IntN(50)) / 10
	if unit == "count" {
		step = float64(1 + w.rng.IntN(50))
	}
	v := math.Round((old+step)*10) / 10
	if unit == "%" && v > 100 {
		v = math.Round((old-step)*10) / 10
	}
	return v
}

// setTarget sets a measure's target for its current period or one of the next
// few, replacing an earlier target with another value.
func (w *workload) setTarget() (bool, error) {
	m := w.pickMeasure()
	period := m.next + w.rng.IntN(4)
	if w.yearOf(m, period) > 2200 {
		return false, nil
	}
	key := cellKey{m.index, period, 0}
	value := w.reported(m, period, 0) + float64(w.rng.IntN(10))
	if m.unit == "%" {
		value = min(value, 100)
	}
	if old, ok := w.targets[key]; ok && old == value {
		value = w.changed(m.unit, old)
	}
	w.targets[key] = value
	p := domain.TargetSetV1{Period: w.period(m, period), Value: value}
	return true, w.event(domain.MeasureAggregate, m.id, nil, "", p)
}

// current returns the period of the given kind the reports have reached.
func (w *workload) current(kind domain.PeriodKind) domain.Period {
	m := w.measures[0]
	return domain.PeriodContaining(kind, benchDate(min(w.yearOf(m, m.next), 2200), 9))
}

// commit makes a commitment: funding, in kind or action, to an issue and
// sometimes one of its objectives, or pooled for the backbone itself.
func (w *workload) commit() (bool, error) {
	c := &benchCommitment{id: w.stableID("commitment", w.made),
		partner: w.partners[w.rng.IntN(len(w.partners))]}
	w.made++
	p := domain.CommitmentMadeV1{PartnerID: c.partner, Period: w.current(domain.Year)}
	switch r := w.rng.IntN(10); {
	case r < 5:
		c.kind = domain.FundingCommitment
	case r < 7:
		c.kind = domain.InKindCommitment
	default:
		c.kind = domain.ActionCommitment
	}
	p.Kind = c.kind
	p.Description = fmt.Sprintf("%s commitment %d", c.kind, w.made)
	if c.kind != domain.ActionCommitment && w.rng.IntN(10) > 0 {
		cents := int64(1+w.rng.IntN(500)) * 100_000
		c.pledge, p.AmountCents, p.Currency = &cents, &cents, "USD"
	}
	switch r := w.rng.IntN(20); {
	case r == 0 && c.kind != domain.ActionCommitment:
		p.Pooled = true
	case r < 8:
		o := w.objectives[w.rng.IntN(len(w.objectives))]
		p.IssueID, p.ObjectiveID = o.issue, &o.id
	default:
		p.IssueID = w.issues[w.rng.IntN(len(w.issues))].id
	}
	w.open = append(w.open, c)
	return true, w.event(domain.CommitmentAggregate, c.id, &c.partner, "", p)
}

// fulfil delivers part of an open commitment, or the rest of it.
func (w *workload) fulfil() (bool, error) {
	if len(w.open) == 0 {
		return false, nil
	}
	i := w.rng.IntN(len(w.open))
	c := w.open[i]
	var amount *int64
	complete := w.rng.IntN(3) == 0
	switch {
	case c.kind == domain.ActionCommitment:
	case c.pledge != nil && *c.pledge == c.delivered:
		complete = true
	case c.pledge != nil:
		a := min(*c.pledge-c.delivered, max(1, *c.pledge/4))
		amount, complete = &a, a == *c.pledge-c.delivered
	case !complete || w.rng.IntN(2) == 0:
		a := int64(1+w.rng.IntN(50)) * 100_000
		amount = &a
	}
	if amount != nil {
		c.delivered += *amount
	}
	note := "Delivered as agreed."
	if complete {
		w.open = slices.Delete(w.open, i, i+1)
		p := domain.CommitmentFulfilledV1{AmountCents: amount, Note: note,
			Period: w.current(domain.Year)}
		return true, w.event(domain.CommitmentAggregate, c.id, &c.partner, "", p)
	}
	p := domain.CommitmentPartlyFulfilledV1{AmountCents: amount, Note: note}
	return true, w.event(domain.CommitmentAggregate, c.id, &c.partner, "", p)
}

// withdraw takes back an open commitment.
func (w *workload) withdraw() (bool, error) {
	if len(w.open) == 0 {
		return false, nil
	}
	i := w.rng.IntN(len(w.open))
	c := w.open[i]
	w.open = slices.Delete(w.open, i, i+1)
	p := domain.CommitmentWithdrawnV1{Reason: "The partner's budget was cut."}
	return true, w.event(domain.CommitmentAggregate, c.id, &c.partner, "", p)
}

// rename gives an objective a new title.
func (w *workload) rename() (bool, error) {
	o := w.objectives[w.rng.IntN(len(w.objectives))]
	o.renames++
	p := domain.ObjectiveRenamedV1{Title: fmt.Sprintf("%s (revision %d)", o.title, o.renames)}
	return true, w.event(domain.ObjectiveAggregate, o.id, nil, "", p)
}

// setBands gives a measure an at-risk band other than the one it has.
func (w *workload) setBands() (bool, error) {
	m := w.measures[w.rng.IntN(len(w.measures))]
	band := float64(5 * (1 + w.rng.IntN(6)))
	if band == m.band {
		band += 5
	}
	m.band = band
	p := domain.StatusBandsSetV1{AtRiskPercent: band}
	return true, w.event(domain.MeasureAggregate, m.id, nil, "", p)
}

// setLabels renames an issue's top band, each time differently.
func (w *workload) setLabels() (bool, error) {
	is := w.issues[w.rng.IntN(len(w.issues))]
	is.labels++
	p := domain.PerspectiveLabelsSetV1{Labels: map[domain.Perspective]string{
		domain.Results:   fmt.Sprintf("Community results (%d)", is.labels),
		domain.Resources: "Capacity and funding",
	}}
	return true, w.event(domain.IssueAggregate, is.id, nil, "", p)
}
