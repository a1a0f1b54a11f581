package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/outbox"
	"github.com/shop-oss/shop/services/inventory/internal/inventory"
	"github.com/shop-oss/shop/services/inventory/internal/inventorydb"
	"github.com/shop-oss/shop/services/inventory/migrations"
)

// bench is the scratch inventory database with its products.
type bench struct {
	cfg      benchConfig
	db       *gorm.DB
	drop     func()
	svc      *inventory.Service
	spread   []uuid.UUID
	hot      uuid.UUID
	settings map[string]string
}

const plenty = 900_000_000 // on hand of the measured products: never runs out

func newBench(ctx context.Context, cfg benchConfig) (*bench, error) {
	dsn, drop, err := scratchDatabase(ctx, cfg.adminURL, "invbench")
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, drop: drop}
	if err := database.Migrate(ctx, dsn, migrations.FS, "schema_migrations"); err != nil {
		drop()
		return nil, err
	}
	if err := database.Migrate(ctx, dsn, outbox.Migrations(), outbox.MigrationsTable); err != nil {
		drop()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.db, err = database.Open(ctx, dsn, database.Pool{MaxOpen: cfg.pool, MaxIdle: cfg.pool}, log)
	if err != nil {
		drop()
		return nil, err
	}
	b.svc = inventory.NewService(inventorydb.New(b.db, nil), inventory.NoCache{},
		inventory.Config{ReservationTTL: time.Hour, LowStockThreshold: 5}, log)
	b.settings = map[string]string{}
	for _, name := range []string{"fsync", "synchronous_commit"} {
		var v string
		if err := b.db.Raw("SELECT current_setting(?)", name).Scan(&v).Error; err != nil {
			return nil, err
		}
		b.settings[name] = v
	}
	// Products with stock, made as the service makes them (a RECEIVED
	// movement each, so the ledger balances), in one statement.
	err = b.db.Exec(`WITH p AS (
			INSERT INTO stock (product_id, seller_id, sku, status, on_hand)
			SELECT gen_random_uuid(), gen_random_uuid(), 'BENCH-' || i, 'ACTIVE', ? FROM generate_series(1, ?) AS i
			RETURNING product_id, on_hand)
		INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reason)
		SELECT product_id, 'RECEIVED', on_hand, 0, on_hand, 0, 'bench' FROM p`, plenty, cfg.products+1).Error
	if err != nil {
		return nil, fmt.Errorf("create products: %w", err)
	}
	var ids []uuid.UUID
	if err := b.db.Raw(`SELECT product_id FROM stock ORDER BY sku`).Scan(&ids).Error; err != nil {
		return nil, err
	}
	b.hot, b.spread = ids[0], ids[1:]
	// Statistics for the seeded stock only. Analysing the still empty
	// reservation, ledger and outbox tables too would freeze plans made for
	// empty tables into the connections' cached plans while those tables
	// grow by thousands of rows a second (measured: 5-line reservations 3
	// to 5 times slower); a running shop has neither empty tables nor
	// statistics that claim them empty.
	_ = b.db.Exec(`VACUUM ANALYZE stock`)
	return b, nil
}

func (b *bench) close() {
	_ = database.Close(b.db)
	b.drop()
}

type scenario struct {
	name  string
	lines func(r *rand.Rand) []inventory.Line
}

func (b *bench) scenarios() []scenario {
	spreadLines := func(r *rand.Rand, n int) []inventory.Line {
		lines := make([]inventory.Line, 0, n)
		for len(lines) < n {
			p := b.spread[r.IntN(len(b.spread))]
			if !slices.ContainsFunc(lines, func(l inventory.Line) bool { return l.ProductID == p }) {
				lines = append(lines, inventory.Line{ProductID: p, Quantity: 1 + int64(r.IntN(3))})
			}
		}
		return lines
	}
	return []scenario{
		{"spread, 1 line", func(r *rand.Rand) []inventory.Line { return spreadLines(r, 1) }},
		{"spread, 5 lines", func(r *rand.Rand) []inventory.Line { return spreadLines(r, 5) }},
		{"hot product, 1 line", func(*rand.Rand) []inventory.Line { return []inventory.Line{{ProductID: b.hot, Quantity: 1}} }},
		{"hot product, 5 lines", func(r *rand.Rand) []inventory.Line {
			return append(spreadLines(r, 4), inventory.Line{ProductID: b.hot, Quantity: 1})
		}},
	}
}

// result is one scenario's figures.
type result struct {
	name             string
	elapsed          time.Duration
	ok               int64
	rejected, errors int64
	latencies        []time.Duration
	firstErr         error
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r result) p(q float64) string {
	if len(r.latencies) == 0 {
		return "-"
	}
	d := r.latencies[min(int(q*float64(len(r.latencies))), len(r.latencies)-1)]
	return d.Round(10 * time.Microsecond).String()
}

