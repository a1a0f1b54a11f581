package orderapi_test

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
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// TestOrdersCreate is POST /orders: the answers by status, and the
// Idempotency-Key held across retries, races and a crash.
func TestOrdersCreate(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()

	t.Run("create201", func(t *testing.T) {
		key := uuid.NewString()
		r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 2), ordertest.Line(ordertest.Beta, 3)}},
			"Idempotency-Key", key)
		if r.Status != http.StatusCreated {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var o ordertest.OrderJSON
		r.JSON(t, &o)
		if r.Header.Get("Location") != "/api/v1/orders/"+o.ID {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		if o.Status != "CREATED" || o.UserID != ordertest.CustomerID || o.Total.AmountMinor != 2*1999+3*500 ||
			o.Total.Currency != "EUR" || o.ItemCount != 2 || o.SellerID != ordertest.SellerID {
			t.Errorf("order %+v", o)
		}
		if len(o.Items) != 2 || o.Items[0].Name != "Alpha" || o.Items[0].SKU != "ALPHA" || o.Items[0].UnitPrice.AmountMinor != 1999 ||
			o.Items[1].Name != "Beta" || o.Items[1].Quantity != 3 {
			t.Errorf("items %+v", o.Items)
		}
		// ORDER_CREATED carries the lines priced from the replica, the
		// total and the user, keyed and correlated by the order ID.
		ev := e.Published.Wait(t, o.ID, eventsv1.TypeOrderCreated, 1)[0]
		msg, err := event.DecodeAs[*eventsv1.OrderCreated](ev)
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetOrderId() != o.ID || msg.GetUserId() != ordertest.CustomerID || msg.GetTotal().GetAmountMinor() != 2*1999+3*500 ||
			msg.GetTotal().GetCurrency() != "EUR" || len(msg.GetLines()) != 2 ||
			msg.GetLines()[0].GetProductId() != ordertest.Alpha || msg.GetLines()[0].GetQuantity() != 2 ||
			msg.GetLines()[0].GetUnitPrice().GetAmountMinor() != 1999 || msg.GetLines()[1].GetUnitPrice().GetAmountMinor() != 500 {
			t.Errorf("ORDER_CREATED %v", msg)
		}
		if ev.CorrelationID != o.ID {
			t.Errorf("correlation %q", ev.CorrelationID)
		}
		tl := e.Timeline(o.ID)
		if len(tl) != 1 || tl[0].Kind != "TRANSITION" || tl[0].To != "CREATED" || tl[0].From != "" ||
			tl[0].Actor == nil || tl[0].Actor.ID != ordertest.CustomerID || tl[0].Emitted == nil || tl[0].Emitted.ID != ev.ID.String() {
			t.Errorf("timeline %+v", tl)
		}
		if n := e.Metric("orders_created_total", nil); n < 1 {
			t.Errorf("orders_created_total %v", n)
		}
	})

	t.Run("create201ReplaysTheSameKey", func(t *testing.T) {
		key := uuid.NewString()
		body := map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}}
		first := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, body, "Idempotency-Key", key)
		again := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, body, "Idempotency-Key", key)
		if first.Status != 201 || again.Status != 201 || string(first.Body) != string(again.Body) ||
			again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Location") != first.Header.Get("Location") {
			t.Fatalf("first %d %s\nagain %d %s %v", first.Status, first.Body, again.Status, again.Body, again.Header)
		}
		var n int
		e.Svc.DB.Raw("SELECT count(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", ordertest.CustomerID, key).Scan(&n)
		if n != 1 {
			t.Fatalf("%d orders for one key", n)
		}
		// The same key is the other customer's own: no clash.
		if r := e.Do("POST", "/api/v1/orders", ordertest.OtherID, body, "Idempotency-Key", key); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("other user, same key: %d %s", r.Status, r.Body)
		}
	})

	t.Run("create201ConcurrentSameKeyPlacesOnce", func(t *testing.T) {
		// The key's record is written with the order: concurrent retries
		// place one order, and all answer with its 201.
		key := uuid.NewString()
		body := map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 2)}}
		const n = 8
		answers := make([]ordertest.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				answers[i] = e.Do("POST", "/api/v1/orders", ordertest.CustomerID, body, "Idempotency-Key", key)
			})
		}
		wg.Wait()
		firsts := 0
		for _, r := range answers {
			if r.Status != 201 || string(r.Body) != string(answers[0].Body) {
				t.Fatalf("%d %s; want 201 %s", r.Status, r.Body, answers[0].Body)
			}
			if r.Header.Get("Idempotent-Replayed") == "" {
				firsts++
			}
		}
		var orders, records int
		e.Svc.DB.Raw("SELECT count(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", ordertest.CustomerID, key).Scan(&orders)
		e.Svc.DB.Raw("SELECT count(*) FROM idempotency_keys WHERE scope = ? AND key = ? AND state = 'completed' AND response_status = 201",
			"user:"+ordertest.CustomerID, key).Scan(&records)
		if firsts != 1 || orders != 1 || records != 1 {
			t.Fatalf("%d first answers, %d orders, %d completed records; want 1 each", firsts, orders, records)
		}
	})

	t.Run("create201AfterACrashFindsTheCommittedOrder", func(t *testing.T) {
		// The first attempt committed its order, then the process died before
		// the key's record was completed; the record is gone (expired, or
		// taken over). The retry must find that order, not place a second.
		key := uuid.NewString()
		first, created, err := e.Orders.Place(context.Background(), order.Actor{ID: ordertest.CustomerID, Role: order.RoleCustomer},
			order.PlaceInput{IdempotencyKey: key, Lines: []order.LineInput{{ProductID: ordertest.Beta, Quantity: 4}}})
		if err != nil || !created {
			t.Fatalf("place: %v %v", created, err)
		}
		r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(ordertest.Beta, 4)}}, "Idempotency-Key", key)
		var o ordertest.OrderJSON
		r.JSON(t, &o)
		if r.Status != 201 || o.ID != first.ID || r.Header.Get("Location") != "/api/v1/orders/"+first.ID {
			t.Fatalf("%d %s, want order %s", r.Status, r.Body, first.ID)
		}
		var n int
		e.Svc.DB.Raw("SELECT count(*) FROM orders WHERE user_id = ? AND idempotency_key = ?", ordertest.CustomerID, key).Scan(&n)
		if n != 1 || len(e.Published.Wait(t, first.ID, eventsv1.TypeOrderCreated, 1)) != 1 {
			t.Fatalf("%d orders for one key", n)
		}
	})

	t.Run("create422OtherBodySameKey", func(t *testing.T) {
		key := uuid.NewString()
		if r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}}, "Idempotency-Key", key); r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 2)}}, "Idempotency-Key", key)
		if r.Status != 422 || r.ProblemType() != "idempotency-key-reused" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("create400RecordsNothing", func(t *testing.T) {
		// A refused request places and records nothing: the same key with
		// corrected lines places the order.
		key := uuid.NewString()
		if r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(uuid.NewString(), 1)}}, "Idempotency-Key", key); r.Status != 400 {
			t.Fatalf("unknown product: %d %s", r.Status, r.Body)
		}
		if r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}}, "Idempotency-Key", key); r.Status != 201 ||
			r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("corrected retry: %d %s", r.Status, r.Body)
		}
	})

	t.Run("create400", func(t *testing.T) {
		many := make([]any, 101)
		for i := range many {
			many[i] = ordertest.Line(uuid.NewString(), 1)
		}
		cases := map[string]struct {
			body  any
			key   bool
			slug  string
			field string
		}{
			"missing key":         {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}}, false, "idempotency-key-missing", ""},
			"malformed":           {`{"lines":`, true, "malformed-json", ""},
			"client sends price":  {map[string]any{"lines": []any{map[string]any{"product_id": ordertest.Alpha, "quantity": 1, "unit_price": 1}}}, true, "validation", "lines[0].unit_price"},
			"client sends name":   {map[string]any{"lines": []any{map[string]any{"product_id": ordertest.Alpha, "quantity": 1, "name": "x"}}}, true, "validation", "lines[0].name"},
			"client sends total":  {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}, "total": 1}, true, "validation", "total"},
			"no lines":            {map[string]any{"lines": []any{}}, true, "validation", "lines"},
			"101 lines":           {map[string]any{"lines": many}, true, "validation", "lines"},
			"quantity 0":          {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 0)}}, true, "validation", "lines[0].quantity"},
			"quantity 1001":       {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1001)}}, true, "validation", "lines[0].quantity"},
			"not a uuid":          {map[string]any{"lines": []any{ordertest.Line("p-1", 1)}}, true, "validation", "lines[0].product_id"},
			"duplicate product":   {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1), ordertest.Line(ordertest.Alpha, 2)}}, true, "validation", "lines[1].product_id"},
			"unknown product":     {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1), ordertest.Line(ordertest.Unknown, 1)}}, true, "validation", "lines[1].product_id"},
			"archived product":    {map[string]any{"lines": []any{ordertest.Line(ordertest.Archived, 1)}}, true, "validation", "lines[0].product_id"},
			"draft product":       {map[string]any{"lines": []any{ordertest.Line(ordertest.Draft, 1)}}, true, "validation", "lines[0].product_id"},
			"unpriced product":    {map[string]any{"lines": []any{ordertest.Line(ordertest.Unpriced, 1)}}, true, "validation", "lines[0].product_id"},
			"two currencies":      {map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1), ordertest.Line(ordertest.Dollar, 1)}}, true, "validation", "lines[1].product_id"},
			"quantity is a float": {map[string]any{"lines": []any{map[string]any{"product_id": ordertest.Alpha, "quantity": 1.5}}}, true, "validation", "lines[0].quantity"},
		}
		for name, tc := range cases {
			headers := []string{}
			if tc.key {
				headers = append(headers, "Idempotency-Key", uuid.NewString())
			}
			r := e.Do("POST", "/api/v1/orders", ordertest.CustomerID, tc.body, headers...)
			if r.Status != 400 || r.ProblemType() != tc.slug {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
				continue
			}
			if tc.field != "" {
				var p struct{ Errors []struct{ Field string } }
				r.JSON(t, &p)
				if len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
					t.Errorf("%s: errors %s, want field %s", name, r.Body, tc.field)
				}
			}
		}
	})

	t.Run("create401And403", func(t *testing.T) {
		body := map[string]any{"lines": []any{ordertest.Line(ordertest.Alpha, 1)}}
		if r := e.Do("POST", "/api/v1/orders", "", body, "Idempotency-Key", "k"); r.Status != 401 {
			t.Errorf("anonymous: %d", r.Status)
		}
		for _, u := range []string{ordertest.SellerID, ordertest.AdminID} {
			if r := e.Do("POST", "/api/v1/orders", u, body, "Idempotency-Key", "k"); r.Status != 403 {
				t.Errorf("%s: %d", u, r.Status)
			}
		}
	})
}

