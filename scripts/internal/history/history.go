// Package history gives the saga's databases the past of a running shop
// before a load: orders delivered or cancelled over the last 30 days, with
// their items, timelines, reservations, payments and inbox rows, as the
// services themselves would have written them.
//
// A load against empty tables measures something no shop runs: PostgreSQL
// plans a statement for the table as it is when the statement is first
// prepared, and a table of a few pages is cheaper to scan than to probe
// by index, so the saga's lookups by key start as sequential scans and
// stay so while the tables grow under the load (the services' statements
// are prepared once per connection). On tables of a shop with history the
// planner picks the indexes, as it would in production.
package history

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Span is how far back the past orders go.
const Span = 30 * 24 * time.Hour

// Every Nth past order was cancelled before payment (its payment voided,
// its reservation released); the others were paid and delivered.
const cancelledEvery = 10

// The statements share the past orders' keys: the Nth order has the same
// IDs (UUIDv7 at its time, the rest derived from N) in every database, so
// its order, reservation and payment belong together. $1 is the number of
// orders, $2 the time of the newest, $3 the span they cover.
var past = `WITH k AS (
	SELECT g, at, g % ` + fmt.Sprint(cancelledEvery) + ` = 0 AS cancelled,
		` + uuid7("o") + ` AS order_id, ` + uuid7("r") + ` AS reservation_id, ` + uuid7("p") + ` AS payment_id,
		md5('customer' || g % 5000)::uuid AS user_id
	FROM (SELECT g, at, lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') AS ms
		FROM (SELECT g, $2::timestamptz - ($1::int - g) * ($3::interval / $1::int) AS at
			FROM generate_series(1, $1::int) AS g) AS t) AS t
)`

// uuid7 is the SQL of a UUIDv7 at the row's time (ms, its milliseconds in
// hex), its random bits derived from salt and the row's number g.
func uuid7(salt string) string {
	h := "md5('" + salt + "' || g)"
	return "(ms || '7' || substr(" + h + ", 1, 3) || '8' || substr(" + h + ", 4, 15))::uuid"
}

// Each past order has two lines of 19.99 EUR from a catalogue of 500 past
// products.
const (
	lines     = 2
	unitPrice = 1999
)

