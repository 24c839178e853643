package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// activityFeed answers GET /api/v1/activity: one page of who changed what,
// newest first, filtered by ?issue_id= and ?partner_id=. ?before= is the next
// of the page before (the newest page without it); ?limit= is 1 to 200.
func (s *Server) activityFeed(c echo.Context) error {
	if s.activity == nil {
		return notAvailable("the activity feed")
	}
	f, err := domain.ParseActivityFilter(c.QueryParam("issue_id"), c.QueryParam("partner_id"),
		c.QueryParam("before"), c.QueryParam("limit"))
	if err != nil {
		return err
	}
	if err := s.waitUntil(c, s.activity.Position); err != nil {
		return err
	}
	page, err := s.activity.Activity(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if page.Items == nil {
		page.Items = []domain.Activity{}
	}
	return c.JSON(http.StatusOK, page)
}
