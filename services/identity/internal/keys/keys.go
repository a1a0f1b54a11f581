// Package keys keeps the identity service's access-token signing keys:
// Ed25519 key pairs stored in the service's database, so that every replica
// signs with the same active key and publishes the same JWKS.
//
// Life of a key: it is created (on first start, by a rotation, or imported
// from SHOP_IDENTITY_SIGNING_KEY_FILE) with an activation time; it is
// published in the JWKS from creation, signs from activation until the next
// key activates, and stays published until the tokens it signed have
// expired; then it is deleted. A rotation's new key activates PublishDelay
// after its creation, which lets every replica (rereading the keys every
// Reload) publish it before any token signed with it exists.
//
// Private keys never leave this package except sealed (AES-256-GCM) or, when
// no key-encryption key is configured, as raw seeds in the database; they
// are never logged.
package keys

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/shop-oss/shop/services/identity/internal/identity"
)

// Algorithm is the JWS algorithm of every key.
const Algorithm = "EdDSA"

// Key sources.
const (
	SourceGenerated = "generated"
	SourceFile      = "file"
)

// retentionSlack is added to a retired key's publication beyond the
// lifetime of its last tokens: verifiers' clock leeway, and margin.
const retentionSlack = time.Minute

// Key is one signing key.
type Key struct {
	ID          string // kid: RFC 7638 thumbprint of the public key
	Public      ed25519.PublicKey
	private     ed25519.PrivateKey
	Source      string
	CreatedAt   time.Time
	ActivatesAt time.Time
}

// Record is a key as stored.
type Record struct {
	ID          string
	Algorithm   string
	Public      []byte
	Private     []byte // seed, sealed when Encryption is not "none"
	Encryption  string
	Source      string
	CreatedAt   time.Time
	ActivatesAt time.Time
}

// Store persists keys.
type Store interface {
	// Keys returns every stored key.
	Keys(ctx context.Context) ([]Record, error)
	// Exclusive runs fn in a transaction that holds a database-wide lock
	// on the keys, so that replicas starting or rotating together create
	// one key, not one each.
	Exclusive(ctx context.Context, fn func(tx TxStore) error) error
	// DeleteKeys deletes the keys with these IDs.
	DeleteKeys(ctx context.Context, ids []string) error
}

// TxStore is a Store inside Exclusive.
type TxStore interface {
	Keys(ctx context.Context) ([]Record, error)
	InsertKey(ctx context.Context, r Record) error
}

// Config configures a Keyring.
type Config struct {
	Issuer   string
	Audience string
	// AccessTokenTTL is the lifetime of the tokens signed.
	AccessTokenTTL time.Duration
	// PublishDelay is how long a rotated-in key is published before it
	// signs; keep it above Reload.
	PublishDelay time.Duration
	// Rotation is the age at which the active key is replaced
	// automatically; 0 rotates only on demand (Rotate).
	Rotation time.Duration
	// Reload is how often Run rereads the keys.
	Reload time.Duration
	// EncryptionKey (32 bytes) seals private keys at rest; nil stores them
	// unsealed.
	EncryptionKey []byte
	// FileKey, when set, is imported (once) and becomes the active key;
	// Rotate is then refused: rotate by replacing the file.
	FileKey ed25519.PrivateKey
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives key events (IDs only).
	Log *slog.Logger
}

// Keyring signs access tokens and serves the JWKS. It is safe for
// concurrent use.
type Keyring struct {
	store Store
	cfg   Config

	mu   sync.RWMutex
	keys []Key // by activation time
}

// ErrRotationWithKeyFile refuses a rotation while the key comes from a file.
var ErrRotationWithKeyFile = errors.New("keys: signing key is configured by file; rotate by replacing the file")

