package idempotency

import (
	"crypto/sha256"
	"encoding/binary"
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

// fingerprint identifies a request for its key: SHA-256 over the method, the
// path, the query and the body, each length-prefixed so that no two requests
// share an encoding. The path is the request's own, not the route pattern:
// the same key sent to /orders/1/cancel and /orders/2/cancel is two requests.
func fingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	for _, part := range [...][]byte{[]byte(r.Method), []byte(r.URL.EscapedPath()), []byte(r.URL.RawQuery), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return h.Sum(nil)
}
