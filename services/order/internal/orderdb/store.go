// Package orderdb is the order service's PostgreSQL store (gorm): orders,
// items, the timeline and the catalog replica. It implements order.Store and
// order.Tx, converts rows to and from domain types, and translates driver
// errors (unique violations, no rows) into the domain's errors.
package orderdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/shop-oss/shop/services/order/internal/order"
)

// Store implements order.Store over a primary and a read database (the same
// one when there is no replica).
type Store struct {
	db, read *gorm.DB
}

// New returns a Store; read serves list and dashboard queries.
func New(db, read *gorm.DB) *Store {
	if read == nil {
		read = db
	}
	return &Store{db: db, read: read}
}

// InTx runs fn in the transaction bound to ctx (Bind), else in a
// transaction of the primary.
func (s *Store) InTx(ctx context.Context, fn func(order.Tx) error) error {
	if tx, ok := ctx.Value(boundKey{}).(order.Tx); ok {
		return fn(tx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Tx{db: tx})
	})
}

// Order reads from the primary: it answers right after a write (the
// Location of a new order, a status change), which a lagging replica may
// not have yet.
func (s *Store) Order(ctx context.Context, id string) (order.Order, error) {
	return loadOrder(ctx, s.db.WithContext(ctx), "id = ?", id)
}

// OrderByKey reads from the primary, right after a unique violation.
func (s *Store) OrderByKey(ctx context.Context, userID, key string) (order.Order, error) {
	return loadOrder(ctx, s.db.WithContext(ctx), "user_id = ? AND idempotency_key = ?", userID, key)
}

func loadOrder(ctx context.Context, db *gorm.DB, where string, args ...any) (order.Order, error) {
	var r orderRow
	err := db.Where(where, args...).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return order.Order{}, order.ErrNotFound
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("load order: %w", err)
	}
	o := r.toDomain()
	if o.Items, err = items(ctx, db, r.ID); err != nil {
		return order.Order{}, err
	}
	return o, nil
}

