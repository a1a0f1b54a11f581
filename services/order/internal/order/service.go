package order

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/problem"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Config tunes the Service.
type Config struct {
	// SLAs is how long an order may stay in a status before it counts as
	// stuck. Statuses without an entry are never stuck (PAID waits for the
	// seller, a business matter, not the saga).
	SLAs map[Status]time.Duration
	// CreatedTimeout is the saga's own timeout for inventory's answer to
	// ORDER_CREATED: an order still CREATED after it is cancelled
	// (SAGA_TIMEOUT), so that it never hangs when that answer is lost (an
	// event dead-lettered, inventory down for longer). 0 never cancels.
	CreatedTimeout time.Duration
	// MaxOpenOrders and MaxOpenUnits bound what one customer may hold
	// unpaid (CREATED or PAYMENT_PENDING): orders, and units over their
	// lines, the new order's included. 0 leaves that side unbounded.
	MaxOpenOrders, MaxOpenUnits int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service applies the order rules. It is safe for concurrent use.
type Service struct {
	store Store
	cfg   Config
	m     Metrics
}

// NewService returns a Service over store; m may be nil.
func NewService(store Store, cfg Config, m Metrics) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if m == nil {
		m = noMetrics{}
	}
	return &Service{store: store, cfg: cfg, m: m}
}

// now is the clock at the database's precision (microseconds), so that
// what is returned equals what a later read gives.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Place prices the lines from the catalog replica and saves the order as
// CREATED with its items, its first timeline entry and ORDER_CREATED,
// atomically (Store.CreateOrder). When the user already placed an order
// with the same idempotency key (the key's record was lost in a crash
// after the commit, or expired), it returns that order and created=false
// instead of placing a second one.
func (s *Service) Place(ctx context.Context, actor Actor, in PlaceInput) (o Order, created bool, err error) {
	p, err := s.PlanPlace(ctx, actor, in)
	if err != nil {
		return Order{}, false, err
	}
	return s.CommitPlace(ctx, p, nil)
}

// Placement is an order that PlanPlace checked, priced and built, ready
// for CommitPlace.
type Placement struct {
	Order Order
	actor Actor
}

