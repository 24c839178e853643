package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

// form is a form's state: what the user typed, the errors beside each field
// and a message for the whole form. Field names are the domain's, so that a
// domain.Error's fields land beside their inputs.
type form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string
	// Key is the form's idempotency key: sending the same form twice (a
	// double click, a reload) records its effect once.
	Key string
}

func newForm() *form {
	return &form{Values: map[string]string{}, Errors: map[string]string{},
		Key: accounts.NewToken()}
}

// take records an error a user can act on and reports whether it was one:
// invalid input beside its fields, any other domain error as the form's
// message. Internal errors are not taken.
func (f *form) take(err error) bool {
	var de *domain.Error
	if !errors.As(err, &de) || domain.ErrorCode(err) == domain.CodeInternal {
		return false
	}
	switch de.Code {
	case domain.CodeForbidden:
		f.Message = "You may not do this: " + de.Message + "."
		return true
	case domain.CodeInvalid:
	default:
		f.Message = de.Message
		return true
	}
	for _, fe := range de.Fields {
		if f.Errors[fe.Field] == "" {
			f.Errors[fe.Field] = fe.Reason
		}
	}
	return true
}

// field is one labelled input of a form.
type field struct {
	Name, Label, Hint string
	// Type is an input type ("text", "password", "email"), "select" or "textarea".
	Type      string
	InputMode string
	Options   []option
	// Suggestions feed a datalist: values the user can pick or overwrite.
	Suggestions []string
	Optional    bool
	// Fixed is shown instead of an input when the value is not the user's to
	// choose (an editor's own partner).
	Fixed        string
	Value, Error string
}

// option is one choice of a select.
type option struct{ Value, Label string }

// formSpec is one form of the UI and the command it runs.
type formSpec struct {
	path, title, submit string
	// prepare returns the form's fields and an introduction, and sets the
	// defaults of a new form. It fails with CodeNotFound for a missing subject.
	prepare func(r *request, f *form, fresh bool) (intro string, fields []field, err error)
	// run runs the command on the posted values and says where to go next.
	run func(r *request, f *form) (res domain.Result, next, done string, err error)
}

// formPage is what the form template shows.
type formPage struct {
	Action, Submit, Intro string
	Fields                []field
	Form                  *form
	// Summary lists the fields in error, to link to them from the top.
	Summary []field
	// Other lists errors of fields this form does not show.
	Other []string
}

func (s formSpec) show(r *request) error {
	f := newForm()
	return s.render(r, f, true, http.StatusOK)
}

func (s formSpec) post(r *request) error {
	f := newForm()
	if params, err := r.FormParams(); err == nil {
		for name, v := range params {
			if name != "csrf" && name != "key" {
				f.Values[name] = strings.TrimSpace(v[0])
			}
		}
	}
	if k := r.FormValue("key"); k != "" {
		f.Key = k
	}
	res, next, done, err := s.run(r, f)
	if err != nil {
		if !f.take(err) {
			return err
		}
		return s.render(r, f, false, statusOf(err))
	}
	if !res.Appended {
		done = "already"
	}
	sep := "?"
	if strings.Contains(next, "?") {
		sep = "&"
	}
	return r.Redirect(http.StatusSeeOther,
		fmt.Sprintf("%s%safter=%d&done=%s", next, sep, res.Event.Sequence, done))
}

func (s formSpec) render(r *request, f *form, fresh bool, status int) error {
	intro, fields, err := s.prepare(r, f, fresh)
	if err != nil {
		return err
	}
	p := formPage{Action: r.Request().URL.Path, Submit: s.submit, Intro: intro, Form: f}
	shown := map[string]bool{}
	for i := range fields {
		shown[fields[i].Name] = true
		fields[i].Value = f.Values[fields[i].Name]
		fields[i].Error = f.Errors[fields[i].Name]
		if fields[i].Error != "" {
			p.Summary = append(p.Summary, fields[i])
		}
	}
	p.Fields = fields
	for name, reason := range f.Errors {
		if !shown[name] {
			p.Other = append(p.Other, humanize(name)+": "+reason)
		}
	}
	slices.Sort(p.Other)
	return r.h.render(r, status, "form", s.title, p)
}

// forms lists every form of the UI.
func (h *Handler) forms() []formSpec {
	return []formSpec{
		h.reportForm(), h.correctForm(), h.targetForm(), h.measureForm(),
		h.commitmentForm(), h.issueForm(), h.objectiveForm(), h.linkForm(), h.partnerForm(),
	}
}

