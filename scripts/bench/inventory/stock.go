package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
)

// stockDB is plain SQL against the service's migrated schema: it gives
// products their stock before the load (as a seller's stock-taking would,
// a RECEIVED movement each, so that the ledger balances) and reads the
// figures back after it. The load itself goes through the broker.
type stockDB struct{ conn *pgx.Conn }

func openStock(ctx context.Context, dsn string) (*stockDB, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &stockDB{conn: conn}, nil
}

func (s *stockDB) close() { _ = s.conn.Close(context.Background()) }

// addProducts creates n ACTIVE products with onHand units each and returns
// their IDs in SKU order.
func (s *stockDB) addProducts(ctx context.Context, prefix string, n int, onHand int64) ([]string, error) {
	rows, err := s.conn.Query(ctx, `WITH p AS (
			INSERT INTO stock (product_id, seller_id, sku, status, on_hand)
			SELECT gen_random_uuid(), gen_random_uuid(), $1 || lpad(i::text, 7, '0'), 'ACTIVE', $2 FROM generate_series(1, $3) AS i
			RETURNING product_id, sku, on_hand),
		m AS (INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reason)
			SELECT product_id, 'RECEIVED', on_hand, 0, on_hand, 0, 'bench' FROM p)
		SELECT product_id::text FROM p ORDER BY sku`, prefix, onHand, n)
	if err != nil {
		return nil, fmt.Errorf("add products: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("add products: %w", err)
	}
	// Statistics for the stock only. Analysing the still empty reservation,
	// ledger and outbox tables too would freeze plans made for empty tables
	// into the service's cached plans while those tables grow by thousands
	// of rows a second; a running shop has neither.
	if _, err := s.conn.Exec(ctx, `VACUUM ANALYZE stock`); err != nil {
		return nil, err
	}
	return ids, nil
}

// settings are the server's durability settings, which move every figure.
func (s *stockDB) settings(ctx context.Context) (fsync, syncCommit string, err error) {
	err = s.conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit)
	return fsync, syncCommit, err
}

// figures are a product's on hand and reserved units.
func (s *stockDB) figures(ctx context.Context, id string) (onHand, reserved int64, err error) {
	err = s.conn.QueryRow(ctx, `SELECT on_hand, reserved FROM stock WHERE product_id = $1`, id).Scan(&onHand, &reserved)
	return onHand, reserved, err
}

type ledgerCheck struct {
	products, movements, bad int64
}

// checkLedger counts the products whose figures disagree with the ledger
// or with the active reservations, or break 0 <= reserved <= on_hand.
func (s *stockDB) checkLedger(ctx context.Context) (ledgerCheck, error) {
	var c ledgerCheck
	err := s.conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM stock),
		(SELECT count(*) FROM stock_movements),
		(SELECT count(*) FROM stock s
			LEFT JOIN (SELECT product_id, sum(on_hand_delta) AS oh, sum(reserved_delta) AS rs FROM stock_movements GROUP BY product_id) m USING (product_id)
			LEFT JOIN (SELECT l.product_id, sum(l.quantity) AS q FROM reservation_lines l
				JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'ACTIVE' GROUP BY l.product_id) a USING (product_id)
			WHERE s.on_hand <> COALESCE(m.oh, 0) OR s.reserved <> COALESCE(m.rs, 0) OR s.reserved <> COALESCE(a.q, 0)
				OR s.reserved < 0 OR s.reserved > s.on_hand)`).Scan(&c.products, &c.movements, &c.bad)
	return c, err
}

// available asks the service's API what a product has available.
func available(ctx context.Context, base, id string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/inventory/"+id, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/v1/inventory/%s: status %d", id, res.StatusCode)
	}
	var body struct {
		Available int64 `json:"available"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return 0, err
	}
	return body.Available, nil
}
