package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/backbone-ci/backbone/domain"
)

// importer loads a dataset directory (the format of examples/tacoma) into a
// running server through its API, one command per row.
type importer struct {
	server   string
	token    string
	dataset  string
	client   *http.Client
	progress io.Writer // nil when not on a terminal

	rows, appended, present int
	lastSeq                 uint64
	// skipped lists rows the dataset holds but Backbone's rules refuse, such as
	// a link between objectives of two issues.
	skipped []string
}

// row is one CSV record with what is needed to point at its cells.
type row struct {
	file   string
	line   int
	header []string
	cells  []string
	cols   []int // the column of each cell, 1-based
}

func (r row) get(name string) string {
	for i, h := range r.header {
		if h == name {
			return strings.TrimSpace(r.cells[i])
		}
	}
	return ""
}

// rowError points at the cell a row failed on.
type rowError struct {
	r      row
	column string
	reason string
}

func (e *rowError) Error() string {
	col := 1
	for i, h := range e.r.header {
		if h == e.column {
			col = e.r.cols[i]
		}
	}
	where := fmt.Sprintf("%s:%d:%d", e.r.file, e.r.line, col)
	if e.column != "" {
		where += " (" + e.column + ")"
	}
	return where + ": " + e.reason
}

// files lists the dataset's files in the order their references need, with
// their columns.
var files = []struct {
	name    string
	columns []string
}{
	{"partners.csv", []string{"partner_id", "name", "kind", "source"}},
	{"issues.csv", []string{"issue_id", "title", "description", "source"}},
	{"objectives.csv", []string{"objective_id", "issue_id", "perspective", "title", "source"}},
	{"measures.csv", []string{"measure_id", "objective_id", "name", "unit", "polarity", "kind",
		"owner_partner_id", "baseline_period", "baseline_value", "source"}},
	{"links.csv", []string{"from_objective_id", "to_objective_id", "source"}},
	{"targets.csv", []string{"measure_id", "period", "value", "source"}},
	{"actuals.csv", []string{"measure_id", "period", "value", "disaggregation",
		"reporting_partner_id", "note", "source"}},
	{"commitments.csv", []string{"partner_id", "issue_id", "objective_id", "kind", "description",
		"amount_usd", "period", "source"}},
}

// run imports every file of dir. It stops at the first bad row.
func (im *importer) run(ctx context.Context, dir string) error {
	tables := map[string][]row{}
	total := 0
	for _, f := range files {
		rows, err := readCSV(filepath.Join(dir, f.name), f.name, f.columns)
		if err != nil {
			return err
		}
		tables[f.name] = rows
		total += len(rows)
	}
	keys := collectKeys(tables)

	issueOf := map[string]string{}
	for _, r := range tables["objectives.csv"] {
		issueOf[r.get("objective_id")] = r.get("issue_id")
	}

	for _, f := range files {
		for i, r := range tables[f.name] {
			if why := crossIssueLink(r, issueOf); why != "" {
				im.skipped = append(im.skipped, fmt.Sprintf("%s:%d: %s", r.file, r.line, why))
				continue
			}
			if err := im.importRow(ctx, keys, r); err != nil {
				return err
			}
			im.rows++
			if im.progress != nil {
				fmt.Fprintf(im.progress, "\rimporting %-16s %3d/%-3d  (%d of %d rows)",
					f.name, i+1, len(tables[f.name]), im.rows, total)
			}
		}
	}
	if im.progress != nil {
		fmt.Fprintln(im.progress)
	}
	return nil
}

// crossIssueLink explains why a link row joins objectives of two issues, or
// returns "". Links stay within one issue's strategy map, so such rows are
// skipped and reported rather than stopping the import.
func crossIssueLink(r row, issueOf map[string]string) string {
	if r.file != "links.csv" {
		return ""
	}
	from, to := r.get("from_objective_id"), r.get("to_objective_id")
	a, b := issueOf[from], issueOf[to]
	if a == "" || b == "" || a == b {
		return ""
	}
	return fmt.Sprintf("skipped the link %s -> %s: %s is in issue %s and %s in issue %s, "+
		"and links stay within one issue", from, to, from, a, to, b)
}