// New returns a Keyring over store: it creates the first key (or imports
// the file key) when needed, then loads the keys.
func New(ctx context.Context, store Store, cfg Config) (*Keyring, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if n := len(cfg.EncryptionKey); n != 0 && n != 32 {
		return nil, fmt.Errorf("keys: encryption key must have 32 bytes, has %d", n)
	}
	k := &Keyring{store: store, cfg: cfg}
	if err := k.ensure(ctx); err != nil {
		return nil, err
	}
	if err := k.Load(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// ensure creates the first key, or imports the file key, under the lock.
func (k *Keyring) ensure(ctx context.Context) error {
	return k.store.Exclusive(ctx, func(tx TxStore) error {
		recs, err := tx.Keys(ctx)
		if err != nil {
			return err
		}
		now := k.cfg.Now().UTC()
		var key Key
		switch {
		case k.cfg.FileKey != nil:
			key = newKey(k.cfg.FileKey, SourceFile, now)
			if slices.ContainsFunc(recs, func(r Record) bool { return r.ID == key.ID }) {
				return nil
			}
			if len(recs) > 0 {
				key.ActivatesAt = now.Add(k.cfg.PublishDelay)
			}
		case len(recs) == 0:
			if key, err = generate(now); err != nil {
				return err
			}
		default:
			return nil
		}
		if err := k.insert(ctx, tx, key); err != nil {
			return err
		}
		k.cfg.Log.InfoContext(ctx, "signing key created", "kid", key.ID, "source", key.Source, "activates_at", key.ActivatesAt)
		return nil
	})
}

// Rotate creates a new key that activates after PublishDelay, and returns
// it. The current key keeps signing until then.
func (k *Keyring) Rotate(ctx context.Context) (Key, error) {
	if k.cfg.FileKey != nil {
		return Key{}, ErrRotationWithKeyFile
	}
	now := k.cfg.Now().UTC()
	key, err := generate(now)
	if err != nil {
		return Key{}, err
	}
	key.ActivatesAt = now.Add(k.cfg.PublishDelay)
	err = k.store.Exclusive(ctx, func(tx TxStore) error { return k.insert(ctx, tx, key) })
	if err != nil {
		return Key{}, fmt.Errorf("rotate signing key: %w", err)
	}
	k.cfg.Log.InfoContext(ctx, "signing key rotated", "kid", key.ID, "activates_at", key.ActivatesAt)
	return key, k.Load(ctx)
}

// rotateIfDue rotates when automatic rotation is on and the newest key
// (active or pending) is older than Rotation. The check is repeated under
// the lock, so of replicas finding it due together one rotates.
func (k *Keyring) rotateIfDue(ctx context.Context) error {
	if k.cfg.Rotation <= 0 || k.cfg.FileKey != nil {
		return nil
	}
	due := func(recs []Record, now time.Time) bool {
		newest := time.Time{}
		for _, r := range recs {
			newest = maxTime(newest, r.ActivatesAt)
		}
		return !now.Before(newest.Add(k.cfg.Rotation))
	}
	now := k.cfg.Now().UTC()
	k.mu.RLock()
	recs := make([]Record, 0, len(k.keys))
	for _, key := range k.keys {
		recs = append(recs, Record{ActivatesAt: key.ActivatesAt})
	}
	k.mu.RUnlock()
	if !due(recs, now) {
		return nil
	}
	key, err := generate(now)
	if err != nil {
		return err
	}
	key.ActivatesAt = now.Add(k.cfg.PublishDelay)
	rotated := false
	err = k.store.Exclusive(ctx, func(tx TxStore) error {
		recs, err := tx.Keys(ctx)
		if err != nil || !due(recs, now) {
			return err
		}
		rotated = true
		return k.insert(ctx, tx, key)
	})
	if err != nil {
		return fmt.Errorf("automatic key rotation: %w", err)
	}
	if rotated {
		k.cfg.Log.InfoContext(ctx, "signing key rotated (automatic)", "kid", key.ID, "activates_at", key.ActivatesAt)
	}
	return k.Load(ctx)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Load rereads the keys from the store.
func (k *Keyring) Load(ctx context.Context) error {
	recs, err := k.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	keys := make([]Key, 0, len(recs))
	for _, r := range recs {
		key, err := k.open(r)
		if err != nil {
			return err
		}
		keys = append(keys, key)
	}
	sortKeys(keys)
	k.mu.Lock()
	k.keys = keys
	k.mu.Unlock()
	return nil
}

// sortKeys orders keys by activation, ties broken by creation and ID, so
// that every replica agrees on which key is active.
func sortKeys(keys []Key) {
	slices.SortFunc(keys, func(a, b Key) int {
		if c := a.ActivatesAt.Compare(b.ActivatesAt); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Run rereads the keys every Reload, rotates when due and deletes keys
// that are no longer published, until ctx ends. Failures are logged and
// retried at the next tick: the keys in memory keep working meanwhile.
func (k *Keyring) Run(ctx context.Context) error {
	t := time.NewTicker(k.cfg.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, step := range []func(context.Context) error{k.Load, k.rotateIfDue, k.prune} {
			if err := step(ctx); err != nil && ctx.Err() == nil {
				k.cfg.Log.WarnContext(ctx, "signing keys maintenance failed; retrying later", "error", err.Error())
			}
		}
	}
}

// prune deletes keys that are no longer published.
func (k *Keyring) prune(ctx context.Context) error {
	now := k.cfg.Now()
	k.mu.RLock()
	var old []string
	for i, key := range k.keys {
		if !k.published(i, now) {
			old = append(old, key.ID)
		}
	}
	k.mu.RUnlock()
	if len(old) == 0 {
		return nil
	}
	if err := k.store.DeleteKeys(ctx, old); err != nil {
		return fmt.Errorf("delete retired signing keys: %w", err)
	}
	k.cfg.Log.InfoContext(ctx, "retired signing keys deleted", "kids", old)
	return k.Load(ctx)
}

// retention is how long a key stays published after its successor
// activated: a replica may sign with it until it rereads the keys, and its
// last tokens live AccessTokenTTL.
func (k *Keyring) retention() time.Duration {
	return k.cfg.Reload + k.cfg.AccessTokenTTL + retentionSlack
}

// published reports whether k.keys[i] belongs in the JWKS at now: the last
// key always; any other until its successor has been active for retention.
// Callers hold k.mu.
func (k *Keyring) published(i int, now time.Time) bool {
	return i == len(k.keys)-1 || now.Before(k.keys[i+1].ActivatesAt.Add(k.retention()))
}

// Active returns the key that signs at now: the last one activated.
func (k *Keyring) Active(now time.Time) (Key, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for i := len(k.keys) - 1; i >= 0; i-- {
		if !k.keys[i].ActivatesAt.After(now) {
			return k.keys[i], true
		}
	}
	return Key{}, false
}

// Published returns the keys of the JWKS at now.
func (k *Keyring) Published(now time.Time) []Key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []Key
	for i, key := range k.keys {
		if k.published(i, now) {
			out = append(out, key)
		}
	}
	return out
}

// Sign implements identity.Signer: an EdDSA JWT with the active key's kid
// and the claims sub, role, iss, aud, exp, iat, nbf and jti.
func (k *Keyring) Sign(_ context.Context, c identity.AccessClaims) (string, error) {
	key, ok := k.Active(k.cfg.Now())
	if !ok {
		return "", errors.New("keys: no active signing key")
	}
	return key.SignClaims(jwt.MapClaims{
		"sub":  c.UserID.String(),
		"role": string(c.Role),
		"iss":  k.cfg.Issuer,
		"aud":  k.cfg.Audience,
		"exp":  c.ExpiresAt.Unix(),
		"iat":  c.IssuedAt.Unix(),
		"nbf":  c.IssuedAt.Unix(),
		"jti":  c.ID,
		"gen":  c.Generation,
	})
}

// SignClaims signs any claims with key under its kid. The service signs
// through Keyring.Sign; tests use this to forge tokens that only the
// claims make invalid (expired, wrong issuer...).
func (key Key) SignClaims(claims jwt.Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = key.ID
	raw, err := tok.SignedString(key.private)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return raw, nil
}

// JWK is one public key of the JWKS (RFC 8037, OKP / Ed25519).
type JWK struct {
	KeyType   string `json:"kty"`
	Curve     string `json:"crv"`
	X         string `json:"x"`
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
	Use       string `json:"use"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the key set published at now.
func (k *Keyring) JWKS(now time.Time) JWKS {
	set := JWKS{Keys: []JWK{}}
	for _, key := range k.Published(now) {
		set.Keys = append(set.Keys, JWK{KeyType: "OKP", Curve: "Ed25519",
			X: base64.RawURLEncoding.EncodeToString(key.Public), KeyID: key.ID, Algorithm: Algorithm, Use: "sig"})
	}
	return set
}

// Thumbprint is the RFC 7638 thumbprint of an Ed25519 public key (RFC 8037
// §2: members crv, kty, x in lexicographic order).
func Thumbprint(pub ed25519.PublicKey) string {
	canonical, _ := json.Marshal(struct {
		Crv string `json:"crv"`
		Kty string `json:"kty"`
		X   string `json:"x"`
	}{"Ed25519", "OKP", base64.RawURLEncoding.EncodeToString(pub)})
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newKey(priv ed25519.PrivateKey, source string, now time.Time) Key {
	pub := priv.Public().(ed25519.PublicKey)
	return Key{ID: Thumbprint(pub), Public: pub, private: priv, Source: source, CreatedAt: now, ActivatesAt: now}
}

func generate(now time.Time) (Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("keys: generate: %w", err)
	}
	return newKey(priv, SourceGenerated, now), nil
}
