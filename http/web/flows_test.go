package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/http/web"
)

func TestForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newScene(f)
	report := "/measures/" + s.graduation.String() + "/progress/new"

	t.Run("suggests the current period", func(t *testing.T) {
		r := f.get(s.editor, report)
		if !strings.Contains(r.body, `name="period" type="text" value="2026"`) {
			t.Errorf("the period field does not suggest 2026:\n%s", r.body)
		}
		if !strings.Contains(r.body, `value="Tacoma Public Schools (your partner)" readonly`) {
			t.Errorf("an editor is not shown as reporting for its partner")
		}
	})

	for _, tc := range []struct {
		name, field, value, reason string
	}{
		{"a value that is not a number", "value", "about 80", "is not a number"},
		{"a percentage beyond 100", "value", "120", "outside 0-100"},
		{"a period in no known form", "period", "Spring 2026", "is not a period"},
	} {
		t.Run("shows "+tc.name+" beside its field, input kept", func(t *testing.T) {
			before := f.last()
			values := map[string]string{"period": "2026", "value": "81", "note": "kept note"}
			values[tc.field] = tc.value
			r := f.post(s.editor, report, "period", values["period"], "value", values["value"],
				"note", values["note"])
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; page says: %s", r.status, text(r.body))
			}
			errorBeside := regexp.MustCompile(`id="f-` + tc.field + `"[^>]*value="` +
				regexp.QuoteMeta(tc.value) + `"[^>]*aria-invalid="true"[\s\S]*?` +
				`<p class="error" id="e-` + tc.field + `">[^<]*<[^>]*>[^<]*</span>[^<]*` +
				regexp.QuoteMeta(tc.reason))
			if !errorBeside.MatchString(r.body) {
				t.Errorf("no error %q beside %s with its input kept:\n%s", tc.reason, tc.field,
					r.body)
			}
			if !strings.Contains(r.body, ">kept note</textarea>") {
				t.Error("the note was not kept")
			}
			if f.last() != before {
				t.Error("an invalid form appended an event")
			}
		})
	}

	t.Run("a form without its CSRF token is refused", func(t *testing.T) {
		before := f.last()
		u := s.editor
		u.csrf = ""
		r := f.post(u, report, "period", "2026", "value", "81")
		if r.status != http.StatusForbidden ||
			!strings.Contains(text(r.body), "did not come from") {
			t.Errorf("status %d, page says: %s; want 403", r.status, text(r.body))
		}
		u.csrf = "forged"
		r = f.post(u, report, "period", "2026", "value", "81")
		if r.status != http.StatusForbidden {
			t.Errorf("a forged token: status %d, want 403", r.status)
		}
		if f.last() != before {
			t.Error("a refused form appended an event")
		}
	})

	t.Run("the next page shows the change", func(t *testing.T) {
		r := f.post(s.editor, report, "period", "2026", "value", "81.5", "note", "Class of 2026",
			"key", "form-1")
		page := text(f.follow(s.editor, r).body)
		for _, want := range []string{"Your value was recorded.", "81.5 %", "Class of 2026",
			"Tacoma Public Schools"} {
			if !strings.Contains(page, want) {
				t.Errorf("the measure page lacks %q:\n%s", want, page)
			}
		}

		again := f.post(s.editor, report, "period", "2026", "value", "81.5",
			"note", "Class of 2026", "key", "form-1")
		if page := text(f.follow(s.editor, again).body); !strings.Contains(page,
			"already recorded") {
			t.Errorf("sending the form twice did not say it was already recorded:\n%s", page)
		}

		home := text(f.get(s.editor, "/").body)
		if !strings.Contains(home, "2026 reported") {
			t.Errorf("home does not show 2026 as reported:\n%s", home)
		}
		if other := text(f.get(s.other, "/").body); !strings.Contains(other,
			"2026 not reported yet") {
			t.Errorf("the other editor's home does not show 2026 as due:\n%s", other)
		}
	})

	t.Run("another partner's measure is refused with the reason", func(t *testing.T) {
		r := f.post(s.other, report, "period", "2026", "value", "70")
		want := "only on measures its partner owns or reports"
		if r.status != http.StatusForbidden || !strings.Contains(text(r.body), want) {
			t.Errorf("status %d, page says %q; want 403 saying %q", r.status, text(r.body), want)
		}
	})

	t.Run("a commitment amount is taken in dollars", func(t *testing.T) {
		r := f.post(s.editor, "/commitments/new", "issue_id", s.issue.String(), "kind", "funding",
			"description", "Summer tutoring", "amount", "12.345", "period", "2026")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-amount"`) {
			t.Errorf("status %d; want 400 with the error beside the amount", r.status)
		}
	})
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *web.Config) { c.SecureCookies = true })
	s := newScene(f)

	t.Run("a wrong password says so, a right one starts a session", func(t *testing.T) {
		b := newBrowser(f)
		r := b.submit("/signin", "email", s.editor.email, "password", "wrong password")
		if r.status != http.StatusUnauthorized ||
			!strings.Contains(text(r.body), "the email address or the password is wrong") {
			t.Fatalf("status %d, page says: %s", r.status, text(r.body))
		}
		if !strings.Contains(r.body, `value="editor@tps.example.org"`) {
			t.Error("the address was not kept")
		}

		r = b.submit("/signin", "email", s.editor.email, "password", "a long enough password",
			"next", "/issues")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/issues" {
			t.Fatalf("status %d to %q, want 303 to /issues", r.status, r.header.Get("Location"))
		}
		cookie := r.header.Get("Set-Cookie")
		for _, want := range []string{"bb_session=", "HttpOnly", "SameSite=Lax", "Secure"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		if r := b.get("/issues"); r.status != http.StatusOK {
			t.Errorf("signed in, /issues: status %d", r.status)
		}
		if r := b.submit("/signout"); r.status != http.StatusSeeOther {
			t.Errorf("sign out: status %d", r.status)
		}
		if r := b.get("/issues"); r.status != http.StatusSeeOther {
			t.Errorf("signed out, /issues: status %d, want 303 to sign in", r.status)
		}
	})

	t.Run("a redirect after sign-in stays on this site", func(t *testing.T) {
		b := newBrowser(f)
		r := b.submit("/signin", "email", s.viewer.email, "password", "a long enough password",
			"next", "//evil.example/")
		if r.header.Get("Location") != "/" {
			t.Errorf("redirect to %q, want /", r.header.Get("Location"))
		}
	})

	t.Run("repeated failures are throttled", func(t *testing.T) {
		b := newBrowser(f)
		var r response
		for range accounts.MaxFailures + 1 {
			r = b.submit("/signin", "email", s.analyst.email, "password", "guess again")
		}
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" ||
			!strings.Contains(text(r.body), "too many failed sign-ins") {
			t.Errorf("status %d, page says: %s; want 429", r.status, text(r.body))
		}
	})

	t.Run("the sign-in form needs its token", func(t *testing.T) {
		r := f.post(user{}, "/signin", "email", s.editor.email,
			"password", "a long enough password")
		if r.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", r.status)
		}
	})
}

