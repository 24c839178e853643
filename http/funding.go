package http

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// fundingReport answers GET /api/v1/funding: who funds what, filtered by
// ?issue_id=, ?partner_id=, ?period= and ?kind=.
func (s *Server) fundingReport(c echo.Context) error {
	report, err := s.readFunding(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

// fundingCSV answers GET /api/v1/funding.csv: one table of the report, named
// by ?table= (commitments by default), with the same filters as the JSON.
// Amounts are decimal, written exactly from cents, beside their currency.
func (s *Server) fundingCSV(c echo.Context) error {
	table := c.QueryParam("table")
	if table == "" {
		table = "commitments"
	}
	write, ok := fundingTables[table]
	if !ok {
		return domain.Invalid("table", "%q is not a table of the funding report; use one of %s",
			table, strings.Join(fundingTableNames, ", "))
	}
	report, err := s.readFunding(c)
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	if err := writeFunding(&buf, report, write); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition",
		`attachment; filename="funding-`+table+`.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// WriteFundingCSV writes the commitments of a funding report as CSV, as
// GET /api/v1/funding.csv does: amounts decimal from cents, text that could run
// as a spreadsheet formula defused. The web UI's download uses it too.
func WriteFundingCSV(out io.Writer, report domain.FundingReport) error {
	return writeFunding(out, report, fundingTables["commitments"])
}

func writeFunding(out io.Writer, report domain.FundingReport,
	write func(*csv.Writer, domain.FundingReport)) error {
	w := csv.NewWriter(out)
	write(w, report)
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write funding CSV: %w", err)
	}
	return nil
}

// readFunding parses the filters, waits for ?after=SEQ and reads the report.
func (s *Server) readFunding(c echo.Context) (domain.FundingReport, error) {
	if s.funding == nil {
		return domain.FundingReport{}, notAvailable("the funding report")
	}
	f, err := domain.ParseFundingFilter(c.QueryParam("issue_id"), c.QueryParam("partner_id"),
		c.QueryParam("period"), c.QueryParam("kind"))
	if err != nil {
		return domain.FundingReport{}, err
	}
	if err := s.waitUntil(c, s.funding.Position); err != nil {
		return domain.FundingReport{}, err
	}
	return s.funding.Funding(c.Request().Context(), f)
}

// notAvailable is the error of a route whose read model this server was not
// given.
func notAvailable(what string) error {
	return domain.Errorf(domain.CodeNotFound, "%s is not available on this server", what)
}

// fundingTables writes each table of the report as CSV, by its ?table= name.
var fundingTables = map[string]func(*csv.Writer, domain.FundingReport){
	"totals":    func(w *csv.Writer, r domain.FundingReport) { writeLines(w, r.Totals, -1) },
	"by_funder": func(w *csv.Writer, r domain.FundingReport) { writeLines(w, r.ByFunder, -1) },
	"by_issue":  func(w *csv.Writer, r domain.FundingReport) { writeLines(w, r.ByIssue, -1) },
	"by_objective": func(w *csv.Writer, r domain.FundingReport) {
		writeLines(w, r.ByObjective, -1)
	},
	"by_period": func(w *csv.Writer, r domain.FundingReport) { writeLines(w, r.ByPeriod, -1) },
	"pooled": func(w *csv.Writer, r domain.FundingReport) {
		writeLines(w, r.Pooled.ByFunder, r.Pooled.IssuesServed)
	},
	"commitments": writeCommitments,
}

// fundingTableNames lists the tables in the order an error message offers them.
var fundingTableNames = []string{"commitments", "totals", "by_funder", "by_issue",
	"by_objective", "by_period", "pooled"}

// writeLines writes report lines; issuesServed, unless negative, adds a
// column with the number of issues pooled funding serves.
func writeLines(w *csv.Writer, lines []domain.FundingLine, issuesServed int) {
	header := []string{"key", "label", "currency", "pledged", "fulfilled", "commitments",
		"undisclosed"}
	if issuesServed >= 0 {
		header = append(header, "issues_served")
	}
	_ = w.Write(header) // errors stay in the writer until Flush
	for _, l := range lines {
		row := []string{l.Key, cell(l.Label), l.Currency, domain.FormatCents(l.PledgedCents),
			domain.FormatCents(l.FulfilledCents), strconv.Itoa(l.Commitments),
			strconv.Itoa(l.Undisclosed)}
		if issuesServed >= 0 {
			row = append(row, strconv.Itoa(issuesServed))
		}
		_ = w.Write(row)
	}
}

// writeCommitments writes every commitment of the report; the amount is
// empty when it was not disclosed.
func writeCommitments(w *csv.Writer, r domain.FundingReport) {
	_ = w.Write([]string{"id", "partner_id", "partner", "issue_id", "issue", "objective_id",
		"objective", "pooled", "kind", "description", "amount", "currency", "fulfilled",
		"period", "state", "source", "version"})
	for _, c := range r.Commitments {
		amount := ""
		if c.AmountCents != nil {
			amount = domain.FormatCents(*c.AmountCents)
		}
		_ = w.Write([]string{c.ID.String(), c.PartnerID.String(), cell(c.PartnerName),
			optional(c.IssueID), cell(c.IssueTitle), optional(c.ObjectiveID),
			cell(c.ObjectiveTitle), strconv.FormatBool(c.Pooled), string(c.Kind),
			cell(c.Description), amount, c.Currency, domain.FormatCents(c.FulfilledCents),
			c.Period, string(c.State), cell(c.Source), strconv.FormatUint(c.Version, 10)})
	}
}

func optional[T fmt.Stringer](v *T) string {
	if v == nil {
		return ""
	}
	return (*v).String()
}

// cell keeps text that partners typed from running as a formula when the CSV
// is opened in a spreadsheet: a leading =, +, -, @, tab or carriage return
// gets an apostrophe before it.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
