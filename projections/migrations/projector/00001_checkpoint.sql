-- The projector's own tables, in the schema of the read model it feeds. They
-- change in the same transaction as the read model, so the checkpoint always
-- names the last event the read model contains.

-- +goose Up
CREATE TABLE checkpoint (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- sequence is the stream sequence of the last event applied.
    sequence   bigint NOT NULL CHECK (sequence >= 0),
    -- events counts every event applied or skipped, once each; after a full
    -- replay it equals sequence, which shows that no event was applied twice.
    events     bigint NOT NULL CHECK (events >= 0),
    batches    bigint NOT NULL CHECK (batches >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO checkpoint (sequence, events, batches) VALUES (0, 0, 0);

-- parked_events keeps the events the projector could not decode: they are
-- skipped so that one bad message does not stall the read model.
CREATE TABLE parked_events (
    sequence  bigint PRIMARY KEY,
    subject   text NOT NULL,
    error     text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE parked_events;
DROP TABLE checkpoint;
