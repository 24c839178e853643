package projections

// The funding read model's contract: on Graduate Tacoma's data its known
// figures appear where they belong, and on generated data delivery,
// withdrawal, pooled funding, currencies and filters add up exactly.

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/tacoma"
)

// projectModel migrates p and runs its projector until it has applied the
// whole stream.
func (e *env) projectModel(p Projection) {
	e.t.Helper()
	if err := MigrateProjection(e.ctx(), e.pool, p); err != nil {
		e.t.Fatalf("migrate %s: %v", p.Schema(), err)
	}
	projector := NewProjector(e.pool, e.store.JetStream(), e.store.StreamName(), p,
		Config{Logger: testLogger(e.t)})
	stop := e.run(context.Background(), projector)
	e.waitFor(p.Schema(), e.last())
	stop()
}

// loadTacoma writes Graduate Tacoma's dataset through the commands.
func (e *env) loadTacoma() {
	e.t.Helper()
	dir := filepath.Join("..", "examples", "tacoma")
	if _, err := tacoma.Load(e.ctx(), e.cmd, meta, dir); err != nil {
		e.t.Fatalf("load %s: %v", dir, err)
	}
}

func (e *env) funding(f domain.FundingFilter) domain.FundingReport {
	e.t.Helper()
	report, err := NewFundingReader(e.pool, FundingSchema).Funding(e.ctx(), f)
	if err != nil {
		e.t.Fatalf("Funding(%+v): %v", f, err)
	}
	return report
}

// line finds the line of key and currency, failing the test without one.
func line(t *testing.T, lines []domain.FundingLine, key, currency string) domain.FundingLine {
	t.Helper()
	for _, l := range lines {
		if l.Key == key && l.Currency == currency {
			return l
		}
	}
	t.Fatalf("no line %q in %q among %+v", key, currency, lines)
	return domain.FundingLine{}
}

// want checks a line's totals: pledged and fulfilled cents, commitments and
// how many of them are undisclosed.
func want(t *testing.T, l domain.FundingLine, pledged, fulfilled int64, n, undisclosed int) {
	t.Helper()
	if l.PledgedCents != pledged || l.FulfilledCents != fulfilled || l.Commitments != n ||
		l.Undisclosed != undisclosed {
		t.Errorf("%s (%s %q): pledged %d fulfilled %d commitments %d undisclosed %d, "+
			"want %d %d %d %d", l.Label, l.Key, l.Currency, l.PledgedCents, l.FulfilledCents,
			l.Commitments, l.Undisclosed, pledged, fulfilled, n, undisclosed)
	}
}

