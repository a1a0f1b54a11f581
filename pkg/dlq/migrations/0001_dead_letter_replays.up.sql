-- Which dead-lettered messages staff replayed, when and who: the DLQ topic
-- is the record of failures, this table the record of what was done.
CREATE TABLE dead_letter_replays (
    dlq_topic   text        NOT NULL,
    dlq_offset  bigint      NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now(),
    replayed_by text        NOT NULL,
    PRIMARY KEY (dlq_topic, dlq_offset, replayed_at)
);
