-- +goose Up
CREATE TABLE tokens (
    hash       bytea PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    role       text NOT NULL,
    partner_id uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE tokens;
