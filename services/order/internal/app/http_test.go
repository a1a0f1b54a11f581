package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/order"
)

// The catalog of the HTTP tests.
var (
	pAlpha    = "0190f5a8-0000-7000-8000-00000000000a"
	pBeta     = "0190f5a8-0000-7000-8000-00000000000b"
	pDollar   = "0190f5a8-0000-7000-8000-00000000000c"
	pOther    = "0190f5a8-0000-7000-8000-00000000000d" // another seller's
	pArchived = "0190f5a8-0000-7000-8000-00000000000e"
	pDraft    = "0190f5a8-0000-7000-8000-00000000000f"
	pUnpriced = "0190f5a8-0000-7000-8000-000000000010"
	pUnknown  = "0190f5a8-0000-7000-8000-000000000011"
)

// catalog publishes the test catalog on catalog.events and waits until the
// replica has it.
func (e *env) catalog() {
	e.t.Helper()
	e.product(pAlpha, "ALPHA", "Alpha", 1999, "EUR", sellerID, 1)
	e.product(pBeta, "BETA", "Beta", 500, "EUR", sellerID, 1)
	e.product(pDollar, "DOLLAR", "Dollar", 700, "USD", sellerID, 1)
	e.product(pOther, "OTHER", "Other", 300, "EUR", seller2ID, 1)
	e.product(pArchived, "ARCH", "Archived", 100, "EUR", sellerID, 1)
	e.produce(pArchived, &eventsv1.ProductArchived{ProductId: pArchived, Version: 2})
	e.produce(pDraft, &eventsv1.ProductUpserted{ProductId: pDraft, Sku: "DRAFT", Name: "Draft", SellerId: sellerID,
		Status: "DRAFT", Version: 1, Price: &eventsv1.Money{AmountMinor: 100, Currency: "EUR"}})
	e.produce(pUnpriced, &eventsv1.ProductUpserted{ProductId: pUnpriced, Sku: "FREE", Name: "Unpriced", SellerId: sellerID,
		Status: "ACTIVE", Version: 1})
	eventually(e.t, 20*time.Second, "the replica did not receive the catalog", func() bool {
		var n int
		e.svc.DB.Raw("SELECT count(*) FROM products WHERE version = 2 OR id <> ?", pArchived).Scan(&n)
		return n == 7
	})
}

// pay drives an order to PAID through inventory's and payment's events.
func (e *env) pay(id string) {
	e.t.Helper()
	e.produce(id, &eventsv1.InventoryReserved{OrderId: id, ReservationId: uuid.NewString()})
	e.waitStatus(id, "PAYMENT_PENDING")
	e.produce(id, &eventsv1.PaymentSucceeded{OrderId: id, PaymentId: uuid.NewString(),
		Amount: &eventsv1.Money{AmountMinor: 1, Currency: "EUR"}})
	e.waitStatus(id, "PAID")
}

