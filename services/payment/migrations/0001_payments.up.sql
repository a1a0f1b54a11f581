-- Payments, refunds and the local projection of orders.
--
-- The rules that protect money are enforced here, not only in Go:
--   * one payment per order (UNIQUE order_id), so an order can never be
--     charged through two payments;
--   * a payment's status moves only along the state machine below, checked
--     by a trigger on every UPDATE; a captured payment can never be captured
--     again (its charge_id is written once);
--   * refunds never exceed what was captured (CHECK refunded_minor <=
--     amount_minor), and money rows are never deleted.
--
--   PENDING ──> SUCCEEDED ──> PARTIALLY_REFUNDED ──> REFUNDED
--      │            └───────────────────────────────────^
--      ├──> FAILED
--      └──> VOIDED

CREATE TABLE payments (
    id             uuid        PRIMARY KEY,
    order_id       uuid        NOT NULL,
    user_id        uuid        NOT NULL,
    reservation_id uuid,
    amount_minor   bigint      NOT NULL CHECK (amount_minor > 0),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status         text        NOT NULL CHECK (status IN
                       ('PENDING', 'SUCCEEDED', 'FAILED', 'VOIDED', 'PARTIALLY_REFUNDED', 'REFUNDED')),
    refunded_minor bigint      NOT NULL DEFAULT 0,
    failure_reason text        NOT NULL DEFAULT '',
    void_reason    text        NOT NULL DEFAULT '',
    card_last4     text        NOT NULL DEFAULT '',
    attempts       int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    charge_id      text,
    captured_at    timestamptz,
    version        int         NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),

    -- One payment per order: the saga creates it once, initiate returns it.
    -- (Stronger than a partial unique index on captured payments: a second
    -- payment for the order cannot even exist.)
    CONSTRAINT payments_one_per_order UNIQUE (order_id),
    -- Never refund more than was captured, never a negative amount. (CHECKs
    -- run in name order: this one is named to be reported before
    -- payments_refund_matches_status.)
    CONSTRAINT payments_refund_le_amount CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    -- Captured states, and only they, carry the gateway's charge.
    CONSTRAINT payments_capture_recorded CHECK (
        (status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED')) = (charge_id IS NOT NULL AND captured_at IS NOT NULL)),
    -- The refund figures match the status.
    CONSTRAINT payments_refund_matches_status CHECK (CASE status
        WHEN 'REFUNDED'           THEN refunded_minor = amount_minor
        WHEN 'PARTIALLY_REFUNDED' THEN refunded_minor > 0 AND refunded_minor < amount_minor
        ELSE refunded_minor = 0 END)
);

-- Lists: a customer's payments, and everyone's for staff, newest first.
CREATE INDEX payments_user_created ON payments (user_id, created_at DESC, id DESC);
CREATE INDEX payments_created ON payments (created_at DESC, id DESC);
CREATE INDEX payments_status_created ON payments (status, created_at DESC, id DESC);

-- payments_guard refuses what no code path may do, even a hand-written
-- UPDATE: a status change off the state machine, a second capture, changing
-- what is owed or by whom, giving back refunded money.
CREATE FUNCTION payments_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN (
            ('PENDING', 'SUCCEEDED'), ('PENDING', 'FAILED'), ('PENDING', 'VOIDED'),
            ('SUCCEEDED', 'PARTIALLY_REFUNDED'), ('SUCCEEDED', 'REFUNDED'),
            ('PARTIALLY_REFUNDED', 'REFUNDED')) THEN
        RAISE EXCEPTION 'payment %: illegal transition % -> %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_transition';
    END IF;
    IF OLD.charge_id IS NOT NULL AND NEW.charge_id IS DISTINCT FROM OLD.charge_id THEN
        RAISE EXCEPTION 'payment %: already captured (charge %)', OLD.id, OLD.charge_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_captured_once';
    END IF;
    IF NEW.order_id <> OLD.order_id OR NEW.user_id <> OLD.user_id
            OR NEW.amount_minor <> OLD.amount_minor OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'payment %: order, owner and amount are immutable', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_immutable';
    END IF;
    IF NEW.refunded_minor < OLD.refunded_minor THEN
        RAISE EXCEPTION 'payment %: refunded amount cannot decrease', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_refunds_final';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER payments_guard BEFORE UPDATE ON payments
FOR EACH ROW EXECUTE FUNCTION payments_guard();

CREATE FUNCTION payments_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payments and refunds are never deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'payments_kept';
END
$$;

CREATE TRIGGER payments_keep BEFORE DELETE ON payments
FOR EACH ROW EXECUTE FUNCTION payments_keep();

CREATE TABLE refunds (
    id           uuid        PRIMARY KEY,
    payment_id   uuid        NOT NULL REFERENCES payments (id),
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    currency     text        NOT NULL,
    reason       text        NOT NULL,
    -- The admin who refunded; NULL for an automatic refund (order cancelled).
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refunds_payment ON refunds (payment_id, created_at, id);

CREATE TRIGGER refunds_keep BEFORE DELETE ON refunds
FOR EACH ROW EXECUTE FUNCTION payments_keep();

-- order_projection is what payment knows of each order, from ORDER_CREATED,
-- INVENTORY_RESERVED, RESERVATION_EXPIRED and ORDER_CANCELLED. Those arrive on
-- two topics in any interleaving, so a row may start from any of them; a
-- payment is created once the order is known (owner, total) and reserved,
-- and never after it expired or was cancelled.
CREATE TABLE order_projection (
    order_id               uuid        PRIMARY KEY,
    user_id                uuid,
    total_minor            bigint      CHECK (total_minor > 0),
    currency               text        CHECK (currency ~ '^[A-Z]{3}$'),
    reservation_id         uuid,
    reservation_expires_at timestamptz,
    expired_at             timestamptz,
    cancelled_at           timestamptz,
    cancel_reason          text        NOT NULL DEFAULT '',
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_projection_known CHECK ((user_id IS NULL) = (total_minor IS NULL) AND (total_minor IS NULL) = (currency IS NULL))
);
