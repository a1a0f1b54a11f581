package order

import (
	"testing"
	"time"
)

// TestWhoMayDoWhat is the ownership table: owner, another customer, the
// seller of every line, a seller of some lines, an admin, anonymous.
func TestWhoMayDoWhat(t *testing.T) {
	const owner, other, seller, seller2, admin = "u-owner", "u-other", "u-seller", "u-seller2", "u-admin"
	sole := Order{UserID: owner, SellerID: seller}
	mixed := Order{UserID: owner} // lines of several sellers
	cases := []struct {
		name                 string
		actor                Actor
		o                    Order
		view, cancel, fulfil bool
	}{
		{"owner", Actor{owner, RoleCustomer}, sole, true, true, false},
		{"other customer", Actor{other, RoleCustomer}, sole, false, false, false},
		{"seller of every line", Actor{seller, RoleSeller}, sole, true, false, true},
		{"another seller", Actor{seller2, RoleSeller}, sole, false, false, false},
		{"seller of some lines", Actor{seller, RoleSeller}, mixed, false, false, false},
		{"admin", Actor{admin, RoleAdmin}, mixed, true, true, true},
		{"anonymous", Actor{}, sole, false, false, false},
		{"customer named like the seller", Actor{seller, RoleCustomer}, sole, false, false, false},
	}
	for _, tc := range cases {
		if got := tc.actor.canView(tc.o); got != tc.view {
			t.Errorf("%s: view %v", tc.name, got)
		}
		if got := tc.actor.canCancel(tc.o); got != tc.cancel {
			t.Errorf("%s: cancel %v", tc.name, got)
		}
		if got := tc.actor.canFulfil(tc.o); got != tc.fulfil {
			t.Errorf("%s: fulfil %v", tc.name, got)
		}
	}
}

// TestStatusEvents: which event entering a status publishes, and what
// ORDER_CANCELLED says.
func TestStatusEvents(t *testing.T) {
	now := time.Now()
	o := Order{ID: "o1", UserID: "u1", Currency: "EUR", TotalMinor: 1234}
	for _, tc := range []struct {
		from   Status
		actor  *Actor
		reason string
		paid   bool
		by     string
	}{
		{StatusPaid, &Actor{ID: "a1", Role: RoleAdmin}, ReasonAdmin, true, "a1"},
		{StatusPaymentPending, nil, ReasonReservationExpired, false, ""},
		{StatusCreated, &Actor{ID: "u1", Role: RoleCustomer}, ReasonCustomerRequest, false, "u1"},
	} {
		o.Status = StatusCancelled
		msg, ok := statusEvent(o, tc.from, cause{actor: tc.actor, reason: tc.reason}, now).(Cancelled)
		if !ok || msg.Paid != tc.paid || msg.PreviousStatus != tc.from || msg.Reason != tc.reason ||
			msg.CancelledBy != tc.by || msg.UserID != "u1" || msg.OrderID != "o1" || msg.Total != (Money{1234, "EUR"}) {
			t.Errorf("from %s: %+v", tc.from, msg)
		}
	}
	o.Status = StatusShipped
	if msg, ok := statusEvent(o, StatusPaid, cause{}, now).(Shipped); !ok || msg.OrderID != "o1" || !msg.At.Equal(now) {
		t.Errorf("SHIPPED publishes %+v, not ORDER_SHIPPED", msg)
	}
	o.Status = StatusDelivered
	if msg, ok := statusEvent(o, StatusShipped, cause{}, now).(Delivered); !ok || msg.OrderID != "o1" || !msg.At.Equal(now) {
		t.Errorf("DELIVERED publishes %+v, not ORDER_DELIVERED", msg)
	}
	for _, s := range []Status{StatusPaymentPending, StatusPaid} {
		o.Status = s
		if msg := statusEvent(o, StatusCreated, cause{}, now); msg != nil {
			t.Errorf("%s publishes %T", s, msg)
		}
	}
}

// TestSagaRulesCoverTheContract: every inventory and payment event about an
// order has a rule, and each cancelling one names its reason.
func TestSagaRulesCoverTheContract(t *testing.T) {
	for _, typ := range []string{
		InventoryReserved, InventoryRejected, InventoryConfirmed,
		InventoryReleased, ReservationExpired, PaymentInitiated,
		PaymentSuccess, PaymentFailed, PaymentRefunded, PaymentVoided,
	} {
		r, ok := sagaRules[typ]
		if !ok {
			t.Errorf("no rule for %s", typ)
			continue
		}
		if r.action != "" {
			if to, _ := nextStatus(StatusPaymentPending, r.action); to == StatusCancelled && r.reason == "" {
				t.Errorf("%s cancels without a reason", typ)
			}
		}
	}
	if _, ok := sagaRules["STOCK_LOW"]; ok {
		t.Error("STOCK_LOW is keyed by product, not order")
	}
	if len(sagaRules) != len(SagaEventTypes()) {
		t.Error("SagaEventTypes is not the rules")
	}
}

func TestBlindMovesAreTheQuietHappyPath(t *testing.T) {
	for _, c := range []struct {
		name     string
		rule     sagaRule
		from, to Status
		ok       bool
	}{
		{"reserved", sagaRules[InventoryReserved], StatusCreated, StatusPaymentPending, true},
		{"paid", sagaRules[PaymentSuccess], StatusPaymentPending, StatusPaid, true},
		{"no usual status", sagaRules[InventoryRejected], "", "", false},
		{"timeline only", sagaRules[PaymentInitiated], "", "", false},
		// A cancellation emits ORDER_CANCELLED, which needs the whole order.
		{"emits", sagaRule{action: ActionFailPayment, usually: StatusPaymentPending}, "", "", false},
		{"not allowed there", sagaRule{action: ActionReserve, usually: StatusPaid}, "", "", false},
	} {
		from, to, ok := blindMove(c.rule)
		if ok != c.ok || from != c.from || to != c.to {
			t.Errorf("%s: %s → %s, %v; want %s → %s, %v", c.name, from, to, ok, c.from, c.to, c.ok)
		}
	}
}
