package e2e

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/shop-oss/shop/pkg/broker"
	"github.com/shop-oss/shop/pkg/config"
	"github.com/shop-oss/shop/pkg/consumer"
	"github.com/shop-oss/shop/pkg/event"
	"github.com/shop-oss/shop/pkg/openapitest"
	"github.com/shop-oss/shop/proto-events/eventsv1"
)

// refusedRequestsLeaveTheKeyFree runs, for every operation of every
// service whose OpenAPI document takes an Idempotency-Key, a request that
// is refused (400: an unknown field), then another one with the same key,
// then the first again: a refused request records nothing, so neither is
// 422 idempotency-key-reused nor a replay (issue 22 item 3, as a class).
// Then the issue's own case: a refused order, and the corrected one with
// the same key is placed.
func (s *shop) refusedRequestsLeaveTheKeyFree(t *testing.T) {
	param := regexp.MustCompile(`\{[^}]+\}`)
	routes := 0
	for _, svc := range config.ServiceNames {
		spec := openapitest.Load(t, "../../services/"+svc+"/api/openapi.yaml")
		for _, op := range spec.OperationsTaking("Idempotency-Key") {
			routes++
			method, path, _ := strings.Cut(op, " ")
			url := s.url(svc) + param.ReplaceAllStringFunc(path, func(string) string { return uuid.NewString() })
			key := uuid.NewString()
			refused := map[string]any{"e2e_unknown_field": 1}
			token := ""
			for _, candidate := range []string{s.customer, s.admin} { // the first role the route lets through
				if code, _ := call(t, method, url, candidate, refused, "Idempotency-Key", key); code == 400 {
					token = candidate
					break
				}
			}
			if token == "" {
				t.Errorf("%s %s: no role got the refused request's 400", svc, op)
				continue
			}
			other := map[string]any{"e2e_unknown_field": 2}
			if code, out := call(t, method, url, token, other, "Idempotency-Key", key); code != 400 || out["type"] == "urn:shop:problem:idempotency-key-reused" {
				t.Errorf("%s %s: another request with a refused request's key: %d %v, want its own 400", svc, op, code, out["type"])
			}
			if code, _, replayed := callReplayed(t, method, url, token, refused, key); code != 400 || replayed {
				t.Errorf("%s %s: the refused request again: %d replayed %v, want a fresh 400", svc, op, code, replayed)
			}
		}
	}
	if routes < 8 {
		t.Fatalf("%d idempotent routes found in the documents, want at least 8 (order 1, payment 3, inventory 4)", routes)
	}

	p := s.product(t, "Key reuse", 1000, 5)
	key := uuid.NewString()
	url := s.url("order") + "/api/v1/orders"
	if code, _ := call(t, "POST", url, s.customer, map[string]any{"lines": []map[string]any{{"product_id": p, "quantity": 0}}}, "Idempotency-Key", key); code != 400 {
		t.Fatalf("an order of 0 units: %d, want 400", code)
	}
	placed := must(t, 201, "POST", url, s.customer, map[string]any{"lines": []map[string]any{{"product_id": p, "quantity": 1}}}, "Idempotency-Key", key)
	o := placed["id"].(string)
	s.waitStatus(t, o, "PAYMENT_PENDING") // the saga at rest before the next subtest compares states
	s.payment(t, o)
}

// callReplayed is call that also says whether the answer was replayed.
func callReplayed(t *testing.T, method, url, token string, body any, key string) (int, map[string]any, bool) {
	t.Helper()
	var replayed bool
	code, out := callWith(t, method, url, token, body, func(h map[string][]string) {
		replayed = len(h["Idempotent-Replayed"]) > 0
	}, "Idempotency-Key", key)
	return code, out, replayed
}

