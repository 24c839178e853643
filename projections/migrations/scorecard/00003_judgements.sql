-- Scorecards show the whole of the domain's judgement of a measure (percent of
-- target, variance, change since baseline, trend and how long it has run), the
-- question a performance measure answers, and each breakdown of a measure
-- (race=Black) judged in its own row. Strategy maps list objectives in the
-- order they were defined. Rows written before this migration lack the new
-- figures until their measure changes again, or the read model is rebuilt.

-- +goose Up
ALTER TABLE measures ADD COLUMN question text NOT NULL DEFAULT '';
ALTER TABLE measures ADD COLUMN latest_corrected boolean NOT NULL DEFAULT false;
ALTER TABLE measures ADD COLUMN percent_of_target double precision;
ALTER TABLE measures ADD COLUMN variance double precision;
ALTER TABLE measures ADD COLUMN change_since_baseline double precision;
ALTER TABLE measures ADD COLUMN trend text NOT NULL DEFAULT '';
ALTER TABLE measures ADD COLUMN trend_periods integer NOT NULL DEFAULT 0;
CREATE INDEX measures_objective ON measures (objective_id);
CREATE INDEX measures_owner ON measures (owner_partner_id);

-- disaggregations: one row per breakdown a measure has values for, with where
-- its latest value stands. The projector adds the row with the first value
-- and judges it whenever its measure changes.
CREATE TABLE disaggregations (
    measure_id            uuid NOT NULL,
    disaggregation        text NOT NULL,
    latest_period         text,
    latest_value          double precision,
    latest_corrected      boolean NOT NULL DEFAULT false,
    latest_target         double precision,
    status                text NOT NULL DEFAULT 'no_data',
    percent_of_target     double precision,
    variance              double precision,
    change_since_baseline double precision,
    trend                 text NOT NULL DEFAULT '',
    trend_periods         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (measure_id, disaggregation)
);
INSERT INTO disaggregations (measure_id, disaggregation)
SELECT DISTINCT measure_id, disaggregation FROM actuals WHERE disaggregation <> '';

-- actuals_tail reads the newest values of one series (a measure's total or one
-- breakdown) without the others; actuals_reporter finds a partner's measures.
CREATE INDEX actuals_tail ON actuals (measure_id, disaggregation, period_key);
CREATE INDEX actuals_reporter ON actuals (reporting_partner_id)
    WHERE reporting_partner_id IS NOT NULL;

ALTER TABLE objectives ADD COLUMN sequence bigint;

-- +goose Down
ALTER TABLE objectives DROP COLUMN sequence;
DROP INDEX actuals_reporter;
DROP INDEX actuals_tail;
DROP TABLE disaggregations;
DROP INDEX measures_owner;
DROP INDEX measures_objective;
ALTER TABLE measures DROP COLUMN trend_periods;
ALTER TABLE measures DROP COLUMN trend;
ALTER TABLE measures DROP COLUMN change_since_baseline;
ALTER TABLE measures DROP COLUMN variance;
ALTER TABLE measures DROP COLUMN percent_of_target;
ALTER TABLE measures DROP COLUMN latest_corrected;
ALTER TABLE measures DROP COLUMN question;
