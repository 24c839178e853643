package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// The operations routes: health checks for load balancers and orchestrators,
// and how far each projector is, for operators, as JSON and as Prometheus
// metrics. They answer the same in every process, whether or not it runs the
// projectors (domain.Operations).

// NewOperations returns a Server with only the operations routes, for a
// process that runs projectors and serves no API ("backbone project").
func NewOperations(ops domain.Operations, log *slog.Logger) *Server {
	s := newServer(Config{Operations: ops, Logger: log})
	s.operationsRoutes()
	return s
}

func (s *Server) operationsRoutes() {
	s.echo.GET("/livez", s.live)
	s.echo.GET("/readyz", s.ready)
	s.echo.GET("/metrics", s.metrics)
	s.echo.GET("/api/v1/status", s.status)
}

// live answers 200 while the process serves requests at all.
func (s *Server) live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ready answers 200 when the database, the event store and the read model
// answer, so that a load balancer sends traffic only to an instance that can
// serve, and an orchestrator restarts one that cannot.
func (s *Server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	body := map[string]any{"status": "ready"}
	if s.ops != nil {
		if err := s.ops.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			return err
		}
	}
	if s.reads != nil {
		pos, err := s.reads.Position(ctx)
		if err != nil {
			s.log.Warn("not ready: read model position", "err", err)
			return domain.Errorf(domain.CodeUnavailable, "the read model is not reachable")
		}
		body["position"] = pos
	}
	return c.JSON(http.StatusOK, body)
}

// statusResponse is the body of GET /api/v1/status.
type statusResponse struct {
	// StreamLast is the sequence of the newest event on the stream.
	StreamLast uint64                   `json:"stream_last"`
	Projectors []domain.ProjectorStatus `json:"projectors"`
}

// status reports every projector: position, lag in events and in time,
// whether a process runs it, and its poison events.
func (s *Server) status(c echo.Context) error {
	all, err := s.projectors(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, statusResponse{StreamLast: streamLast(all), Projectors: all})
}

func (s *Server) projectors(ctx context.Context) ([]domain.ProjectorStatus, error) {
	if s.ops == nil {
		return nil, notAvailable("projector status")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	all, err := s.ops.Status(ctx)
	if all == nil {
		all = []domain.ProjectorStatus{}
	}
	return all, err
}

func streamLast(all []domain.ProjectorStatus) uint64 {
	var last uint64
	for _, p := range all {
		last = max(last, p.StreamLast)
	}
	return last
}

// metrics writes the projectors' status in the Prometheus text exposition
// format, version 0.0.4.
func (s *Server) metrics(c echo.Context) error {
	all, err := s.projectors(c.Request().Context())
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, m := range projectorMetrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", m.name, m.help, m.name)
		for _, p := range all {
			fmt.Fprintf(&b, "%s{projector=\"%s\"} %s\n", m.name, labelValue(p.Name),
				strconv.FormatFloat(m.value(p), 'g', -1, 64))
		}
	}
	fmt.Fprintf(&b, "# HELP backbone_stream_last_sequence The sequence of the newest "+
		"event on the stream.\n# TYPE backbone_stream_last_sequence gauge\n"+
		"backbone_stream_last_sequence %d\n", streamLast(all))
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8",
		[]byte(b.String()))
}

// projectorMetrics are the gauges of each projector, labelled by its name.
var projectorMetrics = []struct {
	name, help string
	value      func(domain.ProjectorStatus) float64
}{
	{"backbone_projector_position",
		"The stream sequence of the last event the read model holds.",
		func(p domain.ProjectorStatus) float64 { return float64(p.Position) }},
	{"backbone_projector_events_behind",
		"How many events on the stream the read model has not applied yet.",
		func(p domain.ProjectorStatus) float64 { return float64(p.Behind) }},
	{"backbone_projector_lag_seconds",
		"How long the oldest event the read model has not applied has waited; 0 when " +
			"caught up.",
		func(p domain.ProjectorStatus) float64 { return p.OldestUnprocessedAge }},
	{"backbone_projector_poisoned_events",
		"Events the projector could not apply: parked, or the one it is stuck on.",
		func(p domain.ProjectorStatus) float64 { return float64(len(p.Poisoned)) }},
	{"backbone_projector_stuck",
		"1 while the projector is stuck on an event it cannot apply, else 0.",
		func(p domain.ProjectorStatus) float64 { return boolValue(stuck(p)) }},
	{"backbone_projector_active",
		"1 while some process runs the projector (holds its lock), else 0.",
		func(p domain.ProjectorStatus) float64 { return boolValue(p.Active) }},
}

func stuck(p domain.ProjectorStatus) bool {
	for _, x := range p.Poisoned {
		if !x.Parked {
			return true
		}
	}
	return false
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// labelValue escapes a label value as the exposition format asks.
func labelValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
