package inventoryapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// A stock change answers with what was stored: the row's updated_at is
// the one the database holds after the change, not the one read before.
func TestStockChangesAnswerWhatWasStored(t *testing.T) {
	h := start(t, nil)
	id := h.product(5)
	conn, err := pgx.Connect(context.Background(), h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	stored := func() time.Time {
		var at time.Time
		if err := conn.QueryRow(context.Background(), `SELECT updated_at FROM stock WHERE product_id = $1`, id).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}

	changes := []struct {
		name, method, path string
		body               map[string]any
		headers            []string
	}{
		{"set on hand", http.MethodPut, "/api/v1/inventory/" + id, map[string]any{"on_hand": 9}, nil},
		{"set the threshold only", http.MethodPut, "/api/v1/inventory/" + id, map[string]any{"on_hand": 9, "low_stock_threshold": 2}, nil},
		{"adjust", http.MethodPost, "/api/v1/inventory/" + id + "/adjust", map[string]any{"delta": -1, "reason": "broken"}, key()},
	}
	for _, c := range changes {
		before := stored()
		var s struct {
			UpdatedAt time.Time `json:"updated_at"`
		}
		if st := h.call(c.method, c.path, "seller", c.body, &s, c.headers...); st != http.StatusOK {
			t.Fatalf("%s: %d", c.name, st)
		}
		after := stored()
		if !after.After(before) || !s.UpdatedAt.Equal(after) {
			t.Errorf("%s: answered updated_at %s; stored %s before, %s after", c.name, s.UpdatedAt, before, after)
		}
	}
}

// A reservation answers with the times it stored, at the database's
// precision (microseconds), not the clock's.
func TestReservationAnswersWhatWasStored(t *testing.T) {
	h := start(t, nil)
	id := h.product(5)
	var r struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	body := map[string]any{"order_id": uuid.NewString(), "lines": []map[string]any{{"product_id": id, "quantity": 1}}}
	if st := h.call(http.MethodPost, "/api/v1/inventory/reserve", "admin", body, &r, key()...); st != http.StatusCreated {
		t.Fatalf("reserve: %d", st)
	}
	conn, err := pgx.Connect(context.Background(), h.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var created, updated, expires time.Time
	err = conn.QueryRow(context.Background(), `SELECT created_at, updated_at, expires_at FROM reservations WHERE id = $1`, r.ID).
		Scan(&created, &updated, &expires)
	if err != nil {
		t.Fatal(err)
	}
	if !r.CreatedAt.Equal(created) || !r.UpdatedAt.Equal(updated) || !r.ExpiresAt.Equal(expires) {
		t.Errorf("answered %s %s %s; stored %s %s %s", r.CreatedAt, r.UpdatedAt, r.ExpiresAt, created, updated, expires)
	}
}
