-- The transactional outbox: events written in the same transaction as the
-- state change that caused them, published to Kafka by the relay and then
-- deleted.
CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lane           smallint    NOT NULL,
    topic          text        NOT NULL,
    message_key    text        NOT NULL,
    event_id       uuid        NOT NULL,
    event_type     text        NOT NULL,
    schema_version int         NOT NULL,
    occurred_at    timestamptz NOT NULL,
    correlation_id text        NOT NULL,
    causation_id   text        NOT NULL DEFAULT '',
    traceparent    text        NOT NULL DEFAULT '',
    payload        bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A key always hashes to the same lane. A relay locks whole lanes (FOR UPDATE
-- SKIP LOCKED), so replicas share the work while the events of one key are
-- published by one relay at a time, in id order.
CREATE TABLE outbox_lanes (
    lane smallint PRIMARY KEY
);
INSERT INTO outbox_lanes (lane) SELECT generate_series(0, 15);

-- Wake the relays on commit (notifications are delivered at commit, once per
-- transaction), so publishing needs no polling delay.
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('shop_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify
AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