// TestOrdersCreate is POST /orders: the answers by status, and the
// Idempotency-Key held across retries, races and a crash.
func TestOrdersCreate(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()

	t.Run("create201", func(t *testing.T) {
		key := uuid.NewString()
		r := e.do("POST", "/api/v1/orders", customerID, map[string]any{"lines": []any{line(pAlpha, 2), line(pBeta, 3)}},
			"Idempotency-Key", key)
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var o orderJSON
		r.json(t, &o)
		if r.header.Get("Location") != "/api/v1/orders/"+o.ID {
			t.Errorf("Location %q", r.header.Get("Location"))
		}
		if o.Status != "CREATED" || o.UserID != customerID || o.Total.AmountMinor != 2*1999+3*500 ||
			o.Total.Currency != "EUR" || o.ItemCount != 2 || o.SellerID != sellerID {
			t.Errorf("order %+v", o)
		}
		if len(o.Items) != 2 || o.Items[0].Name != "Alpha" || o.Items[0].SKU != "ALPHA" || o.Items[0].UnitPrice.AmountMinor != 1999 ||
			o.Items[1].Name != "Beta" || o.Items[1].Quantity != 3 {
			t.Errorf("items %+v", o.Items)
		}
		// ORDER_CREATED carries the lines priced from the replica, the
		// total and the user, keyed and correlated by the order ID.
		ev := e.published.wait(t, o.ID, eventsv1.TypeOrderCreated, 1)[0]
		msg, err := event.DecodeAs[*eventsv1.OrderCreated](ev)
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetOrderId() != o.ID || msg.GetUserId() != customerID || msg.GetTotal().GetAmountMinor() != 2*1999+3*500 ||
			msg.GetTotal().GetCurrency() != "EUR" || len(msg.GetLines()) != 2 ||
			msg.GetLines()[0].GetProductId() != pAlpha || msg.GetLines()[0].GetQuantity() != 2 ||
			msg.GetLines()[0].GetUnitPrice().GetAmountMinor() != 1999 || msg.GetLines()[1].GetUnitPrice().GetAmountMinor() != 500 {
			t.Errorf("ORDER_CREATED %v", msg)
		}
		if ev.CorrelationID != o.ID {
			t.Errorf("correlation %q", ev.CorrelationID)
		}
		tl := e.timeline(o.ID)
		if len(tl) != 1 || tl[0].Kind != "TRANSITION" || tl[0].To != "CREATED" || tl[0].From != "" ||
			tl[0].Actor == nil || tl[0].Actor.ID != customerID || tl[0].Emitted == nil || tl[0].Emitted.ID != ev.ID.String() {
			t.Errorf("timeline %+v", tl)
		}
		if n := e.metric("orders_created_total", nil); n < 1 {
			t.Errorf("orders_created_total %v", n)
		}
	})

	t.Run("create201ReplaysTheSameKey", func(t *testing.T) {
		key := uuid.NewString()
		body := map[string]any{"lines": []any{line(pAlpha, 1)}}
		first := e.do("POST", "/api/v1/orders", customerID, body, "Idempotency-Key", key)
		again := e.do("POST", "/api/v1/orders", customerID, body, "Idempotency-Key", key)
		if first.status != 201 || again.status != 201 || string(first.body) != string(again.body) ||
			again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("first %d %s\nagain %d %s %v", first.status, first.body, again.status, again.body, again.header)
		}
		var n int
		e.svc.DB.Raw("SELECT count(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", customerID, key).Scan(&n)
		if n != 1 {
			t.Fatalf("%d orders for one key", n)
		}
		// The same key is the other customer's own: no clash.
		if r := e.do("POST", "/api/v1/orders", otherID, body, "Idempotency-Key", key); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("other user, same key: %d %s", r.status, r.body)
		}
	})

	t.Run("create201ConcurrentSameKeyPlacesOnce", func(t *testing.T) {
		// The key's record is written with the order: concurrent retries
		// place one order, and all answer with its 201.
		key := uuid.NewString()
		body := map[string]any{"lines": []any{line(pAlpha, 2)}}
		const n = 8
		answers := make([]response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { answers[i] = e.do("POST", "/api/v1/orders", customerID, body, "Idempotency-Key", key) })
		}
		wg.Wait()
		firsts := 0
		for _, r := range answers {
			if r.status != 201 || string(r.body) != string(answers[0].body) {
				t.Fatalf("%d %s; want 201 %s", r.status, r.body, answers[0].body)
			}
			if r.header.Get("Idempotent-Replayed") == "" {
				firsts++
			}
		}
		var orders, records int
		e.svc.DB.Raw("SELECT count(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", customerID, key).Scan(&orders)
		e.svc.DB.Raw("SELECT count(*) FROM idempotency_keys WHERE scope = ? AND key = ? AND state = 'completed' AND response_status = 201",
			"user:"+customerID, key).Scan(&records)
		if firsts != 1 || orders != 1 || records != 1 {
			t.Fatalf("%d first answers, %d orders, %d completed records; want 1 each", firsts, orders, records)
		}
	})

	t.Run("create201AfterACrashFindsTheCommittedOrder", func(t *testing.T) {
		// The first attempt committed its order, then the process died before
		// the key's record was completed; the record is gone (expired, or
		// taken over). The retry must find that order, not place a second.
		key := uuid.NewString()
		first, created, err := e.orders.Place(context.Background(), order.Actor{ID: customerID, Role: order.RoleCustomer},
			order.PlaceInput{IdempotencyKey: key, Lines: []order.LineInput{{ProductID: pBeta, Quantity: 4}}})
		if err != nil || !created {
			t.Fatalf("place: %v %v", created, err)
		}
		r := e.do("POST", "/api/v1/orders", customerID, map[string]any{"lines": []any{line(pBeta, 4)}}, "Idempotency-Key", key)
		var o orderJSON
		r.json(t, &o)
		if r.status != 201 || o.ID != first.ID || r.header.Get("Location") != "/api/v1/orders/"+first.ID {
			t.Fatalf("%d %s, want order %s", r.status, r.body, first.ID)
		}
		var n int
		e.svc.DB.Raw("SELECT count(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", customerID, key).Scan(&n)
		if n != 1 || len(e.published.wait(t, first.ID, eventsv1.TypeOrderCreated, 1)) != 1 {
			t.Fatalf("%d orders for one key", n)
		}
	})

	t.Run("create422OtherBodySameKey", func(t *testing.T) {
		key := uuid.NewString()
		if r := e.do("POST", "/api/v1/orders", customerID, map[string]any{"lines": []any{line(pAlpha, 1)}}, "Idempotency-Key", key); r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := e.do("POST", "/api/v1/orders", customerID, map[string]any{"lines": []any{line(pAlpha, 2)}}, "Idempotency-Key", key)
		if r.status != 422 || r.problemType() != "idempotency-key-reused" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	t.Run("create400RecordsNothing", func(t *testing.T) {
		// A refused request places and records nothing: the same key with
		// corrected lines places the order.
		key := uuid.NewString()
		if r := e.do("POST", "/api/v1/orders", customerID, map[string]any{"lines": []any{line(uuid.NewString(), 1)}}, "Idempotency-Key", key); r.status != 400 {
			t.Fatalf("unknown product: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/orders", customerID, map[string]any{"lines": []any{line(pAlpha, 1)}}, "Idempotency-Key", key); r.status != 201 ||
			r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("corrected retry: %d %s", r.status, r.body)
		}
	})

	t.Run("create400", func(t *testing.T) {
		many := make([]any, 101)
		for i := range many {
			many[i] = line(uuid.NewString(), 1)
		}
		cases := map[string]struct {
			body  any
			key   bool
			slug  string
			field string
		}{
			"missing key":         {map[string]any{"lines": []any{line(pAlpha, 1)}}, false, "idempotency-key-missing", ""},
			"malformed":           {`{"lines":`, true, "malformed-json", ""},
			"client sends price":  {map[string]any{"lines": []any{map[string]any{"product_id": pAlpha, "quantity": 1, "unit_price": 1}}}, true, "validation", "lines[0].unit_price"},
			"client sends name":   {map[string]any{"lines": []any{map[string]any{"product_id": pAlpha, "quantity": 1, "name": "x"}}}, true, "validation", "lines[0].name"},
			"client sends total":  {map[string]any{"lines": []any{line(pAlpha, 1)}, "total": 1}, true, "validation", "total"},
			"no lines":            {map[string]any{"lines": []any{}}, true, "validation", "lines"},
			"101 lines":           {map[string]any{"lines": many}, true, "validation", "lines"},
			"quantity 0":          {map[string]any{"lines": []any{line(pAlpha, 0)}}, true, "validation", "lines[0].quantity"},
			"quantity 1001":       {map[string]any{"lines": []any{line(pAlpha, 1001)}}, true, "validation", "lines[0].quantity"},
			"not a uuid":          {map[string]any{"lines": []any{line("p-1", 1)}}, true, "validation", "lines[0].product_id"},
			"duplicate product":   {map[string]any{"lines": []any{line(pAlpha, 1), line(pAlpha, 2)}}, true, "validation", "lines[1].product_id"},
			"unknown product":     {map[string]any{"lines": []any{line(pAlpha, 1), line(pUnknown, 1)}}, true, "validation", "lines[1].product_id"},
			"archived product":    {map[string]any{"lines": []any{line(pArchived, 1)}}, true, "validation", "lines[0].product_id"},
			"draft product":       {map[string]any{"lines": []any{line(pDraft, 1)}}, true, "validation", "lines[0].product_id"},
			"unpriced product":    {map[string]any{"lines": []any{line(pUnpriced, 1)}}, true, "validation", "lines[0].product_id"},
			"two currencies":      {map[string]any{"lines": []any{line(pAlpha, 1), line(pDollar, 1)}}, true, "validation", "lines[1].product_id"},
			"quantity is a float": {map[string]any{"lines": []any{map[string]any{"product_id": pAlpha, "quantity": 1.5}}}, true, "validation", "lines[0].quantity"},
		}
		for name, tc := range cases {
			headers := []string{}
			if tc.key {
				headers = append(headers, "Idempotency-Key", uuid.NewString())
			}
			r := e.do("POST", "/api/v1/orders", customerID, tc.body, headers...)
			if r.status != 400 || r.problemType() != tc.slug {
				t.Errorf("%s: %d %s", name, r.status, r.body)
				continue
			}
			if tc.field != "" {
				var p struct{ Errors []struct{ Field string } }
				r.json(t, &p)
				if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
					t.Errorf("%s: errors %s, want field %s", name, r.body, tc.field)
				}
			}
		}
	})

	t.Run("create401And403", func(t *testing.T) {
		body := map[string]any{"lines": []any{line(pAlpha, 1)}}
		if r := e.do("POST", "/api/v1/orders", "", body, "Idempotency-Key", "k"); r.status != 401 {
			t.Errorf("anonymous: %d", r.status)
		}
		for _, u := range []string{sellerID, adminID} {
			if r := e.do("POST", "/api/v1/orders", u, body, "Idempotency-Key", "k"); r.status != 403 {
				t.Errorf("%s: %d", u, r.status)
			}
		}
	})
}

