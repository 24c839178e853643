package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"

	"github.com/backbone-ci/backbone/domain"
)

// Password limits. bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently cut.
const (
	MinPassword      = 10
	maxPasswordBytes = 72
)

// User is a person who signs in to the web UI. A partner editor belongs to a
// partner and acts for it; other roles may name a partner for information.
type User struct {
	ID        uuid.UUID
	Email     string
	Role      domain.Role
	PartnerID *uuid.UUID
	Created   time.Time
}

// Principal is who the user acts as in commands: actor "user:<email>".
func (u User) Principal() domain.Principal {
	return domain.Principal{Actor: "user:" + u.Email, Role: u.Role, PartnerID: u.PartnerID}
}

// Roles lists the roles a user can have, most powerful first.
var Roles = []domain.Role{domain.RoleAdmin, domain.RoleEditor, domain.RoleAnalyst,
	domain.RoleViewer}

// RoleName is a role as people read it.
func RoleName(r domain.Role) string {
	switch r {
	case domain.RoleAdmin:
		return "backbone admin"
	case domain.RoleEditor:
		return "partner editor"
	}
	return string(r)
}

// NewUser is who to add, by "backbone user add" or by accepting an invitation.
type NewUser struct {
	Email     string
	Password  string
	Role      domain.Role
	PartnerID *uuid.UUID
}

// AddUser stores a user with a bcrypt hash of its password.
// TODO: users cannot yet change their password, be given another role or be
// removed; an admin can only invite.
// Errors: CodeInvalid (fields email, password, role, partner_id), CodeConflict
// when the address is taken.
func (s *Store) AddUser(ctx context.Context, n NewUser) (User, error) {
	email, err := checkPerson(n.Email, n.Role, n.PartnerID)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(n.Password); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(n.Password)
	if err != nil {
		return User{}, err
	}
	return s.insertUser(ctx, s.pool, email, hash, n.Role, n.PartnerID)
}

// querier is what a pool and a transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) insertUser(ctx context.Context, q querier, email string, hash []byte,
	role domain.Role, partnerID *uuid.UUID) (User, error) {
	u := User{ID: uuid.Must(uuid.NewV7()), Email: email, Role: role, PartnerID: partnerID}
	err := q.QueryRow(ctx, `
		INSERT INTO accounts.users (id, email, password_hash, role, partner_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING created_at`,
		u.ID, email, hash, string(role), partnerID).Scan(&u.Created)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return User{}, domain.Errorf(domain.CodeConflict,
			"a user with the address %s already exists", email)
	}
	if err != nil {
		return User{}, fmt.Errorf("store user %s: %w", email, err)
	}
	return u, nil
}

// Users lists every user by address.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, email, role, partner_id, created_at FROM accounts.users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) {
		var u User
		var role string
		err := row.Scan(&u.ID, &u.Email, &role, &u.PartnerID, &u.Created)
		u.Role = domain.Role(role)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// CheckPassword says whether a password is long enough and short enough.
// Errors: CodeInvalid (field password).
func CheckPassword(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPassword:
		return domain.Invalid("password", "must be at least %d characters", MinPassword)
	case len(password) > maxPasswordBytes:
		return domain.Invalid("password", "must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}

// checkPerson normalises an address and checks it with a role and partner.
func checkPerson(email string, role domain.Role, partnerID *uuid.UUID) (string, error) {
	var fields []domain.FieldError
	add := func(field, reason string) {
		fields = append(fields, domain.FieldError{Field: field, Reason: reason})
	}
	email = NormalizeEmail(email)
	local, host, ok := strings.Cut(email, "@")
	switch {
	case email == "":
		add("email", "is required")
	case !ok || local == "" || !strings.Contains(host, ".") ||
		strings.ContainsAny(email, " \t<>,;"):
		add("email", fmt.Sprintf("%q is not an email address such as ana@example.org", email))
	case len(email) > 254:
		add("email", "must be at most 254 characters")
	}
	known := false
	for _, r := range Roles {
		known = known || r == role
	}
	if !known {
		add("role", fmt.Sprintf("%q is not one of admin, partner_editor, analyst, viewer", role))
	}
	if role == domain.RoleEditor && partnerID == nil {
		add("partner_id", "is required: a partner editor acts for one partner")
	}
	if len(fields) > 0 {
		return "", &domain.Error{Code: domain.CodeInvalid, Message: "the input is invalid",
			Fields: fields}
	}
	return email, nil
}

// NormalizeEmail trims an address and lowers its case, so that the same person
// cannot hold two accounts that differ in case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func (s *Store) hashPassword(password string) ([]byte, error) {
	cost := s.PasswordCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
