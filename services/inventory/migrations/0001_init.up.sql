-- Stock per product. A row exists for every product inventory has heard of:
-- from catalog.events (PRODUCT_UPSERTED, PRODUCT_ARCHIVED) or from the demo
-- seed. The catalog fields are a replica: catalog_version is the highest
-- product version applied (NULL when catalog has not spoken yet, e.g. a row
-- made by the seed), so that an older event never overwrites a newer one.
--
-- on_hand is the sellable stock not yet sold (it includes what is reserved);
-- reserved is held by ACTIVE reservations. available = on_hand - reserved.
-- The CHECK is the last line of defence against overselling: whatever the
-- code does, reserved can never exceed on_hand.
CREATE TABLE stock (
    product_id          uuid PRIMARY KEY,
    seller_id           uuid,
    sku                 text        NOT NULL DEFAULT '',
    status              text        NOT NULL CHECK (status IN ('DRAFT', 'ACTIVE', 'ARCHIVED')),
    catalog_version     bigint,
    on_hand             bigint      NOT NULL DEFAULT 0,
    reserved            bigint      NOT NULL DEFAULT 0,
    -- NULL: the service default (SHOP_INVENTORY_LOW_STOCK_THRESHOLD).
    low_stock_threshold bigint CHECK (low_stock_threshold >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_reserved_within_on_hand CHECK (0 <= reserved AND reserved <= on_hand)
);

-- A seller's dashboard lists its own products in product-ID order.
CREATE INDEX stock_seller_idx ON stock (seller_id, product_id);

-- One reservation per order, covering all its lines. A placeholder records
-- an outcome that arrived before the reservation itself (a payment or a
-- cancellation seen before ORDER_CREATED); it holds no stock.
CREATE TABLE reservations (
    id          uuid PRIMARY KEY,
    order_id    uuid        NOT NULL UNIQUE,
    status      text        NOT NULL CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    placeholder boolean     NOT NULL DEFAULT false,
    expires_at  timestamptz NOT NULL,
    -- Why it was released or expired (PAYMENT_FAILED, ORDER_CANCELLED, ...).
    reason      text        NOT NULL DEFAULT '',
    -- Whether a release returned sold stock (a cancelled paid order).
    restocked   boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The sweeper's query: overdue ACTIVE reservations, oldest first.
CREATE INDEX reservations_due_idx ON reservations (expires_at) WHERE status = 'ACTIVE';

-- No foreign key to stock: lines are written next to the reservation before
-- the stock rows are locked (and deleted again when the order is rejected),
-- so that the locks are held for as short a time as possible.
CREATE TABLE reservation_lines (
    reservation_id uuid   NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    product_id     uuid   NOT NULL,
    quantity       bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, product_id)
);

-- The ledger: every change of on_hand or reserved, with the figures after
-- it. Per product, the deltas always sum to the current stock row.
CREATE TABLE stock_movements (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id     uuid        NOT NULL REFERENCES stock (product_id),
    kind           text        NOT NULL CHECK (kind IN ('RECEIVED', 'ADJUSTED', 'RESERVED', 'RELEASED', 'SOLD', 'RESTOCKED')),
    on_hand_delta  bigint      NOT NULL,
    reserved_delta bigint      NOT NULL,
    on_hand_after  bigint      NOT NULL,
    reserved_after bigint      NOT NULL,
    reservation_id uuid,
    order_id       uuid,
    reason         text        NOT NULL DEFAULT '',
    actor_id       uuid,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- A product's ledger, newest first, in pages.
CREATE INDEX stock_movements_product_idx ON stock_movements (product_id, id);