// TestOrdersRead is GET of one order and the lists: who sees what, paging
// and filters.
func TestOrdersRead(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()

	// One order of the seller's products, one mixed (two sellers).
	own := e.place(customerID, line(pAlpha, 1))
	mixed := e.place(customerID, line(pAlpha, 1), line(pOther, 1))

	t.Run("get200ForOwnerAdminAndSellerOfEveryLine", func(t *testing.T) {
		for _, u := range []string{customerID, adminID, sellerID} {
			r := e.do("GET", "/api/v1/orders/"+own.ID, u, nil)
			var o orderJSON
			r.json(t, &o)
			if r.status != 200 || o.ID != own.ID || len(o.Items) != 1 {
				t.Errorf("%s: %d %s", u, r.status, r.body)
			}
		}
		if r := e.do("GET", "/api/v1/orders/"+mixed.ID, customerID, nil); r.status != 200 {
			t.Errorf("owner of mixed: %d", r.status)
		}
	})

	t.Run("get404ForOthers", func(t *testing.T) {
		cases := []struct{ user, id string }{
			{otherID, own.ID},           // another customer
			{seller2ID, own.ID},         // a seller of none of the lines
			{sellerID, mixed.ID},        // a seller of some lines only
			{seller2ID, mixed.ID},       // likewise
			{adminID, uuid.NewString()}, // no such order
			{adminID, "not-a-uuid"},
		}
		for _, tc := range cases {
			r := e.do("GET", "/api/v1/orders/"+tc.id, tc.user, nil)
			if r.status != 404 || r.problemType() != "order-not-found" {
				t.Errorf("%s on %s: %d %s", tc.user, tc.id, r.status, r.body)
			}
			if r := e.do("GET", "/api/v1/orders/"+tc.id+"/timeline", tc.user, nil); r.status != 404 {
				t.Errorf("timeline, %s on %s: %d", tc.user, tc.id, r.status)
			}
		}
	})

	t.Run("get401Anonymous", func(t *testing.T) {
		for _, p := range []string{"/api/v1/orders/" + own.ID, "/api/v1/orders/" + own.ID + "/timeline", "/api/v1/orders",
			"/api/v1/orders/stats", "/api/v1/orders/user/" + customerID} {
			if r := e.do("GET", p, "", nil); r.status != 401 {
				t.Errorf("%s: %d", p, r.status)
			}
		}
		for _, a := range []string{"cancel", "ship", "deliver"} {
			if r := e.do("POST", "/api/v1/orders/"+own.ID+"/"+a, "", nil); r.status != 401 {
				t.Errorf("%s: %d", a, r.status)
			}
		}
	})

	t.Run("listForUser200PagesNewestFirst", func(t *testing.T) {
		user := uuid.Must(uuid.NewV7()).String()
		e.tokens[user] = e.stack.Issuer.Token(t, user, "CUSTOMER")
		var ids []string
		for range 5 {
			ids = append(ids, e.place(user, line(pBeta, 1)).ID)
		}
		for _, viewer := range []string{user, adminID} {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				q := url.Values{"limit": {"2"}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				r := e.do("GET", "/api/v1/orders/user/"+user+"?"+q.Encode(), viewer, nil)
				var p struct {
					Orders     []orderJSON
					NextCursor string `json:"next_cursor"`
				}
				r.json(t, &p)
				if r.status != 200 || len(p.Orders) > 2 || pages > 3 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				for _, o := range p.Orders {
					got = append(got, o.ID)
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s sees %v, want %v", viewer, got, want)
			}
		}
		r := e.do("GET", "/api/v1/orders/user/"+user+"?status=CANCELLED", user, nil)
		if r.status != 200 || strings.Contains(string(r.body), ids[0]) {
			t.Errorf("status filter: %d %s", r.status, r.body)
		}
	})

	t.Run("listForUser403And400", func(t *testing.T) {
		for _, u := range []string{otherID, sellerID} {
			if r := e.do("GET", "/api/v1/orders/user/"+customerID, u, nil); r.status != 403 {
				t.Errorf("%s: %d", u, r.status)
			}
		}
		for _, q := range []string{"limit=0", "limit=101", "cursor=garbage", "status=LOST"} {
			if r := e.do("GET", "/api/v1/orders/user/"+customerID+"?"+q, customerID, nil); r.status != 400 {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
		}
	})

	t.Run("list200ForStaff", func(t *testing.T) {
		list := func(user, query string) []string {
			t.Helper()
			r := e.do("GET", "/api/v1/orders?limit=100&"+query, user, nil)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", query, r.status, r.body)
			}
			var p struct{ Orders []orderJSON }
			r.json(t, &p)
			var ids []string
			for _, o := range p.Orders {
				ids = append(ids, o.ID)
			}
			return ids
		}
		has := func(ids []string, id string) bool { return strings.Contains(strings.Join(ids, ","), id) }
		if all := list(adminID, ""); !has(all, own.ID) || !has(all, mixed.ID) {
			t.Errorf("admin list misses orders")
		}
		if ids := list(adminID, "user_id="+otherID); has(ids, own.ID) {
			t.Errorf("user filter")
		}
		if ids := list(adminID, "status=CREATED&user_id="+customerID); !has(ids, own.ID) {
			t.Errorf("status filter")
		}
		if ids := list(adminID, "status=PAID&user_id="+customerID); has(ids, own.ID) {
			t.Errorf("status filter lets CREATED through")
		}
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		if ids := list(adminID, "from="+future); len(ids) != 0 {
			t.Errorf("from in the future: %v", ids)
		}
		if ids := list(adminID, "from="+past+"&to="+future); !has(ids, own.ID) {
			t.Errorf("date range")
		}
		// A seller sees the orders whose every line is theirs, and no other.
		sees := list(sellerID, "")
		if !has(sees, own.ID) || has(sees, mixed.ID) {
			t.Errorf("seller sees %v", sees)
		}
		if ids := list(seller2ID, ""); has(ids, own.ID) || has(ids, mixed.ID) {
			t.Errorf("seller2 sees %v", ids)
		}
	})

	t.Run("list403And400", func(t *testing.T) {
		if r := e.do("GET", "/api/v1/orders", customerID, nil); r.status != 403 {
			t.Errorf("customer: %d", r.status)
		}
		for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z", "user_id=x", "status=x",
			"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "stuck=maybe"} {
			if r := e.do("GET", "/api/v1/orders?"+q, adminID, nil); r.status != 400 {
				t.Errorf("%s: %d %s", q, r.status, r.body)
			}
		}
	})
}

