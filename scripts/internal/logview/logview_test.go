package logview

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// testdata/saga.jsonl holds the five services' log lines of a real run of
// the end-to-end trace test (scripts/e2e): one order placed and paid by a
// client whose requests share one traceparent, among the lines of other
// work (readiness checks, the seller's product, revocations).
const sagaOrder = "01a25118-d5d9-77f1-a8ee-905e500a5776"

func records(t *testing.T) []Record {
	t.Helper()
	f, err := os.Open("testdata/saga.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rs = append(rs, Parse("file", sc.Text()))
	}
	// The gateway's access line of the order's request, and a line that is
	// not JSON (nginx's error log).
	rs = append(rs,
		Parse("gateway", `{"time":"2026-12-07T15:21:52+00:00","request_id":"gw-1","method":"GET","uri":"/api/v1/orders/x","status":200,"request_time":0.004,"upstream_status":"200"}`),
		Parse("gateway", "2026/12/07 15:21:52 [warn] 12#12: an upstream response is buffered"))
	Sort(rs)
	return rs
}

func TestForOrderFollowsTheOrderThroughTheServices(t *testing.T) {
	path := ForOrder(records(t), sagaOrder)
	var lines []string
	for _, r := range path {
		lines = append(lines, Format(r))
	}
	text := strings.Join(lines, "\n")
	want := []string{ // in this order
		"identity  POST /api/v1/auth/login → 200",
		"catalog   GET /api/v1/products/:id → 200",
		"order     POST /api/v1/orders → 201",
		"inventory handled ORDER_CREATED from order.events",
		"payment   handled INVENTORY_RESERVED from inventory.events",
		"payment   POST /api/v1/payments/confirm → 200",
		"order     handled PAYMENT_SUCCESS from payment.events",
		"order     handled INVENTORY_CONFIRMED from inventory.events",
	}
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Fatalf("the order's path lacks %q after position %d:\n%s", w, at, text)
		}
		at += i + len(w)
	}
	for _, l := range lines {
		if strings.Contains(l, "/readyz") || strings.Contains(l, "USER_DISABLED") || strings.Contains(l, "POST /api/v1/products ") {
			t.Errorf("a line of other work in the order's path: %s", l)
		}
	}
	for i := 1; i < len(path); i++ {
		if path[i].Time.Before(path[i-1].Time) {
			t.Errorf("line %d is earlier than the one before", i)
		}
	}
}

func TestFormatRendersEveryKindOfLine(t *testing.T) {
	var gateway, raw, other bool
	for _, r := range records(t) {
		s := Format(r)
		switch {
		case r.Service == "gateway" && r.Parsed:
			gateway = strings.Contains(s, "GET /api/v1/orders/x → 200")
		case !r.Parsed:
			raw = strings.Contains(s, "[warn]")
		case r.Msg == "service started":
			other = strings.Contains(s, "service started") && strings.Contains(s, "addr=")
		}
	}
	if !gateway || !raw || !other {
		t.Errorf("gateway access line %v, raw line %v, other line with its fields %v", gateway, raw, other)
	}
}
