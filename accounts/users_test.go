package accounts_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/testenv"
)

// clock is a settable time for sessions, invitations and throttling.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openStore(t *testing.T) (*accounts.Store, *clock) {
	t.Helper()
	pool, _ := testenv.Pool(t)
	s, err := accounts.Open(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)}
	s.PasswordCost, s.Now = bcrypt.MinCost, c.Now
	return s, c
}

func wantCode(t *testing.T, err error, want domain.Code) {
	t.Helper()
	if got := domain.ErrorCode(err); got != want {
		t.Fatalf("error %v has code %q, want %q", err, got, want)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a domain error", err)
	}
	for _, f := range de.Fields {
		if f.Field == field {
			return
		}
	}
	t.Errorf("error %v names no field %q", err, field)
}

var partner = uuid.MustParse("0b9a3a52-56a4-4f0e-9a57-1f3f3c1de001")

func TestUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openStore(t)

	t.Run("a partner editor belongs to its partner", func(t *testing.T) {
		u, err := s.AddUser(ctx, accounts.NewUser{Email: " Ana@Example.org ",
			Password: "correct horse", Role: domain.RoleEditor, PartnerID: &partner})
		if err != nil {
			t.Fatal(err)
		}
		p := u.Principal()
		if p.Actor != "user:ana@example.org" || p.Role != domain.RoleEditor ||
			p.PartnerID == nil || *p.PartnerID != partner {
			t.Errorf("principal %+v", p)
		}
	})

	t.Run("an address has one account, whatever its case", func(t *testing.T) {
		_, err := s.AddUser(ctx, accounts.NewUser{Email: "ANA@example.org",
			Password: "another password", Role: domain.RoleViewer})
		wantCode(t, err, domain.CodeConflict)
	})

	for _, tc := range []struct {
		name, field string
		user        accounts.NewUser
	}{
		{"no address", "email",
			accounts.NewUser{Password: "long enough!", Role: domain.RoleViewer}},
		{"not an address", "email", accounts.NewUser{Email: "ana", Password: "long enough!",
			Role: domain.RoleViewer}},
		{"short password", "password", accounts.NewUser{Email: "b@example.org",
			Password: "short", Role: domain.RoleViewer}},
		{"unknown role", "role", accounts.NewUser{Email: "b@example.org",
			Password: "long enough!", Role: "owner"}},
		{"editor without partner", "partner_id", accounts.NewUser{Email: "b@example.org",
			Password: "long enough!", Role: domain.RoleEditor}},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := s.AddUser(ctx, tc.user)
			wantCode(t, err, domain.CodeInvalid)
			wantField(t, err, tc.field)
		})
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clk := openStore(t)
	if _, err := s.AddUser(ctx, accounts.NewUser{Email: "ana@example.org",
		Password: "correct horse", Role: domain.RoleAnalyst}); err != nil {
		t.Fatal(err)
	}

	t.Run("the right password starts a session", func(t *testing.T) {
		token, sess, err := s.SignIn(ctx, "Ana@example.org", "correct horse", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.User.Email != "ana@example.org" || got.CSRF != sess.CSRF || got.CSRF == "" {
			t.Errorf("session %+v, want ana's with CSRF %q", got, sess.CSRF)
		}
		if err := s.SignOut(ctx, token); err != nil {
			t.Fatal(err)
		}
		_, err = s.Session(ctx, token)
		wantCode(t, err, domain.CodeUnauthorized)
	})

	t.Run("a wrong password and an unknown address read the same", func(t *testing.T) {
		_, _, wrong := s.SignIn(ctx, "ana@example.org", "wrong horse", "10.0.0.2")
		_, _, unknown := s.SignIn(ctx, "bob@example.org", "wrong horse", "10.0.0.2")
		wantCode(t, wrong, domain.CodeUnauthorized)
		if wrong.Error() != unknown.Error() {
			t.Errorf("wrong password: %q; unknown address: %q", wrong, unknown)
		}
	})

	t.Run("a session ends after its lifetime", func(t *testing.T) {
		token, _, err := s.SignIn(ctx, "ana@example.org", "correct horse", "10.0.0.3")
		if err != nil {
			t.Fatal(err)
		}
		clk.advance(accounts.SessionLifetime + time.Second)
		_, err = s.Session(ctx, token)
		wantCode(t, err, domain.CodeUnauthorized)
	})

	t.Run("repeated failures are throttled, then forgiven", func(t *testing.T) {
		if _, err := s.AddUser(ctx, accounts.NewUser{Email: "cy@example.org",
			Password: "correct horse", Role: domain.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		for i := range accounts.MaxFailures {
			_, _, err := s.SignIn(ctx, "cy@example.org", "guess", "10.0.0.4")
			var te *accounts.ThrottledError
			if errors.As(err, &te) {
				t.Fatalf("attempt %d throttled already", i+1)
			}
		}
		_, _, err := s.SignIn(ctx, "cy@example.org", "correct horse", "10.0.0.5")
		var te *accounts.ThrottledError
		if !errors.As(err, &te) || te.RetryAfter <= 0 {
			t.Fatalf("after %d failures: %v, want throttled", accounts.MaxFailures, err)
		}
		wantCode(t, err, domain.CodeUnauthorized)

		clk.advance(accounts.FailureWindow)
		if _, _, err := s.SignIn(ctx, "cy@example.org", "correct horse", "10.0.0.5"); err != nil {
			t.Errorf("after the window: %v", err)
		}
	})
}

func TestInvitations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, clk := openStore(t)
	admin := domain.Principal{Actor: "user:root@example.org", Role: domain.RoleAdmin}

	t.Run("only an admin invites", func(t *testing.T) {
		editor := domain.Principal{Actor: "user:e@example.org", Role: domain.RoleEditor,
			PartnerID: &partner}
		_, _, err := s.Invite(ctx, editor, "x@example.org", domain.RoleViewer, nil)
		wantCode(t, err, domain.CodeForbidden)
	})

	t.Run("a link works once", func(t *testing.T) {
		token, inv, err := s.Invite(ctx, admin, "Dee@example.org", domain.RoleEditor, &partner)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Email != "dee@example.org" || inv.InvitedBy != admin.Actor {
			t.Errorf("invitation %+v", inv)
		}
		if _, err := s.Invitation(ctx, token); err != nil {
			t.Fatalf("open invitation: %v", err)
		}
		_, err = s.Accept(ctx, token, "short")
		wantField(t, err, "password")

		u, err := s.Accept(ctx, token, "a good long password")
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != domain.RoleEditor || u.PartnerID == nil || *u.PartnerID != partner {
			t.Errorf("user %+v", u)
		}
		_, err = s.Accept(ctx, token, "a good long password")
		wantCode(t, err, domain.CodeNotFound)
		if _, _, err := s.SignIn(ctx, "dee@example.org", "a good long password",
			"10.0.1.1"); err != nil {
			t.Errorf("sign in after accepting: %v", err)
		}
	})

	t.Run("an existing user is not invited again", func(t *testing.T) {
		_, _, err := s.Invite(ctx, admin, "dee@example.org", domain.RoleViewer, nil)
		wantCode(t, err, domain.CodeConflict)
	})

	t.Run("a link expires", func(t *testing.T) {
		token, _, err := s.Invite(ctx, admin, "eve@example.org", domain.RoleViewer, nil)
		if err != nil {
			t.Fatal(err)
		}
		clk.advance(accounts.InvitationLifetime)
		_, err = s.Accept(ctx, token, "a good long password")
		wantCode(t, err, domain.CodeNotFound)
	})

	t.Run("an unknown link is not found", func(t *testing.T) {
		_, err := s.Invitation(ctx, "bb_nothing")
		wantCode(t, err, domain.CodeNotFound)
	})
}
