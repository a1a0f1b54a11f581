package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/scripts/internal/logview"
	"github.com/shop-oss/shop/scripts/internal/otlpsink"
)

// One order, placed and paid by a client that sends one W3C trace ID (the
// storefront's checkout trace, flagged "not sampled": the browser records
// nothing, and the services decide for themselves) is one trace across the
// services: every
// service exports its spans over OTLP/HTTP to a receiver in the test, and
// the spans of the order share the client's trace ID across identity,
// catalog, order, inventory and payment, each handling span the descendant
// of the span that emitted its event (through the outbox relay's publish
// span), from POST /orders to PAID. The services' logs of the order name the
// same trace, and `make logs ORDER=<id>` renders its path.
func TestOneOrderIsOneTraceAcrossTheServices(t *testing.T) {
	sink, err := otlpsink.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	extra := map[string]map[string]string{}
	for _, name := range config.ServiceNames {
		extra[name] = map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": sink.URL,
			"OTEL_TRACES_SAMPLER":         "parentbased_always_on",
			"OTEL_BSP_SCHEDULE_DELAY":     "100",
		}
	}
	s := openShop(t, extra)
	p := s.product(t, "Traced teapot", 4200, 10)

	traceID, clientSpan := randomHex(16), randomHex(8)
	tp := []string{"traceparent", "00-" + traceID + "-" + clientSpan + "-00"}
	token := must(t, 200, "POST", s.url("identity")+"/api/v1/auth/login", "",
		map[string]string{"email": "customer@shop.local", "password": "customer-demo-pass"}, tp...)["access_token"].(string)
	must(t, 200, "GET", s.url("catalog")+"/api/v1/products/"+p, "", nil, tp...)
	o := must(t, 201, "POST", s.url("order")+"/api/v1/orders", token,
		map[string]any{"lines": []map[string]any{{"product_id": p, "quantity": 1}}}, append(tp, "Idempotency-Key", randomHex(16))...)["id"].(string)
	s.waitStatus(t, o, "PAYMENT_PENDING")
	pid, _ := s.payment(t, o)
	must(t, 200, "POST", s.url("payment")+"/api/v1/payments/confirm", token,
		map[string]any{"payment_id": pid, "card_number": cardOK}, append(tp, "Idempotency-Key", randomHex(16))...)
	s.waitStatus(t, o, "PAID")

	// The spans, once every service exported them.
	var spans map[string]otlpsink.Span // by span ID, of the client's trace
	find := func(service, name string) (otlpsink.Span, bool) {
		for _, sp := range spans {
			if sp.Service == service && sp.Name == name {
				return sp, true
			}
		}
		return otlpsink.Span{}, false
	}
	eventually(t, "the order's spans to be exported", 30*time.Second, func() bool {
		spans = map[string]otlpsink.Span{}
		for _, sp := range sink.Spans() {
			if sp.TraceID == traceID {
				spans[sp.SpanID] = sp
			}
		}
		_, paid := find("order", "PAYMENT_SUCCESS process")
		_, confirmed := find("inventory", "PAYMENT_SUCCESS process")
		return paid && confirmed
	})

	services := map[string]bool{}
	for _, sp := range spans {
		services[sp.Service] = true
	}
	for _, name := range config.ServiceNames {
		if !services[name] {
			t.Errorf("no span of %s in the order's trace (services: %v)", name, services)
		}
	}

	// ancestors are a span's parents up to the client's span, nearest first.
	ancestors := func(sp otlpsink.Span) []otlpsink.Span {
		var out []otlpsink.Span
		for sp.ParentSpanID != clientSpan {
			parent, ok := spans[sp.ParentSpanID]
			if !ok {
				t.Fatalf("span %s %q: parent %s is not in the trace", sp.Service, sp.Name, sp.ParentSpanID)
			}
			if parent.Start.After(sp.Start) {
				t.Errorf("%s %q starts before its parent %s %q", sp.Service, sp.Name, parent.Service, parent.Name)
			}
			out = append(out, parent)
			sp = parent
		}
		return out
	}
	// The saga's causal chain: each step must descend from the one before.
	chain := []struct{ service, name string }{
		{"order", "POST /api/v1/orders"},
		{"inventory", "ORDER_CREATED process"},
		{"payment", "INVENTORY_RESERVED process"},
	}
	for i, step := range chain {
		sp, ok := find(step.service, step.name)
		if !ok {
			t.Fatalf("no %s span %q in the trace", step.service, step.name)
		}
		up := ancestors(sp)
		if i == 0 {
			if len(up) != 0 {
				t.Errorf("%q is not the child of the client's span", step.name)
			}
			continue
		}
		prev, _ := find(chain[i-1].service, chain[i-1].name)
		if len(up) < 2 || up[1].SpanID != prev.SpanID || up[0].Name != topicOf(chain[i-1].service)+" publish" || up[0].Service != chain[i-1].service {
			t.Errorf("%s %q: parents %v, want %s's publish span then %q", step.service, step.name, spanNames(up), chain[i-1].service, prev.Name)
		}
	}
	paid, _ := find("order", "PAYMENT_SUCCESS process")
	confirm, ok := find("payment", "POST /api/v1/payments/confirm")
	if !ok {
		t.Fatal("no span of the payment's confirmation")
	}
	if up := ancestors(paid); len(up) != 2 || up[1].SpanID != confirm.SpanID {
		t.Errorf("PAID's handling descends from %v, want the confirmation", spanNames(up))
	}

	// The logs of the order name it and its trace in every service it went
	// through, and the log viewer renders its path.
	var all []logview.Record
	for _, name := range config.ServiceNames {
		all = append(all, readLog(t, s.LogPath(name), name)...)
	}
	logview.Sort(all)
	path := logview.ForOrder(all, o)
	seen := map[string]bool{}
	var text strings.Builder
	for _, r := range path {
		if r.Str("order_id") == o && r.Str("trace_id") == traceID && r.Str("span_id") != "" {
			seen[r.Service] = true
		}
		text.WriteString(logview.Format(r) + "\n")
	}
	for _, name := range []string{"order", "inventory", "payment"} {
		if !seen[name] {
			t.Errorf("no %s log line names order %s and trace %s; the order's path:\n%s", name, o, traceID, text.String())
		}
	}
	for _, want := range []string{"POST /api/v1/orders → 201", "handled ORDER_CREATED", "handled PAYMENT_SUCCESS", "POST /api/v1/payments/confirm → 200"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the order's path lacks %q:\n%s", want, text.String())
		}
	}
	t.Logf("the order's path (make logs ORDER=%s):\n%s", o, text.String())
}

func topicOf(service string) string { return service + ".events" }

func spanNames(spans []otlpsink.Span) []string {
	var out []string
	for _, sp := range spans {
		out = append(out, sp.Service+": "+sp.Name)
	}
	return out
}

func readLog(t *testing.T, path, source string) []logview.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logview.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, logview.Parse(source, sc.Text()))
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
