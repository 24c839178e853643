package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/eventstore"
	api "github.com/backbone-ci/backbone/http"
	"github.com/backbone-ci/backbone/http/web"
	"github.com/backbone-ci/backbone/internal/testenv"
	"github.com/backbone-ci/backbone/projections"
)

// fixture is one UI under test on real infrastructure: the command service on
// its own embedded JetStream, the scorecard (with strategy maps), funding and
// activity projectors and their readers on a fresh PostgreSQL database, real accounts, all served
// over HTTP on 127.0.0.1 together with the JSON API, as "backbone serve" mounts
// them.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	url      string
	store    *eventstore.Store
	pool     *pgxpool.Pool
	accounts *accounts.Store
	commands *domain.Commands
	// positions are the read models' positions, for waitForReads.
	positions []func(context.Context) (uint64, error)
}

// options tweak a fixture's UI configuration.
type options func(*web.Config)

func newFixture(t *testing.T, opts ...options) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, _ := testenv.Store(t)
	pool, _ := testenv.Pool(t)
	acc, err := accounts.Open(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	acc.PasswordCost = bcrypt.MinCost
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	var running sync.WaitGroup
	for _, name := range []string{projections.ScorecardSchema, projections.FundingSchema,
		projections.ActivitySchema} {
		p, err := projections.New(name, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := projections.MigrateProjection(ctx, pool, p); err != nil {
			t.Fatal(err)
		}
		projector := projections.NewProjector(pool, store.JetStream(), store.StreamName(), p,
			projections.Config{Logger: log, MaxWait: time.Second})
		running.Go(func() { _ = projector.Run(ctx) })
	}
	t.Cleanup(func() {
		cancel()
		running.Wait()
	})

	f := &fixture{t: t, ctx: ctx, store: store, pool: pool, accounts: acc,
		commands: &domain.Commands{Store: store}}
	reads := projections.NewReader(pool, projections.ScorecardSchema)
	server := api.New(api.Config{Commands: f.commands, Reads: reads, Auth: acc, Logger: log})
	funding := projections.NewFundingReader(pool, projections.FundingSchema)
	activity := projections.NewActivityReader(pool, projections.ActivitySchema)
	f.positions = append(f.positions, reads.Position, funding.Position, activity.Position)
	cfg := web.Config{Commands: f.commands, Reads: reads, Accounts: acc,
		Partners: reads, Logger: log, AfterWait: 10 * time.Second,
		Funding: funding, Activity: activity, Maps: reads,
		Now: func() time.Time { return time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC) }}
	for _, o := range opts {
		o(&cfg)
	}
	ui, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ui.Mount(server.Echo())
	hs := httptest.NewServer(server)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// trusted acts as an internal caller, to set the scene.
var trusted = domain.Meta{Actor: "test:setup"}

func (f *fixture) must(r domain.Result, err error) uuid.UUID {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("command: %v", err)
	}
	return r.Event.AggregateID
}

// last returns the stream's newest sequence.
func (f *fixture) last() uint64 {
	f.t.Helper()
	seq, err := f.store.LastSequence(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return seq
}

// user is a signed-in user of a test: its session cookie and CSRF token.
type user struct {
	email, token, csrf string
}

// addUser creates a user with a role and signs it in.
func (f *fixture) addUser(email string, role domain.Role, partner *uuid.UUID) user {
	f.t.Helper()
	_, err := f.accounts.AddUser(f.ctx, accounts.NewUser{Email: email,
		Password: "a long enough password", Role: role, PartnerID: partner})
	if err != nil {
		f.t.Fatal(err)
	}
	token, sess, err := f.accounts.SignIn(f.ctx, email, "a long enough password", "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return user{email: email, token: token, csrf: sess.CSRF}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   string
}

// client does not follow redirects, so tests see them.
var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// get requests a page as u (anonymous when u is the zero user).
func (f *fixture) get(u user, path string) response {
	f.t.Helper()
	return f.do(u, http.MethodGet, path, nil)
}

// post sends a form as u with u's CSRF token; pairs are name, value.
func (f *fixture) post(u user, path string, pairs ...string) response {
	f.t.Helper()
	form := url.Values{"csrf": {u.csrf}}
	for i := 0; i+1 < len(pairs); i += 2 {
		form.Set(pairs[i], pairs[i+1])
	}
	return f.do(u, http.MethodPost, path, form)
}

func (f *fixture) do(u user, method, path string, form url.Values) response {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.url+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if u.token != "" {
		req.AddCookie(&http.Cookie{Name: "bb_session", Value: u.token})
	}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// follow gets the page a redirect points to, as u.
func (f *fixture) follow(u user, r response) response {
	f.t.Helper()
	if r.status != http.StatusSeeOther {
		f.t.Fatalf("status %d, want 303; body:\n%s", r.status, r.body)
	}
	return f.get(u, r.header.Get("Location"))
}

var (
	tags   = regexp.MustCompile(`<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// text is a page's text without tags, with runs of space as one space.
func text(page string) string {
	s := html.UnescapeString(tags.ReplaceAllString(page, " "))
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}
