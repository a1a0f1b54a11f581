package orderevents

import (
	"slices"
	"testing"

	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// The saga events the rules name are the contract's: every inventory and
// payment event about an order, under its type on the wire, and no other
// (STOCK_LOW is keyed by product).
func TestSagaEventsAreTheContracts(t *testing.T) {
	want := []string{
		eventsv1.TypeInventoryReserved, eventsv1.TypeInventoryRejected, eventsv1.TypeInventoryConfirmed,
		eventsv1.TypeInventoryReleased, eventsv1.TypeReservationExpired, eventsv1.TypePaymentInitiated,
		eventsv1.TypePaymentSuccess, eventsv1.TypePaymentFailed, eventsv1.TypePaymentRefunded, eventsv1.TypePaymentVoided,
	}
	got := order.SagaEventTypes()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the rules know %v; the contract's saga events are %v", got, want)
	}
	if slices.Contains(got, eventsv1.TypeStockLow) {
		t.Fatal("STOCK_LOW is keyed by product, not order")
	}
}
