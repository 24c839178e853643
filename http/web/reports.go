package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"

	"github.com/backbone-ci/backbone/domain"
	api "github.com/backbone-ci/backbone/http"
)

// filterData is the choice of issues and partners that filter a report.
type filterData struct {
	Issues   []domain.IssueSummary
	Partners []Partner
	Issue    string
	Partner  string
}

func (h *Handler) filters(r *request) (filterData, error) {
	issues, err := h.cfg.Reads.Issues(r.Request().Context())
	if err != nil {
		return filterData{}, err
	}
	partners, err := h.partners(r)
	if err != nil {
		return filterData{}, err
	}
	return filterData{Issues: issues, Partners: partners, Issue: r.QueryParam("issue_id"),
		Partner: r.QueryParam("partner_id")}, nil
}

// fundingData is the funding report page.
type fundingData struct {
	Ready   bool
	Filters filterData
	Period  string
	Kind    string
	Report  domain.FundingReport
	// CSV is the address of the report as CSV, with the same filters.
	CSV string
}

func (h *Handler) fundingFilter(r *request) (domain.FundingFilter, error) {
	return domain.ParseFundingFilter(r.QueryParam("issue_id"), r.QueryParam("partner_id"),
		r.QueryParam("period"), r.QueryParam("kind"))
}

func (h *Handler) funding(r *request) error {
	filters, err := h.filters(r)
	if err != nil {
		return err
	}
	d := fundingData{Ready: h.cfg.Funding != nil, Filters: filters,
		Period: r.QueryParam("period"), Kind: r.QueryParam("kind"),
		CSV: "/funding.csv?" + r.QueryParams().Encode()}
	if !d.Ready {
		return h.render(r, http.StatusOK, "funding", "Funding", d)
	}
	f, err := h.fundingFilter(r)
	if err != nil {
		return err
	}
	if d.Report, err = h.cfg.Funding.Funding(r.Request().Context(), f); err != nil {
		return err
	}
	return h.render(r, http.StatusOK, "funding", "Funding", d)
}

// fundingCSV downloads the commitments of the funding report, one a row, in
// the API's CSV form.
func (h *Handler) fundingCSV(r *request) error {
	if h.cfg.Funding == nil {
		return domain.Errorf(domain.CodeUnavailable, "the funding report is not available yet")
	}
	f, err := h.fundingFilter(r)
	if err != nil {
		return err
	}
	report, err := h.cfg.Funding.Funding(r.Request().Context(), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := api.WriteFundingCSV(&buf, report); err != nil {
		return err
	}
	r.Response().Header().Set("Content-Disposition", `attachment; filename="funding.csv"`)
	return r.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// activityData is the activity page: one page of the feed and the link to
// the next.
type activityData struct {
	Ready   bool
	Filters filterData
	Items   []domain.Activity
	Older   string
}

func (h *Handler) activity(r *request) error {
	filters, err := h.filters(r)
	if err != nil {
		return err
	}
	d := activityData{Ready: h.cfg.Activity != nil, Filters: filters}
	if !d.Ready {
		return h.render(r, http.StatusOK, "activity", "Activity", d)
	}
	f, err := domain.ParseActivityFilter(r.QueryParam("issue_id"), r.QueryParam("partner_id"),
		r.QueryParam("before"), "")
	if err != nil {
		return err
	}
	page, err := h.cfg.Activity.Activity(r.Request().Context(), f)
	if err != nil {
		return err
	}
	d.Items = page.Items
	if page.Next != 0 {
		q := url.Values{"issue_id": {filters.Issue}, "partner_id": {filters.Partner},
			"before": {strconv.FormatUint(page.Next, 10)}}
		d.Older = "/activity?" + q.Encode()
	}
	return h.render(r, http.StatusOK, "activity", "Activity", d)
}
