-- Operators see which type of event was parked, from the message header.

-- +goose Up
ALTER TABLE parked_events ADD COLUMN event_type text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE parked_events DROP COLUMN event_type;