// number parses a number as people type it: "57", "57.5", "57 %", "1,200".
// An empty optional value is nil.
func parseNumber(f *form, name string, optional bool) *float64 {
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f.Values[name]), "%"))
	if s == "" {
		if !optional {
			f.Errors[name] = "is required; type a number such as 57 or 57.5"
		}
		return nil
	}
	if thousands.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f.Errors[name] = fmt.Sprintf("%q is not a number; type digits with a dot for "+
			"decimals, such as 57.5", f.Values[name])
		return nil
	}
	return &v
}

var thousands = regexp.MustCompile(`^-?\d{1,3}(,\d{3})+(\.\d+)?$`)

// parseCents parses an amount in whole currency units with at most two
// decimals ("2500000", "1,200.50") into integer cents, without a float.
func parseCents(f *form, name string) *int64 {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f.Values[name]), "$"))
	if s == "" {
		return nil
	}
	if thousands.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" || strings.Trim(whole+frac, "0123456789") != "" {
		f.Errors[name] = fmt.Sprintf("%q is not an amount; type it such as 2500000 or "+
			"1200.50, or leave it empty if it was not published", f.Values[name])
		return nil
	}
	frac += strings.Repeat("0", 2-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		f.Errors[name] = "is too large"
		return nil
	}
	return &n
}

// invalid turns the errors a form found itself into the domain's error, so
// that they show like the domain's own.
func (f *form) invalid() error {
	if len(f.Errors) == 0 {
		return nil
	}
	return &domain.Error{Code: domain.CodeInvalid, Message: "the input is invalid"}
}

// partnerField is the partner a command acts for: an editor's own partner,
// fixed, or a choice among all partners for an admin.
func (h *Handler) partnerField(r *request, name, label string, optional bool) (field, error) {
	fd := field{Name: name, Label: label, Optional: optional, Type: "select"}
	if r.role() == domain.RoleEditor && r.sess.User.PartnerID != nil {
		fd.Fixed = h.partnerName(r, *r.sess.User.PartnerID) + " (your partner)"
		return fd, nil
	}
	partners, err := h.partners(r)
	if err != nil {
		return fd, err
	}
	if partners == nil {
		fd.Type, fd.Hint = "text", "the partner's ID (a UUID)"
		return fd, nil
	}
	if optional {
		fd.Options = append(fd.Options, option{"", "(none)"})
	}
	for _, p := range partners {
		fd.Options = append(fd.Options, option{p.ID.String(), p.Name})
	}
	return fd, nil
}

// measureSubject reads the measure a form acts on.
func (h *Handler) measureSubject(r *request) (domain.MeasureView, error) {
	id, err := uuid.Parse(r.Param("id"))
	if err != nil {
		return domain.MeasureView{}, domain.Errorf(domain.CodeNotFound,
			"measure %q does not exist", r.Param("id"))
	}
	return h.cfg.Reads.Measure(r.Request().Context(), id)
}

func measureIntro(m domain.MeasureView) string {
	return fmt.Sprintf("%s (%s), under “%s”.", m.Name, m.Unit, m.ObjectiveTitle)
}

func valueHint(unit string) string {
	if domain.IsPercent(unit) {
		return "in %, from 0 to 100: type 57 for 57 %, not 0.57"
	}
	return "in " + unit
}

func (h *Handler) reportForm() formSpec {
	return formSpec{
		path: "/measures/:id/progress/new", title: "Report progress", submit: "Report",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			m, err := h.measureSubject(r)
			if err != nil {
				return "", nil, err
			}
			suggested := h.periods(m)
			if fresh {
				f.Values["period"] = suggested[0]
			}
			reporter, err := h.partnerField(r, "reporting_partner_id", "Reporting partner", true)
			if err != nil {
				return "", nil, err
			}
			return measureIntro(m), []field{
				{Name: "period", Label: "Period", Type: "text", Suggestions: suggested,
					Hint: "the current period is suggested; also 2014, 2014-15, 2014-Q3, 2014-09"},
				{Name: "value", Label: "Value", Type: "text", InputMode: "decimal",
					Hint: valueHint(m.Unit)},
				{Name: "disaggregation", Label: "Breakdown", Type: "text", Optional: true,
					Hint: "leave empty for the total; such as race=Black"},
				{Name: "note", Label: "Note", Type: "textarea", Optional: true},
				reporter,
			}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			v := parseNumber(f, "value", false)
			if err := f.invalid(); err != nil {
				return domain.Result{}, "", "", err
			}
			res, err := h.cfg.Commands.ReportProgress(r.Request().Context(), r.meta(f.Key),
				domain.ReportProgress{MeasureID: r.Param("id"), Period: f.Values["period"],
					Value: v, Disaggregation: f.Values["disaggregation"],
					Note: f.Values["note"], ReportingPartnerID: f.Values["reporting_partner_id"]})
			return res, "/measures/" + r.Param("id"), "reported", err
		},
	}
}

