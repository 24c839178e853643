-- People who sign in to the web UI, their sessions, the invitations that bring
-- them in and the failed sign-ins that throttle password guessing. Secrets
-- (session and invitation tokens) are stored as SHA-256 hashes only; passwords
-- as bcrypt hashes.

-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash bytea NOT NULL,
    role          text NOT NULL,
    partner_id    uuid,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    hash       bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE invitations (
    hash       bytea PRIMARY KEY,
    email      text NOT NULL,
    role       text NOT NULL,
    partner_id uuid,
    invited_by text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- sign_in_failures: one row per failed sign-in, keyed by address and by client.
CREATE TABLE sign_in_failures (
    key       text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, failed_at);

-- +goose Down
DROP TABLE sign_in_failures;
DROP TABLE invitations;
DROP TABLE sessions;
DROP TABLE users;
