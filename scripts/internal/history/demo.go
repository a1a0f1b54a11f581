package history

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The demo history: what `make up` gives a fresh machine so that the admin
// app's dashboard, order list, timelines and stock ledger have something
// to show. A few hundred orders of the demo customers over the last 30
// days, for the demo catalog's products, in every state the saga leaves
// (paid, shipped, delivered, partly refunded, and cancelled for each
// reason: by the customer or an administrator before or after payment,
// out of stock, payment failed, reservation expired, saga timeout), plus a
// few still under way. Each order's rows in the order, inventory and
// payment databases are the rows those services write when the saga's
// events pass (taken from a run of the real saga for every path), with the
// same IDs and times in all three, and the stock ledger runs through every
// sale, release and restock to the demo catalog's stock figures.
//
// The plan is made in Go from a fixed random seed (PlanDemo, pure); its
// times are offsets back from a moment, so every machine gets the same
// shop, shifted to its own "now". DemoSeed writes it.

// DemoProduct is a product of the demo catalog as the past orders need it.
type DemoProduct struct {
	ID         uuid.UUID
	SKU, Name  string
	PriceMinor int64
	Currency   string
	SellerID   uuid.UUID
	// Stock is the catalog file's stock: the on-hand figure the ledger
	// ends at (what the inventory seed would have set).
	Stock int64
}

// DemoOptions is what PlanDemo plans from.
type DemoOptions struct {
	Products  []DemoProduct
	Customers []uuid.UUID // who places the orders
	Admin     uuid.UUID   // who cancels, refunds and sometimes ships
	// Orders is the number of past orders (DefaultDemoOrders when 0).
	Orders int
	// Now is the moment the history leads up to.
	Now time.Time
	// ReservationTTL and CreatedTimeout are inventory's and order's
	// settings (15 minutes each by default), which the expired and timed
	// out orders follow.
	ReservationTTL, CreatedTimeout time.Duration
}

// DefaultDemoOrders is about a dozen orders a day.
const DefaultDemoOrders = 360

// demoKeyPrefix marks the demo orders' idempotency keys: their presence is
// how a second run knows the history is there.
const demoKeyPrefix = "demo-history-"

// Fate is how a demo order's saga ended (or where it stands).
type Fate string

// The fates, each a path the real saga takes.
const (
	FatePaid            Fate = "paid"               // PAID, SHIPPED or DELIVERED by its age
	FateDeclinedPaid    Fate = "declined-then-paid" // a declined card, then another: paid
	FatePartialRefund   Fate = "partly-refunded"    // delivered, then partly refunded by an admin
	FateCustomerCancel  Fate = "customer-cancel"    // cancelled by the customer while awaiting payment
	FateAdminCancel     Fate = "admin-cancel"       // cancelled by an admin while awaiting payment
	FateCustomerRefund  Fate = "customer-refund"    // paid, cancelled by the customer: refunded
	FateAdminRefund     Fate = "admin-refund"       // paid, cancelled by an admin: refunded
	FatePaymentFailed   Fate = "payment-failed"     // the card gateway failed: cancelled
	FateOutOfStock      Fate = "out-of-stock"       // inventory rejected it
	FateExpired         Fate = "expired"            // never paid: the reservation expired
	FateSagaTimeout     Fate = "saga-timeout"       // inventory never answered
	FateAwaitingPayment Fate = "awaiting-payment"   // under way: reserved, not paid yet
	FateStuckCreated    Fate = "stuck-created"      // under way: inventory has not answered yet
)

// fateWeights is the mix of the past orders (per mille).
var fateWeights = []struct {
	fate   Fate
	weight int
}{
	{FatePaid, 717}, {FateDeclinedPaid, 55}, {FatePartialRefund, 50},
	{FateCustomerCancel, 40}, {FateAdminCancel, 10}, {FateCustomerRefund, 15}, {FateAdminRefund, 15},
	{FatePaymentFailed, 20}, {FateOutOfStock, 25}, {FateExpired, 45}, {FateSagaTimeout, 8},
}

