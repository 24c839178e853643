-- The event a projector is stuck on, kept with the checkpoint so that any
-- process can report it, not only the one that runs the projector. It is always
-- the event after the checkpoint; every commit that moves the checkpoint clears it.

-- +goose Up
ALTER TABLE checkpoint
    ADD COLUMN stuck_sequence   bigint,
    ADD COLUMN stuck_event_type text,
    ADD COLUMN stuck_error      text,
    ADD COLUMN stuck_since      timestamptz;

-- +goose Down
ALTER TABLE checkpoint
    DROP COLUMN stuck_sequence,
    DROP COLUMN stuck_event_type,
    DROP COLUMN stuck_error,
    DROP COLUMN stuck_since;
