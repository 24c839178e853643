package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
)

// Cookies. The session cookie holds the session's secret token; the form
// cookie protects the forms shown before sign-in (sign in, accept an
// invitation) by double submission, since they have no session to hold a
// CSRF token.
const (
	sessionCookie = "bb_session"
	formCookie    = "bb_form"
)

// pollInterval is how often a page waiting for the read model asks how far it is.
const pollInterval = 20 * time.Millisecond

// request is one request to the UI, with who made it.
type request struct {
	echo.Context
	h *Handler
	// sess is the signed-in user's session; nil on the anonymous pages.
	sess *accounts.Session
	// csrf is the token every form on the page must send back.
	csrf string
	// stale says that the page was asked to show a change (?after=) that the
	// read model had not reached in time.
	stale bool
	// partners caches the partner list for the request.
	partners []Partner
}

// meta is how the signed-in user acts in a command: as "user:<email>" with
// its role and partner, so that the domain decides what it may do.
func (r *request) meta(idempotencyKey string) domain.Meta {
	p := r.sess.User.Principal()
	return domain.Meta{Actor: p.Actor, Role: p.Role, PartnerID: p.PartnerID,
		IdempotencyKey: idempotencyKey}
}

// role returns the signed-in user's role.
func (r *request) role() domain.Role { return r.sess.User.Role }

// signedIn wraps a handler that needs a session: without one, a page sends
// the browser to sign in and back. Every POST must carry the session's CSRF
// token; every GET with ?after=SEQ first waits for the read model to reach SEQ.
func (h *Handler) signedIn(fn func(*request) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := &request{Context: c, h: h}
		secureHeaders(c)
		if cookie, err := c.Cookie(sessionCookie); err == nil {
			sess, err := h.cfg.Accounts.Session(c.Request().Context(), cookie.Value)
			switch {
			case err == nil:
				r.sess, r.csrf = &sess, sess.CSRF
			case domain.ErrorCode(err) != domain.CodeUnauthorized:
				h.fail(r, err)
				return nil
			}
		}
		if r.sess == nil {
			next := c.Request().URL.RequestURI()
			if c.Request().Method != http.MethodGet {
				next = "/"
			}
			return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(next))
		}
		if c.Request().Method == http.MethodPost && !sameToken(c.FormValue("csrf"), r.csrf) {
			h.fail(r, errNoCSRF)
			return nil
		}
		if c.Request().Method == http.MethodGet {
			h.waitAfter(r)
		}
		if err := fn(r); err != nil {
			h.fail(r, err)
		}
		return nil
	}
}

// anonymous wraps a handler of the pages shown before sign-in, protecting
// their forms with the form cookie.
func (h *Handler) anonymous(fn func(*request) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := &request{Context: c, h: h}
		secureHeaders(c)
		cookie, err := c.Cookie(formCookie)
		if err == nil && cookie.Value != "" {
			r.csrf = cookie.Value
		}
		if c.Request().Method == http.MethodPost {
			if r.csrf == "" || !sameToken(c.FormValue("csrf"), r.csrf) {
				h.fail(r, errNoCSRF)
				return nil
			}
		} else if r.csrf == "" {
			r.csrf = accounts.NewToken()
			h.setCookie(c, formCookie, r.csrf, time.Time{})
		}
		if err := fn(r); err != nil {
			h.fail(r, err)
		}
		return nil
	}
}

// errNoCSRF refuses a form that did not come from a page of this server.
var errNoCSRF = domain.Errorf(domain.CodeForbidden, "this form did not come from a page "+
	"Backbone showed you, or that page is too old; go back, reload it and send it again")

func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// secureHeaders keeps pages out of caches and frames and allows only this
// server's own stylesheet and images.
func secureHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; "+
		"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole site, Secure
// when the request came over TLS or the server is configured so. A zero
// expiry makes a cookie that lasts as long as the browser session.
func (h *Handler) setCookie(c echo.Context, name, value string, expires time.Time) {
	c.SetCookie(&http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		Secure:   h.cfg.SecureCookies || c.IsTLS(),
		SameSite: http.SameSiteLaxMode,
	})
}

// waitAfter gives the user its own write: after a form, the next page is
// asked for with ?after=SEQ and waits, up to AfterWait, until every read model
// it may show (each has its own position) has applied SEQ. If one has not,
// the page is shown anyway and says so.
func (h *Handler) waitAfter(r *request) {
	after, err := strconv.ParseUint(r.QueryParam("after"), 10, 64)
	if err != nil || after == 0 {
		return
	}
	positions := []func(context.Context) (uint64, error){h.cfg.Reads.Position}
	if h.cfg.Funding != nil {
		positions = append(positions, h.cfg.Funding.Position)
	}
	if h.cfg.Activity != nil {
		positions = append(positions, h.cfg.Activity.Position)
	}
	ctx := r.Request().Context()
	deadline := time.Now().Add(h.cfg.AfterWait)
	for _, position := range positions {
		for {
			pos, err := position(ctx)
			if err == nil && pos >= after {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				r.stale = true
				return
			}
			time.Sleep(pollInterval)
		}
	}
}