// dlqReplayReachesOnlyTheFailingService replays an entry of inventory's
// DLQ: it reaches inventory (through inventory.retry) and no other
// service (payment, which reads the same order.events, never sees it), the
// shared topic does not grow, and the replay is audited. The malformed
// poison event of the previous subtest is refused with 422 (issue 22 item
// 4, issue 24 item 7).
func (s *shop) dlqReplayReachesOnlyTheFailingService(t *testing.T) {
	base := s.url("inventory") + "/api/v1/admin/dlq/inventory"
	page := must(t, 200, "GET", base+"?cause=malformed", s.admin, nil)
	poison := asList(page["entries"])
	if len(poison) == 0 {
		t.Fatal("no malformed entry in inventory's DLQ")
	}
	offset := strconv.FormatFloat(poison[0]["offset"].(float64), 'f', 0, 64)
	if code, out := call(t, "POST", base+"/"+offset+"/replay", s.admin, nil); code != 422 || out["type"] != "urn:shop:problem:dlq-entry-not-replayable" {
		t.Fatalf("replay of a malformed entry: %d %v", code, out)
	}

	// An ORDER_CANCELLED that inventory failed (as if a bug had refused
	// it), dead-lettered the way inventory's consumer does it.
	orderID := uuid.NewString()
	e, err := event.New(context.Background(), orderID, &eventsv1.OrderCancelled{OrderId: orderID, UserId: s.customerID, Reason: "E2E", PreviousStatus: "CREATED"})
	if err != nil {
		t.Fatal(err)
	}
	m := e.Message()
	m.Topic = "inventory.dlq"
	m.Headers = append(m.Headers,
		kafka.Header{Key: consumer.HeaderDLQTopic, Value: []byte(eventsv1.TopicOrder)},
		kafka.Header{Key: consumer.HeaderDLQPartition, Value: []byte("0")},
		kafka.Header{Key: consumer.HeaderDLQOffset, Value: []byte("0")},
		kafka.Header{Key: consumer.HeaderDLQError, Value: []byte("e2e: a bug refused it")},
		kafka.Header{Key: consumer.HeaderDLQCause, Value: []byte(consumer.CauseRetriesExhausted)},
		kafka.Header{Key: consumer.HeaderDLQAttempts, Value: []byte("5")},
		kafka.Header{Key: consumer.HeaderDLQConsumer, Value: []byte("inventory")},
		kafka.Header{Key: consumer.HeaderDLQFailedAt, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	)
	s.produce(t, m)
	var entry map[string]any
	eventually(t, "the entry in inventory's DLQ", 30*time.Second, func() bool {
		entries := asList(must(t, 200, "GET", base+"?order_id="+orderID, s.admin, nil)["entries"])
		if len(entries) == 1 {
			entry = entries[0]
		}
		return entry != nil
	})
	if entry["replayable"] != true || entry["replay_topic"] != "inventory.retry" || entry["event_id"] != e.ID.String() {
		t.Fatalf("entry %v", entry)
	}
	sharedBefore := s.endOffsets(t, eventsv1.TopicOrder)
	paymentDLQBefore := len(asList(must(t, 200, "GET", s.url("payment")+"/api/v1/admin/dlq/payment", s.admin, nil)["entries"]))

	offset = strconv.FormatFloat(entry["offset"].(float64), 'f', 0, 64)
	dry := must(t, 200, "POST", base+"/replay", s.admin, map[string]any{"offsets": []any{entry["offset"]}, "dry_run": true})
	if counts := dry["counts"].(map[string]any); counts["would_replay"] != float64(1) {
		t.Fatalf("dry run %v", dry)
	}
	res := must(t, 200, "POST", base+"/"+offset+"/replay", s.admin, nil)
	if res["status"] != "replayed" || res["target_topic"] != "inventory.retry" || res["event_id"] != e.ID.String() {
		t.Fatalf("replay %v", res)
	}
	processed := func(service string) int {
		var n int
		s.query(t, service, "SELECT count(*) FROM processed_events WHERE event_id = $1", []any{e.ID.String()}, &n)
		return n
	}
	eventually(t, "inventory to handle the replayed event", 30*time.Second, func() bool { return processed("inventory") == 1 })
	s.caughtUp(t, "payment", eventsv1.TopicOrder, eventsv1.TopicInventory)
	if n := processed("payment"); n != 0 {
		t.Fatalf("payment handled inventory's replay (%d rows): the replay fanned out", n)
	}
	if after := s.endOffsets(t, eventsv1.TopicOrder); fmt.Sprint(after) != fmt.Sprint(sharedBefore) {
		t.Fatalf("order.events grew with the replay: %v -> %v", sharedBefore, after)
	}
	if n := len(asList(must(t, 200, "GET", s.url("payment")+"/api/v1/admin/dlq/payment", s.admin, nil)["entries"])); n != paymentDLQBefore {
		t.Fatalf("payment's DLQ went from %d to %d entries with inventory's replay", paymentDLQBefore, n)
	}
	var by, target, outcome string
	s.query(t, "inventory", "SELECT replayed_by, target_topic, outcome FROM dead_letter_replays WHERE event_id = $1",
		[]any{e.ID.String()}, &by, &target, &outcome)
	var adminID string
	s.query(t, "identity", "SELECT id::text FROM users WHERE email = 'admin@shop.local'", nil, &adminID)
	if by != adminID || target != "inventory.retry" || outcome != "published" {
		t.Fatalf("audit row: by %s to %s %s, want %s inventory.retry published", by, target, outcome, adminID)
	}
	for _, svc := range config.ServiceNames { // every service has the API, consuming or not
		must(t, 200, "GET", s.url(svc)+"/api/v1/admin/dlq/"+svc+"?replayed=false", s.admin, nil)
	}
}

// endOffsets returns the end offset of every partition of topic.
func (s *stack) endOffsets(t *testing.T, topic string) map[int]int64 {
	t.Helper()
	out, err := broker.EndOffsets(context.Background(), s.kafkaClient(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// noSecretsStoredOrLogged checks, after the whole saga run, that no column
// of any service's database holds a card number of the run, or a value
// derivable from one by an unkeyed hash (SHA-256, SHA-1, MD5, in hex or
// base64) of the number, of the request bodies that carried it, or of those
// requests as the idempotency fingerprint encodes them; and that no log
// line of any service holds a card number, a password or a token (access
// or refresh) of the run, or anything that looks like a JWT (issue 24
// item 4).
func (s *shop) noSecretsStoredOrLogged(t *testing.T) {
	s.secrets.mu.Lock()
	defer s.secrets.mu.Unlock()
	if len(s.secrets.cards) < 2 || len(s.secrets.cardRequests) < 3 || len(s.secrets.passwords) < 3 || len(s.secrets.token) < 6 {
		t.Fatalf("the run recorded too few secrets to test: %d cards, %d card requests, %d passwords, %d tokens",
			len(s.secrets.cards), len(s.secrets.cardRequests), len(s.secrets.passwords), len(s.secrets.token))
	}
	needles := map[string]string{} // needle -> what it is
	var inputs [][2]string         // what, value
	for _, c := range s.secrets.cards {
		needles[c] = "card number"
		inputs = append(inputs, [2]string{"card number", c})
	}
	for i, r := range s.secrets.cardRequests {
		inputs = append(inputs,
			[2]string{fmt.Sprintf("body of card request %d", i), string(r.body)},
			[2]string{fmt.Sprintf("fingerprint encoding of card request %d", i), string(encodeRequest(r))})
	}
	for _, in := range inputs {
		for name, h := range map[string]func() hash.Hash{"SHA-256": sha256.New, "SHA-1": sha1.New, "MD5": md5.New} {
			d := h()
			d.Write([]byte(in[1]))
			sum := d.Sum(nil)
			what := name + " of the " + in[0]
			for _, enc := range []string{
				hex.EncodeToString(sum), strings.ToUpper(hex.EncodeToString(sum)),
				base64.StdEncoding.EncodeToString(sum), base64.RawStdEncoding.EncodeToString(sum),
				base64.URLEncoding.EncodeToString(sum), base64.RawURLEncoding.EncodeToString(sum),
			} {
				needles[enc] = what
			}
		}
	}

	ctx := context.Background()
	columns := 0
	for _, svc := range config.ServiceNames {
		conn, err := pgx.Connect(ctx, s.Proc(svc).DSN)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
			WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range tables {
			// A row as text holds every column, bytea as \x and hex.
			rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" AS t")
			if err != nil {
				t.Fatal(err)
			}
			values, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				columns++
				for needle, what := range needles {
					if strings.Contains(v, needle) {
						t.Errorf("%s: a row of %s holds the %s: %.200s", svc, table, what, v)
					}
				}
			}
		}
		_ = conn.Close(ctx)
	}
	if columns == 0 {
		t.Fatal("no rows read")
	}

	logNeedles := map[string]string{"eyJhbGciOi": "a JWT"}
	for _, c := range s.secrets.cards {
		logNeedles[c] = "a card number"
	}
	for _, p := range s.secrets.passwords {
		logNeedles[p] = "a password"
	}
	for _, tok := range s.secrets.token {
		logNeedles[tok] = "a token"
	}
	for _, svc := range config.ServiceNames {
		log := s.Tail(svc, 1<<30)
		if !strings.Contains(log, `"msg":"service started"`) {
			t.Fatalf("%s's log was not read: %.200s", svc, log)
		}
		for _, line := range strings.Split(log, "\n") {
			for needle, what := range logNeedles {
				if strings.Contains(line, needle) {
					t.Errorf("%s logged %s: %.300s", svc, what, line)
				}
			}
		}
	}
}

// encodeRequest is a request as the idempotency fingerprint encodes it:
// method, path, query and body, each after its length (8 bytes, big endian).
func encodeRequest(r sentRequest) []byte {
	var out []byte
	for _, part := range []string{r.method, r.path, r.query, string(r.body)} {
		out = binary.BigEndian.AppendUint64(out, uint64(len(part)))
		out = append(out, part...)
	}
	return out
}
