package payment

import "errors"

// The payment side of the order saga. Each handler runs in the consumer's
// transaction (tx), which also claims the event in the inbox: a redelivered
// event is skipped before it gets here, and every handler is also written
// to be idempotent on its own (a second identical event changes nothing).
//
// INVENTORY_RESERVED carries what the payment needs (the order's owner and
// total, which inventory passes on from ORDER_CREATED), so payment does not
// consume ORDER_CREATED: one event, one transaction per order. What payment
// knows of each order is its projection, which ORDER_CANCELLED (another
// topic, so in any interleaving) and RESERVATION_EXPIRED also write: a
// payment is created only for a known, reserved order that is still open.
// Locks are taken in one order everywhere (projection row, then payment
// row) so handlers and HTTP calls cannot deadlock.

// ErrInvalidEvent marks an event whose content breaks the contract; it can
// never be applied (the consumer dead-letters it).
var ErrInvalidEvent = errors.New("invalid event")

// ErrEventMismatch marks an event whose numbers disagree with payment's own
// records (an ORDER_CANCELLED naming another owner or total than the
// order's payment): applying it would trust the event over the records, so
// the consumer dead-letters it with the reason.
var ErrEventMismatch = errors.New("event disagrees with the payment's records")
