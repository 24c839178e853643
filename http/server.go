// Package http serves Backbone's JSON API with Echo: one POST per domain command,
// the read model's queries, and health checks. It decodes requests, turns
// headers into domain.Meta and maps domain errors to RFC 9457 problems; every
// decision stays in the domain.
package http

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/backbone-ci/backbone/domain"
)

// Config is what a Server needs. Commands, Reads and Auth are required.
type Config struct {
	// Commands decides and appends every write.
	Commands *domain.Commands
	// Reads answers the queries.
	Reads domain.ReadModel
	// Auth turns the bearer token of a write into a principal.
	Auth domain.Authenticator
	// Funding reads funding reports; without it, the funding routes answer
	// 404 "not available".
	Funding domain.FundingReader
	// Activity reads the activity feed; without it, its route answers 404
	// "not available".
	Activity domain.ActivityReader
	// StrategyMaps draws issues' strategy maps; without it, the strategy-map
	// routes answer 404 "not available".
	StrategyMaps domain.StrategyMapReader
	// Operations reports the projectors and whether the database and the event
	// store answer (status.go); without it, /api/v1/status and /metrics answer
	// 404 "not available" and /readyz asks only the read model.
	Operations domain.Operations
	// Logger receives one line per request and each internal error; default
	// slog.Default().
	Logger *slog.Logger
	// AfterWait is how long a read with ?after=SEQ waits for the read model to
	// reach SEQ before it answers 503; default 5s.
	AfterWait time.Duration
}

// pollInterval is how often a read with ?after=SEQ asks the read model how far
// it is.
const pollInterval = 20 * time.Millisecond

// Server is Backbone's HTTP server. It implements net/http.Handler.
type Server struct {
	echo      *echo.Echo
	commands  *domain.Commands
	reads     domain.ReadModel
	funding   domain.FundingReader
	activity  domain.ActivityReader
	maps      domain.StrategyMapReader
	ops       domain.Operations
	auth      domain.Authenticator
	log       *slog.Logger
	afterWait time.Duration
}

var _ http.Handler = (*Server)(nil)

// New returns a Server with every route of the JSON API.
func New(cfg Config) *Server {
	s := newServer(cfg)
	s.routes()
	return s
}

// newServer returns a Server without routes.
func newServer(cfg Config) *Server {
	s := &Server{
		echo:      echo.New(),
		commands:  cfg.Commands,
		reads:     cfg.Reads,
		funding:   cfg.Funding,
		activity:  cfg.Activity,
		maps:      cfg.StrategyMaps,
		ops:       cfg.Operations,
		auth:      cfg.Auth,
		log:       cfg.Logger,
		afterWait: cfg.AfterWait,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.afterWait <= 0 {
		s.afterWait = 5 * time.Second
	}

	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.logRequests, middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll:     true,
		DisableErrorHandler: true,
		LogErrorFunc:        panicked,
	}))
	return s
}

// Echo returns the Echo instance the API is served by, for further routes such
// as the web UI's. Routes added to it get the same logging, recovery and error
// handling.
func (s *Server) Echo() *echo.Echo { return s.echo }

