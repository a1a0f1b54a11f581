// Package catalog holds the rules of the catalog: products (with their
// prices and lifecycle), the category tree, who may see and change what,
// the listing filters and keyset cursors, and the Service that applies them.
//
// It knows nothing of HTTP, SQL or Kafka. It talks to storage through Store
// (which owns transactions and the outbox) and to the read cache through
// Cache, both declared here and implemented by catalogdb and catalogcache.
//
// Decisions worth knowing:
//   - A SKU is unique in the whole catalog, not per seller: the event contract
//     (PRODUCT_UPSERTED) calls it "unique per catalog", and inventory and the
//     demo data derive product IDs from it.
//   - Every change bumps the product's version by one and emits
//     PRODUCT_UPSERTED with the full new state; a price change also emits
//     PRODUCT_PRICE_CHANGED and archiving also emits PRODUCT_ARCHIVED, with
//     the same version. A write that changes nothing emits nothing.
//   - DRAFT products are visible only to their seller and admins; ACTIVE and
//     ARCHIVED ones to everybody by ID (so links from old orders still
//     resolve), while public listings show ACTIVE products only.
package catalog
