package app_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/order/internal/app"
)

// make up prints the seed's line: it says what the database holds.
func TestSeedSaysHowManyOrdersThereArePerStatus(t *testing.T) {
	dsn := testkit.PostgresURL(t)
	cfg, err := app.Load(map[string]string{"SHOP_DATABASE_URL": dsn})
	if err != nil {
		t.Fatal(err)
	}
	seed := func() string {
		var out bytes.Buffer
		if err := app.Seed(context.Background(), cfg, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got, want := seed(), "demo orders: none yet (place one in the storefront)\n"; got != want {
		t.Fatalf("empty: %q, want %q", got, want)
	}

	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `INSERT INTO orders (id, user_id, status, currency, total_minor,
			idempotency_key, cancel_reason, item_count, created_at, updated_at, status_changed_at)
		SELECT gen_random_uuid(), gen_random_uuid(), s, 'EUR', 100, 'k', CASE s WHEN 'CANCELLED' THEN 'OUT_OF_STOCK' END,
			1, now(), now(), now()
		FROM unnest(ARRAY['PAID', 'PAID', 'PAID', 'CANCELLED', 'PAYMENT_PENDING', 'DELIVERED', 'DELIVERED']) AS s`)
	if err != nil {
		t.Fatal(err)
	}
	want := "demo orders: 7 in the database (1 PAYMENT_PENDING, 3 PAID, 2 DELIVERED, 1 CANCELLED)\n"
	if got := seed(); got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
