package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/bustest"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// Every service's OpenAPI document holds the admin DLQ API's paths and
// schemas as dlqapi.openapi.yaml spells them, for its own name and
// security scheme, and is a valid document.
func TestDLQOpenAPIIsTheSameInEveryService(t *testing.T) {
	raw, err := os.ReadFile("dlqapi.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(raw), "# --- paths\n")
	paths, schemas, ok := strings.Cut(rest, "# --- schemas\n")
	if !ok {
		t.Fatal("dlqapi.openapi.yaml lacks its two blocks")
	}
	schemes := map[string]string{"payment": "bearer"}
	for _, svc := range config.ServiceNames {
		path := "../../services/" + svc + "/api/openapi.yaml"
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		scheme := schemes[svc]
		if scheme == "" {
			scheme = "bearerAuth"
		}
		r := strings.NewReplacer("SERVICE", svc, "SCHEME", scheme)
		for name, block := range map[string]string{"paths": paths, "schemas": schemas} {
			if !strings.Contains(string(doc), r.Replace(block)) {
				t.Errorf("%s: the DLQ %s differ from pkg/service/dlqapi.openapi.yaml", path, name)
			}
		}
		openapitest.Load(t, path)
	}
}

// api calls the order service's admin DLQ API through a client that checks
// every exchange against services/order/api/openapi.yaml.
type api struct {
	t      *testing.T
	client *http.Client
	base   string
}

func (a api) do(method, path, token string, body any, out any) (*http.Response, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+"/api/v1/admin/dlq/order"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return res, m
}

type entryJSON struct {
	Offset        int64  `json:"offset"`
	EventID       string `json:"event_id"`
	Cause         string `json:"cause"`
	Replayable    bool   `json:"replayable"`
	NotReplayable string `json:"not_replayable"`
	Payload       struct {
		JSON map[string]any `json:"json"`
	} `json:"payload"`
	Replays []struct {
		By, RequestID, Outcome string
	} `json:"replays"`
}

type resultJSON struct {
	Offset   int64  `json:"offset"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	ReplayID string `json:"replay_id"`
}

// The admin DLQ API end to end: list with filters and decoded payloads,
// one entry, a dry run, a refused replay (422), a bulk replay with a
// result per entry, the audit row, and the roles.
func TestDLQAdminAPI(t *testing.T) {
	f := startService(t)
	var fixed atomic.Bool
	handled := make(chan string, 10)
	f.svc.Consumer.Handle(eventsv1.TypeOrderCreated, func(ctx context.Context, tx *gorm.DB, e event.Event) error {
		msg, err := event.DecodeAs[*eventsv1.OrderCreated](e)
		if err != nil {
			return err
		}
		if strings.HasPrefix(msg.OrderId, "order-bug") && !fixed.Load() {
			return consumer.Permanent(errors.New("its total disagrees with the order's"))
		}
		handled <- e.ID.String()
		return nil
	})
	f.run(t)

	bug1, bug2 := bustest.OrderEvent(t, "order-bug-1", 1), bustest.OrderEvent(t, "order-bug-2", 2)
	garbage := bustest.OrderEvent(t, "order-garbage", 3)
	garbage.Payload = []byte{0xff, 0xff}
	w := f.svc.Broker.Writer()
	defer w.Close()
	for _, e := range []event.Event{bug1, garbage, bug2} { // offsets 0, 1, 2 of the DLQ, in this order
		if err := w.WriteMessages(context.Background(), e.Message()); err != nil {
			t.Fatal(err)
		}
		waitDLQ(t, f, e.ID.String())
	}

	spec := openapitest.Load(t, "../../services/order/api/openapi.yaml")
	a := api{t: t, client: spec.Client(t), base: f.base}
	adminID := "0190f5a8-0000-7000-8000-00000000000a"
	admin := f.issuer.Token(t, adminID, auth.RoleAdmin)
	customer := f.issuer.Token(t, "0190f5a8-0000-7000-8000-00000000000c", auth.RoleCustomer)

	var page struct {
		Entries    []entryJSON `json:"entries"`
		NextCursor string      `json:"next_cursor"`
	}
	if res, _ := a.do("GET", "?cause=rejected&order_id=order-bug-2", admin, nil, &page); res.StatusCode != 200 ||
		len(page.Entries) != 1 || page.Entries[0].EventID != bug2.ID.String() || page.Entries[0].Payload.JSON["order_id"] != "order-bug-2" {
		t.Fatalf("filtered list: %d %+v", res.StatusCode, page)
	}
	if res, p := a.do("GET", "?cause=nonsense", admin, nil, nil); res.StatusCode != 400 {
		t.Fatalf("bad cause: %d %v", res.StatusCode, p)
	}
	var one entryJSON
	if res, _ := a.do("GET", "/1", admin, nil, &one); res.StatusCode != 200 || one.Cause != consumer.CauseMalformed || one.Replayable {
		t.Fatalf("entry 1: %d %+v", res.StatusCode, one)
	}
	if res, p := a.do("GET", "/99", admin, nil, nil); res.StatusCode != 404 || p["type"] != "urn:shop:problem:dlq-entry-not-found" {
		t.Fatalf("missing entry: %d %v", res.StatusCode, p)
	}

	var r resultJSON
	if res, _ := a.do("POST", "/0/replay?dry_run=true", admin, nil, &r); res.StatusCode != 200 || r.Status != "would_replay" {
		t.Fatalf("dry run: %d %+v", res.StatusCode, r)
	}
	if res, p := a.do("POST", "/1/replay", admin, nil, nil); res.StatusCode != 422 || p["type"] != "urn:shop:problem:dlq-entry-not-replayable" ||
		!strings.Contains(p["detail"].(string), "malformed") {
		t.Fatalf("replay of a malformed entry: %d %v", res.StatusCode, p)
	}
	for _, path := range []string{"/0/replay", "/replay"} {
		if res, _ := a.do("POST", path, customer, map[string]any{"offsets": []int{0}}, nil); res.StatusCode != 403 {
			t.Errorf("customer POST %s: %d, want 403", path, res.StatusCode)
		}
		if res, _ := a.do("POST", path, "", map[string]any{"offsets": []int{0}}, nil); res.StatusCode != 401 {
			t.Errorf("anonymous POST %s: %d, want 401", path, res.StatusCode)
		}
	}
	if res, p := a.do("POST", "/replay", admin, map[string]any{"offsets": []int{0}, "filter": map[string]any{"cause": "rejected"}}, nil); res.StatusCode != 400 {
		t.Fatalf("offsets and a filter: %d %v", res.StatusCode, p)
	}

	fixed.Store(true)
	var out struct {
		DryRun  bool           `json:"dry_run"`
		Results []resultJSON   `json:"results"`
		Counts  map[string]int `json:"counts"`
	}
	res, _ := a.do("POST", "/replay", admin, map[string]any{"offsets": []int{2, 1, 0, 7}}, &out)
	got := []string{}
	for _, r := range out.Results {
		got = append(got, strconv.FormatInt(r.Offset, 10)+":"+r.Status)
	}
	if res.StatusCode != 200 || strings.Join(got, " ") != "0:replayed 1:refused 2:replayed 7:not_found" || out.Counts["replayed"] != 2 {
		t.Fatalf("bulk replay: %d %v %+v", res.StatusCode, got, out)
	}
	for range 2 {
		select {
		case id := <-handled:
			if id != bug1.ID.String() && id != bug2.ID.String() {
				t.Fatalf("handled %s", id)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the replayed events were not handled")
		}
	}
	requestID := res.Header.Get("X-Request-ID")
	if res, _ := a.do("GET", "/0", admin, nil, &one); res.StatusCode != 200 || len(one.Replays) != 1 {
		t.Fatalf("entry 0 after its replay: %+v", one)
	}
	var audit struct{ ReplayedBy, RequestID, TargetTopic, Outcome string }
	f.svc.DB.Raw("SELECT replayed_by, request_id, target_topic, outcome FROM dead_letter_replays WHERE dlq_offset = 0").Scan(&audit)
	if audit.ReplayedBy != adminID || audit.RequestID != requestID || audit.TargetTopic != "order.retry" || audit.Outcome != "published" {
		t.Fatalf("audit row %+v (request %s)", audit, requestID)
	}
	if res, _ := a.do("GET", "?replayed=true", admin, nil, &page); res.StatusCode != 200 || len(page.Entries) != 2 {
		t.Fatalf("replayed entries: %+v", page)
	}
}

// waitDLQ waits until the order service's DLQ holds the event.
func waitDLQ(t *testing.T, f *fixture, eventID string) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: f.svc.Broker.Brokers, Topic: "order.dlq", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("event %s not dead-lettered: %v", eventID, err)
		}
		for _, h := range m.Headers {
			if h.Key == eventsv1.HeaderEventID && string(h.Value) == eventID {
				return
			}
		}
	}
}
