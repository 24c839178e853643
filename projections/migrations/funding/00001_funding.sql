-- The funding read model: funding and in-kind commitments with what was
-- delivered of them, and the names reports show beside them. Amounts are
-- integer cents in the commitment's currency; reports add them up exactly.

-- +goose Up
CREATE TABLE partners (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);

-- issues: every issue launched; pooled funding serves them all.
CREATE TABLE issues (
    id    uuid PRIMARY KEY,
    title text NOT NULL
);

CREATE TABLE objectives (
    id       uuid PRIMARY KEY,
    issue_id uuid NOT NULL,
    title    text NOT NULL
);

-- commitments: issue_id is NULL for pooled funding of the shared backbone;
-- amount_cents and currency are NULL and '' when the amount is undisclosed.
CREATE TABLE commitments (
    id              uuid PRIMARY KEY,
    partner_id      uuid NOT NULL,
    issue_id        uuid,
    objective_id    uuid,
    pooled          boolean NOT NULL,
    kind            text NOT NULL,
    description     text NOT NULL,
    amount_cents    bigint CHECK (amount_cents >= 0),
    currency        text NOT NULL,
    fulfilled_cents bigint NOT NULL DEFAULT 0 CHECK (fulfilled_cents >= 0),
    period          text NOT NULL,
    period_key      text NOT NULL,
    state           text NOT NULL DEFAULT 'open',
    source          text NOT NULL,
    version         bigint NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX commitments_issue ON commitments (issue_id);
CREATE INDEX commitments_partner ON commitments (partner_id);

-- +goose Down
DROP TABLE commitments;
DROP TABLE objectives;
DROP TABLE issues;
DROP TABLE partners;
