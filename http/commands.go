package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/domain"
)

// maxBody is the largest request body a command accepts.
const maxBody = 1 << 20

// commandResponse is the body of every successful command: the aggregate the
// command acted on, its version after the command, and the event that records
// the command's effect, whether appended now or found already recorded.
type commandResponse struct {
	ID       uuid.UUID    `json:"id"`
	Version  uint64       `json:"version"`
	Sequence uint64       `json:"sequence"`
	Appended bool         `json:"appended"`
	Event    domain.Event `json:"event"`
}

// command returns the handler of one command endpoint. It decodes the body into
// a C, lets fill copy the path's :id into the command, runs it as the request's
// principal and answers 201 when an event was appended, 200 when the effect was
// already recorded. A non-empty location (a path prefix) marks a command that
// creates a resource at location + aggregate ID.
func command[C any](s *Server, run func(context.Context, domain.Meta, C) (domain.Result, error),
	fill func(*C, echo.Context), location string) echo.HandlerFunc {
	return func(c echo.Context) error {
		meta, err := s.meta(c)
		if err != nil {
			return err
		}
		var cmd C
		if err := decode(c, &cmd, c.Request().Method == http.MethodDelete); err != nil {
			return err
		}
		if fill != nil {
			fill(&cmd, c)
		}

		res, err := run(c.Request().Context(), meta, cmd)
		if err != nil {
			return err
		}

		status := http.StatusOK
		if res.Appended {
			status = http.StatusCreated
			if location != "" {
				c.Response().Header().Set("Location", location+res.Event.AggregateID.String())
			}
		}
		c.Response().Header().Set("ETag", etag(res.Version))
		return c.JSON(status, commandResponse{
			ID:       res.Event.AggregateID,
			Version:  res.Version,
			Sequence: res.Event.Sequence,
			Appended: res.Appended,
			Event:    res.Event,
		})
	}
}

// meta authenticates a write and reads the headers that shape it: If-Match,
// Idempotency-Key and X-Correlation-ID.
func (s *Server) meta(c echo.Context) (domain.Meta, error) {
	h := c.Request().Header
	token, ok := bearer(h.Get("Authorization"))
	if !ok || s.auth == nil {
		return domain.Meta{}, domain.Errorf(domain.CodeUnauthorized,
			"a write needs an Authorization: Bearer <token> header")
	}
	p, err := s.auth.Authenticate(c.Request().Context(), token)
	if err != nil {
		return domain.Meta{}, err
	}
	meta := domain.Meta{
		Actor:          p.Actor,
		Role:           p.Role,
		PartnerID:      p.PartnerID,
		IdempotencyKey: h.Get("Idempotency-Key"),
	}

	if v := h.Get("If-Match"); v != "" {
		n, err := parseETag(v)
		if err != nil {
			return domain.Meta{}, domain.Invalid("If-Match",
				"%q is not a version; send the ETag of your last read, such as \"3\"", v)
		}
		meta.IfMatch = &n
	}
	if v := h.Get("X-Correlation-ID"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return domain.Meta{}, domain.Invalid("X-Correlation-ID", "%q is not a UUID", v)
		}
		meta.CorrelationID = id
	}
	return meta, nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// etag quotes an aggregate version as an entity tag.
func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// parseETag reads a version from an If-Match header, quoted or not.
func parseETag(v string) (uint64, error) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, errors.New("not a version")
	}
	return strconv.ParseUint(v, 10, 64)
}

// decode reads the request body into v strictly: one JSON object of at most
// maxBody bytes, with no field v does not have. Its errors name the field at
// fault, or "body" when the body as a whole is wrong. An optional body may be
// left empty.
func decode(c echo.Context, v any, optional bool) error {
	r := c.Request()
	if optional && r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return domain.Invalid("body", "must hold a single JSON object and nothing after it")
	}
	return nil
}

// decodeError turns an error of encoding/json into an invalid-input error.
func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		wrong    *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return domain.Invalid("body", "is required; send a JSON object")
	case errors.As(err, &tooLarge):
		return domain.Invalid("body", "must be at most %d bytes", tooLarge.Limit)
	case errors.As(err, &syntax):
		return domain.Invalid("body", "is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Invalid("body", "is not valid JSON (it ends too early)")
	case errors.As(err, &wrong):
		if wrong.Field == "" {
			return domain.Invalid("body", "must be a JSON object, not %s", wrong.Value)
		}
		return domain.Invalid(wrong.Field, "must be %s, not %s", jsonType(wrong), wrong.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unquoted, uerr := strconv.Unquote(name); uerr == nil {
			name = unquoted
		}
		return domain.Invalid(name, "is not a field of this command")
	}
	return domain.Invalid("body", "cannot be read: %v", err)
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number within range"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number within range"
	case reflect.Bool:
		return "true or false"
	}
	return "a " + e.Type.String()
}
