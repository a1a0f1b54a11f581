package idempotency

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/http"
	"strings"

	"github.com/shop-oss/shop/pkg/problem"
)

// MaxKeyLength is the longest idempotency key accepted, in characters.
const MaxKeyLength = 255

// parseKey returns the request's idempotency key. The header value may be a
// bare token (as Stripe's clients send it) or a structured-field string
// (RFC 8941, as the IETF draft specifies: "..." with \" and \\ escapes); both
// spell the same key. A key is 1 to MaxKeyLength printable ASCII characters.
func parseKey(h http.Header) (string, error) {
	values := h.Values(HeaderKey)
	if len(values) == 0 {
		return "", problem.Errorf(http.StatusBadRequest, SlugKeyMissing, "Idempotency key missing",
			"this endpoint requires an %s header", HeaderKey)
	}
	if len(values) > 1 {
		return "", errKeyInvalid("send exactly one %s header", HeaderKey)
	}
	key := strings.Trim(values[0], " \t")
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		var ok bool
		if key, ok = unquote(key[1 : len(key)-1]); !ok {
			return "", errKeyInvalid("the quoted key has an invalid escape or an unescaped quote")
		}
	}
	switch {
	case key == "":
		return "", errKeyInvalid("the key is empty")
	case len(key) > MaxKeyLength:
		return "", errKeyInvalid("the key must not exceed %d characters", MaxKeyLength)
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", errKeyInvalid("the key must consist of printable ASCII characters")
		}
	}
	return key, nil
}

func errKeyInvalid(format string, args ...any) error {
	return problem.Errorf(http.StatusBadRequest, SlugKeyInvalid, "Invalid idempotency key", format, args...)
}

// unquote undoes the escapes of a structured-field string's content: \" and
// \\ are the only ones, and a bare " is not allowed.
func unquote(s string) (string, bool) {
	if !strings.ContainsAny(s, `"\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return "", false
		case '\\':
			i++
			if i == len(s) || (s[i] != '"' && s[i] != '\\') {
				return "", false
			}
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

// Fingerprint versions, as records keep them in hash_version.
const (
	// hashUnkeyed is SHA-256 of the request's encoding, as records were
	// fingerprinted before keys were used. Anyone who reads it can test
	// guesses of the body (a card number is one of about 10^5 once its
	// last four digits are known), so none may stay: Rekey turns it into
	// hashRekeyed.
	hashUnkeyed int16 = 0
	// hashRekeyed is HMAC-SHA-256 under the secret of the unkeyed digest:
	// a record written before the change, fingerprinted again.
	hashRekeyed int16 = 1
	// hashKeyed is HMAC-SHA-256 under the secret of the request's
	// encoding: what every record is written with now.
	hashKeyed int16 = 2
)

// fingerprint identifies a request for its key: a keyed hash (HMAC-SHA-256
// under the server's secret) of the method, the path, the query and the
// body, each length-prefixed so that no two requests share an encoding. It
// is keyed because bodies hold secrets (a card number at
// /payments/confirm): an unkeyed digest would let whoever reads the table
// test guesses. The path is the request's own, not the route pattern: the
// same key sent to /orders/1/cancel and /orders/2/cancel is two requests.
type fingerprint struct {
	secret []byte
	parts  [4][]byte
	keyed  []byte
}

func newFingerprint(secret []byte, r *http.Request, body []byte) *fingerprint {
	f := &fingerprint{secret: secret, parts: [4][]byte{[]byte(r.Method), []byte(r.URL.EscapedPath()), []byte(r.URL.RawQuery), body}}
	f.keyed = f.sum(hmac.New(sha256.New, secret))
	return f
}

// sum writes the length-prefixed parts to h and returns its sum.
func (f *fingerprint) sum(h hash.Hash) []byte {
	for _, part := range f.parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return h.Sum(nil)
}

// matches reports whether a record's stored hash, of the given version, is
// this request's.
func (f *fingerprint) matches(version int16, stored []byte) bool {
	switch version {
	case hashKeyed:
		return hmac.Equal(stored, f.keyed)
	case hashRekeyed:
		return hmac.Equal(stored, rekeyed(f.secret, f.sum(sha256.New())))
	case hashUnkeyed:
		return hmac.Equal(stored, f.sum(sha256.New()))
	}
	return false
}

// rekeyed is the hashRekeyed form of an unkeyed digest.
func rekeyed(secret, unkeyed []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(unkeyed)
	return m.Sum(nil)
}