// readCSV reads a dataset file, checking its header against the columns it needs.
func readCSV(path, name string, columns []string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open dataset file: %w", err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: read header: %w", name, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		if !contains(columns, header[i]) {
			return nil, fmt.Errorf("%s:1:%d: unknown column %q; expected %s",
				name, i+1, h, strings.Join(columns, ", "))
		}
	}
	for _, c := range columns {
		if !contains(header, c) {
			return nil, fmt.Errorf("%s:1: missing column %q", name, c)
		}
	}

	var rows []row
	for {
		cells, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := rd.FieldPos(0)
		if len(cells) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d cells, want %d", name, line, len(cells), len(header))
		}
		cols := make([]int, len(cells))
		for i, c := range cells {
			l, col := rd.FieldPos(i)
			cols[i] = col
			if !utf8.ValidString(c) {
				return nil, fmt.Errorf("%s:%d:%d (%s): not valid UTF-8; save the file as UTF-8",
					name, l, col, header[i])
			}
		}
		rows = append(rows, row{file: name, line: line, header: header, cells: cells, cols: cols})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// collectKeys records which dataset keys each file defines, so a reference to
// an unknown key is reported at its cell rather than as an unknown UUID.
func collectKeys(tables map[string][]row) map[string]bool {
	keys := map[string]bool{}
	for file, col := range map[string]string{"partners.csv": "partner_id",
		"issues.csv": "issue_id", "objectives.csv": "objective_id",
		"measures.csv": "measure_id"} {
		for _, r := range tables[file] {
			keys[col+"\x00"+r.get(col)] = true
		}
	}
	return keys
}

// id maps a dataset key to its stable aggregate ID, checking the key is defined.
func (im *importer) id(keys map[string]bool, r row, column, kind string) (string, error) {
	key := r.get(column)
	if key == "" {
		return "", nil
	}
	if !keys[kind+"\x00"+key] {
		return "", &rowError{r, column, fmt.Sprintf("%q is not defined in the dataset", key)}
	}
	return domain.StableID("dataset\x00" + im.dataset + "\x00" + kind + "\x00" + key).String(), nil
}

// importRow turns a row into its command and sends it.
func (im *importer) importRow(ctx context.Context, keys map[string]bool, r row) error {
	path, body, key, err := im.command(keys, r)
	if err != nil {
		return err
	}
	return im.send(ctx, r, path, body, key)
}

func (im *importer) command(keys map[string]bool, r row) (string, map[string]any, string,
	error) {
	ids := map[string]string{}
	for _, ref := range []struct{ column, kind string }{
		{"partner_id", "partner_id"}, {"issue_id", "issue_id"},
		{"objective_id", "objective_id"}, {"measure_id", "measure_id"},
		{"owner_partner_id", "partner_id"}, {"reporting_partner_id", "partner_id"},
		{"from_objective_id", "objective_id"}, {"to_objective_id", "objective_id"},
	} {
		if !contains(r.header, ref.column) {
			continue
		}
		v, err := im.id(keys, r, ref.column, ref.kind)
		if err != nil {
			return "", nil, "", err
		}
		ids[ref.column] = v
	}
	body := map[string]any{"source": r.get("source")}
	key := r.file + "\x00" + strings.Join(r.cells, "\x00")

	switch r.file {
	case "partners.csv":
		body["id"], body["name"], body["kind"] = ids["partner_id"], r.get("name"), r.get("kind")
		return "/partners", body, key, nil
	case "issues.csv":
		body["id"], body["title"] = ids["issue_id"], r.get("title")
		body["description"] = r.get("description")
		return "/issues", body, key, nil
	case "objectives.csv":
		body["id"], body["title"] = ids["objective_id"], r.get("title")
		body["perspective"] = r.get("perspective")
		return "/issues/" + ids["issue_id"] + "/objectives", body, key, nil
	case "links.csv":
		body["effect_objective_id"] = ids["to_objective_id"]
		return "/objectives/" + ids["from_objective_id"] + "/links", body, key, nil
	case "measures.csv":
		for _, c := range []string{"name", "unit", "polarity", "kind", "baseline_period"} {
			body[c] = r.get(c)
		}
		body["id"], body["owner_partner_id"] = ids["measure_id"], ids["owner_partner_id"]
		if v := r.get("baseline_value"); v != "" {
			f, err := number(r, "baseline_value")
			if err != nil {
				return "", nil, "", err
			}
			body["baseline_value"] = f
		}
		return "/objectives/" + ids["objective_id"] + "/measures", body, key, nil
	case "targets.csv", "actuals.csv":
		f, err := number(r, "value")
		if err != nil {
			return "", nil, "", err
		}
		body["period"], body["value"] = r.get("period"), f
		if r.file == "targets.csv" {
			return "/measures/" + ids["measure_id"] + "/targets", body, key, nil
		}
		body["disaggregation"], body["note"] = r.get("disaggregation"), r.get("note")
		body["reporting_partner_id"] = ids["reporting_partner_id"]
		return "/measures/" + ids["measure_id"] + "/progress", body, key, nil
	case "commitments.csv":
		for _, c := range []string{"kind", "description", "period"} {
			body[c] = r.get(c)
		}
		body["partner_id"], body["issue_id"] = ids["partner_id"], ids["issue_id"]
		body["objective_id"] = ids["objective_id"]
		body["id"] = domain.StableID("dataset\x00" + im.dataset + "\x00commitment\x00" +
			fingerprint(r)).String()
		if v := r.get("amount_usd"); v != "" {
			cents, err := cents(v)
			if err != nil {
				return "", nil, "", &rowError{r, "amount_usd", err.Error()}
			}
			body["amount_cents"], body["currency"] = cents, "USD"
		}
		return "/commitments", body, key, nil
	}
	return "", nil, "", fmt.Errorf("%s: no import rule", r.file)
}

