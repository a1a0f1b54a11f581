package eventsv1

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// SchemaVersion is the version of the event contract this code writes and
// understands. It travels in the schema-version header.
const SchemaVersion = 1

// Kafka header names of the event envelope (see the package documentation).
const (
	HeaderEventID       = "event-id"
	HeaderEventType     = "event-type"
	HeaderSchemaVersion = "schema-version"
	HeaderOccurredAt    = "occurred-at"
	HeaderCorrelationID = "correlation-id"
	HeaderCausationID   = "causation-id"
	HeaderTraceparent   = "traceparent"
)

// Topics, one per producing service.
const (
	TopicIdentity  = "identity.events"
	TopicCatalog   = "catalog.events"
	TopicOrder     = "order.events"
	TopicInventory = "inventory.events"
	TopicPayment   = "payment.events"
)

// Event types: the wire names carried in the event-type header.
const (
	// identity.events
	TypeUserRegistered             = "USER_REGISTERED"
	TypeUserRoleChanged            = "USER_ROLE_CHANGED"
	TypeUserDisabled               = "USER_DISABLED"
	TypeUserLoginSucceeded         = "USER_LOGIN_SUCCEEDED"
	TypeUserLoginFailed            = "USER_LOGIN_FAILED"
	TypeRefreshTokenReuseDetected  = "REFRESH_TOKEN_REUSE_DETECTED"
	TypeUserPasswordChanged        = "USER_PASSWORD_CHANGED"
	TypeUserEnabled                = "USER_ENABLED"
	TypeSellerApplicationSubmitted = "SELLER_APPLICATION_SUBMITTED"
	TypeSellerApplicationApproved  = "SELLER_APPLICATION_APPROVED"
	TypeSellerApplicationRejected  = "SELLER_APPLICATION_REJECTED"

	// catalog.events
	TypeProductUpserted     = "PRODUCT_UPSERTED"
	TypeProductPriceChanged = "PRODUCT_PRICE_CHANGED"
	TypeProductArchived     = "PRODUCT_ARCHIVED"

	// order.events
	TypeOrderCreated   = "ORDER_CREATED"
	TypeOrderCancelled = "ORDER_CANCELLED"
	TypeOrderShipped   = "ORDER_SHIPPED"
	TypeOrderDelivered = "ORDER_DELIVERED"

	// inventory.events
	TypeInventoryReserved  = "INVENTORY_RESERVED"
	TypeInventoryRejected  = "INVENTORY_REJECTED"
	TypeInventoryConfirmed = "INVENTORY_CONFIRMED"
	TypeInventoryReleased  = "INVENTORY_RELEASED"
	TypeReservationExpired = "RESERVATION_EXPIRED"
	TypeStockLow           = "STOCK_LOW"

	// payment.events
	TypePaymentInitiated = "PAYMENT_INITIATED"
	TypePaymentSuccess   = "PAYMENT_SUCCESS" // message PaymentSucceeded
	TypePaymentFailed    = "PAYMENT_FAILED"
	TypePaymentRefunded  = "PAYMENT_REFUNDED"
	TypePaymentVoided    = "PAYMENT_VOIDED"
)

// registration ties an event type to its topic and message.
type registration struct {
	eventType  string
	topic      string
	newMessage func() proto.Message
}

