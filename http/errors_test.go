package http

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

func TestProblemFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		code   domain.Code
	}{
		{"invalid", domain.Invalid("name", "is required"), http.StatusBadRequest,
			domain.CodeInvalid},
		{"not found", domain.Errorf(domain.CodeNotFound, "x"), http.StatusNotFound,
			domain.CodeNotFound},
		{"conflict", domain.ErrConcurrency, http.StatusConflict, domain.CodeConflict},
		{"precondition failed", domain.Errorf(domain.CodePreconditionFailed, "x"),
			http.StatusPreconditionFailed, domain.CodePreconditionFailed},
		{"unauthorized", domain.Errorf(domain.CodeUnauthorized, "x"), http.StatusUnauthorized,
			domain.CodeUnauthorized},
		{"forbidden", domain.Errorf(domain.CodeForbidden, "x"), http.StatusForbidden,
			domain.CodeForbidden},
		{"unavailable", domain.Errorf(domain.CodeUnavailable, "x"),
			http.StatusServiceUnavailable, domain.CodeUnavailable},
		{"internal", domain.Errorf(domain.CodeInternal, "x"), http.StatusInternalServerError,
			domain.CodeInternal},
		{"an unknown code", domain.Errorf("teapot", "x"), http.StatusInternalServerError,
			domain.CodeInternal},
		{"a wrapped domain error", fmt.Errorf("append: %w", domain.ErrConcurrency),
			http.StatusConflict, domain.CodeConflict},
		{"a plain error", errors.New("disk full"), http.StatusInternalServerError,
			domain.CodeInternal},
		{"Echo's 404", echo.ErrNotFound, http.StatusNotFound, ""},
		{"Echo's 405", echo.ErrMethodNotAllowed, http.StatusMethodNotAllowed, ""},
		{"Echo's 500", echo.ErrInternalServerError, http.StatusInternalServerError,
			domain.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problemFor(tt.err)
			if p.Status != tt.status || p.Code != tt.code || p.Title == "" || p.Type == "" {
				t.Errorf("problem %+v, want status %d code %q with a type and a title",
					p, tt.status, tt.code)
			}
		})
	}

	t.Run("an internal error's message stays out", func(t *testing.T) {
		p := problemFor(errors.New("dial tcp 10.0.0.7:5432: refused"))
		if p.Detail == "" || p.Detail == "dial tcp 10.0.0.7:5432: refused" {
			t.Errorf("detail %q, want a generic message", p.Detail)
		}
	})
	t.Run("invalid input keeps its fields", func(t *testing.T) {
		p := problemFor(domain.Invalid("period", "is not a period"))
		if len(p.Errors) != 1 || p.Errors[0].Field != "period" {
			t.Errorf("errors %+v, want one naming period", p.Errors)
		}
	})
}
