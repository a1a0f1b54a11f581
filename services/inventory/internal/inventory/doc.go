// Package inventory holds the stock rules of the shop: stock per product,
// reservations of whole orders, the ledger of stock movements, and the rule
// that stock is never sold twice. It imports no web, database or broker
// package: the store (inventorydb), the HTTP handlers (inventoryapi) and the
// event handlers (inventoryevents) adapt it.
//
// # Stock and the ledger
//
// Each product has on_hand (sellable units not yet sold, reserved ones
// included) and reserved (held by ACTIVE reservations); available is
// on_hand - reserved, and 0 <= reserved <= on_hand always holds (a database
// CHECK enforces it too). Every change is a Movement in the ledger:
//
//	kind       on_hand  reserved  when
//	RECEIVED   +n                 goods arrive (seed, adjust with kind RECEIVED)
//	ADJUSTED   ±n                 a count is corrected (PUT on_hand, adjust)
//	RESERVED            +q        an order's line is reserved
//	RELEASED            -q        a reservation is released or expires
//	SOLD       -q       -q        a payment succeeded: the units leave the stock
//	RESTOCKED  +q                 a sold order was cancelled: the units come back
//
// so per product the deltas always sum to the current figures. "Sold" means
// the units are no longer the shop's to sell: they leave on_hand at payment,
// not at shipping; a paid order cancelled before it ships puts them back.
//
// # Reservations: one per order, a state machine
//
// Operations are keyed by order ID, idempotent (repeating one changes
// nothing and publishes nothing) and safe in any arrival order:
//
//	from        reserve                 confirm (paid)        release (payment failed)   cancel / staff release    expiry (sweeper)
//	(none)      ACTIVE, or nothing      CONFIRMED placeholder RELEASED placeholder       RELEASED placeholder      -
//	            stored and REJECTED
//	ACTIVE      no-op                   CONFIRMED (SOLD)      RELEASED (RELEASED)        RELEASED (RELEASED)       EXPIRED (RELEASED)
//	CONFIRMED   no-op                   no-op                 no-op                      RELEASED (RESTOCKED)      -
//	RELEASED    no-op                   no-op                 no-op                      no-op                     -
//	EXPIRED     no-op                   no-op                 no-op                      no-op                     -
//	CONFIRMED   reserve and sell at     no-op                 no-op                      RELEASED placeholder      -
//	placeholder once: CONFIRMED (or
//	            REJECTED, kept)
//	RELEASED    no-op                   no-op                 no-op                      no-op                     -
//	placeholder
//
// Placeholders hold no stock; they record an outcome that arrived before the
// reservation (a payment or cancellation seen before ORDER_CREATED), so the
// end state is the one in-order arrival would give: paid then reserved ends
// sold; cancelled then reserved ends with nothing held. A confirm that comes
// after an expiry or release does nothing: the saga has already cancelled
// the order (RESERVATION_EXPIRED / INVENTORY_RELEASED) and payment refunds.
// Restocking returns exactly the reservation's own lines, whatever the
// cancellation event says, so stock can never be returned twice.
//
// # Concurrency
//
// Every operation runs in one transaction that locks, in this order, the
// order's reservation row and then the stock rows of its products in
// product-ID order (SELECT ... ORDER BY product_id FOR NO KEY UPDATE); the
// decision is made on the locked rows, so no two transactions can both take
// the last unit and no two can deadlock over each other's rows. The sweeper
// takes overdue reservations with FOR UPDATE SKIP LOCKED, so replicas share
// the work and each reservation expires exactly once.
//
// A new reservation is first offered to the store as a PlainReservation:
// when, on the locked rows, nothing is left to decide (see its doc), the
// store applies it in one statement, locking the stock rows in the same
// product-ID order; otherwise it changes nothing and the rules here decide.
package inventory
