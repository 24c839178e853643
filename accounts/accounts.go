// Package accounts keeps who may act on Backbone, in PostgreSQL: API tokens,
// and the people who sign in to the web UI (users.go), with their sessions
// (sessions.go) and the invitations that bring them in (invitations.go).
// Credentials are not events: they must be revocable and must never travel in
// webhooks or exports, so they live beside the read models, not on the stream.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/backbone-ci/backbone/domain"
)

// Schema is the PostgreSQL schema accounts live in.
const Schema = "accounts"

//go:embed migrations/*.sql
var migrations embed.FS

// Store keeps tokens, users, sessions and invitations. It implements
// domain.Authenticator for API tokens.
type Store struct {
	pool *pgxpool.Pool

	// PasswordCost is the bcrypt cost of new password hashes; 0 means
	// bcrypt.DefaultCost. Tests lower it to bcrypt.MinCost for speed.
	PasswordCost int
	// Now is the clock of sessions, invitations and throttling; default time.Now.
	Now func() time.Time
}

var _ domain.Authenticator = (*Store)(nil)

// Open migrates the accounts schema and returns a Store on it.
func Open(ctx context.Context, pool *pgxpool.Pool) (*Store, error) {
	if err := migrate(ctx, pool); err != nil {
		return nil, err
	}
	return &Store{pool: pool}, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+Schema); err != nil {
		return fmt.Errorf("create schema %s: %w", Schema, err)
	}
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["search_path"] = Schema
	db := sql.OpenDB(stdlib.GetConnector(*cfg))
	defer db.Close()

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("open embedded migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(Schema+".goose_db_version"))
	if err != nil {
		return fmt.Errorf("prepare accounts migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate accounts: %w", err)
	}
	return nil
}

// NewToken returns a fresh random token.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return "bb_" + base64.RawURLEncoding.EncodeToString(b)
}

func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// EnsureAdmin makes sure an admin token exists. A given token (from
// BACKBONE_ADMIN_TOKEN) becomes the admin token; without one, a token is
// generated at the first start and returned so it can be shown once. It returns
// "" when no new token was generated.
func (s *Store) EnsureAdmin(ctx context.Context, given string) (string, error) {
	if given != "" {
		return "", s.SetToken(ctx, given, "admin", domain.RoleAdmin, nil)
	}
	token := NewToken()
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO accounts.tokens (hash, name, role) VALUES ($1, 'admin', 'admin')
		ON CONFLICT (name) DO NOTHING`, hash(token))
	if err != nil {
		return "", fmt.Errorf("store admin token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return "", nil
	}
	return token, nil
}

// SetToken stores the token of a named principal, replacing its old token.
func (s *Store) SetToken(ctx context.Context, token, name string, role domain.Role,
	partnerID *uuid.UUID) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO accounts.tokens (hash, name, role, partner_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE
		SET hash = EXCLUDED.hash, role = EXCLUDED.role, partner_id = EXCLUDED.partner_id`,
		hash(token), name, string(role), partnerID)
	if err != nil {
		return fmt.Errorf("store token %s: %w", name, err)
	}
	return nil
}

// Authenticate implements domain.Authenticator.
func (s *Store) Authenticate(ctx context.Context, token string) (domain.Principal, error) {
	var p domain.Principal
	var name, role string
	err := s.pool.QueryRow(ctx,
		`SELECT name, role, partner_id FROM accounts.tokens WHERE hash = $1`, hash(token)).
		Scan(&name, &role, &p.PartnerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, domain.Errorf(domain.CodeUnauthorized, "the bearer token is not valid")
	}
	if err != nil {
		return p, fmt.Errorf("look up token: %w", err)
	}
	p.Actor, p.Role = "token:"+name, domain.Role(role)
	return p, nil
}
