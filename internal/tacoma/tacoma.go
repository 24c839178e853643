// Package tacoma loads Graduate Tacoma's public dataset (examples/tacoma)
// through the domain's commands, for tests that check read models against its
// known figures. Rows become commands the way "backbone import" maps them, and
// aggregates get the same IDs, so a test and an imported server agree.
package tacoma

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
)

// ID returns the ID "backbone import" gives a dataset key of the given column
// kind ("partner_id", "issue_id", "objective_id" or "measure_id").
func ID(column, key string) uuid.UUID {
	return domain.StableID("dataset\x00tacoma\x00" + column + "\x00" + key)
}

// Load writes the dataset in dir through cmds as meta, file by file in the
// order their references need. Links between objectives of two issues are
// skipped, as the importer skips them. It returns the stream sequence of the
// last event appended or found.
func Load(ctx context.Context, cmds *domain.Commands, meta domain.Meta,
	dir string) (uint64, error) {
	l := loader{ctx: ctx, cmds: cmds, meta: meta, dir: dir, issueOf: map[string]string{}}
	for _, step := range []struct {
		file string
		row  func(map[string]string) (domain.Result, error)
	}{
		{"partners.csv", l.partner},
		{"issues.csv", l.issue},
		{"objectives.csv", l.objective},
		{"measures.csv", l.measure},
		{"links.csv", l.link},
		{"targets.csv", l.target},
		{"actuals.csv", l.actual},
		{"commitments.csv", l.commitment},
	} {
		if err := l.each(step.file, step.row); err != nil {
			return 0, err
		}
	}
	return l.last, nil
}

// loader carries one Load's state.
type loader struct {
	ctx     context.Context
	cmds    *domain.Commands
	meta    domain.Meta
	dir     string
	issueOf map[string]string // objective key -> issue key
	last    uint64
}

// each runs row on every record of file, keyed by the header's names.
func (l *loader) each(file string, row func(map[string]string) (domain.Result, error)) error {
	f, err := os.Open(filepath.Join(l.dir, file))
	if err != nil {
		return fmt.Errorf("open dataset file: %w", err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	for i, cells := range records[1:] {
		r := map[string]string{}
		for j, name := range records[0] {
			r[name] = strings.TrimSpace(cells[j])
		}
		res, err := row(r)
		if err != nil {
			return fmt.Errorf("%s row %d: %w", file, i+2, err)
		}
		l.last = max(l.last, res.Event.Sequence)
	}
	return nil
}

// ref is the ID of a key, or "" for an empty key.
func ref(column, key string) string {
	if key == "" {
		return ""
	}
	return ID(column, key).String()
}

func (l *loader) partner(r map[string]string) (domain.Result, error) {
	return l.cmds.RegisterPartner(l.ctx, l.meta, domain.RegisterPartner{
		ID: ref("partner_id", r["partner_id"]), Name: r["name"], Kind: r["kind"],
		Source: r["source"]})
}

func (l *loader) issue(r map[string]string) (domain.Result, error) {
	return l.cmds.LaunchIssue(l.ctx, l.meta, domain.LaunchIssue{
		ID: ref("issue_id", r["issue_id"]), Title: r["title"], Description: r["description"],
		Source: r["source"]})
}

func (l *loader) objective(r map[string]string) (domain.Result, error) {
	l.issueOf[r["objective_id"]] = r["issue_id"]
	return l.cmds.DefineObjective(l.ctx, l.meta, domain.DefineObjective{
		ID: ref("objective_id", r["objective_id"]), IssueID: ref("issue_id", r["issue_id"]),
		Perspective: r["perspective"], Title: r["title"], Source: r["source"]})
}

func (l *loader) measure(r map[string]string) (domain.Result, error) {
	baseline, err := number(r["baseline_value"])
	if err != nil {
		return domain.Result{}, err
	}
	return l.cmds.DefineMeasure(l.ctx, l.meta, domain.DefineMeasure{
		ID: ref("measure_id", r["measure_id"]), ObjectiveID: ref("objective_id",
			r["objective_id"]), Name: r["name"], Unit: r["unit"], Polarity: r["polarity"],
		Kind: r["kind"], OwnerPartnerID: ref("partner_id", r["owner_partner_id"]),
		BaselinePeriod: r["baseline_period"], BaselineValue: baseline, Source: r["source"]})
}

func (l *loader) link(r map[string]string) (domain.Result, error) {
	if l.issueOf[r["from_objective_id"]] != l.issueOf[r["to_objective_id"]] {
		return domain.Result{}, nil // links stay within one issue
	}
	return l.cmds.LinkObjectives(l.ctx, l.meta, domain.LinkObjectives{
		CauseID:  ref("objective_id", r["from_objective_id"]),
		EffectID: ref("objective_id", r["to_objective_id"]), Source: r["source"]})
}

func (l *loader) target(r map[string]string) (domain.Result, error) {
	v, err := number(r["value"])
	if err != nil {
		return domain.Result{}, err
	}
	return l.cmds.SetTarget(l.ctx, l.meta, domain.SetTarget{
		MeasureID: ref("measure_id", r["measure_id"]), Period: r["period"], Value: v,
		Source: r["source"]})
}

func (l *loader) actual(r map[string]string) (domain.Result, error) {
	v, err := number(r["value"])
	if err != nil {
		return domain.Result{}, err
	}
	return l.cmds.ReportProgress(l.ctx, l.meta, domain.ReportProgress{
		MeasureID: ref("measure_id", r["measure_id"]), Period: r["period"], Value: v,
		Disaggregation:     r["disaggregation"],
		ReportingPartnerID: ref("partner_id", r["reporting_partner_id"]),
		Note:               r["note"], Source: r["source"]})
}

func (l *loader) commitment(r map[string]string) (domain.Result, error) {
	c := domain.MakeCommitment{
		ID:        CommitmentID(r).String(),
		PartnerID: ref("partner_id", r["partner_id"]), IssueID: ref("issue_id", r["issue_id"]),
		ObjectiveID: ref("objective_id", r["objective_id"]), Kind: r["kind"],
		Description: r["description"], Period: r["period"], Source: r["source"],
	}
	if r["amount_usd"] != "" {
		cents, err := Cents(r["amount_usd"])
		if err != nil {
			return domain.Result{}, err
		}
		c.AmountCents, c.Currency = &cents, "USD"
	}
	return l.cmds.MakeCommitment(l.ctx, l.meta, c)
}

// CommitmentID is the ID "backbone import" gives a row of commitments.csv,
// which has no key of its own: a digest of its content.
func CommitmentID(r map[string]string) uuid.UUID {
	var parts []string
	for _, c := range []string{"partner_id", "issue_id", "objective_id", "kind", "description",
		"amount_usd", "period"} {
		parts = append(parts, r[c])
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return domain.StableID("dataset\x00tacoma\x00commitment\x00" + hex.EncodeToString(sum[:12]))
}

// Cents parses whole dollars, or dollars with up to two decimals ("1234.5"),
// into integer cents without going through a float.
func Cents(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if len(frac) > 2 || whole == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an amount in dollars with at most two decimals", s)
	}
	return strconv.ParseInt(whole+frac+strings.Repeat("0", 2-len(frac)), 10, 64)
}

// number parses an optional number; "" is nil.
func number(s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return &v, nil
}
