package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// refreshTokenBytes is the entropy of a refresh token (256 bits).
const refreshTokenBytes = 32

// newRefreshToken returns a fresh opaque token (base64url, no padding) and
// the hash under which it is stored.
func newRefreshToken() (string, []byte, error) {
	b := make([]byte, refreshTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("refresh token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, HashRefreshToken(tok), nil
}

// HashRefreshToken is how a presented token is looked up. A plain SHA-256
// suffices (no salt, no slow hash): the token has 256 bits of entropy, so
// the stored hashes cannot be guessed back.
func HashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
