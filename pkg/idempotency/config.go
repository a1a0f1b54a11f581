package idempotency

import (
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	DefaultLockTimeout      = 60 * time.Second
	DefaultTTL              = 24 * time.Hour
	DefaultMaxResponseBytes = 1 << 20
	DefaultPruneBatch       = 1000
)

// MinSecretBytes is the shortest Config.Secret accepted: HMAC-SHA-256's
// block of security.
const MinSecretBytes = 32

// Config tunes a Store; zero values take the defaults, except Secret.
type Config struct {
	// Secret keys the request fingerprints (HMAC-SHA-256); at least
	// MinSecretBytes, the same in every replica, and kept out of the
	// database. Changing it makes every live key's retry a 422 until the
	// records expire (TTL).
	Secret []byte
	// LockTimeout is how long a request holds its key in flight before the
	// next request with the key may take it over, on the assumption that its
	// process died (default 60s). It must exceed the longest a handler can
	// take (the HTTP server's write timeout bounds that), or a slow request
	// is taken over while still running.
	LockTimeout time.Duration
	// TTL is how long a key and its response are kept (default 24h, the
	// least the architecture promises clients).
	TTL time.Duration
	// MaxResponseBytes caps the stored response body (default 1 MiB). A
	// larger response is still sent in full but not stored; its record is
	// deleted, so a retry runs the handler again.
	MaxResponseBytes int
	// PruneBatch is the most records Prune deletes in one statement
	// (default 1000).
	PruneBatch int
	// Logger receives the failures to record a response that was already
	// sent (nil discards).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.LockTimeout <= 0 {
		c.LockTimeout = DefaultLockTimeout
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.PruneBatch <= 0 {
		c.PruneBatch = DefaultPruneBatch
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