// PlanPlace is Place up to the write: the order it would save. The caller
// can then render its answer before the order is written, so that the
// answer's record is written with it (CommitPlace's receipt).
func (s *Service) PlanPlace(ctx context.Context, actor Actor, in PlaceInput) (Placement, error) {
	if actor.ID == "" {
		return Placement{}, ErrForbidden
	}
	if in.IdempotencyKey == "" {
		return Placement{}, errors.New("place order: no idempotency key")
	}
	if err := ValidateLines(in.Lines); err != nil {
		return Placement{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Placement{}, fmt.Errorf("place order: id: %w", err)
	}
	ids := make([]string, len(in.Lines))
	for i, l := range in.Lines {
		ids[i] = l.ProductID
	}
	products, err := s.store.Products(ctx, ids)
	if err != nil {
		return Placement{}, fmt.Errorf("place order: %w", err)
	}
	priced, err := PriceLines(in.Lines, products)
	if err != nil {
		return Placement{}, err
	}
	if err := s.checkOpen(ctx, actor.ID, priced.Items); err != nil {
		return Placement{}, err
	}
	now := s.now()
	return Placement{actor: actor, Order: Order{
		ID: id.String(), UserID: actor.ID, Status: StatusCreated,
		Currency: priced.Currency, TotalMinor: priced.TotalMinor, SellerID: priced.SellerID,
		IdempotencyKey: in.IdempotencyKey, Items: priced.Items, ItemCount: len(priced.Items),
		CreatedAt: now, UpdatedAt: now, StatusChangedAt: now,
	}}, nil
}

// checkOpen refuses an order that would leave the user more unpaid orders
// or units than Config allows. Two placements of one user at the same
// moment may both pass: the per-user rate limit of POST /orders bounds
// that overshoot.
func (s *Service) checkOpen(ctx context.Context, userID string, items []Item) error {
	if s.cfg.MaxOpenOrders <= 0 && s.cfg.MaxOpenUnits <= 0 {
		return nil
	}
	orders, units, err := s.store.OpenOrders(ctx, userID)
	if err != nil {
		return fmt.Errorf("place order: %w", err)
	}
	if max := s.cfg.MaxOpenOrders; max > 0 && orders+1 > max {
		return fmt.Errorf("%w: %d unpaid orders already, at most %d (SHOP_ORDER_MAX_OPEN_ORDERS): pay or cancel one first",
			ErrTooManyOpenOrders, orders, max)
	}
	for _, it := range items {
		units += it.Quantity
	}
	if max := s.cfg.MaxOpenUnits; max > 0 && units > max {
		return fmt.Errorf("%w: %d units with this order, at most %d (SHOP_ORDER_MAX_OPEN_UNITS): pay or cancel an order first",
			ErrTooManyOpenUnits, units, max)
	}
	return nil
}

// CommitPlace saves a planned order as Place does, with receipt (nil for
// none) in the same statement: the order is saved only if the receipt is,
// else ErrReceiptRefused.
func (s *Service) CommitPlace(ctx context.Context, p Placement, receipt Receipt) (o Order, created bool, err error) {
	o = p.Order
	err = s.store.CreateOrder(ctx, o, HistoryEntry{
		OrderID: o.ID, At: o.CreatedAt, Kind: KindTransition, To: StatusCreated, Actor: &p.actor, Reason: "PLACED",
	}, orderCreated(o), receipt)
	if errors.Is(err, ErrDuplicateKey) {
		o, err = s.store.OrderByKey(ctx, p.actor.ID, o.IdempotencyKey)
		if err != nil {
			return Order{}, false, fmt.Errorf("place order: load the order of the same key: %w", err)
		}
		return o, false, nil
	}
	if err != nil {
		return Order{}, false, fmt.Errorf("place order: %w", err)
	}
	s.m.OrderCreated()
	return o, true, nil
}

// Get returns an order the actor may see (owner, admin, seller of every
// line), or ErrNotFound.
func (s *Service) Get(ctx context.Context, actor Actor, id string) (Order, error) {
	if !isUUID(id) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	if !actor.canView(o) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// Timeline returns the history of an order the actor may see.
func (s *Service) Timeline(ctx context.Context, actor Actor, id string) ([]HistoryEntry, error) {
	if _, err := s.Get(ctx, actor, id); err != nil {
		return nil, err
	}
	h, err := s.store.Timeline(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", id, err)
	}
	return h, nil
}

// Cancel cancels an order for its owner or an admin, from any state the
// table allows (before SHIPPED), and publishes ORDER_CANCELLED.
func (s *Service) Cancel(ctx context.Context, actor Actor, id, note string) (Order, error) {
	return s.act(ctx, actor, id, ActionCancel, Actor.canCancel, func(o Order) cause {
		reason := ReasonCustomerRequest
		if actor.ID != o.UserID {
			reason = ReasonAdmin
		}
		return cause{actor: &actor, reason: reason, note: note}
	})
}

// Ship marks a paid order shipped (admin, or the seller of every line) and
// publishes ORDER_SHIPPED.
func (s *Service) Ship(ctx context.Context, actor Actor, id string) (Order, error) {
	return s.act(ctx, actor, id, ActionShip, Actor.canFulfil, func(Order) cause {
		return cause{actor: &actor, reason: "SHIPPED"}
	})
}

// Deliver marks a shipped order delivered (admin, or the seller of every
// line) and publishes ORDER_DELIVERED.
func (s *Service) Deliver(ctx context.Context, actor Actor, id string) (Order, error) {
	return s.act(ctx, actor, id, ActionDeliver, Actor.canFulfil, func(Order) cause {
		return cause{actor: &actor, reason: "DELIVERED"}
	})
}

// act applies a requested action to one order under its row lock, so that
// concurrent requests and events on the order are serialised and each sees
// the state the previous one left.
func (s *Service) act(ctx context.Context, actor Actor, id string, action Action,
	allowed func(Actor, Order) bool, why func(Order) cause) (Order, error) {
	if !isUUID(id) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	var (
		o    Order
		step step
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.LockOrder(ctx, id); err != nil {
			return err
		}
		if !actor.canView(o) {
			return ErrNotFound
		}
		if !allowed(actor, o) {
			return fmt.Errorf("%s: %w", action, ErrForbidden)
		}
		if step, err = s.move(ctx, tx, &o, action, why(o)); err != nil {
			return err
		}
		o.Items, err = tx.Items(ctx, id)
		o.ItemCount = len(o.Items)
		return err
	})
	if err != nil {
		return Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	s.record(step)
	return o, nil
}

// ApplySaga applies an inventory or payment event to its order, in tx (the
// consumer's transaction). An event whose transition the table does not allow
// (late, or a second one of its kind) is recorded in the timeline as ignored
// and absorbed: retrying could never make it legal. An event already in the
// timeline is skipped, so applying one twice leaves the same state.
func (s *Service) ApplySaga(ctx context.Context, tx Tx, ev SagaEvent) error {
	plan, err := s.PlanSaga(ev)
	if err != nil {
		return err
	}
	var out FastOutcome
	switch {
	case plan.Record != nil:
		out.Done, err = tx.RecordEvent(ctx, *plan.Record)
	case plan.Advance != nil:
		out.CreatedAt, out.Done, err = tx.Advance(ctx, plan.Advance.Order, plan.Advance.From, plan.Advance.Entry, plan.Advance.Total)
	}
	if err != nil {
		return err
	}
	return s.FinishSaga(ctx, tx, ev, plan, out)
}

// SagaPlan is the one statement that applies a saga event in the usual
// case, decided without reading the order (see ApplySaga): a timeline
// entry to record, or a blind move to try; neither for an event that must
// read the order first.
type SagaPlan struct {
	Record  *HistoryEntry
	Advance *BlindMove
	rule    sagaRule
}

// BlindMove is a status change tried without reading the order: the order
// as it will be, the status it must be in, its timeline entry and, when
// not nil, the total it must have.
type BlindMove struct {
	Order Order
	From  Status
	Entry HistoryEntry
	Total *Money
}

// FastOutcome is what the plan's statement did: Done is "the order was
// found" for a timeline entry and "the order moved" for a blind move, when
// it also says when the order was created.
type FastOutcome struct {
	Done      bool
	CreatedAt time.Time
}

// PlanSaga validates ev and returns its usual-case statement. A caller that
// sends several at once (orderdb.ApplyFastAll) finishes each with
// FinishSaga, in order.
func (s *Service) PlanSaga(ev SagaEvent) (SagaPlan, error) {
	rule, ok := sagaRules[ev.Type]
	if !ok {
		return SagaPlan{}, fmt.Errorf("%w: %s is not a saga event of the order", ErrInvalidEvent, ev.Type)
	}
	if !isUUID(ev.OrderID) {
		return SagaPlan{}, fmt.Errorf("%w: %s has order ID %q", ErrInvalidEvent, ev.Type, ev.OrderID)
	}
	if rule.paysTotal && ev.Amount == nil {
		return SagaPlan{}, fmt.Errorf("%w: %s %s for order %s has no amount", ErrInvalidEvent, ev.Type, ev.ID, ev.OrderID)
	}
	ref := &EventRef{ID: ev.ID, Type: ev.Type}
	plan := SagaPlan{rule: rule}
	if rule.action == "" {
		// Only the timeline changes, in one statement that still locks
		// the order: the entry's from/to are the status under the lock,
		// so it never shows a status the order already left (a
		// cancellation committing meanwhile).
		plan.Record = &HistoryEntry{
			OrderID: ev.OrderID, At: s.now(), Kind: KindEvent, Reason: ev.Type, Cause: ref, Detail: ev.Detail,
		}
		return plan, nil
	}
	if from, to, ok := blindMove(rule); ok {
		// The usual case needs no read: move if the order is where the
		// event normally finds it. Anything else (a duplicate, an order
		// elsewhere, an unknown order) goes the locking way in
		// FinishSaga, which tells them apart.
		now := s.now()
		o := Order{ID: ev.OrderID, Status: from}
		o.enter(to, now, rule.reason)
		plan.Advance = &BlindMove{Order: o, From: from, Entry: HistoryEntry{
			OrderID: o.ID, At: now, Kind: KindTransition, From: from, To: to, Reason: rule.reason, Cause: ref, Detail: ev.Detail,
		}}
		if rule.paysTotal {
			// Only if the amount is the order's total; any other goes
			// the locking way, which refuses it.
			plan.Advance.Total = ev.Amount
		}
	}
	return plan, nil
}

// FinishSaga completes ev after its plan's statement did out.
func (s *Service) FinishSaga(ctx context.Context, tx Tx, ev SagaEvent, plan SagaPlan, out FastOutcome) error {
	unknown := func() error {
		return fmt.Errorf("%s %s: order %s: %w", ev.Type, ev.ID, ev.OrderID, ErrUnknownOrder)
	}
	switch {
	case plan.Record != nil && !out.Done:
		return unknown()
	case plan.Record != nil:
		return nil
	case plan.Advance != nil && out.Done:
		o := plan.Advance.Order
		o.CreatedAt = out.CreatedAt
		s.record(newStep(o, plan.Advance.From, plan.Advance.Entry.At))
		return nil
	}
	rule, ref := plan.rule, &EventRef{ID: ev.ID, Type: ev.Type}
	o, seen, err := tx.LockOrderForEvent(ctx, ev.OrderID, ev.ID)
	if errors.Is(err, ErrNotFound) {
		return unknown()
	}
	if err != nil || seen {
		return err
	}
	if err := checkTotal(rule, ev, o); err != nil {
		return err
	}
	entry := HistoryEntry{
		OrderID: o.ID, At: s.now(), From: o.Status, To: o.Status, Cause: ref, Detail: ev.Detail,
	}
	st, err := s.move(ctx, tx, &o, rule.action, cause{reason: rule.reason, event: ref, detail: ev.Detail})
	var illegal *TransitionError
	if errors.As(err, &illegal) {
		entry.Kind, entry.Reason = KindIgnored, ignoredReason(ev.Type, illegal)
		return tx.AddHistory(ctx, entry)
	}
	if err != nil {
		return err
	}
	// Counted before the consumer commits: should its transaction roll back
	// and run again, the step counts twice. Metrics tolerate that.
	s.record(st)
	return nil
}

// ApplyProduct applies a catalog event to the replica, in tx, following the
// version rule of ApplyChange.
func (s *Service) ApplyProduct(ctx context.Context, tx Tx, ch ProductChange) error {
	if err := validateChange(ch); err != nil {
		return err
	}
	cur, found, err := tx.LockProduct(ctx, ch.ProductID)
	if err != nil {
		return err
	}
	next, changed := ApplyChange(cur, found, ch)
	if !changed {
		return nil
	}
	return tx.SaveProduct(ctx, next)
}

func validateChange(ch ProductChange) error {
	switch {
	case !isUUID(ch.ProductID):
		return fmt.Errorf("%w: product ID %q", ErrInvalidEvent, ch.ProductID)
	case ch.Version <= 0:
		return fmt.Errorf("%w: product %s has version %d", ErrInvalidEvent, ch.ProductID, ch.Version)
	case ch.Kind == ChangePriceChanged && ch.Price == nil:
		return fmt.Errorf("%w: price change of %s without a price", ErrInvalidEvent, ch.ProductID)
	case ch.Price != nil && (ch.Price.AmountMinor < 0 || !validCurrency(ch.Price.Currency)):
		return fmt.Errorf("%w: product %s has price %d %q", ErrInvalidEvent, ch.ProductID, ch.Price.AmountMinor, ch.Price.Currency)
	case ch.SellerID != "" && !isUUID(ch.SellerID):
		return fmt.Errorf("%w: product %s has seller ID %q", ErrInvalidEvent, ch.ProductID, ch.SellerID)
	}
	return nil
}

// cause is why a transition happens: who asked, or which event.
type cause struct {
	actor        *Actor
	reason, note string
	event        *EventRef
	detail       map[string]string
}

// step is a transition done, for the metrics.
type step struct {
	from, to Status
	// reason is the cancel reason when to is CANCELLED.
	reason string
	// sinceCreated is the time from the order's creation to this step
	// (0 when the creation time is unknown).
	sinceCreated float64
}

// move applies action to o through the transition table: it writes the new
// status, publishes the event the new status calls for and appends the
// timeline entry, all in tx. An illegal action is a *TransitionError and
// changes nothing.
func (s *Service) move(ctx context.Context, tx Tx, o *Order, action Action, c cause) (step, error) {
	from := o.Status
	to, err := Next(from, action)
	if err != nil {
		return step{}, err
	}
	now := s.now()
	o.enter(to, now, c.reason)
	_, err = tx.Move(ctx, *o, from, HistoryEntry{
		OrderID: o.ID, At: now, Kind: KindTransition, From: from, To: to,
		Actor: c.actor, Reason: c.reason, Note: c.note, Cause: c.event, Detail: c.detail,
	}, statusEvent(*o, from, c, now))
	if err != nil {
		return step{}, err
	}
	return newStep(*o, from, now), nil
}

// enter puts o in status to at now, with the fields that status sets.
func (o *Order) enter(to Status, now time.Time, reason string) {
	o.Status, o.StatusChangedAt, o.UpdatedAt = to, now, now
	switch to {
	case StatusPaid:
		o.PaidAt = &now
	case StatusCancelled:
		o.CancelReason = reason
	}
}

// newStep is the step o just took from from, for the metrics.
func newStep(o Order, from Status, now time.Time) step {
	st := step{from: from, to: o.Status}
	if o.Status == StatusCancelled {
		st.reason = o.CancelReason
	}
	if !o.CreatedAt.IsZero() {
		st.sinceCreated = max(now.Sub(o.CreatedAt).Seconds(), 0)
	}
	return st
}

func (s *Service) record(st step) {
	if st.to != "" {
		s.m.Transition(st.from, st.to, st.reason, st.sinceCreated)
	}
}

// orderCreated is ORDER_CREATED for a new order.
func orderCreated(o Order) *eventsv1.OrderCreated {
	lines := make([]*eventsv1.OrderLine, len(o.Items))
	for i, it := range o.Items {
		lines[i] = &eventsv1.OrderLine{
			ProductId: it.ProductID, Quantity: int32(it.Quantity),
			UnitPrice: &eventsv1.Money{AmountMinor: it.UnitPriceMinor, Currency: o.Currency},
		}
	}
	return &eventsv1.OrderCreated{
		OrderId: o.ID, UserId: o.UserID, Lines: lines,
		Total: &eventsv1.Money{AmountMinor: o.TotalMinor, Currency: o.Currency},
	}
}

// statusEvent is the event that entering o's (new) status publishes, or nil.
// Every cancellation publishes ORDER_CANCELLED, whatever caused it, so that
// inventory and payment always learn of it: inventory releases (a no-op when
// nothing is reserved), payment voids or, when it captured a payment,
// refunds.
func statusEvent(o Order, from Status, c cause, now time.Time) proto.Message {
	switch o.Status {
	case StatusCancelled:
		by := ""
		if c.actor != nil {
			by = c.actor.ID
		}
		return &eventsv1.OrderCancelled{
			OrderId: o.ID, UserId: o.UserID, Reason: c.reason, PreviousStatus: string(from),
			Paid:  from == StatusPaid,
			Total: &eventsv1.Money{AmountMinor: o.TotalMinor, Currency: o.Currency}, CancelledBy: by,
		}
	case StatusShipped:
		return &eventsv1.OrderShipped{OrderId: o.ID, At: timestamppb.New(now)}
	case StatusDelivered:
		return &eventsv1.OrderDelivered{OrderId: o.ID, At: timestamppb.New(now)}
	}
	return nil
}

// ListForUser lists a user's orders, for that user or an admin.
func (s *Service) ListForUser(ctx context.Context, actor Actor, userID string, status Status, page Page) (OrderPage, error) {
	if !actor.IsAdmin() && (actor.ID == "" || actor.ID != userID) {
		return OrderPage{}, fmt.Errorf("orders of user %s: %w", userID, ErrForbidden)
	}
	return s.list(ctx, Filter{UserID: userID, Status: status}, page)
}

// List lists orders for staff: an admin sees all, a seller only the orders
// whose every line is theirs.
func (s *Service) List(ctx context.Context, actor Actor, f Filter, page Page) (OrderPage, error) {
	switch {
	case actor.IsAdmin():
	case actor.Role == RoleSeller && actor.ID != "":
		f.SellerID = actor.ID
	default:
		return OrderPage{}, fmt.Errorf("list orders: %w", ErrForbidden)
	}
	return s.list(ctx, f, page)
}

func (s *Service) list(ctx context.Context, f Filter, page Page) (OrderPage, error) {
	if err := validateFilter(f); err != nil {
		return OrderPage{}, err
	}
	limit := page.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	after, err := DecodeCursor(page.Cursor)
	if err != nil {
		return OrderPage{}, err
	}
	q := ListQuery{Filter: f, After: after, Limit: limit + 1}
	if f.Stuck {
		q.StuckCutoffs = s.stuckCutoffs()
	}
	orders, err := s.store.List(ctx, q)
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	out := OrderPage{Orders: orders}
	if len(orders) > limit {
		out.Orders = orders[:limit]
		last := out.Orders[limit-1]
		out.NextCursor = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.Encode()
	}
	return out, nil
}

func validateFilter(f Filter) error {
	var fields []problem.FieldError
	if f.Status != "" && !f.Status.Valid() {
		fields = append(fields, problem.Field("status", "must be one of %v", Statuses))
	}
	if f.UserID != "" && !isUUID(f.UserID) {
		fields = append(fields, problem.Field("user_id", "must be a UUID"))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		fields = append(fields, problem.Field("to", "must be after from"))
	}
	if len(fields) > 0 {
		return problem.Validation(fields...)
	}
	return nil
}

// Stats returns the dashboard figures (admins only): orders per status and
// revenue, for orders created in [from, to), and the stuck orders now.
func (s *Service) Stats(ctx context.Context, actor Actor, from, to time.Time) (Stats, error) {
	if !actor.IsAdmin() {
		return Stats{}, fmt.Errorf("order stats: %w", ErrForbidden)
	}
	if err := validateFilter(Filter{From: from, To: to}); err != nil {
		return Stats{}, err
	}
	counts, revenue, err := s.store.Counts(ctx, from, to)
	if err != nil {
		return Stats{}, fmt.Errorf("order stats: %w", err)
	}
	stuck, err := s.StuckCounts(ctx)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Counts: make(map[Status]int64, len(Statuses)), Revenue: revenue, Stuck: stuck}
	for _, st := range Statuses {
		out.Counts[st] = counts[st]
	}
	return out, nil
}

// StatusCounts counts the orders in each status now, every status present
// (zero included): the orders-per-status gauge's figures.
func (s *Service) StatusCounts(ctx context.Context) (map[Status]int64, error) {
	counts, _, err := s.store.Counts(ctx, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	out := make(map[Status]int64, len(Statuses))
	for _, st := range Statuses {
		out[st] = counts[st]
	}
	return out, nil
}

// StuckCounts counts, per status with an SLA, the orders that have been in
// it longer (every status with an SLA is present, zero included).
func (s *Service) StuckCounts(ctx context.Context) (map[Status]int64, error) {
	counts, err := s.store.CountStuck(ctx, s.stuckCutoffs())
	if err != nil {
		return nil, fmt.Errorf("count stuck orders: %w", err)
	}
	out := make(map[Status]int64, len(s.cfg.SLAs))
	for st := range s.cfg.SLAs {
		out[st] = counts[st]
	}
	return out, nil
}

// CancelTimedOut cancels, in one transaction, up to limit orders that have
// waited in CREATED longer than Config.CreatedTimeout (SAGA_TIMEOUT). Each
// cancellation publishes ORDER_CANCELLED like any other: inventory releases
// a reservation it may have made meanwhile (or records the cancellation,
// so that a late ORDER_CREATED reserves nothing), payment voids. Replicas
// may run it at once: each takes rows the others do not hold. It returns
// how many orders it cancelled.
func (s *Service) CancelTimedOut(ctx context.Context, limit int) (int, error) {
	if s.cfg.CreatedTimeout <= 0 {
		return 0, nil
	}
	var steps []step
	err := s.store.InTx(ctx, func(tx Tx) error {
		steps = steps[:0]
		orders, err := tx.LockCreatedBefore(ctx, s.now().Add(-s.cfg.CreatedTimeout), limit)
		if err != nil {
			return err
		}
		for i := range orders {
			st, err := s.move(ctx, tx, &orders[i], ActionTimeout, cause{reason: ReasonSagaTimeout,
				note: fmt.Sprintf("no answer from inventory within %s", s.cfg.CreatedTimeout)})
			if err != nil {
				return fmt.Errorf("order %s: %w", orders[i].ID, err)
			}
			steps = append(steps, st)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel timed-out orders: %w", err)
	}
	for _, st := range steps {
		s.record(st)
	}
	return len(steps), nil
}

// SLAStatuses lists the statuses that have an SLA, in saga order.
func (s *Service) SLAStatuses() []Status {
	var out []Status
	for _, st := range Statuses {
		if _, ok := s.cfg.SLAs[st]; ok {
			out = append(out, st)
		}
	}
	return out
}

func (s *Service) stuckCutoffs() map[Status]time.Time {
	now := s.now()
	out := make(map[Status]time.Time, len(s.cfg.SLAs))
	for st, sla := range s.cfg.SLAs {
		out[st] = now.Add(-sla)
	}
	return out
}

func isUUID(s string) bool {
	id, err := uuid.Parse(s)
	return err == nil && id.String() == s
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}
