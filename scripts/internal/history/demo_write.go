package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DemoSellerID is the demo seller identity seeds: the owner of the demo
// catalog's products.
var DemoSellerID = uuid.MustParse("00000000-0000-7000-8000-000000000002")

// DemoProductID is the ID catalog and inventory give the demo product with
// this SKU (their seeds use the same name-based UUID).
func DemoProductID(sku string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("shop-demo-sku:"+sku))
}

// LoadDemo reads what the history is planned from: the demo catalog file
// (LoadDemoCatalog) and, from identity's database, the demo customers (the
// CUSTOMER accounts @shop.local that identity's seed made) and the demo
// admin.
func LoadDemo(ctx context.Context, catalogPath, identityDSN string) (DemoOptions, error) {
	o, err := LoadDemoCatalog(catalogPath)
	if err != nil {
		return o, err
	}
	conn, err := pgx.Connect(ctx, identityDSN)
	if err != nil {
		return DemoOptions{}, fmt.Errorf("identity database: %w", err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT id FROM users WHERE role = 'CUSTOMER' AND email LIKE '%@shop.local' ORDER BY email`)
	if o.Customers, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return DemoOptions{}, fmt.Errorf("demo customers: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT id FROM users WHERE email = 'admin@shop.local'`).Scan(&o.Admin); err != nil {
		return DemoOptions{}, fmt.Errorf("demo admin (run identity's seed first): %w", err)
	}
	return o, nil
}

// LoadDemoCatalog reads the products of the demo catalog file
// (deploy/demo/catalog.json).
func LoadDemoCatalog(path string) (DemoOptions, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return DemoOptions{}, fmt.Errorf("demo catalog: %w", err)
	}
	var file struct {
		Products []struct {
			SKU        string `json:"sku"`
			Name       string `json:"name"`
			PriceMinor int64  `json:"price_minor"`
			Currency   string `json:"currency"`
			Stock      int64  `json:"stock"`
			SellerID   string `json:"seller_id"`
		} `json:"products"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return DemoOptions{}, fmt.Errorf("demo catalog %s: %w", path, err)
	}
	var o DemoOptions
	for _, p := range file.Products {
		seller := DemoSellerID
		if p.SellerID != "" {
			if seller, err = uuid.Parse(p.SellerID); err != nil {
				return DemoOptions{}, fmt.Errorf("demo catalog: %s: seller_id: %w", p.SKU, err)
			}
		}
		o.Products = append(o.Products, DemoProduct{ID: DemoProductID(p.SKU), SKU: strings.ToUpper(p.SKU), Name: p.Name,
			PriceMinor: p.PriceMinor, Currency: p.Currency, SellerID: seller, Stock: p.Stock})
	}
	return o, nil
}

// ErrDemoSkipped says why DemoSeed wrote nothing.
var ErrDemoSkipped = errors.New("demo history skipped")

// DemoSeed plans the history and writes it into the order, inventory and
// payment databases (dsns by service name), each in one transaction:
// inventory first, then payment, then order, whose demo orders mark the
// history as written. It writes nothing, and says so, when the order
// database already has the demo orders (a second `make up`), and refuses
// (ErrDemoSkipped) when the inventory database already has stock
// movements: a ledger cannot be given a past afterwards, so the history
// belongs on empty databases, before inventory's seed (which then leaves
// the products it finds stocked alone). It returns a one-line summary.
func DemoSeed(ctx context.Context, dsns map[string]string, o DemoOptions) (string, error) {
	conns := map[string]*pgx.Conn{}
	defer func() {
		for _, c := range conns {
			c.Close(ctx)
		}
	}()
	for _, s := range Services {
		c, err := pgx.Connect(ctx, dsns[s])
		if err != nil {
			return "", fmt.Errorf("demo history: %s database: %w", s, err)
		}
		conns[s] = c
	}
	var have int
	if err := conns["order"].QueryRow(ctx, `SELECT count(*) FROM orders WHERE idempotency_key LIKE $1`, demoKeyPrefix+"%").Scan(&have); err != nil {
		return "", fmt.Errorf("demo history: %w", err)
	}
	if have > 0 {
		return fmt.Sprintf("demo history: %d past orders already there", have), nil
	}
	var moved bool
	if err := conns["inventory"].QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM stock_movements)`).Scan(&moved); err != nil {
		return "", fmt.Errorf("demo history: %w", err)
	}
	if moved {
		return "", fmt.Errorf("%w: the inventory database already has stock movements, and a ledger cannot be given a past afterwards (make clean, then make up, starts from empty databases)", ErrDemoSkipped)
	}
	plan, err := PlanDemo(o)
	if err != nil {
		return "", err
	}
	for _, w := range []struct {
		service string
		write   func(DemoPlan) *pgx.Batch
	}{{"inventory", inventoryBatch}, {"payment", paymentBatch}, {"order", orderBatch}} {
		if err := pgx.BeginFunc(ctx, conns[w.service], func(tx pgx.Tx) error {
			return tx.SendBatch(ctx, w.write(plan)).Close()
		}); err != nil {
			return "", fmt.Errorf("demo history of %s: %w", w.service, err)
		}
		if _, err := conns[w.service].Exec(ctx, "ANALYZE"); err != nil {
			return "", fmt.Errorf("demo history of %s: %w", w.service, err)
		}
	}
	counts := map[string]int{}
	for _, ord := range plan.Orders {
		counts[ord.Status]++
	}
	return fmt.Sprintf("demo history: %d orders over the last %d days (%d delivered, %d shipped, %d paid, %d cancelled, %d under way), %d stock movements",
		len(plan.Orders), int(Span.Hours()/24), counts["DELIVERED"], counts["SHIPPED"], counts["PAID"], counts["CANCELLED"],
		counts["CREATED"]+counts["PAYMENT_PENDING"], len(plan.Movements)), nil
}