// DemoLine is an order line.
type DemoLine struct {
	Product  DemoProduct
	Quantity int64
}

// DemoOrder is one planned order with everything each service recorded
// of it.
type DemoOrder struct {
	N        int
	ID       uuid.UUID
	Customer uuid.UUID
	Fate     Fate
	Lines    []DemoLine
	Total    int64
	Currency string
	// Status and CancelReason are where the order stands now.
	Status, CancelReason string
	CreatedAt            time.Time
	// Steps is the order's timeline, oldest first.
	Steps []DemoStep
	// Reservation is inventory's record (nil when inventory never heard
	// of the order).
	Reservation *DemoReservation
	// Payment is payment's record (nil when there was none).
	Payment *DemoPayment
	// Projection is payment's view of the order (nil when payment never
	// heard of it).
	Projection *DemoProjection
	// Consumed are the events each service handled, by service.
	Consumed map[string][]DemoEvent
}

// DemoEvent is an event of the saga: its ID, type and when it was
// published.
type DemoEvent struct {
	ID   uuid.UUID
	Type string
	At   time.Time
}

// DemoStep is a row of the order's timeline (order_history).
type DemoStep struct {
	At             time.Time
	Kind           string // TRANSITION, EVENT
	From, To       string // From "" for the first step
	Actor          uuid.UUID
	ActorRole      string
	Reason, Note   string
	Cause, Emitted *DemoEvent
	Detail         map[string]string
}

// DemoReservation is a row of reservations with its lines.
type DemoReservation struct {
	ID                   uuid.UUID
	Status               string
	Placeholder          bool
	ExpiresAt            time.Time
	Reason               string
	Restocked            bool
	CreatedAt, UpdatedAt time.Time
	Lines                []DemoLine
}

// DemoPayment is a row of payments with its refunds.
type DemoPayment struct {
	ID                   uuid.UUID
	Status               string
	RefundedMinor        int64
	FailureReason        string
	VoidReason           string
	CardLast4            string
	Attempts             int
	Captured             bool // charge_id and captured_at are set
	CapturedAt           time.Time
	Version              int
	CreatedAt, UpdatedAt time.Time
	Refunds              []DemoRefund
}

// DemoRefund is a row of refunds.
type DemoRefund struct {
	ID        uuid.UUID
	Amount    int64
	Reason    string
	CreatedBy uuid.UUID // uuid.Nil: automatic (a cancelled paid order)
	At        time.Time
}

// DemoProjection is a row of payment's order_projection.
type DemoProjection struct {
	Known                bool // INVENTORY_RESERVED told payment the owner and total
	ReservationExpiresAt time.Time
	ExpiredAt            time.Time
	CancelledAt          time.Time
	CancelReason         string
	UpdatedAt            time.Time
}

// DemoMovement is a row of the stock ledger.
type DemoMovement struct {
	At                         time.Time
	Product                    uuid.UUID
	Kind                       string
	OnHandDelta, ReservedDelta int64
	OnHandAfter, ReservedAfter int64
	Order, Reservation         uuid.UUID
	Reason                     string
	Actor                      uuid.UUID
	seq                        int // order among movements at the same time
}

// DemoStock is a product's stock row at the end.
type DemoStock struct {
	Product          DemoProduct
	OnHand, Reserved int64
	UpdatedAt        time.Time
}

// DemoPlan is the whole history.
type DemoPlan struct {
	Orders    []DemoOrder
	Movements []DemoMovement // in ledger order
	Stock     []DemoStock    // in product order
}