// ServeHTTP implements net/http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.echo.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.operationsRoutes()

	api := s.echo.Group("/api/v1")
	api.POST("/partners", command(s, s.commands.RegisterPartner, nil,
		"/api/v1/partners/"))
	api.POST("/issues", command(s, s.commands.LaunchIssue, nil,
		"/api/v1/issues/"))
	api.POST("/issues/:id/objectives", command(s, s.commands.DefineObjective,
		func(cmd *domain.DefineObjective, c echo.Context) { cmd.IssueID = c.Param("id") },
		"/api/v1/objectives/"))
	api.POST("/objectives/:id/links", command(s, s.commands.LinkObjectives,
		func(cmd *domain.LinkObjectives, c echo.Context) { cmd.CauseID = c.Param("id") }, ""))
	api.POST("/objectives/:id/measures", command(s, s.commands.DefineMeasure,
		func(cmd *domain.DefineMeasure, c echo.Context) { cmd.ObjectiveID = c.Param("id") },
		"/api/v1/measures/"))
	api.POST("/measures/:id/targets", command(s, s.commands.SetTarget,
		func(cmd *domain.SetTarget, c echo.Context) { cmd.MeasureID = c.Param("id") }, ""))
	api.POST("/measures/:id/progress", command(s, s.commands.ReportProgress,
		func(cmd *domain.ReportProgress, c echo.Context) { cmd.MeasureID = c.Param("id") }, ""))
	api.POST("/measures/:id/corrections", command(s, s.commands.CorrectProgress,
		func(cmd *domain.CorrectProgress, c echo.Context) { cmd.MeasureID = c.Param("id") }, ""))
	api.POST("/commitments", command(s, s.commands.MakeCommitment, nil,
		"/api/v1/commitments/"))

	api.POST("/objectives/:id/rename", command(s, s.commands.RenameObjective,
		func(cmd *domain.RenameObjective, c echo.Context) { cmd.ObjectiveID = c.Param("id") }, ""))
	api.POST("/objectives/:id/retire", command(s, s.commands.RetireObjective,
		func(cmd *domain.RetireObjective, c echo.Context) { cmd.ObjectiveID = c.Param("id") }, ""))
	api.DELETE("/objectives/:id/links/:effect", command(s, s.commands.UnlinkObjectives,
		func(cmd *domain.UnlinkObjectives, c echo.Context) {
			cmd.CauseID, cmd.EffectID = c.Param("id"), c.Param("effect")
		}, ""))
	api.PUT("/issues/:id/perspective-labels", command(s, s.commands.SetPerspectiveLabels,
		func(cmd *domain.SetPerspectiveLabels, c echo.Context) { cmd.IssueID = c.Param("id") }, ""))
	api.POST("/measures/:id/retire", command(s, s.commands.RetireMeasure,
		func(cmd *domain.RetireMeasure, c echo.Context) { cmd.MeasureID = c.Param("id") }, ""))
	api.PUT("/measures/:id/status-bands", command(s, s.commands.SetStatusBands,
		func(cmd *domain.SetStatusBands, c echo.Context) { cmd.MeasureID = c.Param("id") }, ""))
	api.POST("/commitments/:id/fulfilments", command(s, s.commands.FulfilCommitment,
		func(cmd *domain.FulfilCommitment, c echo.Context) { cmd.CommitmentID = c.Param("id") },
		""))
	api.POST("/commitments/:id/withdrawal", command(s, s.commands.WithdrawCommitment,
		func(cmd *domain.WithdrawCommitment, c echo.Context) { cmd.CommitmentID = c.Param("id") },
		""))

	api.GET("/issues", s.issues)
	api.GET("/issues/:id/scorecard", s.scorecard)
	api.GET("/measures/:id", s.measure)
	api.GET("/funding", s.fundingReport)
	api.GET("/funding.csv", s.fundingCSV)
	api.GET("/activity", s.activityFeed)
	api.GET("/objectives/:id/scorecard", s.objectiveScorecard)
	api.GET("/partners/:id/scorecard", s.partnerScorecard)
	api.GET("/issues/:id/strategy-map", s.strategyMap)
	api.GET("/issues/:id/strategy-map.svg", s.strategyMapSVG)
}

// logRequests writes one line per request, after the response is written. It is
// the outermost middleware, so it also sees the status of handled errors.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		r := c.Request()
		path := r.URL.Path
		if c.Param("token") != "" { // an invitation's secret never reaches the logs
			path = c.Path()
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", path),
			slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)))
		return nil
	}
}

// panicked turns a recovered panic into an internal error carrying its stack,
// for the log only. The panic value is formatted, not wrapped, so a panic can
// never pass for a domain error.
func panicked(_ echo.Context, err error, stack []byte) error {
	return fmt.Errorf("panic: %v\n%s", err, stack)
}