func (h *Handler) correctForm() formSpec {
	return formSpec{
		path: "/measures/:id/corrections/new", title: "Correct a value", submit: "Correct",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			m, err := h.measureSubject(r)
			if err != nil {
				return "", nil, err
			}
			var reported []string
			for _, p := range m.Series {
				reported = append(reported, p.Period)
			}
			if fresh {
				f.Values["period"] = r.QueryParam("period")
				f.Values["disaggregation"] = r.QueryParam("disaggregation")
			}
			return measureIntro(m) + " The value as first reported stays in the history.",
				[]field{
					{Name: "period", Label: "Period", Type: "text", Suggestions: unique(reported)},
					{Name: "disaggregation", Label: "Breakdown", Type: "text", Optional: true,
						Hint: "leave empty for the total"},
					{Name: "value", Label: "Correct value", Type: "text", InputMode: "decimal",
						Hint: valueHint(m.Unit)},
					{Name: "reason", Label: "Reason", Type: "textarea",
						Hint: "why the first value was wrong"},
				}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			v := parseNumber(f, "value", false)
			if err := f.invalid(); err != nil {
				return domain.Result{}, "", "", err
			}
			res, err := h.cfg.Commands.CorrectProgress(r.Request().Context(), r.meta(f.Key),
				domain.CorrectProgress{MeasureID: r.Param("id"), Period: f.Values["period"],
					Disaggregation: f.Values["disaggregation"], Value: v,
					Reason: f.Values["reason"]})
			return res, "/measures/" + r.Param("id"), "corrected", err
		},
	}
}

func (h *Handler) targetForm() formSpec {
	return formSpec{
		path: "/measures/:id/targets/new", title: "Set a target", submit: "Set target",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			m, err := h.measureSubject(r)
			if err != nil {
				return "", nil, err
			}
			return measureIntro(m), []field{
				{Name: "period", Label: "Period", Type: "text", Suggestions: h.periods(m)},
				{Name: "value", Label: "Target", Type: "text", InputMode: "decimal",
					Hint: valueHint(m.Unit)},
			}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			v := parseNumber(f, "value", false)
			if err := f.invalid(); err != nil {
				return domain.Result{}, "", "", err
			}
			res, err := h.cfg.Commands.SetTarget(r.Request().Context(), r.meta(f.Key),
				domain.SetTarget{MeasureID: r.Param("id"), Period: f.Values["period"], Value: v})
			return res, "/measures/" + r.Param("id"), "target", err
		},
	}
}

func (h *Handler) measureForm() formSpec {
	return formSpec{
		path: "/objectives/:id/measures/new", title: "Define a measure", submit: "Define",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			owner, err := h.partnerField(r, "owner_partner_id", "Owner", true)
			if err != nil {
				return "", nil, err
			}
			intro := "A measure under the objective “" + r.QueryParam("objective") + "”."
			if r.QueryParam("objective") == "" {
				intro = "A new measure under the chosen objective."
			}
			return intro, []field{
				{Name: "name", Label: "Name", Type: "text"},
				{Name: "unit", Label: "Unit", Type: "text",
					Suggestions: []string{"%", "count", "$", "years", "per 1,000 residents"}},
				{Name: "polarity", Label: "Good news is", Type: "select", Options: []option{
					{"higher", "higher is better"}, {"lower", "lower is better"}}},
				{Name: "kind", Label: "Kind", Type: "select", Options: []option{
					{"population", "population indicator (the whole community)"},
					{"performance", "performance measure (a program's own work)"}}},
				{Name: "question", Label: "Question it answers", Type: "select", Optional: true,
					Options: []option{{"", "(none: a population indicator)"},
						{"how_much", "How much did we do?"},
						{"how_well", "How well did we do it?"},
						{"better_off", "Is anyone better off?"}}},
				owner,
				{Name: "baseline_period", Label: "Baseline period", Type: "text", Optional: true},
				{Name: "baseline_value", Label: "Baseline value", Type: "text", Optional: true,
					InputMode: "decimal"},
			}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			baseline := parseNumber(f, "baseline_value", true)
			if err := f.invalid(); err != nil {
				return domain.Result{}, "", "", err
			}
			res, err := h.cfg.Commands.DefineMeasure(r.Request().Context(), r.meta(f.Key),
				domain.DefineMeasure{ObjectiveID: r.Param("id"), Name: f.Values["name"],
					Unit: f.Values["unit"], Polarity: f.Values["polarity"],
					Kind: f.Values["kind"], Question: f.Values["question"],
					OwnerPartnerID: f.Values["owner_partner_id"],
					BaselinePeriod: f.Values["baseline_period"], BaselineValue: baseline})
			return res, "/measures/" + res.Event.AggregateID.String(), "measure", err
		},
	}
}