// TestOrdersRead is GET of one order and the lists: who sees what, paging
// and filters.
func TestOrdersRead(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()

	// One order of the seller's products, one mixed (two sellers).
	own := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	mixed := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1), ordertest.Line(ordertest.Other, 1))

	t.Run("get200ForOwnerAdminAndSellerOfEveryLine", func(t *testing.T) {
		for _, u := range []string{ordertest.CustomerID, ordertest.AdminID, ordertest.SellerID} {
			r := e.Do("GET", "/api/v1/orders/"+own.ID, u, nil)
			var o ordertest.OrderJSON
			r.JSON(t, &o)
			if r.Status != 200 || o.ID != own.ID || len(o.Items) != 1 {
				t.Errorf("%s: %d %s", u, r.Status, r.Body)
			}
		}
		if r := e.Do("GET", "/api/v1/orders/"+mixed.ID, ordertest.CustomerID, nil); r.Status != 200 {
			t.Errorf("owner of mixed: %d", r.Status)
		}
	})

	t.Run("get404ForOthers", func(t *testing.T) {
		cases := []struct{ user, id string }{
			{ordertest.OtherID, own.ID},           // another customer
			{ordertest.Seller2ID, own.ID},         // a seller of none of the lines
			{ordertest.SellerID, mixed.ID},        // a seller of some lines only
			{ordertest.Seller2ID, mixed.ID},       // likewise
			{ordertest.AdminID, uuid.NewString()}, // no such order
			{ordertest.AdminID, "not-a-uuid"},
		}
		for _, tc := range cases {
			r := e.Do("GET", "/api/v1/orders/"+tc.id, tc.user, nil)
			if r.Status != 404 || r.ProblemType() != "order-not-found" {
				t.Errorf("%s on %s: %d %s", tc.user, tc.id, r.Status, r.Body)
			}
			if r := e.Do("GET", "/api/v1/orders/"+tc.id+"/timeline", tc.user, nil); r.Status != 404 {
				t.Errorf("timeline, %s on %s: %d", tc.user, tc.id, r.Status)
			}
		}
	})

	t.Run("get401Anonymous", func(t *testing.T) {
		for _, p := range []string{"/api/v1/orders/" + own.ID, "/api/v1/orders/" + own.ID + "/timeline", "/api/v1/orders",
			"/api/v1/orders/stats", "/api/v1/orders/user/" + ordertest.CustomerID} {
			if r := e.Do("GET", p, "", nil); r.Status != 401 {
				t.Errorf("%s: %d", p, r.Status)
			}
		}
		for _, a := range []string{"cancel", "ship", "deliver"} {
			if r := e.Do("POST", "/api/v1/orders/"+own.ID+"/"+a, "", nil); r.Status != 401 {
				t.Errorf("%s: %d", a, r.Status)
			}
		}
	})

	t.Run("listForUser200PagesNewestFirst", func(t *testing.T) {
		user := uuid.Must(uuid.NewV7()).String()
		e.Tokens[user] = e.Stack.Issuer.Token(t, user, "CUSTOMER")
		var ids []string
		for range 5 {
			ids = append(ids, e.Place(user, ordertest.Line(ordertest.Beta, 1)).ID)
		}
		for _, viewer := range []string{user, ordertest.AdminID} {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				q := url.Values{"limit": {"2"}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				r := e.Do("GET", "/api/v1/orders/user/"+user+"?"+q.Encode(), viewer, nil)
				var p struct {
					Orders     []ordertest.OrderJSON
					NextCursor string `json:"next_cursor"`
				}
				r.JSON(t, &p)
				if r.Status != 200 || len(p.Orders) > 2 || pages > 3 {
					t.Fatalf("%d %s", r.Status, r.Body)
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
		r := e.Do("GET", "/api/v1/orders/user/"+user+"?status=CANCELLED", user, nil)
		if r.Status != 200 || strings.Contains(string(r.Body), ids[0]) {
			t.Errorf("status filter: %d %s", r.Status, r.Body)
		}
	})

	t.Run("listForUser403And400", func(t *testing.T) {
		for _, u := range []string{ordertest.OtherID, ordertest.SellerID} {
			if r := e.Do("GET", "/api/v1/orders/user/"+ordertest.CustomerID, u, nil); r.Status != 403 {
				t.Errorf("%s: %d", u, r.Status)
			}
		}
		for _, q := range []string{"limit=0", "limit=101", "cursor=garbage", "status=LOST"} {
			if r := e.Do("GET", "/api/v1/orders/user/"+ordertest.CustomerID+"?"+q, ordertest.CustomerID, nil); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})

	t.Run("list200ForStaff", func(t *testing.T) {
		list := func(user, query string) []string {
			t.Helper()
			r := e.Do("GET", "/api/v1/orders?limit=100&"+query, user, nil)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", query, r.Status, r.Body)
			}
			var p struct{ Orders []ordertest.OrderJSON }
			r.JSON(t, &p)
			var ids []string
			for _, o := range p.Orders {
				ids = append(ids, o.ID)
			}
			return ids
		}
		has := func(ids []string, id string) bool { return strings.Contains(strings.Join(ids, ","), id) }
		if all := list(ordertest.AdminID, ""); !has(all, own.ID) || !has(all, mixed.ID) {
			t.Errorf("admin list misses orders")
		}
		if ids := list(ordertest.AdminID, "user_id="+ordertest.OtherID); has(ids, own.ID) {
			t.Errorf("user filter")
		}
		if ids := list(ordertest.AdminID, "status=CREATED&user_id="+ordertest.CustomerID); !has(ids, own.ID) {
			t.Errorf("status filter")
		}
		if ids := list(ordertest.AdminID, "status=PAID&user_id="+ordertest.CustomerID); has(ids, own.ID) {
			t.Errorf("status filter lets CREATED through")
		}
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		if ids := list(ordertest.AdminID, "from="+future); len(ids) != 0 {
			t.Errorf("from in the future: %v", ids)
		}
		if ids := list(ordertest.AdminID, "from="+past+"&to="+future); !has(ids, own.ID) {
			t.Errorf("date range")
		}
		// A seller sees the orders whose every line is theirs, and no other.
		sees := list(ordertest.SellerID, "")
		if !has(sees, own.ID) || has(sees, mixed.ID) {
			t.Errorf("seller sees %v", sees)
		}
		if ids := list(ordertest.Seller2ID, ""); has(ids, own.ID) || has(ids, mixed.ID) {
			t.Errorf("seller2 sees %v", ids)
		}
	})

	t.Run("list403And400", func(t *testing.T) {
		if r := e.Do("GET", "/api/v1/orders", ordertest.CustomerID, nil); r.Status != 403 {
			t.Errorf("customer: %d", r.Status)
		}
		for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z", "user_id=x", "status=x",
			"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "stuck=maybe"} {
			if r := e.Do("GET", "/api/v1/orders?"+q, ordertest.AdminID, nil); r.Status != 400 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})
}

// TestOrdersCancelShipDeliverAndStats is what staff and owners change, and
// the figures those changes leave in /orders/stats.
func TestOrdersCancelShipDeliverAndStats(t *testing.T) {
	e := newEnv(t, nil)
	e.Catalog()

	// An order with lines of two sellers (TestOrdersRead has the reads).
	mixed := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1), ordertest.Line(ordertest.Other, 1))

	t.Run("cancel200ByOwnerPublishesOrderCancelled", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Beta, 2))
		r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.CustomerID, map[string]any{"note": "changed my mind"})
		var got ordertest.OrderJSON
		r.JSON(t, &got)
		if r.Status != 200 || got.Status != "CANCELLED" || got.CancelReason != "CUSTOMER_REQUEST" || len(got.Items) != 1 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		ev := e.Published.Wait(t, o.ID, eventsv1.TypeOrderCancelled, 1)[0]
		msg, _ := event.DecodeAs[*eventsv1.OrderCancelled](ev)
		if msg.GetOrderId() != o.ID || msg.GetUserId() != ordertest.CustomerID || msg.GetReason() != "CUSTOMER_REQUEST" ||
			msg.GetPreviousStatus() != "CREATED" || msg.GetPaid() || msg.GetTotal().GetAmountMinor() != 1000 ||
			msg.GetCancelledBy() != ordertest.CustomerID {
			t.Errorf("ORDER_CANCELLED %v", msg)
		}
		// Every event an order publishes is on one partition, in order.
		if evs := e.Published.Of(t, o.ID, ""); len(evs) != 2 || evs[0].Type != eventsv1.TypeOrderCreated {
			t.Errorf("published %v", evs)
		}
		tl := e.Timeline(o.ID)
		last := tl[len(tl)-1]
		if last.From != "CREATED" || last.To != "CANCELLED" || last.Reason != "CUSTOMER_REQUEST" ||
			last.Emitted == nil || last.Emitted.ID != ev.ID.String() || last.Actor == nil || last.Actor.ID != ordertest.CustomerID {
			t.Errorf("timeline %+v", last)
		}
	})

	t.Run("cancel409WhenAlreadyCancelled", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Beta, 1))
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.CustomerID, nil); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.AdminID, nil)
		if r.Status != 409 || r.ProblemType() != "illegal-transition" || !strings.Contains(string(r.Body), "CANCELLED") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if n := len(e.Published.Wait(t, o.ID, eventsv1.TypeOrderCancelled, 1)); n != 1 {
			t.Fatalf("%d ORDER_CANCELLED", n)
		}
	})

	t.Run("cancel403And404", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.SellerID, nil); r.Status != 403 {
			t.Errorf("seller of every line: %d %s", r.Status, r.Body)
		}
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.OtherID, nil); r.Status != 404 {
			t.Errorf("other customer: %d", r.Status)
		}
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.CustomerID, `{"note": 1}`); r.Status != 400 {
			t.Errorf("bad body: %d", r.Status)
		}
		if e.Status(o.ID) != "CREATED" {
			t.Errorf("status changed")
		}
	})

	t.Run("cancel200ByAdminAfterPaymentIsPaid", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		e.Pay(o.ID)
		r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.AdminID, nil)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		msg, _ := event.DecodeAs[*eventsv1.OrderCancelled](e.Published.Wait(t, o.ID, eventsv1.TypeOrderCancelled, 1)[0])
		if msg.GetReason() != "ADMIN" || msg.GetPreviousStatus() != "PAID" || !msg.GetPaid() ||
			msg.GetTotal().GetAmountMinor() != 1999 || msg.GetCancelledBy() != ordertest.AdminID {
			t.Errorf("ORDER_CANCELLED %v", msg)
		}
	})

	t.Run("ship200AndDeliver200", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1), ordertest.Line(ordertest.Beta, 1))
		e.Pay(o.ID)
		// The seller of every line ships, an admin delivers.
		r := e.Do("POST", "/api/v1/orders/"+o.ID+"/ship", ordertest.SellerID, nil)
		if r.Status != 200 || e.Status(o.ID) != "SHIPPED" {
			t.Fatalf("ship: %d %s", r.Status, r.Body)
		}
		r = e.Do("POST", "/api/v1/orders/"+o.ID+"/deliver", ordertest.AdminID, nil)
		if r.Status != 200 || e.Status(o.ID) != "DELIVERED" {
			t.Fatalf("deliver: %d %s", r.Status, r.Body)
		}
		shipped, _ := event.DecodeAs[*eventsv1.OrderShipped](e.Published.Wait(t, o.ID, eventsv1.TypeOrderShipped, 1)[0])
		delivered, _ := event.DecodeAs[*eventsv1.OrderDelivered](e.Published.Wait(t, o.ID, eventsv1.TypeOrderDelivered, 1)[0])
		if shipped.GetOrderId() != o.ID || shipped.GetAt() == nil || delivered.GetOrderId() != o.ID || delivered.GetAt() == nil {
			t.Errorf("%v %v", shipped, delivered)
		}
		// Nothing after DELIVERED; the owner cannot cancel once shipped.
		for _, a := range []string{"cancel", "ship", "deliver"} {
			if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/"+a, ordertest.AdminID, nil); r.Status != 409 {
				t.Errorf("%s after delivery: %d", a, r.Status)
			}
		}
		var steps []string
		for _, en := range e.Timeline(o.ID) {
			if en.Kind == "TRANSITION" {
				steps = append(steps, en.To)
			}
		}
		if strings.Join(steps, ">") != "CREATED>PAYMENT_PENDING>PAID>SHIPPED>DELIVERED" {
			t.Errorf("steps %v", steps)
		}
	})

	t.Run("ship409And403And404", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		r := e.Do("POST", "/api/v1/orders/"+o.ID+"/ship", ordertest.AdminID, nil)
		if r.Status != 409 || !strings.Contains(string(r.Body), "cannot ship an order that is CREATED (allowed only when PAID)") {
			t.Errorf("ship CREATED: %d %s", r.Status, r.Body)
		}
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/deliver", ordertest.SellerID, nil); r.Status != 409 {
			t.Errorf("deliver CREATED: %d", r.Status)
		}
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/ship", ordertest.CustomerID, nil); r.Status != 403 {
			t.Errorf("owner ships: %d", r.Status)
		}
		if r := e.Do("POST", "/api/v1/orders/"+mixed.ID+"/ship", ordertest.SellerID, nil); r.Status != 404 {
			t.Errorf("seller of some lines: %d", r.Status)
		}
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/ship", ordertest.OtherID, nil); r.Status != 404 {
			t.Errorf("other customer: %d", r.Status)
		}
		e.Pay(o.ID)
		e.Do("POST", "/api/v1/orders/"+o.ID+"/ship", ordertest.AdminID, nil)
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.CustomerID, nil); r.Status != 409 {
			t.Errorf("owner cancels SHIPPED: %d", r.Status)
		}
	})

	t.Run("stats200", func(t *testing.T) {
		r := e.Do("GET", "/api/v1/orders/stats", ordertest.AdminID, nil)
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
		r.JSON(t, &s)
		if r.Status != 200 || len(s.Counts) != 6 || len(s.Stuck) != 2 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		var want struct {
			Total   int64
			Revenue int64
			Paid    int64
		}
		e.Svc.DB.Raw(`SELECT count(*) AS total,
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
		r = e.Do("GET", "/api/v1/orders/stats?from="+future, ordertest.AdminID, nil)
		r.JSON(t, &s)
		if r.Status != 200 || s.Total != 0 || len(s.Revenue) != 0 {
			t.Errorf("future: %s", r.Body)
		}
	})

	t.Run("stats403And400", func(t *testing.T) {
		for _, u := range []string{ordertest.SellerID, ordertest.CustomerID} {
			if r := e.Do("GET", "/api/v1/orders/stats", u, nil); r.Status != 403 {
				t.Errorf("%s: %d", u, r.Status)
			}
		}
		if r := e.Do("GET", "/api/v1/orders/stats?to=soon", ordertest.AdminID, nil); r.Status != 400 {
			t.Errorf("bad to: %d", r.Status)
		}
	})
}