func items(ctx context.Context, db *gorm.DB, orderID string) ([]order.Item, error) {
	var rows []itemRow
	if err := db.WithContext(ctx).Where("order_id = ?", orderID).Order("line_no").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load items of %s: %w", orderID, err)
	}
	out := make([]order.Item, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// OpenOrders reads the user's unpaid orders from the primary (a replica's
// lag would let a burst of placements through): orders_status_created
// finds the in-flight orders, few by nature, or orders_user_created the
// user's.
func (s *Store) OpenOrders(ctx context.Context, userID string) (int, int, error) {
	var out struct{ Orders, Units int }
	err := s.db.WithContext(ctx).Raw(`SELECT count(*) AS orders,
			coalesce(sum((SELECT sum(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0) AS units
		FROM orders o WHERE o.user_id = ? AND o.status IN (?, ?)`,
		userID, string(order.StatusCreated), string(order.StatusPaymentPending)).Scan(&out).Error
	if err != nil {
		return 0, 0, fmt.Errorf("count unpaid orders of %s: %w", userID, err)
	}
	return out.Orders, out.Units, nil
}

// Timeline reads from the primary, so a step just taken is in it.
func (s *Store) Timeline(ctx context.Context, orderID string) ([]order.HistoryEntry, error) {
	var rows []historyRow
	if err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load timeline: %w", err)
	}
	out := make([]order.HistoryEntry, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// List runs on the read database.
func (s *Store) List(ctx context.Context, q order.ListQuery) ([]order.Order, error) {
	db := s.read.WithContext(ctx).Model(&orderRow{})
	f := q.Filter
	if f.Status != "" {
		db = db.Where("status = ?", string(f.Status))
	}
	if f.UserID != "" {
		db = db.Where("user_id = ?", f.UserID)
	}
	if f.SellerID != "" {
		db = db.Where("seller_id = ?", f.SellerID)
	}
	if !f.From.IsZero() {
		db = db.Where("created_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		db = db.Where("created_at < ?", f.To)
	}
	if q.StuckCutoffs != nil {
		db = db.Where(stuckCondition(q.StuckCutoffs))
	}
	if q.After != nil {
		db = db.Where("(created_at, id) < (?, ?)", q.After.CreatedAt, q.After.ID)
	}
	var rows []orderRow
	if err := db.Order("created_at DESC, id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	out := make([]order.Order, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// stuckCondition is "status is one with an SLA and older than its cutoff".
// Each arm names its status, so the planner reads each status's orders
// from orders_status_created (few: only in-flight statuses have an SLA).
// An empty map matches nothing.
func stuckCondition(cutoffs map[order.Status]time.Time) clause.Expression {
	if len(cutoffs) == 0 {
		return clause.Expr{SQL: "false"}
	}
	var arms []clause.Expression
	for _, st := range order.Statuses {
		if cut, ok := cutoffs[st]; ok {
			arms = append(arms, clause.Expr{SQL: "(status = ? AND status_changed_at < ?)", Vars: []any{string(st), cut}})
		}
	}
	return clause.Or(arms...)
}

// Counts runs on the read database.
func (s *Store) Counts(ctx context.Context, from, to time.Time) (map[order.Status]int64, []order.Revenue, error) {
	scope := func(db *gorm.DB) *gorm.DB {
		if !from.IsZero() {
			db = db.Where("created_at >= ?", from)
		}
		if !to.IsZero() {
			db = db.Where("created_at < ?", to)
		}
		return db
	}
	var byStatus []struct {
		Status string
		N      int64
	}
	db := s.read.WithContext(ctx)
	if err := db.Model(&orderRow{}).Scopes(scope).Select("status, count(*) AS n").Group("status").Scan(&byStatus).Error; err != nil {
		return nil, nil, fmt.Errorf("count orders: %w", err)
	}
	counts := make(map[order.Status]int64, len(byStatus))
	for _, r := range byStatus {
		counts[order.Status(r.Status)] = r.N
	}
	var revenue []struct {
		Currency string
		Amount   int64
		N        int64
	}
	err := db.Model(&orderRow{}).Scopes(scope).
		Where("status IN ?", []string{string(order.StatusPaid), string(order.StatusShipped), string(order.StatusDelivered)}).
		Select("currency, sum(total_minor)::bigint AS amount, count(*) AS n").Group("currency").Order("currency").
		Scan(&revenue).Error
	if err != nil {
		return nil, nil, fmt.Errorf("sum revenue: %w", err)
	}
	out := make([]order.Revenue, len(revenue))
	for i, r := range revenue {
		out[i] = order.Revenue{Currency: r.Currency, AmountMinor: r.Amount, Orders: r.N}
	}
	return counts, out, nil
}

// CountStuck runs on the read database.
func (s *Store) CountStuck(ctx context.Context, cutoffs map[order.Status]time.Time) (map[order.Status]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.read.WithContext(ctx).Model(&orderRow{}).Where(stuckCondition(cutoffs)).
		Select("status, count(*) AS n").Group("status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count stuck orders: %w", err)
	}
	out := make(map[order.Status]int64, len(rows))
	for _, r := range rows {
		out[order.Status(r.Status)] = r.N
	}
	return out, nil
}

// Tx implements order.Tx over one transaction.
type Tx struct {
	db *gorm.DB
	// sent is what the consumer's batch sent ahead in db for the event
	// being handled (nil: nothing).
	sent *Outcome
}

// LockProduct locks a replica row.
func (t *Tx) LockProduct(ctx context.Context, id string) (order.Product, bool, error) {
	var r productRow
	err := t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return order.Product{}, false, nil
	}
	if err != nil {
		return order.Product{}, false, fmt.Errorf("lock product %s: %w", id, err)
	}
	return r.toDomain(), true, nil
}

// SaveProduct upserts a replica row. The WHERE guard keeps an older
// version from overwriting a newer one even if two writers raced past the
// domain's check.
func (t *Tx) SaveProduct(ctx context.Context, p order.Product) error {
	r := productToRow(p)
	err := t.db.WithContext(ctx).Exec(`INSERT INTO products (id, sku, name, seller_id, status, price_minor, currency, version, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())
		ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, name = EXCLUDED.name, seller_id = EXCLUDED.seller_id,
			status = EXCLUDED.status, price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency,
			version = EXCLUDED.version, updated_at = now()
		WHERE products.version <= EXCLUDED.version`,
		r.ID, r.SKU, r.Name, r.SellerID, r.Status, r.PriceMinor, r.Currency, r.Version).Error
	if err != nil {
		return fmt.Errorf("save product %s: %w", p.ID, err)
	}
	return nil
}

// LockOrder reads the order row with SELECT ... FOR NO KEY UPDATE: the
// lock an UPDATE of its status takes anyway. It does not wait for the
// key-share locks that inserting the order's timeline entries takes (a
// stronger FOR UPDATE would), and every order lock in the service that
// waits is this one (the timeout sweep's FOR UPDATE SKIP LOCKED never
// waits), so no transaction needs to upgrade one it holds.
func (t *Tx) LockOrder(ctx context.Context, id string) (order.Order, error) {
	var r orderRow
	err := t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return order.Order{}, order.ErrNotFound
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("lock order %s: %w", id, err)
	}
	return r.toDomain(), nil
}

// LockOrderForEvent locks the order row and looks the event up in its
// timeline (index order_history_event) in one statement.
func (t *Tx) LockOrderForEvent(ctx context.Context, id, eventID string) (order.Order, bool, error) {
	var rows []struct {
		Order orderRow `gorm:"embedded"`
		Seen  bool
	}
	err := t.db.WithContext(ctx).Raw(`SELECT o.*,
			EXISTS (SELECT 1 FROM order_history h WHERE h.order_id = o.id AND h.event_id = ?) AS seen
		FROM orders o WHERE o.id = ? FOR NO KEY UPDATE OF o`, eventID, id).Scan(&rows).Error
	if err != nil {
		return order.Order{}, false, fmt.Errorf("lock order %s: %w", id, err)
	}
	if len(rows) == 0 {
		return order.Order{}, false, order.ErrNotFound
	}
	return rows[0].Order.toDomain(), rows[0].Seen, nil
}

// LockCreatedBefore takes the oldest CREATED orders older than before
// (the CREATED orders from orders_status_created, few), skipping rows other
// transactions hold.
func (t *Tx) LockCreatedBefore(ctx context.Context, before time.Time, limit int) ([]order.Order, error) {
	var rows []orderRow
	err := t.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
		Where("status = ? AND status_changed_at < ?", string(order.StatusCreated), before).
		Order("status_changed_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("lock timed-out orders: %w", err)
	}
	out := make([]order.Order, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// Items returns an order's items.
func (t *Tx) Items(ctx context.Context, orderID string) ([]order.Item, error) {
	return items(ctx, t.db, orderID)
}

// errLostUpdate means the row was not in the status it was read in: only
// possible if a writer bypassed the row lock.
var errLostUpdate = errors.New("order changed under its row lock")

// AddHistory appends a timeline entry.
func (t *Tx) AddHistory(ctx context.Context, h order.HistoryEntry) error {
	r, err := historyToRow(h)
	if err != nil {
		return err
	}
	if err := t.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("add history of %s: %w", h.OrderID, err)
	}
	return nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func jsonDetail(d map[string]string) ([]byte, error) {
	if len(d) == 0 {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode detail: %w", err)
	}
	return b, nil
}
