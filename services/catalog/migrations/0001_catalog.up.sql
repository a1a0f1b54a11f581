-- The catalog: a category tree, products, and the history of their prices.

-- Trigram similarity finds the words a search meant despite typos.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
    id         uuid        PRIMARY KEY,
    -- NULL for a root. RESTRICT: a category with subcategories cannot go.
    parent_id  uuid        REFERENCES categories (id) ON DELETE RESTRICT,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug       text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (parent_id <> id),
    -- Slugs are unique among siblings (roots included), so slug paths such
    -- as electronics/audio name one category.
    CONSTRAINT categories_sibling_slug_key UNIQUE NULLS NOT DISTINCT (parent_id, slug)
);

CREATE TABLE products (
    id          uuid        PRIMARY KEY,
    -- Unique in the whole catalog (see package catalog).
    sku         text        NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    price_minor bigint      NOT NULL CHECK (price_minor >= 0),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    seller_id   uuid        NOT NULL,
    -- RESTRICT: a category that still holds products cannot be deleted.
    category_id uuid        CONSTRAINT products_category_fkey REFERENCES categories (id) ON DELETE RESTRICT,
    status      text        NOT NULL CHECK (status IN ('DRAFT', 'ACTIVE', 'ARCHIVED')),
    images      jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(images) = 'array'),
    attributes  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    version     bigint      NOT NULL CHECK (version >= 1),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Full-text document: name and SKU weigh A, the description B, so a
    -- match in the name ranks above one in the description.
    search      tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, name), 'A') ||
        setweight(to_tsvector('simple'::regconfig, sku), 'A') ||
        setweight(to_tsvector('english'::regconfig, description), 'B')
    ) STORED
);

-- One index per hot listing. Keyset pages walk them in order (backwards for
-- DESC sorts) and stop after one page, whatever the size of the catalog.
-- Public listings (status = 'ACTIVE'), newest first and by price:
CREATE INDEX products_status_created_idx ON products (status, created_at, id);
CREATE INDEX products_status_price_idx   ON products (status, price_minor, id);
-- A seller's own products, and the seller filter:
CREATE INDEX products_seller_created_idx ON products (seller_id, created_at, id);
CREATE INDEX products_seller_price_idx   ON products (seller_id, price_minor, id);
-- Admins list everything:
CREATE INDEX products_created_idx        ON products (created_at, id);
CREATE INDEX products_price_idx          ON products (price_minor, id);
-- The category filter: a leaf category's page is read in order from these;
-- for a subtree (several categories) the planner weighs them against
-- walking the status indexes above. The first also serves the foreign key
-- check when a category is deleted.
CREATE INDEX products_category_idx       ON products (category_id, status, created_at, id);
CREATE INDEX products_category_price_idx ON products (category_id, status, price_minor, id);
-- Search: full text. fastupdate off: with it, new entries wait in a pending
-- list until (auto)vacuum merges them; every search scans that list, and the
-- planner, costing it, falls back to sequential scans. The catalog is read
-- far more than written, so writes pay the merge at once instead.
CREATE INDEX products_search_idx         ON products USING gin (search) WITH (fastupdate = off);

-- Typo tolerance. Every word of every product name, once (names are what
-- shoppers search for; descriptions would cost more to split than they add).
-- A search looks up, by trigram similarity, the dictionary words closest to
-- each word it was given ("hedphones" → "headphones") and then runs full
-- text search with them, on the GIN index above. Trigram matching runs on
-- this small table (thousands of distinct words), not on every product
-- name: on products.name a GIN trigram scan walks huge posting lists for
-- common trigrams, and the planner, which cannot estimate the similarity
-- operators, picks sequential scans (both measured; see catalogdb).
-- Words are never removed: a stale word only suggests a spelling that
-- matches nothing.
CREATE TABLE search_words (
    word text PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

CREATE FUNCTION search_words_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Sorted, so concurrent writers that add the same new words take their
    -- locks in one order and never deadlock.
    INSERT INTO search_words (word)
    SELECT DISTINCT w
    FROM new_rows, regexp_split_to_table(lower(new_rows.name), '[^[:alnum:]]+') AS w
    WHERE length(w) BETWEEN 3 AND 40 AND w !~ '^[0-9]+$'
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;

-- Statement-level with transition tables: one INSERT per statement, so
-- bulk loads (COPY, multi-row INSERT) stay fast.
CREATE TRIGGER products_words_insert AFTER INSERT ON products
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_add();
CREATE TRIGGER products_words_update AFTER UPDATE ON products
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_add();

-- Every price a product has had, newest last. Written in the transaction of
-- the change, next to the PRODUCT_PRICE_CHANGED event.
CREATE TABLE price_history (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id      uuid        NOT NULL REFERENCES products (id),
    -- NULL for the price the product was created with.
    old_price_minor bigint,
    old_currency    text,
    price_minor     bigint      NOT NULL,
    currency        text        NOT NULL,
    version         bigint      NOT NULL,
    changed_by      uuid        NOT NULL,
    changed_at      timestamptz NOT NULL
);
CREATE INDEX price_history_product_idx ON price_history (product_id, id);
