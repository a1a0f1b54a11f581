package service_test

import (
	"crypto/sha256"
	"testing"
	"time"
)

// A record fingerprinted before fingerprints were keyed (hash_version 0)
// is fingerprinted again when the service starts: no unkeyed digest stays.
func TestStartFingerprintsOldIdempotencyRecordsAgain(t *testing.T) {
	f := startService(t)
	unkeyed := sha256.Sum256([]byte("a request of the previous release"))
	err := f.svc.DB.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash, state, response_status, response_headers, response_body, expires_at)
		VALUES ('user:1', 'k-old', ?, 'completed', 201, '{}', '', now() + interval '1 hour')`, unkeyed[:]).Error
	if err != nil {
		t.Fatal(err)
	}
	f.run(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var version int16
		var hash []byte
		if err := f.svc.DB.Raw("SELECT hash_version, request_hash FROM idempotency_keys WHERE key = 'k-old'").Row().Scan(&version, &hash); err != nil {
			t.Fatal(err)
		}
		if version == 1 && string(hash) != string(unkeyed[:]) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the old record has hash_version %d", version)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
