package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/charts"
	"github.com/backbone-ci/backbone/domain"
)

// homeData is the home page: for a partner editor, its partner's measures with
// what is due, its commitments and recent activity in its issues; for
// everyone, the issues.
type homeData struct {
	Partner     string
	Measures    []myMeasure
	Commitments []domain.CommitmentView
	Activity    []domain.Activity
	// FundingReady and ActivityReady say whether those read models exist yet.
	FundingReady, ActivityReady bool
	Issues                      []domain.IssueSummary
}

// myMeasure is a measure the editor's partner owns or reports, with the
// current period and whether it was reported yet.
type myMeasure struct {
	domain.MeasureView
	Due      string
	Reported bool
}

func (h *Handler) home(r *request) error {
	ctx := r.Request().Context()
	issues, err := h.cfg.Reads.Issues(ctx)
	if err != nil {
		return err
	}
	d := homeData{Issues: issues, FundingReady: h.cfg.Funding != nil,
		ActivityReady: h.cfg.Activity != nil}
	partner := r.sess.User.PartnerID
	if partner == nil {
		return h.render(r, http.StatusOK, "home", "Home", d)
	}
	card, err := h.cfg.Reads.PartnerScorecard(ctx, *partner)
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound: // the partner is not projected yet
		d.Partner = h.partnerName(r, *partner)
	case err != nil:
		return err
	default:
		d.Partner = card.Partner.Name
	}
	var mine []uuid.UUID // the issues the partner works in
	for _, m := range card.Measures {
		due := h.periods(m)[0]
		d.Measures = append(d.Measures, myMeasure{MeasureView: m, Due: due,
			Reported: reported(m, due)})
		if !slices.Contains(mine, m.IssueID) {
			mine = append(mine, m.IssueID)
		}
	}
	// TODO: the funding report leaves out action commitments, so the home
	// page lists only the partner's funding and in-kind commitments.
	if h.cfg.Funding != nil {
		report, err := h.cfg.Funding.Funding(ctx, domain.FundingFilter{PartnerID: partner})
		if err != nil {
			return err
		}
		d.Commitments = report.Commitments
	}
	if d.Activity, err = h.recentActivity(ctx, mine, 10); err != nil {
		return err
	}
	return h.render(r, http.StatusOK, "home", "Home", d)
}

func reported(m domain.MeasureView, period string) bool {
	return slices.ContainsFunc(m.Series, func(p domain.SeriesPoint) bool {
		return p.Period == period && p.Disaggregation == ""
	})
}

// recentActivity merges the newest changes of some issues, newest first.
func (h *Handler) recentActivity(ctx context.Context, issues []uuid.UUID,
	n int) ([]domain.Activity, error) {
	if h.cfg.Activity == nil {
		return nil, nil
	}
	var all []domain.Activity
	for _, id := range issues {
		page, err := h.cfg.Activity.Activity(ctx, domain.ActivityFilter{IssueID: &id, Limit: n})
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
	}
	slices.SortFunc(all, func(a, b domain.Activity) int {
		return cmp.Compare(b.Sequence, a.Sequence)
	})
	return all[:min(n, len(all))], nil
}

func (h *Handler) issues(r *request) error {
	issues, err := h.cfg.Reads.Issues(r.Request().Context())
	if err != nil {
		return err
	}
	return h.render(r, http.StatusOK, "issues", "Issues", issues)
}

// issueData is an issue's page: its strategy map and its scorecard, with
// population indicators and performance measures apart.
type issueData struct {
	Issue domain.IssueSummary
	// Map is the strategy map's picture; empty until the map can be drawn.
	Map   string
	Bands []band
	// MapReady says whether the strategy map read model exists; without it,
	// Bands lists only the objectives that have measures.
	MapReady                bool
	Population, Performance []scoreRow
}

// band is a perspective of the map with its objectives, as a list.
type band struct {
	Label      string
	Objectives []objectiveItem
}

// objectiveItem is an objective as the issue page and the forms list it.
type objectiveItem struct {
	ID     uuid.UUID
	Title  string
	Status domain.Status
	Drives []string
	// Measures lists the objective's measures by name, linking to their rows.
	Measures []domain.MapMeasure
}

// scoreRow is one row of a scorecard with its sparkline.
type scoreRow struct {
	domain.MeasureView
	Spark string
}

func scoreRows(measures []domain.MeasureView) []scoreRow {
	rows := make([]scoreRow, len(measures))
	for i, m := range measures {
		rows[i] = scoreRow{MeasureView: m, Spark: charts.Sparkline(seriesOf(m))}
	}
	return rows
}

func (h *Handler) issue(r *request) error {
	issue, err := h.issueSubject(r)
	if err != nil {
		return err
	}
	card, err := h.cfg.Reads.Scorecard(r.Request().Context(), issue.ID)
	if err != nil {
		return err
	}
	d := issueData{Issue: card.Issue, MapReady: h.cfg.Maps != nil,
		Population: scoreRows(card.Population), Performance: scoreRows(card.Performance)}
	if h.cfg.Maps != nil {
		sm, err := h.cfg.Maps.StrategyMap(r.Request().Context(), issue.ID)
		if err != nil {
			return err
		}
		d.Bands = bandsOfMap(sm)
		d.Map = string(charts.StrategyMapWith(sm, charts.StrategyMapOptions{
			ObjectiveHref: "/issues/{issue}#objective-{objective}"}))
	} else {
		d.Bands = bandsOfScorecard(card)
	}
	return h.render(r, http.StatusOK, "issue", card.Issue.Title, d)
}

