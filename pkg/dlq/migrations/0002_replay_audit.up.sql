-- The replay log becomes an audit log: who replayed which event, where to,
-- when, within which request, and whether the broker took it. A row is
-- written 'pending' before the message is published and then set to
-- 'published' or 'failed', so that a crash in between leaves a row that says
-- the replay may have happened, never a replay without a row. Rows written
-- before this migration were all published, after the fact.
ALTER TABLE dead_letter_replays
    ADD COLUMN replay_id    uuid UNIQUE,
    ADD COLUMN event_id     text NOT NULL DEFAULT '',
    ADD COLUMN event_type   text NOT NULL DEFAULT '',
    ADD COLUMN target_topic text NOT NULL DEFAULT '',
    ADD COLUMN request_id   text NOT NULL DEFAULT '',
    ADD COLUMN outcome      text NOT NULL DEFAULT 'published'
        CHECK (outcome IN ('pending', 'published', 'failed')),
    ADD COLUMN error        text NOT NULL DEFAULT '';
