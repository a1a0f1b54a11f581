package idempotency_test

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/shop-oss/shop/pkg/idempotency"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/pkg/web"
)

// encoding is the fingerprint's input: method, path, query and body, each
// length-prefixed (8 bytes, big endian).
func encoding(method, path, query, body string) []byte {
	var out []byte
	for _, part := range []string{method, path, query, body} {
		out = binary.BigEndian.AppendUint64(out, uint64(len(part)))
		out = append(out, part...)
	}
	return out
}

func sum(h hash.Hash, b []byte) []byte {
	h.Write(b)
	return h.Sum(nil)
}

// The stored fingerprint is HMAC-SHA-256 under the secret, and no unkeyed
// digest of the body, of the card number in it, or of the request's
// encoding; a store with another secret does not recognise the request.
func TestFingerprintIsKeyed(t *testing.T) {
	const card = "4242424242424242"
	body := `{"card_number":"` + card + `","payment_id":"p-1"}`
	var cr creator
	e := newEnv(t, envOptions{}, func(g *gin.RouterGroup) { g.POST("/payments/confirm", cr.handle) })
	first := e.post("/payments/confirm", "k-card", body)
	wantFirst(t, first, http.StatusCreated)

	var stored []byte
	if err := e.db.Raw("SELECT request_hash FROM idempotency_keys WHERE key = 'k-card'").Row().Scan(&stored); err != nil {
		t.Fatal(err)
	}
	enc := encoding(http.MethodPost, "/payments/confirm", "", body)
	if want := sum(hmac.New(sha256.New, testSecret), enc); !hmac.Equal(stored, want) {
		t.Fatalf("stored fingerprint %x, want HMAC-SHA-256 under the secret %x", stored, want)
	}
	for _, input := range [][]byte{[]byte(card), []byte(body), enc} {
		for _, h := range []func() hash.Hash{sha256.New, sha1.New, md5.New} {
			if hmac.Equal(stored, sum(h(), input)) {
				t.Fatalf("stored fingerprint is an unkeyed digest of %q", input)
			}
		}
	}

	wantReplay(t, e.post("/payments/confirm", "k-card", body), first)
	other, err := idempotency.NewStore(e.db, idempotency.Config{Secret: []byte("another-secret-of-at-least-32-bytes!")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherEngine, err := web.NewEngine(web.Options{Logger: testkit.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	otherEngine.POST("/payments/confirm", idempotency.Middleware(other, scopeOf), cr.handle)
	rec := httptest.NewRecorder()
	otherEngine.ServeHTTP(rec, request("/payments/confirm", ptr("k-card"), body))
	wantProblem(t, rec, http.StatusUnprocessableEntity, idempotency.SlugKeyReused) // the fingerprint depends on the secret
	if _, err := idempotency.NewStore(e.db, idempotency.Config{Secret: []byte("short")}, nil); err == nil {
		t.Fatal("NewStore took a 5-byte secret")
	}
}

// Records written before fingerprints were keyed (hash_version 0: SHA-256
// of the encoding) are fingerprinted again by Rekey: afterwards no row
// holds the unkeyed digest, and each record still works as before until it
// expires: the same request is replayed, another one with its key is 422,
// and an in-flight one whose holder died is taken over.
func TestRekeyFingerprintsOldRecordsAgain(t *testing.T) {
	var cr creator
	e := newEnv(t, envOptions{cfg: idempotency.Config{PruneBatch: 2}}, func(g *gin.RouterGroup) { g.POST("/orders", cr.handle) })

	unkeyed := func(body string) []byte { return sum(sha256.New(), encoding(http.MethodPost, "/orders", "", body)) }
	scope := "ip:192.0.2.1" // httptest's client address
	for i, body := range []string{`{"qty":1}`, `{"qty":2}`, `{"qty":3}`} {
		e.exec(t, `INSERT INTO idempotency_keys (scope, key, request_hash, state, response_status, response_headers, response_body, expires_at)
			VALUES (?, ?, ?, 'completed', 201, '{"Content-Type":"application/json","Location":"/orders/old"}', ?, now() + interval '1 hour')`,
			scope, "k-old-"+string(rune('a'+i)), unkeyed(body), []byte(`{"old":`+body+`}`))
	}
	e.exec(t, `INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, expires_at)
		VALUES (?, 'k-old-dead', ?, 'in_flight', now() - interval '1 second', now() + interval '1 hour')`, scope, unkeyed(`{"qty":4}`))

	n, err := e.store.Rekey(context.Background())
	if err != nil || n != 4 {
		t.Fatalf("Rekey = %d, %v; want 4, nil", n, err)
	}
	for _, body := range []string{`{"qty":1}`, `{"qty":2}`, `{"qty":3}`, `{"qty":4}`} {
		var left int64
		e.db.Raw("SELECT count(*) FROM idempotency_keys WHERE request_hash = ? OR hash_version = 0", unkeyed(body)).Scan(&left)
		if left != 0 {
			t.Fatalf("%d rows still hold the unkeyed fingerprint of %s", left, body)
		}
	}
	if n, err := e.store.Rekey(context.Background()); err != nil || n != 0 {
		t.Fatalf("second Rekey = %d, %v; want 0, nil", n, err)
	}

	replay := e.post("/orders", "k-old-a", `{"qty":1}`)
	if replay.Code != http.StatusCreated || replay.Body.String() != `{"old":{"qty":1}}` || replay.Header().Get(idempotency.HeaderReplayed) != "true" {
		t.Fatalf("retry of an old record: %d %s replayed %q", replay.Code, replay.Body, replay.Header().Get(idempotency.HeaderReplayed))
	}
	wantProblem(t, e.post("/orders", "k-old-b", `{"qty":9}`), http.StatusUnprocessableEntity, idempotency.SlugKeyReused)
	taken := e.post("/orders", "k-old-dead", `{"qty":4}`)
	wantFirst(t, taken, http.StatusCreated)
	wantReplay(t, e.post("/orders", "k-old-dead", `{"qty":4}`), taken)
	var version int16
	e.db.Raw("SELECT hash_version FROM idempotency_keys WHERE key = 'k-old-dead'").Scan(&version)
	if version != 2 {
		t.Fatalf("a taken-over old record has hash_version %d, want 2 (keyed)", version)
	}
	if n := cr.runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1 (the take-over only)", n)
	}
}