// PlanDemo plans the history (no database: the same options give the same
// plan).
func PlanDemo(o DemoOptions) (DemoPlan, error) {
	if len(o.Products) == 0 || len(o.Customers) == 0 {
		return DemoPlan{}, fmt.Errorf("demo history: no products or no customers")
	}
	if o.Orders <= 0 {
		o.Orders = DefaultDemoOrders
	}
	if o.ReservationTTL <= 0 {
		o.ReservationTTL = 15 * time.Minute
	}
	if o.CreatedTimeout <= 0 {
		o.CreatedTimeout = 15 * time.Minute
	}
	p := &planner{o: o, rng: rand.New(rand.NewPCG(20261207, 26)), now: o.Now.UTC().Truncate(time.Millisecond)}
	for i := range o.Orders {
		p.pastOrder(i + 1)
	}
	// Under way now: two orders awaiting payment (their reservations expire
	// soon after `make up`, through the saga itself, unless paid) and one
	// that inventory has not answered (stuck; the saga's timeout cancels
	// it).
	p.liveOrder(o.Orders+1, FateAwaitingPayment, 3*time.Minute)
	p.liveOrder(o.Orders+2, FateAwaitingPayment, 9*time.Minute)
	p.liveOrder(o.Orders+3, FateStuckCreated, 5*time.Minute)
	slices.SortFunc(p.orders, func(a, b DemoOrder) int { return a.CreatedAt.Compare(b.CreatedAt) })
	moves, stock, err := p.ledger()
	if err != nil {
		return DemoPlan{}, err
	}
	return DemoPlan{Orders: p.orders, Movements: moves, Stock: stock}, nil
}

type planner struct {
	o      DemoOptions
	rng    *rand.Rand
	now    time.Time
	orders []DemoOrder
	// changes are the stock changes, resolved into the ledger at the end
	// (out-of-stock orders are decided there, against the stock of their
	// moment).
	changes []stockChange
}

// stockChange is a movement before the figures after it are known.
type stockChange struct {
	at          time.Time
	kind        string
	lines       []DemoLine
	reason      string
	actor       uuid.UUID
	outOfStock  bool // an order inventory rejected: decided against the stock then
	reservation uuid.UUID
	orderID     uuid.UUID
}

// id makes a UUIDv7 at time at whose other bits come from the names: the
// same plan always has the same IDs.
func id(at time.Time, names ...any) uuid.UUID {
	h := sha256.Sum256(fmt.Append(nil, append([]any{"shop-demo-history"}, names...)...))
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[0:8], uint64(at.UnixMilli())<<16)
	copy(u[6:], h[:10])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant
	return u
}

func (p *planner) pickFate() Fate {
	n := p.rng.IntN(1000)
	for _, w := range fateWeights {
		if n < w.weight {
			return w.fate
		}
		n -= w.weight
	}
	return FatePaid
}

// placedAt spreads the past orders over the span, more of them lately and
// at daytime, none in the last hour.
func (p *planner) placedAt(i int) time.Time {
	frac := float64(i) / float64(p.o.Orders)
	frac = 1 - (1-frac)*(1-frac*0.25) // a growing shop: denser towards now
	ago := time.Duration(float64(Span-time.Hour) * (1 - frac))
	t := p.now.Add(-ago - time.Hour)
	day := t.Truncate(24 * time.Hour)
	hour := 8 + p.rng.IntN(14) // 08:00 to 21:59 UTC
	at := day.Add(time.Duration(hour)*time.Hour + time.Duration(p.rng.IntN(3600))*time.Second)
	if at.After(p.now.Add(-time.Hour)) {
		at = at.Add(-24 * time.Hour)
	}
	if at.Before(p.now.Add(-Span + time.Hour)) {
		at = at.Add(24 * time.Hour)
	}
	return at.Add(time.Duration(p.rng.IntN(1000)) * time.Millisecond)
}

func (p *planner) lines() []DemoLine {
	count := 1 + p.rng.IntN(3)
	seen := map[uuid.UUID]bool{}
	var out []DemoLine
	for len(out) < count {
		pr := p.o.Products[p.rng.IntN(len(p.o.Products))]
		if seen[pr.ID] {
			continue
		}
		seen[pr.ID] = true
		q := int64(1)
		if pr.PriceMinor < 5000 && p.rng.IntN(3) == 0 {
			q = 2 + int64(p.rng.IntN(2))
		}
		out = append(out, DemoLine{Product: pr, Quantity: q})
	}
	slices.SortFunc(out, func(a, b DemoLine) int { return compareUUID(a.Product.ID, b.Product.ID) })
	return out
}