// registrations is the single table of all events.
var registrations = []registration{
	{TypeUserRegistered, TopicIdentity, func() proto.Message { return new(UserRegistered) }},
	{TypeUserRoleChanged, TopicIdentity, func() proto.Message { return new(UserRoleChanged) }},
	{TypeUserDisabled, TopicIdentity, func() proto.Message { return new(UserDisabled) }},
	{TypeUserLoginSucceeded, TopicIdentity, func() proto.Message { return new(UserLoginSucceeded) }},
	{TypeUserLoginFailed, TopicIdentity, func() proto.Message { return new(UserLoginFailed) }},
	{TypeRefreshTokenReuseDetected, TopicIdentity, func() proto.Message { return new(RefreshTokenReuseDetected) }},
	{TypeUserPasswordChanged, TopicIdentity, func() proto.Message { return new(UserPasswordChanged) }},
	{TypeUserEnabled, TopicIdentity, func() proto.Message { return new(UserEnabled) }},
	{TypeSellerApplicationSubmitted, TopicIdentity, func() proto.Message { return new(SellerApplicationSubmitted) }},
	{TypeSellerApplicationApproved, TopicIdentity, func() proto.Message { return new(SellerApplicationApproved) }},
	{TypeSellerApplicationRejected, TopicIdentity, func() proto.Message { return new(SellerApplicationRejected) }},

	{TypeProductUpserted, TopicCatalog, func() proto.Message { return new(ProductUpserted) }},
	{TypeProductPriceChanged, TopicCatalog, func() proto.Message { return new(ProductPriceChanged) }},
	{TypeProductArchived, TopicCatalog, func() proto.Message { return new(ProductArchived) }},

	{TypeOrderCreated, TopicOrder, func() proto.Message { return new(OrderCreated) }},
	{TypeOrderCancelled, TopicOrder, func() proto.Message { return new(OrderCancelled) }},
	{TypeOrderShipped, TopicOrder, func() proto.Message { return new(OrderShipped) }},
	{TypeOrderDelivered, TopicOrder, func() proto.Message { return new(OrderDelivered) }},

	{TypeInventoryReserved, TopicInventory, func() proto.Message { return new(InventoryReserved) }},
	{TypeInventoryRejected, TopicInventory, func() proto.Message { return new(InventoryRejected) }},
	{TypeInventoryConfirmed, TopicInventory, func() proto.Message { return new(InventoryConfirmed) }},
	{TypeInventoryReleased, TopicInventory, func() proto.Message { return new(InventoryReleased) }},
	{TypeReservationExpired, TopicInventory, func() proto.Message { return new(ReservationExpired) }},
	{TypeStockLow, TopicInventory, func() proto.Message { return new(StockLow) }},

	{TypePaymentInitiated, TopicPayment, func() proto.Message { return new(PaymentInitiated) }},
	{TypePaymentSuccess, TopicPayment, func() proto.Message { return new(PaymentSucceeded) }},
	{TypePaymentFailed, TopicPayment, func() proto.Message { return new(PaymentFailed) }},
	{TypePaymentRefunded, TopicPayment, func() proto.Message { return new(PaymentRefunded) }},
	{TypePaymentVoided, TopicPayment, func() proto.Message { return new(PaymentVoided) }},
}

// Indexes over registrations, built once at init.
var (
	byType    = make(map[string]*registration, len(registrations))
	byMessage = make(map[protoreflect.FullName]*registration, len(registrations))
)

func init() {
	for i := range registrations {
		r := &registrations[i]
		name := r.newMessage().ProtoReflect().Descriptor().FullName()
		if _, dup := byType[r.eventType]; dup {
			panic("eventsv1: event type registered twice: " + r.eventType)
		}
		if _, dup := byMessage[name]; dup {
			panic("eventsv1: message registered twice: " + string(name))
		}
		byType[r.eventType] = r
		byMessage[name] = r
	}
}

// TypeOf returns the event type and topic of an event message. ok is false
// for nil and for messages that are not events (such as Money).
func TypeOf(m proto.Message) (eventType string, topic string, ok bool) {
	if m == nil {
		return "", "", false
	}
	r, ok := byMessage[m.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return "", "", false
	}
	return r.eventType, r.topic, true
}

// New returns a new, empty message for an event type, ready for
// proto.Unmarshal. ok is false for an unknown event type.
func New(eventType string) (m proto.Message, ok bool) {
	r, ok := byType[eventType]
	if !ok {
		return nil, false
	}
	return r.newMessage(), true
}

// KeyedByOrder reports whether events of eventType are keyed by an order
// ID (the event catalog's key column): every event of the saga's topics,
// order.events, inventory.events and payment.events, except STOCK_LOW,
// which is keyed by product.
func KeyedByOrder(eventType string) bool {
	r, ok := byType[eventType]
	if !ok || eventType == TypeStockLow {
		return false
	}
	switch r.topic {
	case TopicOrder, TopicInventory, TopicPayment:
		return true
	}
	return false
}

// Types returns all event types, grouped by topic. The caller owns the slice.
func Types() []string {
	types := make([]string, len(registrations))
	for i, r := range registrations {
		types[i] = r.eventType
	}
	return types
}
