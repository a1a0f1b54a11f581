-- The order service's own tables: the catalog replica, orders, their items
-- and their history (the saga timeline).

-- products is the replica of the catalog, built from catalog.events: what
-- an order needs to price a line. version is the catalog's; a change applies
-- only when newer, so out-of-order events cannot bring back an older state.
CREATE TABLE products (
    id          uuid        PRIMARY KEY,
    sku         text        NOT NULL DEFAULT '',
    name        text        NOT NULL DEFAULT '',
    seller_id   uuid,
    -- DRAFT, ACTIVE, ARCHIVED; '' while only a partial event has been seen.
    status      text        NOT NULL DEFAULT ''
                CHECK (status IN ('', 'DRAFT', 'ACTIVE', 'ARCHIVED')),
    price_minor bigint      CHECK (price_minor >= 0),
    currency    text        CHECK (currency ~ '^[A-Z]{3}$'),
    version     bigint      NOT NULL CHECK (version > 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((price_minor IS NULL) = (currency IS NULL))
);

CREATE TABLE orders (
    id                uuid        PRIMARY KEY,
    user_id           uuid        NOT NULL,
    status            text        NOT NULL
                      CHECK (status IN ('CREATED', 'PAYMENT_PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor       bigint      NOT NULL CHECK (total_minor >= 0),
    -- The seller of every line, when one seller has them all: that seller
    -- may see, ship and deliver the order. NULL for mixed orders.
    seller_id         uuid,
    -- The Idempotency-Key of the request that placed the order. Unique per
    -- user, in the same transaction as the order: a retry after a crash
    -- between the commit and the key's completion finds this order instead
    -- of placing a second one.
    idempotency_key   text        NOT NULL CHECK (idempotency_key <> ''),
    cancel_reason     text,
    item_count        int         NOT NULL CHECK (item_count BETWEEN 1 AND 100),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    -- When the order entered its current status: stuck-saga SLAs count
    -- from here.
    status_changed_at timestamptz NOT NULL,
    paid_at           timestamptz,
    CONSTRAINT orders_user_idempotency_key UNIQUE (user_id, idempotency_key),
    CHECK ((status = 'CANCELLED') = (cancel_reason IS NOT NULL))
);

-- Lists are newest first with keyset paging on (created_at, id): one index
-- per filter that lists use.
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_user_created ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_status_created ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_seller_created ON orders (seller_id, created_at DESC, id DESC) WHERE seller_id IS NOT NULL;
-- Stuck sagas: only orders waiting on the saga, small by nature; serves the
-- gauge's count per status and GET /orders?stuck=true.
CREATE INDEX orders_stuck ON orders (status, status_changed_at)
    WHERE status IN ('CREATED', 'PAYMENT_PENDING');

CREATE TABLE order_items (
    order_id         uuid    NOT NULL REFERENCES orders (id),
    line_no          int     NOT NULL CHECK (line_no >= 0),
    product_id       uuid    NOT NULL,
    sku              text    NOT NULL,
    name             text    NOT NULL,
    seller_id        uuid,
    quantity         int     NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_minor bigint  NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no),
    UNIQUE (order_id, product_id)
);

-- order_history is the saga timeline: every status change, and every saga
-- event that changed no status (recorded, or ignored as late).
CREATE TABLE order_history (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id           uuid        NOT NULL REFERENCES orders (id),
    at                 timestamptz NOT NULL,
    kind               text        NOT NULL CHECK (kind IN ('TRANSITION', 'EVENT', 'IGNORED')),
    from_status        text,
    to_status          text        NOT NULL,
    -- The user who asked; NULL when the system reacted to an event.
    actor_id           uuid,
    actor_role         text,
    reason             text        NOT NULL DEFAULT '',
    note               text        NOT NULL DEFAULT '',
    -- The event that caused the step (NULL for requests).
    event_id           uuid,
    event_type         text,
    -- The event the step published (ORDER_CREATED, ORDER_CANCELLED, ...).
    emitted_event_id   uuid,
    emitted_event_type text,
    detail             jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX order_history_order ON order_history (order_id, id);
-- An event is recorded once per order, however often it is delivered.
CREATE UNIQUE INDEX order_history_event ON order_history (order_id, event_id) WHERE event_id IS NOT NULL;