func compareUUID(a, b uuid.UUID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

func (p *planner) pastOrder(n int) {
	at := p.placedAt(n)
	p.build(n, p.pickFate(), at)
}

func (p *planner) liveOrder(n int, f Fate, ago time.Duration) {
	p.build(n, f, p.now.Add(-ago))
}

// before keeps a past order's later steps in the past.
func (p *planner) before(t time.Time) time.Time {
	if limit := p.now.Add(-2 * time.Minute); t.After(limit) {
		return limit
	}
	return t
}

// ms is a short delay, as the saga's events follow each other.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// build records order n with fate f placed at t.
func (p *planner) build(n int, f Fate, t time.Time) {
	o := DemoOrder{N: n, ID: id(t, "order", n), Customer: p.o.Customers[p.rng.IntN(len(p.o.Customers))], Fate: f,
		Lines: p.lines(), CreatedAt: t, Consumed: map[string][]DemoEvent{}}
	for _, l := range o.Lines {
		o.Total += l.Product.PriceMinor * l.Quantity
		o.Currency = l.Product.Currency
	}
	ev := func(typ string, at time.Time, consumers ...string) *DemoEvent {
		e := &DemoEvent{ID: id(at, "event", n, typ), Type: typ, At: at}
		for _, c := range consumers {
			o.Consumed[c] = append(o.Consumed[c], *e)
		}
		return e
	}
	step := func(s DemoStep) {
		if s.Kind == "" {
			s.Kind = "TRANSITION"
		}
		if s.Detail == nil {
			s.Detail = map[string]string{}
		}
		o.Steps = append(o.Steps, s)
		if s.Kind == "TRANSITION" {
			o.Status = s.To
		}
	}
	money := func(d map[string]string) map[string]string {
		d["amount_minor"] = fmt.Sprint(o.Total)
		d["amount_currency"] = o.Currency
		return d
	}

	created := ev("ORDER_CREATED", t, "inventory")
	step(DemoStep{At: t, From: "", To: "CREATED", Actor: o.Customer, ActorRole: "CUSTOMER", Reason: "PLACED", Emitted: created})

	cancelAll := func(at time.Time, reason string, actor uuid.UUID, role string, cause *DemoEvent, note string, detail map[string]string) *DemoEvent {
		cancelled := ev("ORDER_CANCELLED", at, "inventory", "payment")
		step(DemoStep{At: at, From: o.Status, To: "CANCELLED", Actor: actor, ActorRole: role, Reason: reason, Note: note,
			Cause: cause, Emitted: cancelled, Detail: detail})
		o.CancelReason = reason
		return cancelled
	}
	// placeholder is inventory's record of a cancellation for an order it
	// never reserved; projection the same for payment.
	placeholder := func(at time.Time) {
		o.Reservation = &DemoReservation{ID: id(at, "reservation", n), Status: "RELEASED", Placeholder: true,
			ExpiresAt: at, Reason: "ORDER_CANCELLED", CreatedAt: at, UpdatedAt: at}
		o.Projection = &DemoProjection{CancelledAt: at, CancelReason: o.CancelReason, UpdatedAt: at}
	}

	if f == FateOutOfStock {
		// The lines are decided against the stock of the moment (ledger);
		// the timeline's detail is filled in there.
		rejected := ev("INVENTORY_REJECTED", t.Add(ms(40)), "order")
		cancelAll(t.Add(ms(70)), "OUT_OF_STOCK", uuid.Nil, "", rejected, "", map[string]string{"inventory_reason": "OUT_OF_STOCK"})
		placeholder(t.Add(ms(90)))
		p.changes = append(p.changes, stockChange{at: t.Add(ms(40)), outOfStock: true, orderID: o.ID})
		p.orders = append(p.orders, o)
		return
	}
	if f == FateSagaTimeout {
		at := t.Add(p.o.CreatedTimeout + time.Duration(1+p.rng.IntN(29))*time.Second)
		o.Consumed["inventory"] = nil // ORDER_CREATED never reached inventory's handler
		cancelAll(at, "SAGA_TIMEOUT", uuid.Nil, "", nil, fmt.Sprintf("no answer from inventory within %s", p.o.CreatedTimeout), nil)
		placeholder(at.Add(ms(25)))
		p.orders = append(p.orders, o)
		return
	}
	if f == FateStuckCreated {
		o.Consumed = map[string][]DemoEvent{} // inventory has not handled ORDER_CREATED
		p.orders = append(p.orders, o)
		return
	}

	// Reserved.
	resAt := t.Add(ms(30 + p.rng.IntN(40)))
	res := &DemoReservation{ID: id(resAt, "reservation", n), Status: "ACTIVE", ExpiresAt: resAt.Add(p.o.ReservationTTL).Truncate(time.Microsecond),
		CreatedAt: resAt, UpdatedAt: resAt, Lines: o.Lines}
	o.Reservation = res
	p.changes = append(p.changes, stockChange{at: resAt, kind: "RESERVED", lines: o.Lines, reservation: res.ID, orderID: o.ID})
	reserved := ev("INVENTORY_RESERVED", resAt, "order", "payment")
	step(DemoStep{At: resAt.Add(ms(25)), From: "CREATED", To: "PAYMENT_PENDING", Cause: reserved,
		Detail: map[string]string{"lines": fmt.Sprint(len(o.Lines)), "expires_at": res.ExpiresAt.Format(time.RFC3339), "reservation_id": res.ID.String()}})
	payAt := resAt.Add(ms(20))
	pay := &DemoPayment{ID: id(payAt, "payment", n), Status: "PENDING", Version: 1, CreatedAt: payAt, UpdatedAt: payAt}
	o.Payment = pay
	o.Projection = &DemoProjection{Known: true, ReservationExpiresAt: res.ExpiresAt, UpdatedAt: payAt.Add(-ms(2))}
	initiated := ev("PAYMENT_INITIATED", payAt, "order")
	payDetail := func() map[string]string { return money(map[string]string{"payment_id": pay.ID.String()}) }
	step(DemoStep{At: payAt.Add(ms(60)), Kind: "EVENT", From: "PAYMENT_PENDING", To: "PAYMENT_PENDING", Reason: "PAYMENT_INITIATED", Cause: initiated, Detail: payDetail()})

	// record adds an EVENT step for a saga event that changes no status.
	record := func(e *DemoEvent, after time.Duration, detail map[string]string) {
		step(DemoStep{At: e.At.Add(after), Kind: "EVENT", From: o.Status, To: o.Status, Reason: e.Type, Cause: e, Detail: detail})
	}
	release := func(at time.Time, reason string, restock bool) {
		res.Status, res.Reason, res.UpdatedAt, res.Restocked = "RELEASED", reason, at, restock
		kind := "RELEASED"
		if restock {
			kind = "RESTOCKED"
		}
		p.changes = append(p.changes, stockChange{at: at, kind: kind, lines: o.Lines, reason: reason, reservation: res.ID, orderID: o.ID})
	}
	void := func(at time.Time, reason string) *DemoEvent {
		pay.Status, pay.VoidReason, pay.Version, pay.UpdatedAt = "VOIDED", reason, pay.Version+1, at
		return ev("PAYMENT_VOIDED", at, "order")
	}
	// The customer pays a few minutes after placing the order.
	paidAt := resAt.Add(time.Duration(30+p.rng.IntN(420))*time.Second + ms(p.rng.IntN(1000)))
	capture := func() {
		if f == FateDeclinedPaid {
			pay.FailureReason, pay.Attempts, pay.Version = "CARD_DECLINED", 1, pay.Version+1
			paidAt = paidAt.Add(time.Duration(20+p.rng.IntN(60)) * time.Second)
		}
		pay.Status, pay.CardLast4, pay.Attempts, pay.Version = "SUCCEEDED", "4242", pay.Attempts+1, pay.Version+1
		pay.Captured, pay.CapturedAt, pay.UpdatedAt = true, paidAt, paidAt
		success := ev("PAYMENT_SUCCESS", paidAt, "order", "inventory")
		step(DemoStep{At: paidAt.Add(ms(15)), From: "PAYMENT_PENDING", To: "PAID", Cause: success, Detail: payDetail()})
		soldAt := paidAt.Add(ms(10))
		res.Status, res.UpdatedAt = "CONFIRMED", soldAt
		p.changes = append(p.changes, stockChange{at: soldAt, kind: "SOLD", lines: o.Lines, reservation: res.ID, orderID: o.ID})
		record(ev("INVENTORY_CONFIRMED", soldAt, "order"), ms(12), map[string]string{"reservation_id": res.ID.String()})
	}
	refund := func(at time.Time, amount int64, reason string, by uuid.UUID) {
		r := DemoRefund{ID: id(at, "refund", n), Amount: amount, Reason: reason, CreatedBy: by, At: at}
		pay.Refunds = append(pay.Refunds, r)
		pay.RefundedMinor += amount
		pay.Status = "PARTIALLY_REFUNDED"
		if pay.RefundedMinor == o.Total {
			pay.Status = "REFUNDED"
		}
		pay.Version, pay.UpdatedAt = pay.Version+1, at
		record(ev("PAYMENT_REFUNDED", at, "order"), ms(30), money(map[string]string{"refund_id": r.ID.String(), "payment_id": pay.ID.String(), "payment_reason": reason}))
	}
	// ship and deliver as far as the order's age allows: a day or so to
	// ship, two to four days on the way.
	fulfil := func() {
		shipAt := paidAt.Add(time.Duration(3+p.rng.IntN(30))*time.Hour + time.Duration(p.rng.IntN(3600))*time.Second)
		if shipAt.After(p.now.Add(-10 * time.Minute)) {
			return // still to be shipped: PAID
		}
		shipper, role := o.Lines[0].Product.SellerID, "SELLER"
		if p.rng.IntN(4) == 0 || shipper == uuid.Nil {
			shipper, role = p.o.Admin, "ADMIN"
		}
		step(DemoStep{At: shipAt, From: "PAID", To: "SHIPPED", Actor: shipper, ActorRole: role, Reason: "SHIPPED", Emitted: ev("ORDER_SHIPPED", shipAt)})
		deliverAt := shipAt.Add(time.Duration(40+p.rng.IntN(56))*time.Hour + time.Duration(p.rng.IntN(3600))*time.Second)
		if deliverAt.After(p.now.Add(-10 * time.Minute)) {
			return // on its way: SHIPPED
		}
		step(DemoStep{At: deliverAt, From: "SHIPPED", To: "DELIVERED", Actor: shipper, ActorRole: role, Reason: "DELIVERED", Emitted: ev("ORDER_DELIVERED", deliverAt)})
		if f == FatePartialRefund {
			at := deliverAt.Add(time.Duration(20+p.rng.IntN(40)) * time.Hour)
			if at.Before(p.now.Add(-10 * time.Minute)) {
				reason := []string{"DAMAGED", "RETURNED", "GOODWILL"}[p.rng.IntN(3)]
				refund(at, max(1, o.Total/(2+int64(p.rng.IntN(4)))), reason, p.o.Admin)
			}
		}
	}
	// cancel is a cancellation by a person; the compensations follow.
	cancel := func(at time.Time, who uuid.UUID, role, reason string) {
		wasPaid := o.Status == "PAID"
		cancelAll(at, reason, who, role, nil, "", nil)
		o.Projection.CancelledAt, o.Projection.CancelReason, o.Projection.UpdatedAt = at.Add(ms(8)), reason, at.Add(ms(8))
		if wasPaid {
			refund(at.Add(ms(30)), o.Total, "ORDER_CANCELLED", uuid.Nil)
			release(at.Add(ms(28)), "ORDER_CANCELLED", true)
		} else {
			record(void(at.Add(ms(10)), "ORDER_CANCELLED"), ms(5), money(map[string]string{"payment_id": pay.ID.String(), "payment_reason": "ORDER_CANCELLED"}))
			release(at.Add(ms(6)), "ORDER_CANCELLED", false)
		}
		record(ev("INVENTORY_RELEASED", res.UpdatedAt, "order"), ms(20), map[string]string{"reservation_id": res.ID.String(), "inventory_reason": "ORDER_CANCELLED"})
	}

	switch f {
	case FatePaid, FateDeclinedPaid, FatePartialRefund:
		capture()
		fulfil()
	case FateCustomerCancel, FateAdminCancel:
		at := p.before(resAt.Add(time.Duration(20+p.rng.IntN(600)) * time.Second))
		if f == FateCustomerCancel {
			cancel(at, o.Customer, "CUSTOMER", "CUSTOMER_REQUEST")
		} else {
			cancel(at, p.o.Admin, "ADMIN", "ADMIN")
		}
	case FateCustomerRefund, FateAdminRefund:
		capture()
		at := p.before(paidAt.Add(time.Duration(10+p.rng.IntN(160)) * time.Minute))
		if f == FateCustomerRefund {
			cancel(at, o.Customer, "CUSTOMER", "CUSTOMER_REQUEST")
		} else {
			cancel(at, p.o.Admin, "ADMIN", "ADMIN")
		}
	case FatePaymentFailed:
		// The gateway timed out on every attempt: the payment fails, the
		// order is cancelled, the stock released.
		pay.Status, pay.FailureReason, pay.CardLast4, pay.Attempts, pay.Version, pay.UpdatedAt = "FAILED", "GATEWAY_TIMEOUT", "0408", 4, pay.Version+1, paidAt
		failed := ev("PAYMENT_FAILED", paidAt, "order", "inventory")
		cancelAll(paidAt.Add(ms(12)), "PAYMENT_FAILED", uuid.Nil, "", failed, "",
			money(map[string]string{"payment_id": pay.ID.String(), "reason_code": "GATEWAY_TIMEOUT"}))
		o.Projection.CancelledAt, o.Projection.CancelReason, o.Projection.UpdatedAt = paidAt.Add(ms(15)), "PAYMENT_FAILED", paidAt.Add(ms(15))
		release(paidAt.Add(ms(8)), "PAYMENT_FAILED", false)
		record(ev("INVENTORY_RELEASED", res.UpdatedAt, "order"), ms(20), map[string]string{"reservation_id": res.ID.String(), "inventory_reason": "PAYMENT_FAILED"})
	case FateExpired:
		at := res.ExpiresAt.Add(time.Duration(p.rng.IntN(5000)) * time.Millisecond)
		res.Status, res.Reason, res.UpdatedAt = "EXPIRED", "RESERVATION_EXPIRED", at
		p.changes = append(p.changes, stockChange{at: at, kind: "RELEASED", lines: o.Lines, reason: "RESERVATION_EXPIRED", reservation: res.ID, orderID: o.ID})
		expired := ev("RESERVATION_EXPIRED", at, "order", "payment")
		cancelAll(at.Add(ms(25)), "RESERVATION_EXPIRED", uuid.Nil, "", expired, "", map[string]string{"reservation_id": res.ID.String()})
		voided := void(at.Add(ms(30)), "RESERVATION_EXPIRED")
		o.Projection.ExpiredAt, o.Projection.CancelledAt, o.Projection.CancelReason, o.Projection.UpdatedAt = at.Add(ms(30)), at.Add(ms(40)), "RESERVATION_EXPIRED", at.Add(ms(40))
		record(voided, ms(8), money(map[string]string{"payment_id": pay.ID.String(), "payment_reason": "RESERVATION_EXPIRED"}))
	case FateAwaitingPayment:
	}
	slices.SortStableFunc(o.Steps, func(a, b DemoStep) int { return a.At.Compare(b.At) })
	p.orders = append(p.orders, o)
}