// TestOrdersCancelShipDeliverAndStats is what staff and owners change, and
// the figures those changes leave in /orders/stats.
func TestOrdersCancelShipDeliverAndStats(t *testing.T) {
	e := newEnv(t, nil)
	e.catalog()

	// An order with lines of two sellers (TestOrdersRead has the reads).
	mixed := e.place(customerID, line(pAlpha, 1), line(pOther, 1))

	t.Run("cancel200ByOwnerPublishesOrderCancelled", func(t *testing.T) {
		o := e.place(customerID, line(pBeta, 2))
		r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", customerID, map[string]any{"note": "changed my mind"})
		var got orderJSON
		r.json(t, &got)
		if r.status != 200 || got.Status != "CANCELLED" || got.CancelReason != "CUSTOMER_REQUEST" || len(got.Items) != 1 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		ev := e.published.wait(t, o.ID, eventsv1.TypeOrderCancelled, 1)[0]
		msg, _ := event.DecodeAs[*eventsv1.OrderCancelled](ev)
		if msg.GetOrderId() != o.ID || msg.GetUserId() != customerID || msg.GetReason() != "CUSTOMER_REQUEST" ||
			msg.GetPreviousStatus() != "CREATED" || msg.GetPaid() || msg.GetTotal().GetAmountMinor() != 1000 ||
			msg.GetCancelledBy() != customerID {
			t.Errorf("ORDER_CANCELLED %v", msg)
		}
		// Every event an order publishes is on one partition, in order.
		if evs := e.published.of(t, o.ID, ""); len(evs) != 2 || evs[0].Type != eventsv1.TypeOrderCreated {
			t.Errorf("published %v", evs)
		}
		tl := e.timeline(o.ID)
		last := tl[len(tl)-1]
		if last.From != "CREATED" || last.To != "CANCELLED" || last.Reason != "CUSTOMER_REQUEST" ||
			last.Emitted == nil || last.Emitted.ID != ev.ID.String() || last.Actor == nil || last.Actor.ID != customerID {
			t.Errorf("timeline %+v", last)
		}
	})

	t.Run("cancel409WhenAlreadyCancelled", func(t *testing.T) {
		o := e.place(customerID, line(pBeta, 1))
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", customerID, nil); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", adminID, nil)
		if r.status != 409 || r.problemType() != "illegal-transition" || !strings.Contains(string(r.body), "CANCELLED") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if n := len(e.published.wait(t, o.ID, eventsv1.TypeOrderCancelled, 1)); n != 1 {
			t.Fatalf("%d ORDER_CANCELLED", n)
		}
	})

	t.Run("cancel403And404", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", sellerID, nil); r.status != 403 {
			t.Errorf("seller of every line: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", otherID, nil); r.status != 404 {
			t.Errorf("other customer: %d", r.status)
		}
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", customerID, `{"note": 1}`); r.status != 400 {
			t.Errorf("bad body: %d", r.status)
		}
		if e.status(o.ID) != "CREATED" {
			t.Errorf("status changed")
		}
	})

	t.Run("cancel200ByAdminAfterPaymentIsPaid", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		e.pay(o.ID)
		r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", adminID, nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		msg, _ := event.DecodeAs[*eventsv1.OrderCancelled](e.published.wait(t, o.ID, eventsv1.TypeOrderCancelled, 1)[0])
		if msg.GetReason() != "ADMIN" || msg.GetPreviousStatus() != "PAID" || !msg.GetPaid() ||
			msg.GetTotal().GetAmountMinor() != 1999 || msg.GetCancelledBy() != adminID {
			t.Errorf("ORDER_CANCELLED %v", msg)
		}
	})

	t.Run("ship200AndDeliver200", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1), line(pBeta, 1))
		e.pay(o.ID)
		// The seller of every line ships, an admin delivers.
		r := e.do("POST", "/api/v1/orders/"+o.ID+"/ship", sellerID, nil)
		if r.status != 200 || e.status(o.ID) != "SHIPPED" {
			t.Fatalf("ship: %d %s", r.status, r.body)
		}
		r = e.do("POST", "/api/v1/orders/"+o.ID+"/deliver", adminID, nil)
		if r.status != 200 || e.status(o.ID) != "DELIVERED" {
			t.Fatalf("deliver: %d %s", r.status, r.body)
		}
		shipped, _ := event.DecodeAs[*eventsv1.OrderShipped](e.published.wait(t, o.ID, eventsv1.TypeOrderShipped, 1)[0])
		delivered, _ := event.DecodeAs[*eventsv1.OrderDelivered](e.published.wait(t, o.ID, eventsv1.TypeOrderDelivered, 1)[0])
		if shipped.GetOrderId() != o.ID || shipped.GetAt() == nil || delivered.GetOrderId() != o.ID || delivered.GetAt() == nil {
			t.Errorf("%v %v", shipped, delivered)
		}
		// Nothing after DELIVERED; the owner cannot cancel once shipped.
		for _, a := range []string{"cancel", "ship", "deliver"} {
			if r := e.do("POST", "/api/v1/orders/"+o.ID+"/"+a, adminID, nil); r.status != 409 {
				t.Errorf("%s after delivery: %d", a, r.status)
			}
		}
		var steps []string
		for _, en := range e.timeline(o.ID) {
			if en.Kind == "TRANSITION" {
				steps = append(steps, en.To)
			}
		}
		if strings.Join(steps, ">") != "CREATED>PAYMENT_PENDING>PAID>SHIPPED>DELIVERED" {
			t.Errorf("steps %v", steps)
		}
	})

	t.Run("ship409And403And404", func(t *testing.T) {
		o := e.place(customerID, line(pAlpha, 1))
		r := e.do("POST", "/api/v1/orders/"+o.ID+"/ship", adminID, nil)
		if r.status != 409 || !strings.Contains(string(r.body), "cannot ship an order that is CREATED (allowed only when PAID)") {
			t.Errorf("ship CREATED: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/deliver", sellerID, nil); r.status != 409 {
			t.Errorf("deliver CREATED: %d", r.status)
		}
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/ship", customerID, nil); r.status != 403 {
			t.Errorf("owner ships: %d", r.status)
		}
		if r := e.do("POST", "/api/v1/orders/"+mixed.ID+"/ship", sellerID, nil); r.status != 404 {
			t.Errorf("seller of some lines: %d", r.status)
		}
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/ship", otherID, nil); r.status != 404 {
			t.Errorf("other customer: %d", r.status)
		}
		e.pay(o.ID)
		e.do("POST", "/api/v1/orders/"+o.ID+"/ship", adminID, nil)
		if r := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", customerID, nil); r.status != 409 {
			t.Errorf("owner cancels SHIPPED: %d", r.status)
		}
	})

	t.Run("stats200", func(t *testing.T) {
		r := e.do("GET", "/api/v1/orders/stats", adminID, nil)
		var s struct {
			Counts  map[string]int64
			Total   int64
			Revenue []struct {
				Currency    string
				AmountMinor int64 `json:"amount_minor"`
				Orders      int64
			}
			Stuck map[string]int64
		}
		r.json(t, &s)
		if r.status != 200 || len(s.Counts) != 6 || len(s.Stuck) != 2 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var want struct {
			Total   int64
			Revenue int64
			Paid    int64
		}
		e.svc.DB.Raw(`SELECT count(*) AS total,
			coalesce(sum(total_minor) FILTER (WHERE status IN ('PAID','SHIPPED','DELIVERED')), 0) AS revenue,
			count(*) FILTER (WHERE status IN ('PAID','SHIPPED','DELIVERED')) AS paid FROM orders`).Scan(&want)
		if s.Total != want.Total || len(s.Revenue) != 1 || s.Revenue[0].Currency != "EUR" ||
			s.Revenue[0].AmountMinor != want.Revenue || s.Revenue[0].Orders != want.Paid || want.Paid == 0 {
			t.Errorf("stats %+v, want %+v", s, want)
		}
		if s.Counts["DELIVERED"] != 1 || s.Counts["CANCELLED"] < 3 {
			t.Errorf("counts %v", s.Counts)
		}
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		r = e.do("GET", "/api/v1/orders/stats?from="+future, adminID, nil)
		r.json(t, &s)
		if r.status != 200 || s.Total != 0 || len(s.Revenue) != 0 {
			t.Errorf("future: %s", r.body)
		}
	})

	t.Run("stats403And400", func(t *testing.T) {
		for _, u := range []string{sellerID, customerID} {
			if r := e.do("GET", "/api/v1/orders/stats", u, nil); r.status != 403 {
				t.Errorf("%s: %d", u, r.status)
			}
		}
		if r := e.do("GET", "/api/v1/orders/stats?to=soon", adminID, nil); r.status != 400 {
			t.Errorf("bad to: %d", r.status)
		}
	})
}
