// Package eventsv1 is the event contract of Shop: the protobuf messages that
// services publish to Kafka, their wire type names and topics, and a registry
// mapping between them.
//
// The message types are generated from proto-events/proto/shop/events/v1 by
// scripts/proto.sh (make proto); registry.go is the only hand-written part.
//
// # Envelope
//
// A Kafka record carries one event. The record key is the aggregate whose
// events must stay in order (the order ID for the saga, the product ID for
// catalog and stock events, the user ID for identity events). The record value
// is the protobuf-encoded message (proto.Marshal) and nothing else; the
// envelope lives in Kafka headers, whose names are the Header* constants:
//
//   - event-id: unique ID of the event (UUIDv7); consumers deduplicate on it.
//   - event-type: wire type name, e.g. ORDER_CREATED (the Type* constants);
//     it selects the message to decode the value into (see New).
//   - schema-version: version of the contract the producer wrote, as a decimal
//     string (see SchemaVersion).
//   - occurred-at: when the state change happened, RFC 3339 (fractional
//     seconds allowed) in UTC.
//   - correlation-id: ties together everything one request started (the order
//     ID throughout the order saga).
//   - causation-id: event-id of the event that caused this one; empty for an
//     event caused by an API request.
//   - traceparent: W3C Trace Context, to continue the producer's trace.
//
// Each service publishes only to its own topic (the Topic* constants).
//
// # Compatibility
//
// Adding a field is compatible: old consumers skip unknown fields, and new
// consumers see the zero value in old events, so every field must have a
// sensible zero value. Field numbers are the wire contract: never change a
// field's number or type, and never reuse a number. Removing or renaming a
// field, or changing its meaning, needs a new schema version: increase
// SchemaVersion (and, for a breaking change of the whole contract, add a new
// package shop.events.v2 next to this one).
//
// Consumers ignore event types they do not handle and commit past them. An
// event whose schema-version is greater than the SchemaVersion they were
// built with goes to their dead-letter topic; it never crashes them. Wire type
// names and topics never change once published.
package eventsv1
