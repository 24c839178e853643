package web_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// tacomaDir is Graduate Tacoma's public dataset, from the repository root.
var tacomaDir = filepath.Join("..", "..", "examples", "tacoma")

// tacomaID is the ID "backbone import" gives a dataset key, so that tests and
// an imported server agree on every aggregate.
func tacomaID(column, key string) uuid.UUID {
	return domain.StableID("dataset\x00tacoma\x00" + column + "\x00" + key)
}

// loadTacoma writes the whole dataset through the domain's commands, row by
// row in the importer's order, and waits until the scorecard shows it.
func (f *fixture) loadTacoma() {
	f.t.Helper()
	ref := func(column, key string) string {
		if key == "" {
			return ""
		}
		return tacomaID(column, key).String()
	}
	for _, r := range f.rows("partners.csv") {
		f.must(f.commands.RegisterPartner(f.ctx, trusted, domain.RegisterPartner{
			ID: ref("partner_id", r["partner_id"]), Name: r["name"], Kind: r["kind"],
			Source: r["source"]}))
	}
	for _, r := range f.rows("issues.csv") {
		f.must(f.commands.LaunchIssue(f.ctx, trusted, domain.LaunchIssue{
			ID: ref("issue_id", r["issue_id"]), Title: r["title"],
			Description: r["description"], Source: r["source"]}))
	}
	issueOf := map[string]string{}
	for _, r := range f.rows("objectives.csv") {
		issueOf[r["objective_id"]] = r["issue_id"]
		f.must(f.commands.DefineObjective(f.ctx, trusted, domain.DefineObjective{
			ID: ref("objective_id", r["objective_id"]), IssueID: ref("issue_id", r["issue_id"]),
			Perspective: r["perspective"], Title: r["title"], Source: r["source"]}))
	}
	for _, r := range f.rows("measures.csv") {
		f.must(f.commands.DefineMeasure(f.ctx, trusted, domain.DefineMeasure{
			ID: ref("measure_id", r["measure_id"]), ObjectiveID: ref("objective_id",
				r["objective_id"]), Name: r["name"], Unit: r["unit"], Polarity: r["polarity"],
			Kind: r["kind"], OwnerPartnerID: ref("partner_id", r["owner_partner_id"]),
			BaselinePeriod: r["baseline_period"], BaselineValue: f.number(r["baseline_value"]),
			Source: r["source"]}))
	}
	for _, r := range f.rows("links.csv") {
		if issueOf[r["from_objective_id"]] != issueOf[r["to_objective_id"]] {
			continue // links stay within one issue; the importer skips these too
		}
		f.must(f.commands.LinkObjectives(f.ctx, trusted, domain.LinkObjectives{
			CauseID:  ref("objective_id", r["from_objective_id"]),
			EffectID: ref("objective_id", r["to_objective_id"]), Source: r["source"]}))
	}
	for _, r := range f.rows("targets.csv") {
		f.must(f.commands.SetTarget(f.ctx, trusted, domain.SetTarget{
			MeasureID: ref("measure_id", r["measure_id"]), Period: r["period"],
			Value: f.number(r["value"]), Source: r["source"]}))
	}
	for _, r := range f.rows("actuals.csv") {
		f.must(f.commands.ReportProgress(f.ctx, trusted, domain.ReportProgress{
			MeasureID: ref("measure_id", r["measure_id"]), Period: r["period"],
			Value: f.number(r["value"]), Disaggregation: r["disaggregation"],
			ReportingPartnerID: ref("partner_id", r["reporting_partner_id"]),
			Note:               r["note"], Source: r["source"]}))
	}
	f.waitForReads(f.last())
}

// rows reads one file of the dataset as maps from column to cell.
func (f *fixture) rows(name string) []map[string]string {
	f.t.Helper()
	file, err := os.Open(filepath.Join(tacomaDir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	records, err := csv.NewReader(file).ReadAll()
	if err != nil {
		f.t.Fatalf("read %s: %v", name, err)
	}
	var out []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, column := range records[0] {
			row[strings.TrimPrefix(column, "\ufeff")] = strings.TrimSpace(rec[i])
		}
		out = append(out, row)
	}
	return out
}

func (f *fixture) number(s string) *float64 {
	f.t.Helper()
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f.t.Fatalf("%q is not a number", s)
	}
	return &v
}

// waitForReads waits until the scorecard has applied seq.
func (f *fixture) waitForReads(seq uint64) {
	f.t.Helper()
	r := f.get(user{}, "/api/v1/issues?after="+strconv.FormatUint(seq, 10))
	if r.status != 200 {
		f.t.Fatalf("the read model did not reach %d: status %d", seq, r.status)
	}
}