func TestFundingOnTacoma(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadTacoma()
	e.projectModel(NewFunding(""))
	id := func(column, key string) string { return tacoma.ID(column, key).String() }
	report := e.funding(domain.FundingFilter{})

	t.Run("by funder", func(t *testing.T) {
		gates := line(t, report.ByFunder, id("partner_id", "P05"), "USD")
		if gates.Label != "Bill & Melinda Gates Foundation" {
			t.Errorf("label %q, want the Gates Foundation's name", gates.Label)
		}
		want(t, gates, 250_000_000, 0, 1, 0)
		want(t, line(t, report.ByFunder, id("partner_id", "P06"), "USD"), 120_000_000, 0, 1, 0)
		// The Foundation for Tacoma Students published none of its three amounts.
		want(t, line(t, report.ByFunder, id("partner_id", "P01"), ""), 0, 0, 3, 3)
	})
	t.Run("totals and undisclosed amounts", func(t *testing.T) {
		want(t, line(t, report.Totals, domain.TotalKey, "USD"), 370_000_000, 0, 2, 0)
		want(t, line(t, report.Totals, domain.TotalKey, ""), 0, 0, 8, 8)
		if len(report.Totals) != 2 {
			t.Errorf("totals %+v, want one line in USD and one undisclosed", report.Totals)
		}
	})
	t.Run("by issue", func(t *testing.T) {
		want(t, line(t, report.ByIssue, id("issue_id", "I01"), "USD"), 250_000_000, 0, 1, 0)
		want(t, line(t, report.ByIssue, id("issue_id", "I01"), ""), 0, 0, 7, 7)
		want(t, line(t, report.ByIssue, id("issue_id", "I02"), "USD"), 120_000_000, 0, 1, 0)
		want(t, line(t, report.ByIssue, id("issue_id", "I02"), ""), 0, 0, 1, 1)
	})
	t.Run("by objective", func(t *testing.T) {
		want(t, line(t, report.ByObjective, id("objective_id", "O14"), "USD"),
			250_000_000, 0, 1, 0)
		want(t, line(t, report.ByObjective, id("objective_id", "O07"), "USD"),
			120_000_000, 0, 1, 0)
		want(t, line(t, report.ByObjective, "", ""), 0, 0, 5, 5)
	})
	t.Run("by period", func(t *testing.T) {
		want(t, line(t, report.ByPeriod, "2019", "USD"), 250_000_000, 0, 1, 0)
		want(t, line(t, report.ByPeriod, "2023", "USD"), 120_000_000, 0, 1, 0)
		want(t, line(t, report.ByPeriod, "2020", ""), 0, 0, 6, 6)
		var periods []string
		for _, l := range report.ByPeriod {
			periods = append(periods, l.Key+"/"+l.Currency)
		}
		order := []string{"2013/", "2019/", "2019/USD", "2020/", "2023/USD"}
		if !slices.Equal(periods, order) {
			t.Errorf("periods %q, want %q", periods, order)
		}
	})
	t.Run("commitments list money, not actions", func(t *testing.T) {
		if len(report.Commitments) != 10 {
			t.Errorf("%d commitments, want the 10 of kind funding or in-kind",
				len(report.Commitments))
		}
		for _, c := range report.Commitments {
			if c.Kind == domain.ActionCommitment || c.State != domain.OpenCommitment {
				t.Errorf("commitment %+v, want funding or in-kind, open", c)
			}
		}
	})
	t.Run("no pooled funding, two issues to serve", func(t *testing.T) {
		if len(report.Pooled.ByFunder) != 0 || report.Pooled.IssuesServed != 2 {
			t.Errorf("pooled %+v, want none serving 2 issues", report.Pooled)
		}
	})
	t.Run("in kind only", func(t *testing.T) {
		r := e.funding(domain.FundingFilter{Kind: domain.InKindCommitment})
		want(t, line(t, r.Totals, domain.TotalKey, ""), 0, 0, 5, 5)
		if len(r.Totals) != 1 {
			t.Errorf("totals %+v, want only undisclosed in-kind support", r.Totals)
		}
	})
}

// fundingScene is a small funding scene: three issues, funders, and commitments in
// every state.
type fundingScene struct {
	issues                  [3]uuid.UUID
	objective               uuid.UUID
	city, trust, bank, shop uuid.UUID
	partial, full, gone     uuid.UUID
}

// commit makes a commitment; issue uuid.Nil makes it pooled, cents nil
// undisclosed.
func (e *env) commit(partner, issue, objective uuid.UUID, kind domain.CommitmentKind,
	cents *int64, currency, period string) uuid.UUID {
	e.t.Helper()
	c := domain.MakeCommitment{PartnerID: partner.String(), Kind: string(kind),
		Description: "Support for " + period, AmountCents: cents, Currency: currency,
		Period: period, Pooled: issue == uuid.Nil}
	if issue != uuid.Nil {
		c.IssueID = issue.String()
	}
	if objective != uuid.Nil {
		c.ObjectiveID = objective.String()
	}
	r, err := e.cmd.MakeCommitment(e.ctx(), meta, c)
	return must(e.t, r, err).Event.AggregateID
}

func (e *env) fulfil(commitment uuid.UUID, cents *int64, complete bool) {
	e.t.Helper()
	r, err := e.cmd.FulfilCommitment(e.ctx(), meta, domain.FulfilCommitment{
		CommitmentID: commitment.String(), AmountCents: cents, Complete: complete})
	must(e.t, r, err)
}

func cents(n int64) *int64 { return &n }

