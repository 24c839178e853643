// Package web serves Backbone's web UI: server-rendered HTML pages from Go
// templates through Echo, with its stylesheet embedded in the binary and no
// script, so every page works without JavaScript. Partner staff sign in
// (session.go), read scorecards, measures, funding and activity (pages.go,
// reports.go) and post changes through forms (forms.go) that run the same
// domain commands as the JSON API, as the signed-in user: the domain decides
// who may do what, and this package only shows its answer.
package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

//go:embed templates/*.html static/*
var files embed.FS

// Partner is a partner as the forms offer it.
type Partner = domain.PartnerSummary

// PartnerReader lists every partner by name, for the forms that name one and
// the filters of reports.
type PartnerReader = domain.PartnerReader

// Config is what the UI needs. Commands, Reads and Accounts are required; a
// nil optional reader makes its page say that the view is not available yet.
type Config struct {
	Commands *domain.Commands
	Reads    domain.ReadModel
	Accounts *accounts.Store
	// Partners lists partners; without it, forms ask for a partner's ID.
	Partners PartnerReader
	// Maps reads strategy maps; without it, the issue page lists the
	// objectives that have measures instead of drawing the map.
	Maps     domain.StrategyMapReader
	Funding  domain.FundingReader
	Activity domain.ActivityReader
	// Logger receives internal errors; default slog.Default().
	Logger *slog.Logger
	// AfterWait bounds how long a page shown after a form waits for the read
	// model to reach the form's event; default 5s.
	AfterWait time.Duration
	// BaseURL is the address people reach the UI at, such as
	// "https://backbone.example.org", for invitation links; default: the
	// address each request arrived at.
	BaseURL string
	// SecureCookies marks cookies Secure even when the request did not arrive
	// over TLS, for a server behind a TLS-terminating proxy.
	SecureCookies bool
	// Now is the clock that suggests the current period; default time.Now.
	Now func() time.Time
}

// Handler serves the UI. Mount adds its routes to an Echo instance, such as
// the JSON API's (http.Server.Echo).
type Handler struct {
	cfg   Config
	log   *slog.Logger
	pages *pages
}

// New parses the templates and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AfterWait <= 0 {
		cfg.AfterWait = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, log: cfg.Logger, pages: p}, nil
}

// Mount adds the UI's routes to e: pages at the root, the stylesheet under
// /static/. It leaves /api/, /livez and /readyz to the API.
func (h *Handler) Mount(e *echo.Echo) {
	static, _ := fs.Sub(files, "static") // the directory is embedded: it exists
	e.GET("/static/*", echo.WrapHandler(
		http.StripPrefix("/static/", http.FileServerFS(static))))
	e.GET("/signin", h.anonymous(h.signInPage))
	e.POST("/signin", h.anonymous(h.signIn))
	e.GET("/invitations/:token", h.anonymous(h.invitationPage))
	e.POST("/invitations/:token", h.anonymous(h.acceptInvitation))
	e.POST("/signout", h.signedIn(h.signOut))

	e.GET("/", h.signedIn(h.home))
	e.GET("/issues", h.signedIn(h.issues))
	e.GET("/issues/:id", h.signedIn(h.issue))
	e.GET("/measures/:id", h.signedIn(h.measure))
	e.GET("/funding", h.signedIn(h.funding))
	e.GET("/funding.csv", h.signedIn(h.fundingCSV))
	e.GET("/activity", h.signedIn(h.activity))
	e.GET("/admin/users", h.signedIn(h.users))
	e.POST("/admin/invitations", h.signedIn(h.invite))

	for _, f := range h.forms() {
		e.GET(f.path, h.signedIn(f.show))
		e.POST(f.path, h.signedIn(f.post))
	}
}
