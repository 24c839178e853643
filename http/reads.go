package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// issuesResponse is the body of GET /api/v1/issues.
type issuesResponse struct {
	Issues []domain.IssueSummary `json:"issues"`
}

// issues lists every issue.
func (s *Server) issues(c echo.Context) error {
	if err := s.waitAfter(c); err != nil {
		return err
	}
	list, err := s.reads.Issues(c.Request().Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []domain.IssueSummary{}
	}
	return c.JSON(http.StatusOK, issuesResponse{Issues: list})
}

// scorecard returns one issue's measures against their targets.
func (s *Server) scorecard(c echo.Context) error {
	id, err := pathID(c, "issue")
	if err != nil {
		return err
	}
	if err := s.waitAfter(c); err != nil {
		return err
	}
	card, err := s.reads.Scorecard(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, card)
}

// measure returns one measure with its series; its ETag is the measure's
// version, for a later write's If-Match.
func (s *Server) measure(c echo.Context) error {
	id, err := pathID(c, "measure")
	if err != nil {
		return err
	}
	if err := s.waitAfter(c); err != nil {
		return err
	}
	m, err := s.reads.Measure(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(m.Version))
	return c.JSON(http.StatusOK, m)
}

// pathID parses the :id of a read; a malformed one names nothing that exists.
func pathID(c echo.Context, kind string) (uuid.UUID, error) {
	s := c.Param("id")
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, domain.Errorf(domain.CodeNotFound, "%s %q does not exist", kind, s)
	}
	return id, nil
}

// waitAfter gives a client read-your-writes: with ?after=SEQ, where SEQ is the
// sequence of an event it wrote, the read waits until the read model has applied
// that event, up to the server's AfterWait, and else fails as unavailable.
func (s *Server) waitAfter(c echo.Context) error {
	return s.waitUntil(c, s.reads.Position)
}

// waitUntil is waitAfter on a read model of its own (funding, activity): each
// read model has its own checkpoint, and position reads it.
func (s *Server) waitUntil(c echo.Context,
	position func(context.Context) (uint64, error)) error {
	raw, ok := c.QueryParams()["after"]
	if !ok {
		return nil
	}
	after, err := strconv.ParseUint(raw[0], 10, 64)
	if err != nil || len(raw) > 1 {
		return domain.Invalid("after",
			"must be one stream sequence, a non-negative integer such as 42")
	}

	ctx := c.Request().Context()
	deadline := time.NewTimer(s.afterWait)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		pos, err := position(ctx)
		if err != nil {
			return err
		}
		if pos >= after {
			return nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return domain.Errorf(domain.CodeUnavailable,
				"the read model has reached sequence %d, not yet %d; retry shortly", pos, after)
		case <-ctx.Done():
			return domain.Errorf(domain.CodeUnavailable,
				"the request ended before the read model reached sequence %d", after)
		}
	}
}