func (h *Handler) commitmentForm() formSpec {
	return formSpec{
		path: "/commitments/new", title: "Make a commitment", submit: "Commit",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			partner, err := h.partnerField(r, "partner_id", "Partner", false)
			if err != nil {
				return "", nil, err
			}
			issues, err := h.cfg.Reads.Issues(r.Request().Context())
			if err != nil {
				return "", nil, err
			}
			issueField := field{Name: "issue_id", Label: "Issue", Type: "select"}
			for _, i := range issues {
				issueField.Options = append(issueField.Options, option{i.ID.String(), i.Title})
			}
			objectives := field{Name: "objective_id", Label: "Objective", Type: "select",
				Optional: true, Options: []option{{"", "(the issue as a whole)"}}}
			for _, i := range issues {
				list, _, err := h.objectives(r, i.ID)
				if err != nil {
					return "", nil, err
				}
				for _, o := range list {
					objectives.Options = append(objectives.Options,
						option{o.ID.String(), i.Title + " — " + o.Title})
				}
			}
			if fresh {
				f.Values["issue_id"] = r.QueryParam("issue")
				f.Values["currency"] = "USD"
				f.Values["period"] = domain.PeriodContaining(domain.Year, h.cfg.Now()).String()
			}
			return "What your partner commits to an issue: an action, money or an " +
					"in-kind contribution.", []field{
					partner, issueField, objectives,
					{Name: "kind", Label: "Kind", Type: "select", Options: []option{
						{"action", "action"}, {"funding", "funding"}, {"in_kind", "in kind"}}},
					{Name: "description", Label: "Description", Type: "textarea"},
					{Name: "amount", Label: "Amount", Type: "text", Optional: true,
						InputMode: "decimal", Hint: "for funding and in kind; leave empty if " +
							"not published"},
					{Name: "currency", Label: "Currency", Type: "text", Optional: true,
						Hint: "ISO 4217, such as USD"},
					{Name: "period", Label: "Period", Type: "text",
						Hint: "when it applies, such as 2026 or 2026-27"},
				}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			cents := parseCents(f, "amount")
			if err := f.invalid(); err != nil {
				return domain.Result{}, "", "", err
			}
			c := domain.MakeCommitment{PartnerID: f.Values["partner_id"],
				IssueID: f.Values["issue_id"], ObjectiveID: f.Values["objective_id"],
				Kind: f.Values["kind"], Description: f.Values["description"],
				AmountCents: cents, Period: f.Values["period"]}
			if cents != nil {
				c.Currency = f.Values["currency"]
			}
			if c.PartnerID == "" && r.sess.User.PartnerID != nil {
				c.PartnerID = r.sess.User.PartnerID.String()
			}
			res, err := h.cfg.Commands.MakeCommitment(r.Request().Context(), r.meta(f.Key), c)
			return res, "/", "committed", renameField(err, "amount_cents", "amount")
		},
	}
}

// renameField moves a domain field error to the form field that holds it.
func renameField(err error, from, to string) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	out := *de
	out.Fields = nil
	for _, f := range de.Fields {
		if f.Field == from {
			f.Field = to
		}
		out.Fields = append(out.Fields, f)
	}
	return &out
}