// fingerprint identifies a commitment row, which has no key of its own, by its
// content, so that re-importing it maps to the same commitment.
func fingerprint(r row) string {
	var parts []string
	for _, c := range []string{"partner_id", "issue_id", "objective_id", "kind", "description",
		"amount_usd", "period"} {
		parts = append(parts, r.get(c))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}

func number(r row, column string) (float64, error) {
	f, err := strconv.ParseFloat(r.get(column), 64)
	if err != nil {
		return 0, &rowError{r, column, fmt.Sprintf("%q is not a number", r.get(column))}
	}
	return f, nil
}

// cents parses a dollar amount such as "2500000" or "1234.5" into integer cents
// without going through a float.
func cents(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	whole, frac, _ := strings.Cut(s, ".")
	if groups := strings.Split(whole, ","); len(groups) > 1 {
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, fmt.Errorf("%q has misplaced thousands separators", s)
			}
		}
		whole = strings.Join(groups, "")
	}
	if len(frac) > 2 || whole == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an amount in dollars with at most two decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n, nil
}

// commandResponse is the part of a command's response the importer reads.
type commandResponse struct {
	Appended bool   `json:"appended"`
	Sequence uint64 `json:"sequence"`
}

// problem is an RFC 9457 problem with Backbone's field errors.
type problem struct {
	Title  string              `json:"title"`
	Detail string              `json:"detail"`
	Errors []domain.FieldError `json:"errors"`
}

// columnOf maps an API field back to the dataset column it came from.
var columnOf = map[string]string{
	"amount_cents": "amount_usd", "effect_objective_id": "to_objective_id", "id": "",
}

func (im *importer) send(ctx context.Context, r row, path string, body map[string]any,
	key string) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(im.dataset + "\x00" + key))
	idem := "import-" + hex.EncodeToString(sum[:16])

	var resp *http.Response
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			im.server+"/api/v1"+path, bytes.NewReader(data))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+im.token)
		req.Header.Set("Idempotency-Key", idem)
		resp, err = im.client.Do(req)
		if err == nil && resp.StatusCode != http.StatusServiceUnavailable || attempt == 5 {
			if err != nil {
				return fmt.Errorf("%s:%d: send to %s: %w", r.file, r.line, im.server, err)
			}
			break
		}
		if resp != nil {
			resp.Body.Close()
		}
		select { // same key: safe to retry
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%s refused the token (%s); check --token or BACKBONE_TOKEN",
			im.server, resp.Status)
	}

	switch resp.StatusCode {
	case http.StatusCreated, http.StatusOK:
		var cr commandResponse
		if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
			return fmt.Errorf("%s:%d: read response: %w", r.file, r.line, err)
		}
		if cr.Appended {
			im.appended++
		} else {
			im.present++
		}
		im.lastSeq = max(im.lastSeq, cr.Sequence)
		return nil
	}
	var p problem
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p)
	if len(p.Errors) > 0 {
		f := p.Errors[0]
		col, ok := columnOf[f.Field]
		if !ok {
			col = f.Field
		}
		return &rowError{r, col, f.Reason}
	}
	reason := strings.TrimSpace(p.Title + ": " + p.Detail)
	if p.Title == "" {
		reason = resp.Status
	}
	return &rowError{r, "", reason}
}