// signInData is what the sign-in page shows.
type signInData struct {
	Email, Next, Message string
}

func (h *Handler) signInPage(r *request) error {
	return h.render(r, http.StatusOK, "signin", "Sign in",
		signInData{Next: safeNext(r.QueryParam("next"))})
}

// signIn checks the password and starts a session. A wrong password and an
// unknown address get the same message; repeated failures are throttled.
func (h *Handler) signIn(r *request) error {
	data := signInData{Email: r.FormValue("email"), Next: safeNext(r.FormValue("next"))}
	token, sess, err := h.cfg.Accounts.SignIn(r.Request().Context(), data.Email,
		r.FormValue("password"), clientAddress(r.Request()))
	var throttled *accounts.ThrottledError
	switch {
	case errors.As(err, &throttled):
		r.Response().Header().Set("Retry-After",
			strconv.Itoa(int(throttled.RetryAfter.Seconds())+1))
		data.Message = throttled.Unwrap().Error()
		return h.render(r, http.StatusTooManyRequests, "signin", "Sign in", data)
	case domain.ErrorCode(err) == domain.CodeUnauthorized:
		data.Message = err.Error()
		return h.render(r, http.StatusUnauthorized, "signin", "Sign in", data)
	case err != nil:
		return err
	}
	h.setCookie(r, sessionCookie, token, sess.Expires)
	return r.Redirect(http.StatusSeeOther, data.Next)
}

// signOut ends the session and forgets its cookie.
func (h *Handler) signOut(r *request) error {
	if cookie, err := r.Cookie(sessionCookie); err == nil {
		if err := h.cfg.Accounts.SignOut(r.Request().Context(), cookie.Value); err != nil {
			return err
		}
	}
	h.setCookie(r, sessionCookie, "", time.Unix(1, 0))
	return r.Redirect(http.StatusSeeOther, "/signin")
}

// invitationData is what the page of an invitation link shows.
type invitationData struct {
	Invitation accounts.Invitation
	RoleName   string
	Partner    string
	Form       *form
}

func (h *Handler) invitationPage(r *request) error {
	inv, err := h.cfg.Accounts.Invitation(r.Request().Context(), r.Param("token"))
	if err != nil {
		return err
	}
	return h.render(r, http.StatusOK, "invitation", "Choose your password",
		h.invitationData(r, inv, newForm()))
}

// acceptInvitation sets the new user's password and signs it in.
func (h *Handler) acceptInvitation(r *request) error {
	ctx := r.Request().Context()
	inv, err := h.cfg.Accounts.Invitation(ctx, r.Param("token"))
	if err != nil {
		return err
	}
	password := r.FormValue("password")
	f := newForm()
	if password != r.FormValue("confirm") {
		f.Errors["confirm"] = "does not match the password; type the same password twice"
		return h.render(r, http.StatusBadRequest, "invitation", "Choose your password",
			h.invitationData(r, inv, f))
	}
	if _, err := h.cfg.Accounts.Accept(ctx, r.Param("token"), password); err != nil {
		if f.take(err) {
			return h.render(r, statusOf(err), "invitation", "Choose your password",
				h.invitationData(r, inv, f))
		}
		return err
	}
	token, sess, err := h.cfg.Accounts.SignIn(ctx, inv.Email, password, clientAddress(r.Request()))
	if err != nil {
		return err
	}
	h.setCookie(r, sessionCookie, token, sess.Expires)
	return r.Redirect(http.StatusSeeOther, "/")
}

func (h *Handler) invitationData(r *request, inv accounts.Invitation, f *form) invitationData {
	d := invitationData{Invitation: inv, RoleName: accounts.RoleName(inv.Role), Form: f}
	if inv.PartnerID != nil {
		d.Partner = h.partnerName(r, *inv.PartnerID)
	}
	return d
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.ContainsAny(next, "\\") ||
		strings.IndexFunc(next, unicode.IsControl) >= 0 || strings.HasPrefix(next, "//") {
		return "/" // browsers drop tabs and read backslashes as slashes: "/\t/host"
	}
	return next
}

// clientAddress is the address a request came from, for throttling. It does
// not trust forwarding headers, which a client can forge.
// TODO: behind a reverse proxy every client has the proxy's address, so the
// per-client limit (accounts.MaxClientFailures) is shared by all users.
func clientAddress(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}
