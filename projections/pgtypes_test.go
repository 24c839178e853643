package projections

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/internal/testenv"
)

// TestRegisterTypes checks that a connection with RegisterTypes sends and reads
// UUIDs, alone, nullable, in arrays and through COPY, as one without it does.
func TestRegisterTypes(t *testing.T) {
	t.Parallel()
	url := testenv.Database(t)
	ctx := t.Context()
	plain, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(context.Background())
	fast, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close(context.Background())
	RegisterTypes(fast.TypeMap())

	id, other := uuid.New(), uuid.New()
	cases := []struct {
		name  string
		query string
		arg   any
		into  func() any
	}{
		{"a UUID", `SELECT $1::uuid`, id, func() any { return new(uuid.UUID) }},
		{"a UUID as text", `SELECT $1::uuid::text`, id, func() any { return new(string) }},
		{"a text as UUID", `SELECT $1::text::uuid`, id.String(),
			func() any { return new(uuid.UUID) }},
		{"NULL into a pointer", `SELECT $1::uuid`, (*uuid.UUID)(nil),
			func() any { return new(*uuid.UUID) }},
		{"a pointer", `SELECT $1::uuid`, &id, func() any { return new(*uuid.UUID) }},
		{"NULL into a UUID", `SELECT NULL::uuid`, nil, func() any { return new(uuid.UUID) }},
		{"an array", `SELECT $1::uuid[]`, []uuid.UUID{id, other},
			func() any { return new([]uuid.UUID) }},
		{"an array with NULL", `SELECT $1::uuid[]`, []*uuid.UUID{&id, nil},
			func() any { return new([]*uuid.UUID) }},
		{"ANY of an array", `SELECT $2::uuid = ANY($1)`, []uuid.UUID{other, id},
			func() any { return new(bool) }},
		{"a generated UUID", `SELECT gen_random_uuid() IS NOT NULL AND $1::uuid IS NOT NULL`, id,
			func() any { return new(bool) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []any{}
			if c.arg != nil {
				args = append(args, c.arg)
			}
			if c.query == `SELECT $2::uuid = ANY($1)` {
				args = append(args, id)
			}
			want, got := c.into(), c.into()
			wantErr := plain.QueryRow(ctx, c.query, args...).Scan(want)
			gotErr := fast.QueryRow(ctx, c.query, args...).Scan(got)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("got error %v, want %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", reflect.ValueOf(got).Elem(),
					reflect.ValueOf(want).Elem())
			}
		})
	}

	t.Run("COPY", func(t *testing.T) {
		_, err := fast.Exec(ctx, `CREATE TABLE ids (id uuid PRIMARY KEY, other uuid)`)
		if err != nil {
			t.Fatal(err)
		}
		rows := [][]any{{id, &other}, {other, (*uuid.UUID)(nil)}}
		if _, err := fast.CopyFrom(ctx, pgx.Identifier{"ids"}, []string{"id", "other"},
			pgx.CopyFromRows(rows)); err != nil {
			t.Fatal(err)
		}
		var n int
		err = plain.QueryRow(ctx, `SELECT count(*) FROM ids
			WHERE (id = $1 AND other = $2) OR (id = $2 AND other IS NULL)`, id, other).Scan(&n)
		if err != nil || n != 2 {
			t.Errorf("found %d of the 2 rows copied (%v)", n, err)
		}
	})
}