func TestInvitation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newScene(f)

	r := f.post(s.admin, "/admin/invitations", "email", "dana@tps.example.org",
		"role", string(domain.RoleEditor), "partner_id", s.district.String())
	if r.status != http.StatusCreated {
		t.Fatalf("invite: status %d, page says: %s", r.status, text(r.body))
	}
	link := regexp.MustCompile(`value="(http://[^"]+/invitations/[^"]+)"`).
		FindStringSubmatch(r.body)
	if link == nil {
		t.Fatalf("no invitation link on the page:\n%s", r.body)
	}
	u, err := url.Parse(link[1])
	if err != nil {
		t.Fatal(err)
	}

	t.Run("an editor needs a partner", func(t *testing.T) {
		r := f.post(s.admin, "/admin/invitations", "email", "eli@example.org",
			"role", string(domain.RoleEditor))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-partner_id"`) {
			t.Errorf("status %d; want 400 with the error beside the partner", r.status)
		}
	})

	b := newBrowser(f)
	page := b.get(u.Path)
	if !strings.Contains(text(page.body), "partner editor of Tacoma Public Schools") {
		t.Errorf("the invitation page does not say who is invited:\n%s", text(page.body))
	}
	r = b.submit(u.Path, "password", "my new password", "confirm", "my other password")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-confirm"`) {
		t.Errorf("mismatched passwords: status %d", r.status)
	}
	r = b.submit(u.Path, "password", "my new password", "confirm", "my new password")
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept: status %d, page says: %s", r.status, text(r.body))
	}
	home := text(b.get("/").body)
	if !strings.Contains(home, "Tacoma Public Schools") || !strings.Contains(home,
		"Graduation rate") {
		t.Errorf("the new editor's home lacks its partner and measure:\n%s", home)
	}
	if r := newBrowser(f).get(u.Path); r.status != http.StatusNotFound {
		t.Errorf("a used link: status %d, want 404", r.status)
	}
}

// browser keeps cookies like a browser does, for the forms shown before
// sign-in; it reads each page's CSRF token and sends it with the next form.
type browser struct {
	f       *fixture
	cookies map[string]string
	csrf    string
}

func newBrowser(f *fixture) *browser { return &browser{f: f, cookies: map[string]string{}} }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) response {
	b.f.t.Helper()
	return b.do(http.MethodGet, path, nil)
}

// submit posts a form from the page at path, fetching the page first for its
// token when none is known.
func (b *browser) submit(path string, pairs ...string) response {
	b.f.t.Helper()
	if b.csrf == "" {
		page := path
		if path == "/signout" {
			page = "/"
		}
		b.get(page)
	}
	form := url.Values{"csrf": {b.csrf}}
	for i := 0; i+1 < len(pairs); i += 2 {
		form.Set(pairs[i], pairs[i+1])
	}
	return b.do(http.MethodPost, path, form)
}

func (b *browser) do(method, path string, form url.Values) response {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.url+path, body)
	if err != nil {
		b.f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, err := client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		b.cookies[c.Name] = c.Value
		if c.Value == "" || c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		}
	}
	if m := csrfField.FindStringSubmatch(string(data)); m != nil {
		b.csrf = m[1]
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}
