package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/charts"
	"github.com/backbone-ci/backbone/domain"
)

// An issue's strategy map, as JSON and as a picture drawn on the server
// (package charts). Both read Config.StrategyMaps; a server without one
// answers 404.

// strategyMap returns an issue's strategy map as JSON.
func (s *Server) strategyMap(c echo.Context) error {
	m, err := s.readStrategyMap(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// strategyMapSVG returns an issue's strategy map as an SVG picture.
func (s *Server) strategyMapSVG(c echo.Context) error {
	m, err := s.readStrategyMap(c)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/svg+xml", charts.StrategyMap(m))
}

// readStrategyMap reads the map of the path's issue once the read model has
// reached ?after.
func (s *Server) readStrategyMap(c echo.Context) (domain.StrategyMap, error) {
	if s.maps == nil {
		return domain.StrategyMap{}, domain.Errorf(domain.CodeNotFound,
			"strategy maps are not available on this server")
	}
	id, err := pathID(c, "issue")
	if err != nil {
		return domain.StrategyMap{}, err
	}
	if err := s.waitAfter(c); err != nil {
		return domain.StrategyMap{}, err
	}
	return s.maps.StrategyMap(c.Request().Context(), id)
}