var statements = map[string][]string{
	"order": {
		past + `INSERT INTO orders (id, user_id, status, currency, total_minor, idempotency_key, item_count,
			created_at, updated_at, status_changed_at, paid_at, cancel_reason)
		SELECT order_id, user_id, CASE WHEN cancelled THEN 'CANCELLED' ELSE 'DELIVERED' END, 'EUR',
			` + fmt.Sprint(lines*unitPrice) + `, 'past-' || g, ` + fmt.Sprint(lines) + `,
			at, at + interval '2 days', at + interval '2 days',
			CASE WHEN NOT cancelled THEN at + interval '1 minute' END,
			CASE WHEN cancelled THEN 'CUSTOMER_CANCELLED' END
		FROM k`,
		past + `INSERT INTO order_items (order_id, line_no, product_id, sku, name, quantity, unit_price_minor)
		SELECT order_id, n, md5('product' || (g + n) % 500)::uuid, 'PAST-' || (g + n) % 500, 'Past product',
			1, ` + fmt.Sprint(unitPrice) + `
		FROM k, generate_series(0, ` + fmt.Sprint(lines-1) + `) AS n`,
		// The timeline of a delivered order: placed, reserved, paid, shipped,
		// delivered; of a cancelled one: placed, cancelled.
		past + `, step AS (
			SELECT * FROM (VALUES
				(false, 0, NULL, 'CREATED', NULL),
				(false, 1, 'CREATED', 'PAYMENT_PENDING', 'INVENTORY_RESERVED'),
				(false, 2, 'PAYMENT_PENDING', 'PAID', 'PAYMENT_SUCCESS'),
				(false, 3, 'PAID', 'SHIPPED', NULL),
				(false, 4, 'SHIPPED', 'DELIVERED', NULL),
				(true, 0, NULL, 'CREATED', NULL),
				(true, 1, 'CREATED', 'CANCELLED', NULL)) AS s(cancelled, n, from_status, to_status, event_type)
		)
		INSERT INTO order_history (order_id, at, kind, from_status, to_status, reason, event_id, event_type)
		SELECT k.order_id, k.at + s.n * interval '1 minute', 'TRANSITION', s.from_status, s.to_status, 'past',
			CASE WHEN s.event_type IS NOT NULL THEN md5('e' || k.g || '-' || s.n)::uuid END, s.event_type
		FROM k JOIN step s ON s.cancelled = k.cancelled
		ORDER BY k.g, s.n`,
	},
	"inventory": {
		past + `INSERT INTO reservations (id, order_id, status, expires_at, reason, created_at, updated_at)
		SELECT reservation_id, order_id, CASE WHEN cancelled THEN 'RELEASED' ELSE 'CONFIRMED' END,
			at + interval '15 minutes', CASE WHEN cancelled THEN 'ORDER_CANCELLED' ELSE '' END, at, at + interval '1 minute'
		FROM k`,
		past + `INSERT INTO reservation_lines (reservation_id, product_id, quantity)
		SELECT reservation_id, md5('product' || (g + n) % 500)::uuid, 1
		FROM k, generate_series(0, ` + fmt.Sprint(lines-1) + `) AS n`,
	},
	"payment": {
		past + `INSERT INTO order_projection (order_id, user_id, total_minor, currency, reservation_id,
			reservation_expires_at, cancelled_at, cancel_reason, updated_at)
		SELECT order_id, user_id, ` + fmt.Sprint(lines*unitPrice) + `, 'EUR', reservation_id, at + interval '15 minutes',
			CASE WHEN cancelled THEN at + interval '2 days' END,
			CASE WHEN cancelled THEN 'CUSTOMER_CANCELLED' ELSE '' END, at
		FROM k`,
		past + `INSERT INTO payments (id, order_id, user_id, reservation_id, amount_minor, currency, status,
			void_reason, card_last4, attempts, charge_id, captured_at, version, created_at, updated_at)
		SELECT payment_id, order_id, user_id, reservation_id, ` + fmt.Sprint(lines*unitPrice) + `, 'EUR',
			CASE WHEN cancelled THEN 'VOIDED' ELSE 'SUCCEEDED' END,
			CASE WHEN cancelled THEN 'ORDER_CANCELLED' ELSE '' END,
			CASE WHEN cancelled THEN '' ELSE '4242' END, CASE WHEN cancelled THEN 0 ELSE 1 END,
			CASE WHEN NOT cancelled THEN 'ch_past_' || g END, CASE WHEN NOT cancelled THEN at + interval '1 minute' END,
			2, at, at + interval '1 minute'
		FROM k`,
	},
}

// inbox is how many events each service handled for a past order: its
// inbox (processed_events) keeps a row per event, here under the consumer
// name "past".
var inbox = map[string]int{"order": 4, "inventory": 2, "payment": 2}

// Services are the databases Seed writes, by service name.
var Services = []string{"order", "inventory", "payment"}

// Seed writes n past orders, the newest at now, into each service's
// database (dsns by service name), then analyses the tables as autovacuum
// would after such a load.
func Seed(ctx context.Context, dsns map[string]string, n int, now time.Time) error {
	if n <= 0 {
		return nil
	}
	for _, service := range Services {
		if err := seed(ctx, service, dsns[service], n, now); err != nil {
			return fmt.Errorf("history of %s: %w", service, err)
		}
	}
	return nil
}

func seed(ctx context.Context, service, dsn string, n int, now time.Time) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	for _, sql := range statements[service] {
		if _, err := tx.Exec(ctx, sql, n, now, Span); err != nil {
			return err
		}
	}
	// The same parameters as the statements', and $4 the events per order;
	// the n·$4 rows are spread over the same span.
	if _, err := tx.Exec(ctx, `INSERT INTO processed_events (consumer, event_id, processed_at)
		SELECT 'past', md5('inbox' || g)::uuid, $2::timestamptz - (m - g) * ($3::interval / m)
		FROM (SELECT $1::int * $4::int AS m) AS c, generate_series(1, $1::int * $4::int) AS g`, n, now, Span, inbox[service]); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}
