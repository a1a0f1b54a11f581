-- Idempotency keys of HTTP requests (the Idempotency-Key header): one row per
-- caller scope and key, holding the request's fingerprint while it is in
-- flight and its response once it completed, so that a retry replays it.
CREATE TABLE idempotency_keys (
    scope            text        NOT NULL,
    key              text        NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request
    -- is refused.
    request_hash     bytea       NOT NULL,
    state            text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    -- While in flight, the request holds the key until locked_until; after
    -- that (its process died) the next request with the key takes it over.
    -- The value doubles as the holder's fencing token.
    locked_until     timestamptz,
    response_status  int,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- A record past expires_at counts as absent; Prune deletes it.
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CHECK (state <> 'completed' OR response_status IS NOT NULL)
);

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
