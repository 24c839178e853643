-- The scorecard read model: issues, their objectives and measures, targets and
-- actuals, with each measure's latest total actual and status kept up to date.
-- Every row carries the version of its aggregate (the HTTP ETag) and the time of
-- the last event applied to it.

-- +goose Up
CREATE TABLE partners (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL,
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE issues (
    id          uuid PRIMARY KEY,
    title       text NOT NULL,
    description text NOT NULL,
    version     bigint NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE objectives (
    id          uuid PRIMARY KEY,
    issue_id    uuid NOT NULL,
    perspective text NOT NULL,
    title       text NOT NULL,
    version     bigint NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX objectives_issue ON objectives (issue_id);

-- objective_links: the cause objective drives the effect objective.
CREATE TABLE objective_links (
    issue_id  uuid NOT NULL,
    cause_id  uuid NOT NULL,
    effect_id uuid NOT NULL,
    sequence  bigint NOT NULL,
    PRIMARY KEY (cause_id, effect_id)
);
CREATE INDEX objective_links_issue ON objective_links (issue_id);

-- measures holds each measure's definition and where it stands: the latest total
-- actual (by period), the target for that period and the status decided in Go.
CREATE TABLE measures (
    id               uuid PRIMARY KEY,
    issue_id         uuid NOT NULL,
    objective_id     uuid NOT NULL,
    name             text NOT NULL,
    unit             text NOT NULL,
    polarity         text NOT NULL,
    kind             text NOT NULL,
    owner_partner_id uuid,
    baseline_period  text,
    baseline_value   double precision,
    latest_period    text,
    latest_value     double precision,
    latest_target    double precision,
    status           text NOT NULL DEFAULT 'no_data',
    version          bigint NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX measures_issue ON measures (issue_id);

CREATE TABLE targets (
    measure_id uuid NOT NULL,
    period     text NOT NULL,
    period_key text NOT NULL,
    value      double precision NOT NULL,
    sequence   bigint NOT NULL,
    PRIMARY KEY (measure_id, period)
);

-- actuals: one row per measure, period and disaggregation ('' for the total),
-- as reported and as it stands after corrections.
CREATE TABLE actuals (
    measure_id           uuid NOT NULL,
    period               text NOT NULL,
    period_key           text NOT NULL,
    disaggregation       text NOT NULL DEFAULT '',
    reported_value       double precision NOT NULL,
    current_value        double precision NOT NULL,
    corrected            boolean NOT NULL DEFAULT false,
    correction_reason    text NOT NULL DEFAULT '',
    reporting_partner_id uuid,
    note                 text NOT NULL DEFAULT '',
    source               text NOT NULL DEFAULT '',
    reported_sequence    bigint NOT NULL,
    corrected_sequence   bigint,
    PRIMARY KEY (measure_id, period, disaggregation)
);
CREATE INDEX actuals_series ON actuals (measure_id, period_key, disaggregation);

-- commitments: what partners commit to an issue; funding reports build on them.
CREATE TABLE commitments (
    id           uuid PRIMARY KEY,
    partner_id   uuid NOT NULL,
    issue_id     uuid NOT NULL,
    objective_id uuid,
    kind         text NOT NULL,
    description  text NOT NULL,
    amount_cents bigint,
    currency     text NOT NULL DEFAULT '',
    period       text NOT NULL,
    period_key   text NOT NULL,
    version      bigint NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX commitments_issue ON commitments (issue_id);

-- +goose Down
DROP TABLE commitments;
DROP TABLE actuals;
DROP TABLE targets;
DROP TABLE measures;
DROP TABLE objective_links;
DROP TABLE objectives;
DROP TABLE issues;
DROP TABLE partners;
