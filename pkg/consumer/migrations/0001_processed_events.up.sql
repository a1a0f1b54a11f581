-- The inbox of idempotent consumers: an event's effect and its row here
-- commit in one transaction, so a redelivered event finds its row and is
-- skipped.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Old rows are pruned once no broker could redeliver their event.
CREATE INDEX processed_events_processed_at ON processed_events (processed_at);
