package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

// artifactsDir keeps what the browser tests leave for people to look at,
// such as a screenshot of the scorecard; it is ignored by git.
var artifactsDir = filepath.Join("..", "..", "artifacts")

// chromium returns the path of a Chromium or Chrome binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab starts headless Chromium with a fresh profile and no network of its
// own beyond this machine, and returns a tab that ends with the test.
func tab(t *testing.T) context.Context {
	t.Helper()
	path := chromium()
	if path == "" && os.Getenv("CI") != "" {
		t.Fatal("no Chromium found on PATH: .ci/run installs Debian's chromium; " +
			"the browser tests must run in CI")
	}
	if path == "" {
		t.Skip("no Chromium found on PATH (/usr/bin/chromium): install Debian's chromium " +
			"(apt-get install -y chromium) to run the browser tests")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The whole browser stops after a bound, so a hung page cannot hang CI.
	stop := time.AfterFunc(4*time.Minute, cancel)
	t.Cleanup(func() { stop.Stop() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium at %s: %v", path, err)
	}
	return ctx
}

// TestBrowser walks a partner editor through the UI in headless Chromium, on
// Graduate Tacoma's real data.
func TestBrowser(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	f := newFixture(t)
	f.loadTacoma()

	schools := tacomaID("partner_id", "P02")
	issue := tacomaID("issue_id", "I01")
	graduation := tacomaID("measure_id", "M01") // owned and reported by the schools
	enrollment := tacomaID("measure_id", "M04") // the Foundation's, never the schools'
	const email, password = "maria@tacomaschools.example.org", "the quarter is in"
	if _, err := f.accounts.AddUser(f.ctx, accounts.NewUser{Email: email, Password: password,
		Role: domain.RoleEditor, PartnerID: &schools}); err != nil {
		t.Fatal(err)
	}

	// Each group of steps has its own bound, so that a page that never shows
	// what a step waits for fails that step quickly.
	do := func(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(step, steps...); err != nil {
			t.Fatal(err)
		}
	}
	textOf := func(t *testing.T, sel string) string {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}

	t.Run("a wrong password is refused with a clear message", func(t *testing.T) {
		do(t, chromedp.Navigate(f.url+"/"),
			chromedp.WaitVisible(chromedp.CSS("#f-email")),
			chromedp.SendKeys(chromedp.CSS("#f-email"), email),
			chromedp.SendKeys(chromedp.CSS("#f-password"), "not my password\r"),
			chromedp.WaitVisible(chromedp.CSS("#signin-error")))
		if got := textOf(t, "#signin-error"); !strings.Contains(got, "password is wrong") {
			t.Errorf("message %q", got)
		}
	})

	t.Run("a partner editor signs in and sees its measures", func(t *testing.T) {
		do(t, chromedp.SendKeys(chromedp.CSS("#f-password"), password),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#my-measures")))
		screenshot(t, ctx, "home.png")
		home := textOf(t, "main")
		for _, want := range []string{"Tacoma Public Schools", "Four-year (on-time) high " +
			"school graduation rate", "2026 not reported yet"} {
			if !strings.Contains(home, want) {
				t.Errorf("home lacks %q:\n%s", want, home)
			}
		}
	})

	report := f.url + "/measures/" + graduation.String() + "/progress/new"
	t.Run("a bad value shows its error beside the field, input kept", func(t *testing.T) {
		do(t, chromedp.Navigate(report),
			chromedp.SendKeys(chromedp.CSS("#f-value"), "about eighty"),
			chromedp.SendKeys(chromedp.CSS("#f-note"), "Class of 2026"),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#e-value")))
		screenshot(t, ctx, "form-error.png")
		if got := textOf(t, "#e-value"); !strings.Contains(got, "is not a number") {
			t.Errorf("error beside the value: %q", got)
		}
		kept, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-value")))
		if err != nil || kept != "about eighty" {
			t.Errorf("value field holds %q (%v), want the input kept", kept, err)
		}
	})

	t.Run("a form without its CSRF token is refused", func(t *testing.T) {
		before := f.last()
		do(t, chromedp.Navigate(report), chromedp.WaitVisible(chromedp.CSS("#f-value")))
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`(document.querySelector('main form input[name=csrf]').remove(), true)`)); err != nil {
			t.Fatal(err)
		}
		do(t, chromedp.SendKeys(chromedp.CSS("#f-value"), "84.1"),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("main .alert")))
		if got := textOf(t, "main"); !strings.Contains(got, "did not come from a page") {
			t.Errorf("page says %q", got)
		}
		if f.last() != before {
			t.Error("the refused form appended an event")
		}
	})

	t.Run("the editor reports a value with the keyboard and sees it", func(t *testing.T) {
		do(t, chromedp.Navigate(report), chromedp.WaitVisible(chromedp.CSS("#f-value")))
		labelled(t, ctx)
		period, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#f-period")))
		if err != nil || period != "2026" {
			t.Errorf("the period picker suggests %q (%v), want 2026", period, err)
		}
		do(t, chromedp.SendKeys(chromedp.CSS("#f-note"), "Class of 2026, first count"),
			chromedp.SendKeys(chromedp.CSS("#f-value"), "84.1\r"),
			chromedp.WaitVisible(chromedp.CSS("main p.notice")))
		screenshot(t, ctx, "measure.png")
		page := textOf(t, "main")
		for _, want := range []string{"Your value was recorded.", "2026 84.1 % Tacoma " +
			"Public Schools Class of 2026, first count"} {
			if !strings.Contains(page, want) {
				t.Errorf("the measure page lacks %q:\n%s", want, page)
			}
		}
	})

	t.Run("the scorecard shows it", func(t *testing.T) {
		row := "#measure-" + graduation.String()
		do(t, chromedp.Navigate(f.url+"/issues/"+issue.String()),
			chromedp.WaitVisible(chromedp.CSS(row)))
		if got := textOf(t, row); !strings.Contains(got, "84.1 % (2026)") {
			t.Errorf("scorecard row %q, want 84.1 %% (2026)", got)
		}
		screenshot(t, ctx, "scorecard.png")
	})

	t.Run("the scorecard fits a phone", func(t *testing.T) {
		row := "#measure-" + graduation.String()
		do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
			chromedp.Navigate(f.url+"/issues/"+issue.String()),
			chromedp.WaitVisible(chromedp.CSS(row)))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Error("the page is wider than a phone's screen; only tables may scroll sideways")
		}
		screenshot(t, ctx, "scorecard-phone.png")
		do(t, chromedp.ResetViewport())
	})

	t.Run("another partner's measure is refused with the reason", func(t *testing.T) {
		before := f.last()
		do(t, chromedp.Navigate(f.url+"/measures/"+enrollment.String()+"/progress/new"),
			chromedp.SendKeys(chromedp.CSS("#f-value"), "60"),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("main .alert")))
		page := textOf(t, "main")
		if !strings.Contains(page, "You may not do this") ||
			!strings.Contains(page, "only on measures its partner owns or reports") {
			t.Errorf("page says %q", page)
		}
		if f.last() != before {
			t.Error("the refused report appended an event")
		}
	})

	t.Run("the editor makes a commitment and finds it on its home page", func(t *testing.T) {
		do(t, chromedp.Navigate(f.url+"/commitments/new?issue="+issue.String()),
			chromedp.WaitVisible(chromedp.CSS("#f-description")))
		labelled(t, ctx)
		do(t, chromedp.SetValue(chromedp.CSS("#f-kind"), "funding"),
			chromedp.SendKeys(chromedp.CSS("#f-description"), "Graduation coaches in every "+
				"high school"),
			chromedp.SendKeys(chromedp.CSS("#f-amount"), "150,000"),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("main p.notice")))
		if got := textOf(t, "main p.notice"); !strings.Contains(got, "commitment was recorded") {
			t.Errorf("notice %q", got)
		}
		want := "Graduation coaches in every high school — 150,000 USD"
		if got := textOf(t, "main"); !strings.Contains(got, want) {
			t.Errorf("home lacks %q:\n%s", want, got)
		}
	})
}

// screenshot saves the whole page as a PNG under artifacts/.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(artifactsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactsDir, name), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// labelled fails the test if the page has a visible form control without a
// label, or a control that the keyboard cannot reach.
func labelled(t *testing.T, ctx context.Context) {
	t.Helper()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`
		[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
			.filter(el => !el.hidden && el.tabIndex < 0 ||
				el.tagName !== 'BUTTON' && !el.hidden && el.labels.length === 0)
			.map(el => el.outerHTML)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range bad {
		t.Errorf("a control without a label or out of the keyboard's reach: %s", el)
	}
}
