package inventorydb

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
)

// Publish converts domain events to their protobuf messages and adds them to
// the outbox in this transaction.
func (t *txStore) Publish(ctx context.Context, events ...inventory.Event) error {
	out, err := outboxEvents(ctx, events)
	if err != nil {
		return err
	}
	if err := outbox.Add(ctx, t.db, out...); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// Announce publishes events and returns their outbox rows, for Withdraw.
func (t *txStore) Announce(ctx context.Context, events ...inventory.Event) (inventory.Announced, error) {
	out, err := outboxEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	rows, err := outbox.AddWithdrawable(ctx, t.db, out...)
	if err != nil {
		return nil, fmt.Errorf("announce: %w", err)
	}
	return inventory.Announced(rows), nil
}

// Withdraw deletes the outbox rows this transaction announced: uncommitted,
// so no relay has seen them.
func (t *txStore) Withdraw(ctx context.Context, a inventory.Announced) error {
	if err := outbox.Withdraw(ctx, t.db, outbox.Written(a)); err != nil {
		return fmt.Errorf("withdraw events: %w", err)
	}
	return nil
}

// outboxEvents are the envelopes of domain events.
func outboxEvents(ctx context.Context, events []inventory.Event) ([]event.Event, error) {
	out := make([]event.Event, len(events))
	for i, e := range events {
		var err error
		if out[i], err = envelope(ctx, e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// envelope is a domain event as the outbox stores it: its protobuf
// message in the envelope of ctx (trace, correlation, causation).
func envelope(ctx context.Context, e inventory.Event) (event.Event, error) {
	key, msg, err := toProto(e)
	if err != nil {
		return event.Event{}, err
	}
	return event.New(ctx, key, msg)
}

// toProto returns an event's key (order ID for the saga, product ID for
// STOCK_LOW) and message.
func toProto(e inventory.Event) (string, proto.Message, error) {
	switch e := e.(type) {
	case inventory.Reserved:
		lines := make([]*eventsv1.ReservedLine, len(e.Lines))
		for i, l := range e.Lines {
			lines[i] = &eventsv1.ReservedLine{ProductId: l.ProductID.String(), Quantity: clamp32(l.Quantity)}
		}
		m := &eventsv1.InventoryReserved{
			OrderId: e.OrderID.String(), ReservationId: e.ReservationID.String(),
			ExpiresAt: timestamppb.New(e.ExpiresAt), Lines: lines,
		}
		if p := e.Payable; p != nil {
			m.UserId = p.UserID.String()
			m.Total = &eventsv1.Money{AmountMinor: p.AmountMinor, Currency: p.Currency}
		}
		return e.OrderID.String(), m, nil
	case inventory.Rejected:
		short := make([]*eventsv1.ShortLine, len(e.Rejection.Lines))
		for i, l := range e.Rejection.Lines {
			short[i] = &eventsv1.ShortLine{ProductId: l.ProductID.String(), Requested: clamp32(l.Requested), Available: clamp32(l.Available)}
		}
		return e.Rejection.OrderID.String(), &eventsv1.InventoryRejected{
			OrderId: e.Rejection.OrderID.String(), ShortLines: short, Reason: e.Rejection.Reason,
		}, nil
	case inventory.Confirmed:
		return e.OrderID.String(), &eventsv1.InventoryConfirmed{OrderId: e.OrderID.String(), ReservationId: e.ReservationID.String()}, nil
	case inventory.Released:
		return e.OrderID.String(), &eventsv1.InventoryReleased{
			OrderId: e.OrderID.String(), ReservationId: e.ReservationID.String(), Reason: e.Reason,
		}, nil
	case inventory.Expired:
		return e.OrderID.String(), &eventsv1.ReservationExpired{OrderId: e.OrderID.String(), ReservationId: e.ReservationID.String()}, nil
	case inventory.StockLow:
		return e.ProductID.String(), &eventsv1.StockLow{
			ProductId: e.ProductID.String(), Available: clamp32(e.Available), Threshold: clamp32(e.Threshold),
		}, nil
	}
	return "", nil, fmt.Errorf("inventorydb: no message for event %T", e)
}

// clamp32 fits stock figures (bigint here, int32 on the wire) into the
// message; quantities are validated far below the limit.
func clamp32(n int64) int32 {
	const maxInt32 = 1<<31 - 1
	return int32(max(min(n, maxInt32), -maxInt32))
}
