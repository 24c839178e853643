package accounts_test

import (
	"context"
	"testing"

	"github.com/backbone-ci/backbone/accounts"
	"github.com/backbone-ci/backbone/domain"
	"github.com/backbone-ci/backbone/internal/testenv"
)

func TestAdminToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := testenv.Pool(t)
	store, err := accounts.Open(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("generated once at first start", func(t *testing.T) {
		first, err := store.EnsureAdmin(ctx, "")
		if err != nil || first == "" {
			t.Fatalf("first start: token %q, err %v; want a new token", first, err)
		}
		again, err := store.EnsureAdmin(ctx, "")
		if err != nil || again != "" {
			t.Fatalf("second start: token %q, err %v; want none", again, err)
		}
		p, err := store.Authenticate(ctx, first)
		if err != nil || p.Role != domain.RoleAdmin || p.Actor != "token:admin" {
			t.Errorf("authenticate: %+v, %v", p, err)
		}
	})

	t.Run("a given token replaces it", func(t *testing.T) {
		if _, err := store.EnsureAdmin(ctx, "from-env"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Authenticate(ctx, "from-env"); err != nil {
			t.Errorf("authenticate given token: %v", err)
		}
	})

	t.Run("an unknown token is unauthorized", func(t *testing.T) {
		_, err := store.Authenticate(ctx, "nope")
		if got := domain.ErrorCode(err); got != domain.CodeUnauthorized {
			t.Errorf("code %s, want unauthorized", got)
		}
	})

	t.Run("migrations run twice without harm", func(t *testing.T) {
		if _, err := accounts.Open(ctx, pool); err != nil {
			t.Fatal(err)
		}
	})
}
