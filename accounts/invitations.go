package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/domain"
)

// InvitationLifetime is how long an invitation link can be used.
const InvitationLifetime = 7 * 24 * time.Hour

// Invitation lets one person choose a password and become a user, once,
// before it expires.
type Invitation struct {
	Email     string
	Role      domain.Role
	PartnerID *uuid.UUID
	InvitedBy string
	Expires   time.Time
}

// Invite creates an invitation for an address, role and partner; only a
// backbone admin may invite. The returned token goes into the link shown to
// the admin; only its hash is stored.
// Errors: CodeForbidden, CodeInvalid (fields email, role, partner_id),
// CodeConflict when the address already has an account.
func (s *Store) Invite(ctx context.Context, by domain.Principal, email string,
	role domain.Role, partnerID *uuid.UUID) (string, Invitation, error) {
	if by.Role != domain.RoleAdmin {
		return "", Invitation{}, domain.Errorf(domain.CodeForbidden,
			"only a backbone admin may invite users")
	}
	email, err := checkPerson(email, role, partnerID)
	if err != nil {
		return "", Invitation{}, err
	}
	var taken bool
	if err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM accounts.users WHERE email = $1)`, email).
		Scan(&taken); err != nil {
		return "", Invitation{}, fmt.Errorf("look up user: %w", err)
	}
	if taken {
		return "", Invitation{}, domain.Errorf(domain.CodeConflict,
			"%s already has an account", email)
	}

	token := NewToken()
	now := s.now().UTC()
	inv := Invitation{Email: email, Role: role, PartnerID: partnerID, InvitedBy: by.Actor,
		Expires: now.Add(InvitationLifetime)}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO accounts.invitations
			(hash, email, role, partner_id, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		hash(token), email, string(role), partnerID, by.Actor, now, inv.Expires)
	if err != nil {
		return "", Invitation{}, fmt.Errorf("store invitation: %w", err)
	}
	return token, inv, nil
}

// Invitation returns the open invitation of a link's token.
// Errors: CodeNotFound (unknown, used or expired, each with its own message).
func (s *Store) Invitation(ctx context.Context, token string) (Invitation, error) {
	return s.openInvitation(ctx, s.pool, token, false)
}

// Accept turns an open invitation into a user with the chosen password, in one
// transaction, so that a link works once however often it is posted.
// Errors: CodeNotFound, CodeInvalid (field password), CodeConflict.
func (s *Store) Accept(ctx context.Context, token, password string) (User, error) {
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	hashed, err := s.hashPassword(password)
	if err != nil {
		return User{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return User{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	inv, err := s.openInvitation(ctx, tx, token, true)
	if err != nil {
		return User{}, err
	}
	u, err := s.insertUser(ctx, tx, inv.Email, hashed, inv.Role, inv.PartnerID)
	if err != nil {
		return User{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts.invitations SET used_at = $2 WHERE hash = $1`,
		hash(token), s.now().UTC()); err != nil {
		return User{}, fmt.Errorf("use invitation: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return User{}, fmt.Errorf("commit: %w", err)
	}
	return u, nil
}

func (s *Store) openInvitation(ctx context.Context, q querier, token string,
	lock bool) (Invitation, error) {
	query := `
		SELECT email, role, partner_id, invited_by, expires_at, used_at
		FROM accounts.invitations WHERE hash = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	var inv Invitation
	var role string
	var used *time.Time
	err := q.QueryRow(ctx, query, hash(token)).
		Scan(&inv.Email, &role, &inv.PartnerID, &inv.InvitedBy, &inv.Expires, &used)
	inv.Role = domain.Role(role)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Invitation{}, domain.Errorf(domain.CodeNotFound,
			"this invitation link is not valid; check that it was copied whole")
	case err != nil:
		return Invitation{}, fmt.Errorf("look up invitation: %w", err)
	case used != nil:
		return Invitation{}, domain.Errorf(domain.CodeNotFound,
			"this invitation was already used; sign in with the password chosen then")
	case !s.now().Before(inv.Expires):
		return Invitation{}, domain.Errorf(domain.CodeNotFound,
			"this invitation expired on %s; ask an admin for a new one",
			inv.Expires.Format("2 January 2006"))
	}
	return inv, nil
}