// measure runs a scenario with the configured workers for the duration.
func (b *bench) measure(ctx context.Context, sc scenario) (result, error) {
	res := result{name: sc.name}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(b.cfg.duration)
	start := time.Now()
	for w := range b.cfg.workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var lat []time.Duration
			var ok, rejected, errs int64
			var first error
			for time.Now().Before(deadline) {
				req := inventory.ReserveRequest{OrderID: uuid.Must(uuid.NewV7()), Lines: sc.lines(r)}
				t0 := time.Now()
				out, err := b.svc.Reserve(ctx, req)
				lat = append(lat, time.Since(t0))
				switch {
				case err == nil && out.Created:
					ok++
				case errors.Is(err, inventory.ErrInsufficientStock):
					rejected++
				default:
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.ok += ok
			res.rejected += rejected
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	if res.firstErr != nil {
		fmt.Printf("  %s: first error: %v\n", sc.name, res.firstErr)
	}
	return res, nil
}

type sellOutResult struct {
	stock, attempts, reserved, rejected int64
	rate                                float64
}

// sellOut lets the workers race for a product with stock units, one unit
// per order, until 1.5 times as many attempts were made: exactly stock
// reservations must succeed.
func (b *bench) sellOut(ctx context.Context, stock int64) (sellOutResult, error) {
	id := uuid.New()
	if _, err := b.svc.Seed(ctx, []inventory.SeedItem{{
		Product: inventory.Product{ID: id, SellerID: uuid.New(), SKU: "SELL-OUT", Status: inventory.ProductActive}, Quantity: stock,
	}}); err != nil {
		return sellOutResult{}, err
	}
	out := sellOutResult{stock: stock, attempts: stock * 3 / 2}
	var mu sync.Mutex
	var next int64
	var wg sync.WaitGroup
	var firstErr error
	start := time.Now()
	for range b.cfg.workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= out.attempts {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				res, err := b.svc.Reserve(ctx, inventory.ReserveRequest{OrderID: uuid.Must(uuid.NewV7()), Lines: []inventory.Line{{ProductID: id, Quantity: 1}}})
				mu.Lock()
				switch {
				case err == nil && res.Created:
					out.reserved++
				case errors.Is(err, inventory.ErrInsufficientStock):
					out.rejected++
				case firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	out.rate = float64(out.reserved) / time.Since(start).Seconds()
	if firstErr != nil {
		return out, fmt.Errorf("sell-out: %w", firstErr)
	}
	var s struct{ OnHand, Reserved int64 }
	if err := b.db.Raw(`SELECT on_hand, reserved FROM stock WHERE product_id = ?`, id).Scan(&s).Error; err != nil {
		return out, err
	}
	if s.Reserved != out.reserved || s.OnHand != stock {
		return out, fmt.Errorf("sell-out: the database says on hand %d, reserved %d; the callers saw %d reserved", s.OnHand, s.Reserved, out.reserved)
	}
	return out, nil
}

type invariantResult struct {
	Products, Movements, Bad int64
}

// invariants checks every product: the ledger sums to the stock figures,
// reserved equals the lines of ACTIVE reservations, 0 <= reserved <= on_hand.
func (b *bench) invariants(ctx context.Context) (invariantResult, error) {
	var r invariantResult
	err := b.db.WithContext(ctx).Raw(`SELECT
		(SELECT count(*) FROM stock) AS products,
		(SELECT count(*) FROM stock_movements) AS movements,
		(SELECT count(*) FROM stock s
			LEFT JOIN (SELECT product_id, sum(on_hand_delta) AS oh, sum(reserved_delta) AS rs FROM stock_movements GROUP BY product_id) m USING (product_id)
			LEFT JOIN (SELECT l.product_id, sum(l.quantity) AS q FROM reservation_lines l
				JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'ACTIVE' GROUP BY l.product_id) a USING (product_id)
			WHERE s.on_hand <> COALESCE(m.oh, 0) OR s.reserved <> COALESCE(m.rs, 0) OR s.reserved <> COALESCE(a.q, 0)
				OR s.reserved < 0 OR s.reserved > s.on_hand) AS bad`).Scan(&r).Error
	return r, err
}

// scratchDatabase creates an empty database and returns its URL and a
// function that drops it.
func scratchDatabase(ctx context.Context, admin, prefix string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", database.Redact(admin), err)
	}
	defer conn.Close(ctx)
	buf := make([]byte, 6)
	_, _ = crand.Read(buf)
	name := prefix + "_" + hex.EncodeToString(buf)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	drop := func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}