func bandsOfMap(sm domain.StrategyMap) []band {
	titles := map[uuid.UUID]string{}
	for _, b := range sm.Bands {
		for _, o := range b.Objectives {
			titles[o.ID] = o.Title
		}
	}
	var bands []band
	for _, b := range sm.Bands {
		out := band{Label: b.Label}
		for _, o := range b.Objectives {
			item := objectiveItem{ID: o.ID, Title: o.Title, Status: o.Status, Measures: o.Measures}
			for _, l := range sm.Links {
				if l.CauseID == o.ID {
					item.Drives = append(item.Drives, titles[l.EffectID])
				}
			}
			out.Objectives = append(out.Objectives, item)
		}
		bands = append(bands, out)
	}
	return bands
}

// bandsOfScorecard lists, by perspective, the objectives that have measures:
// all that can be known until the strategy map read model exists.
// TODO: without a strategy map reader, an objective without measures is not
// listed, so its page and the link form cannot offer it.
func bandsOfScorecard(card domain.Scorecard) []band {
	var bands []band
	for _, p := range domain.Perspectives {
		b := band{Label: domain.DefaultLabel(p)}
		for _, m := range card.Measures {
			if m.Perspective != p {
				continue
			}
			i := slices.IndexFunc(b.Objectives, func(o objectiveItem) bool {
				return o.ID == m.ObjectiveID
			})
			if i < 0 {
				b.Objectives = append(b.Objectives, objectiveItem{ID: m.ObjectiveID,
					Title: m.ObjectiveTitle})
				i = len(b.Objectives) - 1
			}
			b.Objectives[i].Measures = append(b.Objectives[i].Measures, domain.MapMeasure{
				ID: m.ID, Name: m.Name, Unit: m.Unit, Status: m.Status, Latest: m.Latest})
		}
		if len(b.Objectives) > 0 {
			bands = append(bands, b)
		}
	}
	return bands
}

// objectives lists an issue's objectives for the forms, from the strategy map
// when it exists, else those that have measures. It reports which it used.
func (h *Handler) objectives(r *request, issueID uuid.UUID) ([]objectiveItem, bool, error) {
	var bands []band
	if h.cfg.Maps != nil {
		sm, err := h.cfg.Maps.StrategyMap(r.Request().Context(), issueID)
		if err != nil {
			return nil, false, err
		}
		bands = bandsOfMap(sm)
	} else {
		card, err := h.cfg.Reads.Scorecard(r.Request().Context(), issueID)
		if err != nil {
			return nil, false, err
		}
		bands = bandsOfScorecard(card)
	}
	var list []objectiveItem
	for _, b := range bands {
		list = append(list, b.Objectives...)
	}
	return list, h.cfg.Maps != nil, nil
}

// issueSubject reads the issue of the request path. Errors: CodeNotFound.
func (h *Handler) issueSubject(r *request) (domain.IssueSummary, error) {
	id, err := uuid.Parse(r.Param("id"))
	if err != nil {
		return domain.IssueSummary{}, domain.Errorf(domain.CodeNotFound,
			"issue %q does not exist", r.Param("id"))
	}
	issues, err := h.cfg.Reads.Issues(r.Request().Context())
	if err != nil {
		return domain.IssueSummary{}, err
	}
	for _, i := range issues {
		if i.ID == id {
			return i, nil
		}
	}
	return domain.IssueSummary{}, domain.Errorf(domain.CodeNotFound, "issue %s does not exist", id)
}

// seriesOf is a measure's totals, targets and baseline, as charts draws them.
func seriesOf(m domain.MeasureView) charts.Series {
	s := charts.Series{Name: m.Name, Unit: m.Unit}
	for _, p := range m.Series {
		if p.Disaggregation == "" {
			s.Actuals = append(s.Actuals, charts.Point{Period: p.Period, Value: p.Value})
		}
	}
	for _, t := range m.Targets {
		s.Targets = append(s.Targets, charts.Point{Period: t.Period, Value: t.Value})
	}
	if m.Baseline != nil {
		s.Baseline = &charts.Point{Period: m.Baseline.Period, Value: m.Baseline.Value}
	}
	return s
}

// measureData is a measure's page.
type measureData struct {
	Measure    domain.MeasureView
	Chart      string
	Totals     []valueRow
	Breakdowns []valueRow
}

// valueRow is one reported value with the name of the partner who reported it.
type valueRow struct {
	domain.SeriesPoint
	Reporter string
}

func (h *Handler) measure(r *request) error {
	m, err := h.measureSubject(r)
	if err != nil {
		return err
	}
	d := measureData{Measure: m, Chart: charts.SeriesChart(seriesOf(m))}
	for i := len(m.Series) - 1; i >= 0; i-- { // newest first
		p := m.Series[i]
		row := valueRow{SeriesPoint: p}
		if p.ReportingPartnerID != nil {
			row.Reporter = h.partnerName(r, *p.ReportingPartnerID)
		}
		if p.Disaggregation == "" {
			d.Totals = append(d.Totals, row)
		} else {
			d.Breakdowns = append(d.Breakdowns, row)
		}
	}
	return h.render(r, http.StatusOK, "measure", m.Name, d)
}

// partners lists every partner; nil when no PartnerReader is configured.
// The list is read once per request.
func (h *Handler) partners(r *request) ([]Partner, error) {
	if h.cfg.Partners == nil || r.partners != nil {
		return r.partners, nil
	}
	list, err := h.cfg.Partners.Partners(r.Request().Context())
	if err != nil {
		return nil, err
	}
	r.partners = append([]Partner{}, list...)
	return r.partners, nil
}

// partnerName names a partner, or shows its ID when it cannot be named.
func (h *Handler) partnerName(r *request, id uuid.UUID) string {
	list, err := h.partners(r)
	if err != nil {
		h.log.Warn("list partners", "err", err)
	}
	for _, p := range list {
		if p.ID == id {
			return p.Name
		}
	}
	return "partner " + id.String()[:8]
}
