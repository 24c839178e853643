package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// problemType prefixes the type URI of every problem; the domain error code
// completes it, so clients can switch on either.
const problemType = "urn:backbone:problem:"

// problem is an RFC 9457 problem detail, the body of every error response.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Code   domain.Code         `json:"code,omitempty"`
	Errors []domain.FieldError `json:"errors,omitempty"`
}

// problemFor is the one place an error becomes an HTTP status: a domain error
// by its code, an error of Echo's router (unknown route, wrong method) by its
// own status, and anything else as an internal error whose details stay out of
// the response.
func problemFor(err error) problem {
	var de *domain.Error
	if errors.As(err, &de) {
		p := problem{Code: de.Code, Detail: de.Message, Errors: de.Fields}
		switch de.Code {
		case domain.CodeInvalid:
			p.Status, p.Title = http.StatusBadRequest, "Invalid input"
		case domain.CodeNotFound:
			p.Status, p.Title = http.StatusNotFound, "Not found"
		case domain.CodeConflict:
			p.Status, p.Title = http.StatusConflict, "Conflict"
		case domain.CodePreconditionFailed:
			p.Status, p.Title = http.StatusPreconditionFailed, "Precondition failed"
		case domain.CodeUnauthorized:
			p.Status, p.Title = http.StatusUnauthorized, "Unauthorized"
		case domain.CodeForbidden:
			p.Status, p.Title = http.StatusForbidden, "Forbidden"
		case domain.CodeUnavailable:
			p.Status, p.Title = http.StatusServiceUnavailable, "Unavailable"
		default:
			return internalProblem()
		}
		p.Type = problemType + string(de.Code)
		return p
	}

	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code >= 400 && he.Code < 500 {
		p := problem{Type: "about:blank", Title: http.StatusText(he.Code), Status: he.Code}
		switch he.Code {
		case http.StatusNotFound:
			p.Detail = "there is no resource at this path"
		case http.StatusMethodNotAllowed:
			p.Detail = "this path does not accept this method; the Allow header lists those it does"
		}
		return p
	}
	return internalProblem()
}

func internalProblem() problem {
	return problem{
		Type:   problemType + string(domain.CodeInternal),
		Title:  "Internal error",
		Status: http.StatusInternalServerError,
		Detail: "the server failed to handle the request; the failure was logged",
		Code:   domain.CodeInternal,
	}
}

// handleError is Echo's error handler: it writes err as a problem and logs it
// when it is internal, which is the only time an operator needs to act.
func (s *Server) handleError(err error, c echo.Context) {
	p := problemFor(err)
	r := c.Request()
	if p.Status == http.StatusInternalServerError {
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("err", err.Error()))
	}
	if c.Response().Committed {
		return
	}

	h := c.Response().Header()
	switch p.Status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", "Bearer")
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	// Details quote headers such as "Bearer <token>"; keep them readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil { // a problem holds only strings and ints
		body.Reset()
		body.WriteString(`{"title":"Internal error","status":500}`)
	}
	if err := c.Blob(p.Status, "application/problem+json", body.Bytes()); err != nil {
		s.log.Debug("write problem", "err", err)
	}
}
