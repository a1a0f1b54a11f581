-- This service's copy of the access-token revocation list (pkg/revocation):
-- per user, the lowest token generation still accepted. Written by the
-- service's consumer of identity.events, read into memory at start-up and
-- every second, so that the list survives a restart even when the events
-- that built it are no longer in the topic. A row is useless once every
-- token it refuses has expired (expires_at), and is deleted then.
CREATE TABLE token_revocations (
    user_id    uuid        PRIMARY KEY,
    generation bigint      NOT NULL CHECK (generation > 0),
    expires_at timestamptz NOT NULL
);
