package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

// pages holds one template set per page: the layout and the page's content.
type pages struct {
	sets map[string]*template.Template
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).
			ParseFS(files, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.sets[base] = t
	}
	return p, nil
}

// view is what every page's template gets: the page's own data under Data.
type view struct {
	Title   string
	Session *accounts.Session
	CSRF    string
	// Stale says the read model had not caught up with the user's last change.
	Stale bool
	// Done says what the last form did, shown once after its redirect.
	Done string
	Path string
	Data any
}

// IsAdmin, IsEditor and MayWrite tell templates which actions to offer; the
// domain still decides whether an action is allowed.
func (v view) IsAdmin() bool {
	return v.Session != nil && v.Session.User.Role == domain.RoleAdmin
}

// IsEditor reports whether the user is a partner editor.
func (v view) IsEditor() bool {
	return v.Session != nil && v.Session.User.Role == domain.RoleEditor
}

// MayWrite reports whether the user's role writes at all.
func (v view) MayWrite() bool { return v.IsAdmin() || v.IsEditor() }

// RoleName names the user's role.
func (v view) RoleName() string {
	if v.Session == nil {
		return ""
	}
	return accounts.RoleName(v.Session.User.Role)
}

// render writes a page with the layout.
func (h *Handler) render(r *request, status int, page, title string, data any) error {
	t, ok := h.pages.sets[page]
	if !ok {
		return fmt.Errorf("no template for page %q", page)
	}
	v := view{Title: title, Session: r.sess, CSRF: r.csrf, Stale: r.stale,
		Done: doneMessages[r.QueryParam("done")], Path: r.Request().URL.Path, Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	return r.HTMLBlob(status, buf.Bytes())
}

// doneMessages confirm what a form did; the redirect after it names one.
var doneMessages = map[string]string{
	"reported":  "Your value was recorded.",
	"corrected": "The value was corrected.",
	"target":    "The target was set.",
	"measure":   "The measure was defined.",
	"committed": "Your commitment was recorded.",
	"issue":     "The issue was launched.",
	"objective": "The objective was defined.",
	"linked":    "The objectives were linked.",
	"partner":   "The partner was registered.",
	"already":   "This was already recorded; nothing changed.",
}

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Heading string
	Message string
	Fields  []domain.FieldError
}

// fail shows an error as a page a person can act on. Only internal errors
// are logged, once, here at the edge, and their details stay out of the page.
func (h *Handler) fail(r *request, err error) {
	status := statusOf(err)
	d := errorData{Status: status, Heading: http.StatusText(status)}
	var de *domain.Error
	switch {
	case status == http.StatusInternalServerError:
		req := r.Request()
		h.log.LogAttrs(req.Context(), slog.LevelError, "internal error",
			slog.String("method", req.Method), slog.String("path", req.URL.Path),
			slog.String("err", err.Error()))
		d.Heading = "Something went wrong"
		d.Message = "The server could not show this page. The failure was logged; " +
			"try again in a moment."
	case errors.As(err, &de):
		d.Heading, d.Message, d.Fields = headings[de.Code], de.Message, de.Fields
	}
	if status == http.StatusServiceUnavailable {
		r.Response().Header().Set("Retry-After", "1")
	}
	if rerr := h.render(r, status, "error", d.Heading, d); rerr != nil {
		h.log.Error("render error page", "err", rerr)
		_ = r.String(status, d.Heading+": "+d.Message)
	}
}

// headings title the error page for each code.
var headings = map[domain.Code]string{
	domain.CodeInvalid:            "Please check your input",
	domain.CodeNotFound:           "Not found",
	domain.CodeConflict:           "This clashes with what is already recorded",
	domain.CodePreconditionFailed: "Someone else changed this meanwhile",
	domain.CodeUnauthorized:       "Please sign in",
	domain.CodeForbidden:          "You may not do this",
	domain.CodeUnavailable:        "Not available right now",
}

// statusOf maps an error's code to the status of the page that shows it.
func statusOf(err error) int {
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid:
		return http.StatusBadRequest
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeConflict:
		return http.StatusConflict
	case domain.CodePreconditionFailed:
		return http.StatusPreconditionFailed
	case domain.CodeUnauthorized:
		return http.StatusUnauthorized
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// funcs are the helpers templates format with.
var funcs = template.FuncMap{
	"status":      statusLabel,
	"statusClass": func(s domain.Status) string { return strings.ReplaceAll(string(s), "_", "-") },
	"number":      number,
	"money":       money,
	"svg":         func(s string) template.HTML { return template.HTML(s) }, // drawn by charts
	"date":        func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"perspective": domain.DefaultLabel,
	"roleName":    accounts.RoleName,
	"humanize":    func(v any) string { return humanize(fmt.Sprint(v)) },
	"deref":       func(v *float64) float64 { return *v },
	"list":        func(v ...any) []any { return v },
	"percent":     func(v *float64) string { return number(*v) + " %" },
	"signed":      signed,
	"trend":       trendLabel,
	"question":    questionLabel,
}

// statusLabels say a status in words, behind an icon, so colour never carries
// it alone.
var statusLabels = map[domain.Status]string{
	domain.OnTrack:  "✔ On track",
	domain.AtRisk:   "▲ At risk",
	domain.OffTrack: "✖ Off track",
	domain.NoData:   "– No data",
	domain.NoTarget: "○ No target",
}

func statusLabel(s domain.Status) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return humanize(string(s))
}

// trendLabel says a measure's trend in words, with an arrow for the eye:
// "↗ better for 3 periods". Better and worse already account for polarity.
func trendLabel(j domain.Judgement) string {
	arrows := map[domain.Trend]string{domain.Better: "↗", domain.Worse: "↘", domain.Flat: "→"}
	if j.Trend == "" {
		return "no trend yet"
	}
	periods := "period"
	if j.TrendPeriods != 1 {
		periods += "s"
	}
	return fmt.Sprintf("%s %s for %d %s", arrows[j.Trend], j.Trend, j.TrendPeriods, periods)
}

// questionLabel is the question of Results-Based Accountability a
// performance measure answers.
func questionLabel(q domain.Question) string {
	switch q {
	case domain.HowMuch:
		return "How much did we do?"
	case domain.HowWell:
		return "How well did we do it?"
	case domain.BetterOff:
		return "Is anyone better off?"
	}
	return humanize(string(q))
}

// signed formats a change with its sign: "+27.6", "-3".
func signed(v *float64) string {
	if *v > 0 {
		return "+" + number(*v)
	}
	return number(*v)
}

// humanize turns an enum value such as "school_district" into "school district".
func humanize(s string) string { return strings.ReplaceAll(s, "_", " ") }

// number formats a value with at most two decimals and no trailing zeros.
func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// money formats integer cents (an int64 or a *int64) as an amount with
// thousands separators; a nil amount was not published.
func money(amount any, currency string) string {
	var cents int64
	switch a := amount.(type) {
	case int64:
		cents = a
	case *int64:
		if a == nil {
			return "undisclosed"
		}
		cents = *a
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	s := sign + whole
	if c := cents % 100; c != 0 {
		s += fmt.Sprintf(".%02d", c)
	}
	if currency == "" {
		return s
	}
	return s + " " + currency
}
