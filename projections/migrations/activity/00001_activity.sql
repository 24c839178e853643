-- The activity read model: one row per event, newest first when read, with who
-- acted, the partner and issue it concerns and a sentence saying what changed.
-- The other tables hold what the sentences and filters need: names, and which
-- issue an objective, measure or commitment belongs to.

-- +goose Up
CREATE TABLE activity (
    sequence       bigint PRIMARY KEY,
    event_id       uuid NOT NULL,
    type           text NOT NULL,
    recorded_at    timestamptz NOT NULL,
    actor          text NOT NULL,
    partner_id     uuid,
    issue_id       uuid,
    aggregate_type text NOT NULL,
    aggregate_id   uuid NOT NULL,
    summary        text NOT NULL
);
CREATE INDEX activity_issue ON activity (issue_id, sequence DESC);
CREATE INDEX activity_partner ON activity (partner_id, sequence DESC);

CREATE TABLE partners (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE issues (
    id    uuid PRIMARY KEY,
    title text NOT NULL
);

CREATE TABLE objectives (
    id       uuid PRIMARY KEY,
    issue_id uuid NOT NULL,
    title    text NOT NULL
);

CREATE TABLE measures (
    id       uuid PRIMARY KEY,
    issue_id uuid NOT NULL,
    name     text NOT NULL
);

-- commitments: issue_id is NULL for pooled funding of the shared backbone.
CREATE TABLE commitments (
    id          uuid PRIMARY KEY,
    partner_id  uuid NOT NULL,
    issue_id    uuid,
    currency    text NOT NULL,
    description text NOT NULL
);

-- +goose Down
DROP TABLE commitments;
DROP TABLE measures;
DROP TABLE objectives;
DROP TABLE issues;
DROP TABLE partners;
DROP TABLE activity;