// nullID is id, or NULL for uuid.Nil.
func nullID(id uuid.UUID) any {
	if id == uuid.Nil {
		return nil
	}
	return id
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return demoTime(t)
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// demoInbox queues the processed_events rows of what consumer handled.
func demoInbox(b *pgx.Batch, consumer string, plan DemoPlan) {
	for _, o := range plan.Orders {
		for _, e := range o.Consumed[consumer] {
			b.Queue(`INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ($1, $2, $3)`,
				consumer, e.ID, demoTime(e.At.Add(5*time.Millisecond)))
		}
	}
}

func orderBatch(plan DemoPlan) *pgx.Batch {
	b := &pgx.Batch{}
	for _, o := range plan.Orders {
		var changed, paid time.Time
		for _, s := range o.Steps {
			if s.Kind == "TRANSITION" {
				changed = s.At
				if s.To == "PAID" {
					paid = s.At
				}
			}
		}
		seller := o.Lines[0].Product.SellerID
		for _, l := range o.Lines {
			if l.Product.SellerID != seller {
				seller = uuid.Nil
			}
		}
		b.Queue(`INSERT INTO orders (id, user_id, status, currency, total_minor, seller_id, idempotency_key, cancel_reason,
			item_count, created_at, updated_at, status_changed_at, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)`,
			o.ID, o.Customer, o.Status, o.Currency, o.Total, nullID(seller), fmt.Sprintf("%s%d", demoKeyPrefix, o.N),
			nullText(o.CancelReason), len(o.Lines), demoTime(o.CreatedAt), demoTime(changed), nullTime(paid))
		for i, l := range o.Lines {
			b.Queue(`INSERT INTO order_items (order_id, line_no, product_id, sku, name, seller_id, quantity, unit_price_minor)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				o.ID, i, l.Product.ID, l.Product.SKU, l.Product.Name, nullID(l.Product.SellerID), l.Quantity, l.Product.PriceMinor)
		}
		for _, s := range o.Steps {
			var cause, causeType, emitted, emittedType any
			if s.Cause != nil {
				cause, causeType = s.Cause.ID, s.Cause.Type
			}
			if s.Emitted != nil {
				emitted, emittedType = s.Emitted.ID, s.Emitted.Type
			}
			detail, _ := json.Marshal(s.Detail)
			b.Queue(`INSERT INTO order_history (order_id, at, kind, from_status, to_status, actor_id, actor_role, reason, note,
				event_id, event_type, emitted_event_id, emitted_event_type, detail)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				o.ID, demoTime(s.At), s.Kind, nullText(s.From), s.To, nullID(s.Actor), nullText(s.ActorRole), s.Reason, s.Note,
				cause, causeType, emitted, emittedType, string(detail))
		}
	}
	demoInbox(b, "order", plan)
	return b
}

func inventoryBatch(plan DemoPlan) *pgx.Batch {
	b := &pgx.Batch{}
	for _, s := range plan.Stock {
		// The row as the seed makes it when catalog's event has not come
		// yet; catalog's event fills in the rest whenever it comes.
		b.Queue(`INSERT INTO stock (product_id, seller_id, sku, status) VALUES ($1, $2, $3, 'ACTIVE') ON CONFLICT (product_id) DO NOTHING`,
			s.Product.ID, nullID(s.Product.SellerID), s.Product.SKU)
		b.Queue(`UPDATE stock SET on_hand = $2, reserved = $3, updated_at = $4 WHERE product_id = $1`,
			s.Product.ID, s.OnHand, s.Reserved, demoTime(s.UpdatedAt))
	}
	for _, o := range plan.Orders {
		r := o.Reservation
		if r == nil {
			continue
		}
		b.Queue(`INSERT INTO reservations (id, order_id, status, placeholder, expires_at, reason, restocked, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.ID, o.ID, r.Status, r.Placeholder, demoTime(r.ExpiresAt), r.Reason, r.Restocked, demoTime(r.CreatedAt), demoTime(r.UpdatedAt))
		for _, l := range r.Lines {
			b.Queue(`INSERT INTO reservation_lines (reservation_id, product_id, quantity) VALUES ($1, $2, $3)`, r.ID, l.Product.ID, l.Quantity)
		}
	}
	for _, m := range plan.Movements {
		b.Queue(`INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
			reservation_id, order_id, reason, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			m.Product, m.Kind, m.OnHandDelta, m.ReservedDelta, m.OnHandAfter, m.ReservedAfter,
			nullID(m.Reservation), nullID(m.Order), m.Reason, nullID(m.Actor), demoTime(m.At))
	}
	demoInbox(b, "inventory", plan)
	return b
}

func paymentBatch(plan DemoPlan) *pgx.Batch {
	b := &pgx.Batch{}
	for _, o := range plan.Orders {
		if pr := o.Projection; pr != nil {
			var user, total, currency, reservation any
			if pr.Known {
				user, total, currency, reservation = o.Customer, o.Total, o.Currency, o.Reservation.ID
			}
			b.Queue(`INSERT INTO order_projection (order_id, user_id, total_minor, currency, reservation_id, reservation_expires_at,
				expired_at, cancelled_at, cancel_reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				o.ID, user, total, currency, reservation, nullTime(pr.ReservationExpiresAt), nullTime(pr.ExpiredAt),
				nullTime(pr.CancelledAt), pr.CancelReason, demoTime(pr.UpdatedAt))
		}
		p := o.Payment
		if p == nil {
			continue
		}
		var charge any
		if p.Captured {
			charge = "ch_" + strings.ReplaceAll(p.ID.String(), "-", "")
		}
		b.Queue(`INSERT INTO payments (id, order_id, user_id, reservation_id, amount_minor, currency, status, refunded_minor,
			failure_reason, void_reason, card_last4, attempts, charge_id, captured_at, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			p.ID, o.ID, o.Customer, o.Reservation.ID, o.Total, o.Currency, p.Status, p.RefundedMinor,
			p.FailureReason, p.VoidReason, p.CardLast4, p.Attempts, charge, nullTime(p.CapturedAt), p.Version,
			demoTime(p.CreatedAt), demoTime(p.UpdatedAt))
		for _, r := range p.Refunds {
			b.Queue(`INSERT INTO refunds (id, payment_id, amount_minor, currency, reason, created_by, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, p.ID, r.Amount, o.Currency, r.Reason, nullID(r.CreatedBy), demoTime(r.At))
		}
	}
	demoInbox(b, "payment", plan)
	return b
}