func writeFunding(e *env) fundingScene {
	e.t.Helper()
	var m fundingScene
	for i, title := range []string{"Graduation", "Housing", "Health"} {
		m.issues[i] = e.issue(title)
	}
	m.objective = e.objective(m.issues[0], domain.Resources, "Aligned funding")
	m.city = e.partner("City of Tacoma", domain.Government)
	m.trust = e.partner("Community Trust", domain.Foundation)
	m.bank = e.partner("Harbor Bank", domain.Business)
	m.shop = e.partner("Print Shop", domain.Business)

	m.partial = e.commit(m.city, m.issues[0], m.objective, domain.FundingCommitment,
		cents(100_000_00), "USD", "2024")
	e.fulfil(m.partial, cents(30_000_00), false)
	e.fulfil(m.partial, cents(20_000_00), false)

	m.full = e.commit(m.trust, m.issues[1], uuid.Nil, domain.FundingCommitment,
		cents(50_000_00), "EUR", "2024")
	e.fulfil(m.full, cents(10_000_00), false)
	e.fulfil(m.full, cents(40_000_00), true)

	m.gone = e.commit(m.bank, m.issues[1], uuid.Nil, domain.FundingCommitment,
		cents(75_000_00), "USD", "2025")
	e.fulfil(m.gone, cents(5_000_00), false)
	r, err := e.cmd.WithdrawCommitment(e.ctx(), meta, domain.WithdrawCommitment{
		CommitmentID: m.gone.String(), Reason: "budget cut"})
	must(e.t, r, err)

	e.commit(m.bank, uuid.Nil, uuid.Nil, domain.FundingCommitment, cents(20_000_00), "USD",
		"2024")
	e.commit(m.trust, uuid.Nil, uuid.Nil, domain.FundingCommitment, cents(8_000_00), "EUR",
		"2024")
	e.commit(m.shop, m.issues[2], uuid.Nil, domain.InKindCommitment, nil, "", "2024-Q3")
	e.commit(m.shop, m.issues[2], uuid.Nil, domain.ActionCommitment, nil, "", "2024")
	return m
}

func TestFunding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := writeFunding(e)
	e.projectModel(NewFunding(""))
	report := e.funding(domain.FundingFilter{})
	states := map[uuid.UUID]domain.CommitmentView{}
	for _, c := range report.Commitments {
		states[c.ID] = c
	}

	t.Run("part delivered stays open", func(t *testing.T) {
		c := states[m.partial]
		if c.FulfilledCents != 50_000_00 || c.State != domain.OpenCommitment ||
			c.ObjectiveTitle != "Aligned funding" || c.IssueTitle != "Graduation" {
			t.Errorf("commitment %+v, want 5000000 cents delivered, open, with titles", c)
		}
		want(t, line(t, report.ByFunder, m.city.String(), "USD"), 100_000_00, 50_000_00, 1, 0)
	})
	t.Run("all delivered is fulfilled", func(t *testing.T) {
		c := states[m.full]
		if c.FulfilledCents != 50_000_00 || c.State != domain.FulfilledCommitment ||
			c.Version != 3 {
			t.Errorf("commitment %+v, want 5000000 cents delivered, fulfilled, version 3", c)
		}
	})
	t.Run("withdrawn is listed but counts nowhere", func(t *testing.T) {
		c := states[m.gone]
		if c.State != domain.WithdrawnCommitment || c.FulfilledCents != 5_000_00 {
			t.Errorf("commitment %+v, want withdrawn with what was delivered", c)
		}
		for _, l := range report.ByIssue {
			if l.Key == m.issues[1].String() && l.Currency == "USD" {
				t.Errorf("line %+v, want none: the only USD pledge to Housing was withdrawn", l)
			}
		}
	})
	t.Run("two currencies are kept apart", func(t *testing.T) {
		want(t, line(t, report.Totals, domain.TotalKey, "USD"), 120_000_00, 50_000_00, 2, 0)
		want(t, line(t, report.Totals, domain.TotalKey, "EUR"), 58_000_00, 50_000_00, 2, 0)
		want(t, line(t, report.Totals, domain.TotalKey, ""), 0, 0, 1, 1)
	})
	t.Run("pooled funding serves every issue", func(t *testing.T) {
		if report.Pooled.IssuesServed != 3 || len(report.Pooled.ByFunder) != 2 {
			t.Fatalf("pooled %+v, want two funders serving 3 issues", report.Pooled)
		}
		want(t, line(t, report.Pooled.ByFunder, m.bank.String(), "USD"), 20_000_00, 0, 1, 0)
		want(t, line(t, report.Pooled.ByFunder, m.trust.String(), "EUR"), 8_000_00, 0, 1, 0)
		pooled := line(t, report.ByIssue, domain.PooledKey, "USD")
		if pooled.Label != "Shared backbone (pooled)" || report.ByIssue[len(report.ByIssue)-1].
			Key != domain.PooledKey {
			t.Errorf("by issue %+v, want the pooled lines last", report.ByIssue)
		}
	})
	t.Run("every table adds up to the totals", func(t *testing.T) {
		tables := map[string][]domain.FundingLine{"by_funder": report.ByFunder,
			"by_issue": report.ByIssue, "by_objective": report.ByObjective,
			"by_period": report.ByPeriod}
		for name, lines := range tables {
			sums := map[string][2]int64{}
			for _, l := range lines {
				s := sums[l.Currency]
				sums[l.Currency] = [2]int64{s[0] + l.PledgedCents, s[1] + l.FulfilledCents}
			}
			for _, total := range report.Totals {
				got := sums[total.Currency]
				if got != [2]int64{total.PledgedCents, total.FulfilledCents} {
					t.Errorf("%s in %q adds up to %v, want %d %d", name, total.Currency, got,
						total.PledgedCents, total.FulfilledCents)
				}
			}
		}
	})
	t.Run("filters", func(t *testing.T) {
		byIssue := e.funding(domain.FundingFilter{IssueID: &m.issues[0]})
		if len(byIssue.Commitments) != 1 || len(byIssue.Pooled.ByFunder) != 2 {
			t.Errorf("issue filter: %d commitments, %d pooled lines; want 1 and the 2 pooled",
				len(byIssue.Commitments), len(byIssue.Pooled.ByFunder))
		}
		byPartner := e.funding(domain.FundingFilter{PartnerID: &m.trust})
		want(t, line(t, byPartner.Totals, domain.TotalKey, "EUR"), 58_000_00, 50_000_00, 2, 0)
		if len(byPartner.Pooled.ByFunder) != 1 {
			t.Errorf("partner filter: pooled %+v, want only the trust's", byPartner.Pooled)
		}
		byPeriod := e.funding(domain.FundingFilter{Period: "2024-q3"})
		want(t, line(t, byPeriod.Totals, domain.TotalKey, ""), 0, 0, 1, 1)
		byKind := e.funding(domain.FundingFilter{Kind: "in-kind"})
		if len(byKind.Commitments) != 1 || byKind.Commitments[0].Kind != domain.InKindCommitment {
			t.Errorf("kind filter: %+v, want the one in-kind commitment", byKind.Commitments)
		}
	})
	t.Run("a malformed filter names its field", func(t *testing.T) {
		_, err := NewFundingReader(e.pool, "").Funding(e.ctx(),
			domain.FundingFilter{Kind: domain.ActionCommitment})
		if domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("kind action: %v, want an invalid-input error", err)
		}
	})
}

