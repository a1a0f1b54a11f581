package catalogapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// readEvents reads catalog.events from the start until want events with
// key have arrived, then a little longer to catch any extra one.
func (e *env) readEvents(key string, want int) []event.Event {
	e.t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{e.st.Broker.Addr()}, GroupID: "test-" + uuid.NewString(), Topic: eventsv1.TopicCatalog,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	var out []event.Event
	read := func(timeout time.Duration) bool {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return false
		}
		ev, err := event.FromMessage(m)
		if err != nil {
			e.t.Fatalf("malformed event: %v", err)
		}
		if ev.Key == key {
			out = append(out, ev)
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < want {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d of %d events for %s arrived", len(out), want, key)
		}
		read(time.Second)
	}
	for read(time.Second) { // settle
	}
	return out
}

func TestEventsThroughOutbox(t *testing.T) {
	e := newEnv(t)
	var cat category
	e.must(201, e.admin, "POST", "/api/v1/categories", map[string]any{"name": "Lamps", "slug": "lamps"}).decode(t, &cat)
	created := e.must(201, e.seller, "POST", "/api/v1/products", newProductBody("price_minor", 1999, "category_id", cat.ID), "X-Correlation-ID", "corr-create")
	var p product
	created.decode(t, &p)
	path := "/api/v1/products/" + p.ID

	e.must(200, e.seller, "PATCH", path, map[string]any{"name": "Brass lamp"}, ifMatch(1)...)  // v2
	e.must(200, e.seller, "PUT", path+"/price", map[string]any{"price_minor": 2500})           // v3
	e.must(200, e.seller, "PUT", path+"/price", map[string]any{"price_minor": 2500})           // no change
	e.must(412, e.seller, "PATCH", path, map[string]any{"name": "Lost update"}, ifMatch(1)...) // refused
	e.must(400, e.seller, "PATCH", path, map[string]any{"name": ""}, ifMatch(3)...)            // refused
	e.must(403, e.seller2, "PUT", path+"/price", map[string]any{"price_minor": 1})             // refused
	e.must(200, e.admin, "DELETE", path, nil)                                                  // v4
	e.must(200, e.seller, "PATCH", path, map[string]any{"status": "DRAFT"}, ifMatch(4)...)     // v5

	want := []struct {
		typ     string
		version int64
		check   func(m any) string
	}{
		{eventsv1.TypeProductUpserted, 1, func(m any) string {
			u := m.(*eventsv1.ProductUpserted)
			if u.GetSku() != p.SKU || u.GetName() != "Test product" || u.GetPrice().GetAmountMinor() != 1999 || u.GetPrice().GetCurrency() != "EUR" ||
				u.GetSellerId() != e.seller.id.String() || u.GetCategoryId() != cat.ID || u.GetStatus() != "ACTIVE" {
				return fmt.Sprintf("%+v", u)
			}
			return ""
		}},
		{eventsv1.TypeProductUpserted, 2, func(m any) string {
			if u := m.(*eventsv1.ProductUpserted); u.GetName() != "Brass lamp" {
				return fmt.Sprintf("%+v", u)
			}
			return ""
		}},
		{eventsv1.TypeProductUpserted, 3, func(m any) string {
			if u := m.(*eventsv1.ProductUpserted); u.GetPrice().GetAmountMinor() != 2500 {
				return fmt.Sprintf("%+v", u)
			}
			return ""
		}},
		{eventsv1.TypeProductPriceChanged, 3, func(m any) string {
			pc := m.(*eventsv1.ProductPriceChanged)
			if pc.GetOldPrice().GetAmountMinor() != 1999 || pc.GetNewPrice().GetAmountMinor() != 2500 || pc.GetNewPrice().GetCurrency() != "EUR" {
				return fmt.Sprintf("%+v", pc)
			}
			return ""
		}},
		{eventsv1.TypeProductUpserted, 4, func(m any) string {
			if u := m.(*eventsv1.ProductUpserted); u.GetStatus() != "ARCHIVED" {
				return fmt.Sprintf("%+v", u)
			}
			return ""
		}},
		{eventsv1.TypeProductArchived, 4, nil},
		{eventsv1.TypeProductUpserted, 5, func(m any) string {
			if u := m.(*eventsv1.ProductUpserted); u.GetStatus() != "DRAFT" {
				return fmt.Sprintf("%+v", u)
			}
			return ""
		}},
	}
	got := e.readEvents(p.ID, len(want))
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	ids := map[uuid.UUID]bool{}
	for i, w := range want {
		ev := got[i]
		msg, err := ev.Decode()
		if err != nil {
			t.Fatal(err)
		}
		version := msg.(interface{ GetVersion() int64 }).GetVersion()
		if ev.Type != w.typ || version != w.version {
			t.Errorf("event %d: %s v%d, want %s v%d", i, ev.Type, version, w.typ, w.version)
			continue
		}
		if msg.(interface{ GetProductId() string }).GetProductId() != p.ID {
			t.Errorf("event %d: another product", i)
		}
		if w.check != nil {
			if bad := w.check(msg); bad != "" {
				t.Errorf("event %d (%s v%d): %s", i, w.typ, w.version, bad)
			}
		}
		ids[ev.ID] = true
	}
	if len(ids) != len(want) {
		t.Error("event IDs are not unique")
	}
	if got[0].CorrelationID != "corr-create" {
		t.Errorf("correlation ID %q, want the request's", got[0].CorrelationID)
	}

	// Everything went through the outbox, which the relay has emptied.
	db, err := database.Open(context.Background(), e.cfg.DatabaseURL, database.Pool{MaxOpen: 1}, testkit.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer database.Close(db)
	var left int64
	if err := db.Raw(`SELECT count(*) FROM outbox`).Scan(&left).Error; err != nil || left != 0 {
		t.Errorf("outbox rows left: %d (%v)", left, err)
	}
}
