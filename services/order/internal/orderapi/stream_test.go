package orderapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/proto-events/eventsv1"
	"github.com/shop-oss/shop/services/order/internal/ordertest"
)

// progressJSON is GET /orders/{id}/progress and a stream event's data.
type progressJSON struct {
	Version              int                   `json:"version"`
	Order                ordertest.OrderJSON   `json:"order"`
	ReservationExpiresAt *time.Time            `json:"reservation_expires_at"`
	Timeline             []ordertest.EntryJSON `json:"timeline"`
}

// sse is one server-sent event, or a comment line (comment set).
type sse struct {
	id, event, data, comment string
}

// stream is an open GET /orders/{id}/events, read in the background.
type stream struct {
	res    *http.Response
	events chan sse // closed when the server ends the stream
	cancel context.CancelFunc
}

// openStream opens the order's stream as user; lastID, when not empty, is
// sent as Last-Event-ID. The stream is read outside the spec-checked
// client (it answers only when the stream ends).
func (e *env) openStream(t *testing.T, id, user, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", e.Base+"/api/v1/orders/"+id+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.Tokens[user])
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{res: res, events: make(chan sse, 64), cancel: cancel}
	t.Cleanup(s.close)
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur != (sse{}) {
					s.events <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				s.events <- sse{comment: strings.TrimSpace(line[1:])}
			default:
				name, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch name {
				case "id":
					cur.id = value
				case "event":
					cur.event = value
				case "data":
					cur.data += value
				}
			}
		}
	}()
	return s
}

func (s *stream) close() {
	s.cancel()
	s.res.Body.Close()
}

// next is the stream's next event or comment; ok is false once the server
// has ended the stream. It fails the test after 20 s without one.
func (s *stream) next(t *testing.T) (ev sse, ok bool) {
	t.Helper()
	select {
	case ev, ok = <-s.events:
		return ev, ok
	case <-time.After(20 * time.Second):
		t.Fatal("nothing on the stream for 20 s")
		return sse{}, false
	}
}

// nextEvent skips comments and the retry field to the next event.
func (s *stream) nextEvent(t *testing.T) (sse, bool) {
	t.Helper()
	for {
		ev, ok := s.next(t)
		if !ok || ev.event != "" {
			return ev, ok
		}
	}
}

