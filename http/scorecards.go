package http

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// The scorecards of an objective and of a partner, beside an issue's
// (reads.go): the same rows, population indicators apart from performance
// measures, chosen another way.

// objectiveScorecard returns one objective's measures, with the objective and
// its rolled-up status.
func (s *Server) objectiveScorecard(c echo.Context) error {
	return s.scorecardOf(c, "objective", s.reads.ObjectiveScorecard)
}

// partnerScorecard returns the measures a partner owns or reports, across
// issues.
func (s *Server) partnerScorecard(c echo.Context) error {
	return s.scorecardOf(c, "partner", s.reads.PartnerScorecard)
}

// scorecardOf answers with the scorecard read names for the path's :id, a
// kind of resource, once the read model has reached ?after.
func (s *Server) scorecardOf(c echo.Context, kind string,
	read func(context.Context, uuid.UUID) (domain.Scorecard, error)) error {
	id, err := pathID(c, kind)
	if err != nil {
		return err
	}
	if err := s.waitAfter(c); err != nil {
		return err
	}
	card, err := read(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, card)
}