func (h *Handler) issueForm() formSpec {
	return formSpec{
		path: "/issues/new", title: "Launch an issue", submit: "Launch",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			return "A shared community issue, with its own strategy map and scorecard.",
				[]field{
					{Name: "title", Label: "Title", Type: "text"},
					{Name: "description", Label: "Description", Type: "textarea", Optional: true},
				}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			res, err := h.cfg.Commands.LaunchIssue(r.Request().Context(), r.meta(f.Key),
				domain.LaunchIssue{Title: f.Values["title"], Description: f.Values["description"]})
			return res, "/issues/" + res.Event.AggregateID.String(), "issue", err
		},
	}
}

func perspectiveOptions() []option {
	var opts []option
	for _, p := range domain.Perspectives {
		opts = append(opts, option{string(p), domain.DefaultLabel(p)})
	}
	return opts
}

func (h *Handler) objectiveForm() formSpec {
	return formSpec{
		path: "/issues/:id/objectives/new", title: "Define an objective", submit: "Define",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			issue, err := h.issueSubject(r)
			if err != nil {
				return "", nil, err
			}
			return "An objective on the strategy map of “" + issue.Title + "”.", []field{
				{Name: "perspective", Label: "Perspective", Type: "select",
					Options: perspectiveOptions()},
				{Name: "title", Label: "Title", Type: "text"},
			}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			res, err := h.cfg.Commands.DefineObjective(r.Request().Context(), r.meta(f.Key),
				domain.DefineObjective{IssueID: r.Param("id"),
					Perspective: f.Values["perspective"], Title: f.Values["title"]})
			next := "/objectives/" + res.Event.AggregateID.String() + "/measures/new?objective=" +
				url.QueryEscape(f.Values["title"])
			return res, next, "objective", err
		},
	}
}

func (h *Handler) linkForm() formSpec {
	return formSpec{
		path: "/issues/:id/links/new", title: "Link objectives", submit: "Link",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			issue, err := h.issueSubject(r)
			if err != nil {
				return "", nil, err
			}
			list, _, err := h.objectives(r, issue.ID)
			if err != nil {
				return "", nil, err
			}
			opts := []option{{"", "(choose an objective)"}}
			for _, o := range list {
				opts = append(opts, option{o.ID.String(), o.Title})
			}
			return "Say that one objective of “" + issue.Title + "” drives another.", []field{
				{Name: "cause_objective_id", Label: "Cause", Type: "select", Options: opts},
				{Name: "effect_objective_id", Label: "Drives (effect)", Type: "select",
					Options: opts},
			}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			if f.Values["cause_objective_id"] == "" {
				f.Errors["cause_objective_id"] = "is required"
				return domain.Result{}, "", "", f.invalid()
			}
			res, err := h.cfg.Commands.LinkObjectives(r.Request().Context(), r.meta(f.Key),
				domain.LinkObjectives{CauseID: f.Values["cause_objective_id"],
					EffectID: f.Values["effect_objective_id"]})
			return res, "/issues/" + r.Param("id"), "linked", err
		},
	}
}

func (h *Handler) partnerForm() formSpec {
	return formSpec{
		path: "/partners/new", title: "Register a partner", submit: "Register",
		prepare: func(r *request, f *form, fresh bool) (string, []field, error) {
			kinds := []option{}
			for _, k := range domain.PartnerKinds {
				kinds = append(kinds, option{string(k), humanize(string(k))})
			}
			return "An organisation that takes part in the effort.", []field{
				{Name: "name", Label: "Name", Type: "text"},
				{Name: "kind", Label: "Kind", Type: "select", Options: kinds},
			}, nil
		},
		run: func(r *request, f *form) (domain.Result, string, string, error) {
			res, err := h.cfg.Commands.RegisterPartner(r.Request().Context(), r.meta(f.Key),
				domain.RegisterPartner{Name: f.Values["name"], Kind: f.Values["kind"]})
			return res, "/", "partner", err
		},
	}
}

// periods suggests periods for a measure, the current one first: of the kind
// the measure was last reported in (years by default), then the three before.
func (h *Handler) periods(m domain.MeasureView) []string {
	kind := domain.Year
	last := ""
	for _, p := range m.Series {
		if p.Disaggregation == "" {
			last = p.Period
		}
	}
	if last == "" && m.Baseline != nil {
		last = m.Baseline.Period
	}
	if p, err := domain.ParsePeriod(last); err == nil {
		kind = p.Kind()
	}
	p := domain.PeriodContaining(kind, h.cfg.Now())
	out := []string{p.String()}
	for range 3 {
		p = domain.PeriodContaining(kind, p.Start().AddDate(0, 0, -1))
		out = append(out, p.String())
	}
	return out
}

func unique(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