// progress reads the next event, which must be a progress event.
func (s *stream) progress(t *testing.T) progressJSON {
	t.Helper()
	ev, ok := s.nextEvent(t)
	if !ok || ev.event != "progress" {
		t.Fatalf("want a progress event, got %+v (open %v)", ev, ok)
	}
	var p progressJSON
	if err := json.Unmarshal([]byte(ev.data), &p); err != nil {
		t.Fatalf("progress data %q: %v", ev.data, err)
	}
	if ev.id == "" || ev.id != itoa(p.Version) {
		t.Fatalf("event id %q, version %d", ev.id, p.Version)
	}
	return p
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestOrderProgressStream: the stream pushes each change as it commits.
// Heartbeat, recheck and lifetime are an hour, so nothing but the commit's
// wake-up can bring a change to the stream.
func TestOrderProgressStream(t *testing.T) {
	e := newEnv(t, map[string]string{
		"SHOP_ORDER_STREAM_HEARTBEAT": "1h", "SHOP_ORDER_STREAM_RECHECK": "1h", "SHOP_ORDER_STREAM_LIFETIME": "1h",
		"SHOP_ORDER_STREAMS_PER_USER": "2",
	})
	e.Catalog()
	expires := time.Now().Add(15 * time.Minute).UTC().Truncate(time.Second)

	t.Run("events200", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		s := e.openStream(t, o.ID, ordertest.CustomerID, "")
		if s.res.StatusCode != http.StatusOK || s.res.Header.Get("Content-Type") != "text/event-stream" ||
			s.res.Header.Get("X-Accel-Buffering") != "no" || s.res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%d %v", s.res.StatusCode, s.res.Header)
		}
		p := s.progress(t)
		if p.Version != 1 || p.Order.ID != o.ID || p.Order.Status != "CREATED" || p.ReservationExpiresAt != nil || len(p.Timeline) != 1 {
			t.Fatalf("first progress %+v", p)
		}
		// A saga event: pushed once its transaction commits.
		e.Produce(o.ID, &eventsv1.InventoryReserved{OrderId: o.ID, ReservationId: uuid.NewString(),
			ExpiresAt: timestamppb.New(expires), Lines: []*eventsv1.ReservedLine{{ProductId: ordertest.Alpha, Quantity: 1}}})
		p = s.progress(t)
		if p.Order.Status != "PAYMENT_PENDING" || p.ReservationExpiresAt == nil || !p.ReservationExpiresAt.Equal(expires) ||
			p.Version != len(p.Timeline) || p.Version < 2 {
			t.Fatalf("after INVENTORY_RESERVED %+v", p)
		}
		e.Produce(o.ID, ordertest.Succeeded(o.ID))
		p = s.progress(t)
		if p.Order.Status != "PAID" || p.ReservationExpiresAt != nil {
			t.Fatalf("after PAYMENT_SUCCESS %+v", p)
		}
		// A request's change: pushed once it has answered.
		if r := e.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", ordertest.CustomerID, nil); r.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		p = s.progress(t)
		if p.Order.Status != "CANCELLED" || p.Order.CancelReason != "CUSTOMER_REQUEST" || p.Timeline[len(p.Timeline)-1].To != "CANCELLED" {
			t.Fatalf("after cancel %+v", p)
		}
		// A final order ends the stream.
		if ev, ok := s.nextEvent(t); !ok || ev.event != "end" {
			t.Fatalf("want end, got %+v %v", ev, ok)
		}
		if ev, ok := s.next(t); ok {
			t.Fatalf("the stream goes on after end: %+v", ev)
		}
		// Through the spec-checked client: a final order's stream answers
		// at once, with its progress and end.
		r := e.Do("GET", "/api/v1/orders/"+o.ID+"/events", ordertest.CustomerID, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "event: progress\n") ||
			!strings.HasSuffix(string(r.Body), "event: end\ndata: {}\n\n") {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
	})

	t.Run("events200resumesAfterLastEventID", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		// The client saw version 1: nothing is sent until the order changes.
		s := e.openStream(t, o.ID, ordertest.CustomerID, "1")
		e.Produce(o.ID, ordertest.Rejected(o.ID))
		p := s.progress(t)
		if p.Version < 2 || p.Order.Status != "CANCELLED" || p.Order.CancelReason != "OUT_OF_STOCK" {
			t.Fatalf("after a resume %+v", p)
		}
		if ev, ok := s.nextEvent(t); !ok || ev.event != "end" {
			t.Fatalf("want end, got %+v %v", ev, ok)
		}
		// A client that is up to date with a final order gets only end.
		r := e.Do("GET", "/api/v1/orders/"+o.ID+"/events", ordertest.CustomerID, nil, "Last-Event-ID", itoa(p.Version))
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), "event: progress") || !strings.Contains(string(r.Body), "event: end") {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
	})

	t.Run("events200staff", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		for _, who := range []string{ordertest.AdminID, ordertest.SellerID} {
			s := e.openStream(t, o.ID, who, "")
			if p := s.progress(t); p.Order.ID != o.ID {
				t.Fatalf("%s: %+v", who, p)
			}
			s.close()
		}
	})

	t.Run("events404otherCustomer", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		for _, c := range []struct{ user, id string }{{ordertest.OtherID, o.ID}, {ordertest.CustomerID, uuid.NewString()}, {ordertest.CustomerID, "not-a-uuid"}} {
			if r := e.Do("GET", "/api/v1/orders/"+c.id+"/events", c.user, nil); r.Status != http.StatusNotFound || r.ProblemType() != "order-not-found" {
				t.Fatalf("%s %s: %d %s", c.user, c.id, r.Status, r.Body)
			}
		}
	})

	t.Run("events401", func(t *testing.T) {
		if r := e.Do("GET", "/api/v1/orders/"+uuid.NewString()+"/events", "", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("events429perUser", func(t *testing.T) {
		o := e.Place(ordertest.OtherID, ordertest.Line(ordertest.Alpha, 1))
		a, b := e.openStream(t, o.ID, ordertest.OtherID, ""), e.openStream(t, o.ID, ordertest.OtherID, "")
		a.progress(t)
		b.progress(t)
		r := e.Do("GET", "/api/v1/orders/"+o.ID+"/events", ordertest.OtherID, nil)
		if r.Status != http.StatusTooManyRequests || r.ProblemType() != "too-many-streams" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("third stream: %d %v %s", r.Status, r.Header, r.Body)
		}
		// Another user is not counted against this one.
		c := e.openStream(t, o.ID, ordertest.AdminID, "")
		c.progress(t)
		// A closed stream gives its place back.
		a.close()
		testkit.Eventually(t, 10*time.Second, "the closed stream's place was not given back", func() bool {
			s := e.openStream(t, o.ID, ordertest.OtherID, "")
			defer s.close()
			return s.res.StatusCode == http.StatusOK
		})
	})

	t.Run("progress200", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		e.Feed(o.ID, &eventsv1.InventoryReserved{OrderId: o.ID, ReservationId: uuid.NewString(),
			ExpiresAt: timestamppb.New(expires), Lines: []*eventsv1.ReservedLine{{ProductId: ordertest.Alpha, Quantity: 1}}})
		r := e.Do("GET", "/api/v1/orders/"+o.ID+"/progress", ordertest.CustomerID, nil)
		var p progressJSON
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.Order.Status != "PAYMENT_PENDING" || p.ReservationExpiresAt == nil ||
			!p.ReservationExpiresAt.Equal(expires) || p.Version != len(p.Timeline) || len(p.Order.Items) != 1 {
			t.Fatalf("%d %+v", r.Status, p)
		}
	})

	t.Run("progress404", func(t *testing.T) {
		o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
		if r := e.Do("GET", "/api/v1/orders/"+o.ID+"/progress", ordertest.OtherID, nil); r.Status != http.StatusNotFound {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})

	t.Run("progress401", func(t *testing.T) {
		if r := e.Do("GET", "/api/v1/orders/"+uuid.NewString()+"/progress", "", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

// TestOrderStreamHeartbeatAndLifetime: an idle stream sends comments, and
// ends by itself after its lifetime; the client resumes where it was.
func TestOrderStreamHeartbeatAndLifetime(t *testing.T) {
	e := newEnv(t, map[string]string{
		"SHOP_ORDER_STREAM_HEARTBEAT": "100ms", "SHOP_ORDER_STREAM_RECHECK": "1h", "SHOP_ORDER_STREAM_LIFETIME": "1s",
	})
	e.Catalog()
	o := e.Place(ordertest.CustomerID, ordertest.Line(ordertest.Alpha, 1))
	s := e.openStream(t, o.ID, ordertest.CustomerID, "")
	p := s.progress(t)
	keepAlives := 0
	for {
		ev, ok := s.next(t)
		if !ok {
			break // the lifetime is over
		}
		if ev.event != "" {
			t.Fatalf("an event on an idle stream: %+v", ev)
		}
		if ev.comment == "keep-alive" {
			keepAlives++
		}
	}
	if keepAlives == 0 {
		t.Fatal("no keep-alive comment on an idle stream")
	}
	// Resumed: nothing new is sent again, a change is.
	s = e.openStream(t, o.ID, ordertest.CustomerID, itoa(p.Version))
	e.Produce(o.ID, ordertest.Rejected(o.ID))
	if p2 := s.progress(t); p2.Version <= p.Version || p2.Order.Status != "CANCELLED" {
		t.Fatalf("after resume: %+v", p2)
	}
}