// TestFundingIsExact adds up more than a float64 holds to the cent: ten
// pledges of the largest amount the domain takes (10^15 cents) pass 2^53, where
// a float sum would lose each of the many one-cent pledges that follow.
func TestFundingIsExact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	issue := e.issue("Graduation")
	funder := e.partner("Community Trust", domain.Foundation)
	const large, bigOnes, small = int64(1_000_000_000_000_000), 10, 300
	for range bigOnes {
		e.commit(funder, issue, uuid.Nil, domain.FundingCommitment, cents(large), "USD", "2024")
	}
	for range small {
		e.commit(funder, issue, uuid.Nil, domain.FundingCommitment, cents(1), "USD", "2024")
	}
	e.projectModel(NewFunding(""))

	total := line(t, e.funding(domain.FundingFilter{}).Totals, domain.TotalKey, "USD")
	want(t, total, bigOnes*large+small, 0, bigOnes+small, 0)
}

// TestLargeDeliveriesAreApplied: a delivery beyond a 32-bit integer of cents is
// applied, not parked as poison.
func TestLargeDeliveriesAreApplied(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	issue := e.issue("Graduation")
	funder := e.partner("Community Trust", domain.Foundation)
	c := e.commit(funder, issue, uuid.Nil, domain.FundingCommitment, cents(5_000_000_000),
		"USD", "2024")
	e.fulfil(c, cents(3_000_000_000), false)
	e.projectModel(NewFunding(""))
	e.projectModel(NewScorecard(""))

	total := line(t, e.funding(domain.FundingFilter{}).Totals, domain.TotalKey, "USD")
	want(t, total, 5_000_000_000, 3_000_000_000, 1, 0)
}

// TestFundingFollowsRenames: a renamed objective shows its new title.
func TestFundingFollowsRenames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := writeFunding(e)
	_, err := e.cmd.RenameObjective(e.ctx(), meta, domain.RenameObjective{
		ObjectiveID: m.objective.String(), Title: "Funding aligned to shared goals"})
	if err != nil {
		t.Fatal(err)
	}
	e.projectModel(NewFunding("funding_renamed"))
	r, err := NewFundingReader(e.pool, "funding_renamed").Funding(e.ctx(),
		domain.FundingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	l := line(t, r.ByObjective, m.objective.String(), "USD")
	if l.Label != "Funding aligned to shared goals" {
		t.Errorf("objective label %q, want the new title", l.Label)
	}
}
