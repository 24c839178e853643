-- A breakdown's baseline is its value in its measure's baseline period. The
-- period's sort key lets the projector find that value on the index it reads
-- series with (actuals_tail), one row whatever the series' length. Measures
-- defined before this migration find it once the read model is rebuilt.

-- +goose Up
ALTER TABLE measures ADD COLUMN baseline_period_key text;

-- +goose Down
ALTER TABLE measures DROP COLUMN baseline_period_key;
