-- Strategy maps change after they are drawn: objectives are renamed and retired,
-- links removed, perspectives relabelled, measures retired or given their own
-- at-risk band; commitments are fulfilled or withdrawn, and some fund the
-- backbone itself rather than one issue.

-- +goose Up
ALTER TABLE issues ADD COLUMN perspective_labels jsonb NOT NULL DEFAULT '{}';

ALTER TABLE objectives ADD COLUMN retired boolean NOT NULL DEFAULT false;

ALTER TABLE measures ADD COLUMN retired boolean NOT NULL DEFAULT false;
-- at_risk_percent is NULL while the measure uses the domain's default band.
ALTER TABLE measures ADD COLUMN at_risk_percent double precision;

ALTER TABLE commitments ALTER COLUMN issue_id DROP NOT NULL;
ALTER TABLE commitments ADD COLUMN pooled boolean NOT NULL DEFAULT false;
ALTER TABLE commitments ADD COLUMN fulfilled_cents bigint NOT NULL DEFAULT 0;
ALTER TABLE commitments ADD COLUMN state text NOT NULL DEFAULT 'open';
ALTER TABLE commitments ADD COLUMN source text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE commitments DROP COLUMN source;
ALTER TABLE commitments DROP COLUMN state;
ALTER TABLE commitments DROP COLUMN fulfilled_cents;
ALTER TABLE commitments DROP COLUMN pooled;
DELETE FROM commitments WHERE issue_id IS NULL;
ALTER TABLE commitments ALTER COLUMN issue_id SET NOT NULL;
ALTER TABLE measures DROP COLUMN at_risk_percent;
ALTER TABLE measures DROP COLUMN retired;
ALTER TABLE objectives DROP COLUMN retired;
ALTER TABLE issues DROP COLUMN perspective_labels;
