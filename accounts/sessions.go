package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/backbone-ci/backbone/domain"
)

// Sign-in limits: a session lasts SessionLifetime; after MaxFailures failed
// sign-ins for one address (or MaxClientFailures from one client) within
// FailureWindow, further attempts are refused until the oldest of them is
// FailureWindow old.
const (
	SessionLifetime   = 12 * time.Hour
	FailureWindow     = 15 * time.Minute
	MaxFailures       = 5
	MaxClientFailures = 20
)

// Session is a signed-in user. CSRF is the token every form of the session
// must send back.
type Session struct {
	User    User
	CSRF    string
	Expires time.Time
}

// ThrottledError refuses a sign-in after too many failures. It unwraps to an
// unauthorized domain error, so it maps like any failed sign-in.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the domain error a user reads.
func (e *ThrottledError) Unwrap() error {
	minutes := int(e.RetryAfter.Round(time.Minute) / time.Minute)
	return domain.Errorf(domain.CodeUnauthorized, "too many failed sign-ins; "+
		"wait %d minute%s and try again, or ask an admin to invite you again",
		max(minutes, 1), plural(max(minutes, 1)))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// errWrongPassword is the one message for an unknown address and a wrong
// password, so that sign-in does not tell which addresses have accounts.
var errWrongPassword = domain.Errorf(domain.CodeUnauthorized,
	"the email address or the password is wrong")

// dummyHash is compared against when the address is unknown, so that both
// failures take as long.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no user has this password"),
	bcrypt.DefaultCost)

// SignIn checks a password and starts a session; token is the session's
// cookie value, shown once. client identifies where the attempt comes from
// (an IP address) for throttling. Errors: CodeUnauthorized, *ThrottledError.
func (s *Store) SignIn(ctx context.Context, email, password, client string) (string,
	Session, error) {
	email = NormalizeEmail(email)
	keys := []string{"email:" + email, "client:" + client}
	if err := s.throttled(ctx, keys); err != nil {
		return "", Session{}, err
	}

	var u User
	var role string
	var hash []byte
	err := s.pool.QueryRow(ctx, `
		SELECT id, email, password_hash, role, partner_id, created_at
		FROM accounts.users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &hash, &role, &u.PartnerID, &u.Created)
	u.Role = domain.Role(role)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", Session{}, s.failed(ctx, keys)
	case err != nil:
		return "", Session{}, fmt.Errorf("look up user: %w", err)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return "", Session{}, s.failed(ctx, keys)
	}

	if _, err := s.pool.Exec(ctx, `DELETE FROM accounts.sign_in_failures WHERE key = $1`,
		keys[0]); err != nil {
		return "", Session{}, fmt.Errorf("clear sign-in failures: %w", err)
	}
	return s.startSession(ctx, u)
}

func (s *Store) startSession(ctx context.Context, u User) (string, Session, error) {
	token := NewToken()
	now := s.now().UTC()
	sess := Session{User: u, CSRF: NewToken(), Expires: now.Add(SessionLifetime)}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO accounts.sessions (hash, user_id, csrf, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hash(token), u.ID, sess.CSRF, now, sess.Expires)
	if err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM accounts.sessions WHERE expires_at < $1`,
		now); err != nil {
		return "", Session{}, fmt.Errorf("remove expired sessions: %w", err)
	}
	return token, sess, nil
}

// throttled refuses an attempt when any key has failed too often lately.
func (s *Store) throttled(ctx context.Context, keys []string) error {
	now := s.now().UTC()
	for i, key := range keys {
		limit := MaxFailures
		if i > 0 {
			limit = MaxClientFailures
		}
		var oldest *time.Time
		err := s.pool.QueryRow(ctx, `
			SELECT min(failed_at) FROM (
				SELECT failed_at FROM accounts.sign_in_failures
				WHERE key = $1 AND failed_at > $2
				ORDER BY failed_at DESC LIMIT $3) recent
			HAVING count(*) >= $3`, key, now.Add(-FailureWindow), limit).Scan(&oldest)
		if errors.Is(err, pgx.ErrNoRows) || oldest == nil {
			continue
		}
		if err != nil {
			return fmt.Errorf("count sign-in failures: %w", err)
		}
		return &ThrottledError{RetryAfter: oldest.Add(FailureWindow).Sub(now)}
	}
	return nil
}

// failed records a failed attempt under every key and returns the error to show.
func (s *Store) failed(ctx context.Context, keys []string) error {
	now := s.now().UTC()
	for _, key := range keys {
		if _, err := s.pool.Exec(ctx, `
			INSERT INTO accounts.sign_in_failures (key, failed_at) VALUES ($1, $2)`,
			key, now); err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM accounts.sign_in_failures WHERE failed_at < $1`,
		now.Add(-FailureWindow)); err != nil {
		return fmt.Errorf("forget old sign-in failures: %w", err)
	}
	return errWrongPassword
}

// Session returns the live session of a cookie value. Errors: CodeUnauthorized.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	var sess Session
	var role string
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.email, u.role, u.partner_id, u.created_at, s.csrf, s.expires_at
		FROM accounts.sessions s JOIN accounts.users u ON u.id = s.user_id
		WHERE s.hash = $1 AND s.expires_at > $2`, hash(token), s.now().UTC()).
		Scan(&sess.User.ID, &sess.User.Email, &role, &sess.User.PartnerID,
			&sess.User.Created, &sess.CSRF, &sess.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, domain.Errorf(domain.CodeUnauthorized,
			"your session has ended; sign in again")
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	sess.User.Role = domain.Role(role)
	return sess, nil
}

// SignOut ends a session; ending one that has already ended is not an error.
func (s *Store) SignOut(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM accounts.sessions WHERE hash = $1`,
		hash(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
