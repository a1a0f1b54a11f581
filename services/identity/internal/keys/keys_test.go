package keys_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/shop-oss/shop/pkg/database"
	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/identity/internal/identity"
	"github.com/shop-oss/shop/services/identity/internal/identitydb"
	"github.com/shop-oss/shop/services/identity/internal/keys"
	"github.com/shop-oss/shop/services/identity/migrations"
)

// clock is a settable time source shared by the keyrings of a test.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newDB(t *testing.T) *gorm.DB {
	t.Helper()
	db, dsn := testkit.Postgres(t)
	if err := database.Migrate(context.Background(), dsn, migrations.FS, "schema_migrations"); err != nil {
		t.Fatal(err)
	}
	return db
}

func config(c *clock) keys.Config {
	return keys.Config{Issuer: "shop-identity", Audience: "shop", AccessTokenTTL: 15 * time.Minute,
		PublishDelay: time.Minute, Reload: 30 * time.Second, Now: c.Now}
}

func newRing(t *testing.T, db *gorm.DB, cfg keys.Config) *keys.Keyring {
	t.Helper()
	k, err := keys.New(context.Background(), identitydb.New(db, nil), cfg)
	if err != nil {
		t.Fatalf("keys.New: %v", err)
	}
	return k
}

func kids(ks []keys.Key) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}

func countKeys(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT count(*) FROM signing_keys").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Replicas starting together on an empty database create one key, and all
// sign with it.
func TestFirstStartCreatesOneSharedKey(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	rings := make([]*keys.Keyring, 4)
	var wg sync.WaitGroup
	for i := range rings {
		wg.Go(func() { rings[i] = newRing(t, db, config(c)) })
	}
	wg.Wait()
	if n := countKeys(t, db); n != 1 {
		t.Fatalf("%d keys after a concurrent first start, want 1", n)
	}
	first, ok := rings[0].Active(c.Now())
	if !ok {
		t.Fatal("no active key")
	}
	for i, r := range rings {
		if k, _ := r.Active(c.Now()); k.ID != first.ID {
			t.Errorf("replica %d signs with %s, replica 0 with %s", i, k.ID, first.ID)
		}
	}
	if first.ID != keys.Thumbprint(first.Public) {
		t.Error("kid is not the key's thumbprint")
	}
}

// A rotation publishes the new key at once, signs with it after the
// publish delay, and keeps the old key published until its tokens expired.
func TestRotationLifecycle(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	cfg := config(c)
	ring := newRing(t, db, cfg)
	other := newRing(t, db, cfg) // a second replica
	old, _ := ring.Active(c.Now())

	next, err := ring.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*keys.Keyring{"rotating replica": ring, "other replica": other} {
		if got := kids(r.Published(c.Now())); len(got) != 2 {
			t.Errorf("%s publishes %v, want old and pending key", name, got)
		}
		if k, _ := r.Active(c.Now()); k.ID != old.ID {
			t.Errorf("%s signs with %s before the publish delay, want the old key", name, k.ID)
		}
	}

	c.Advance(cfg.PublishDelay)
	for name, r := range map[string]*keys.Keyring{"rotating replica": ring, "other replica": other} {
		if k, _ := r.Active(c.Now()); k.ID != next.ID {
			t.Errorf("%s signs with %s after the publish delay, want %s", name, k.ID, next.ID)
		}
	}

	// Old tokens live AccessTokenTTL: the old key stays until then (plus
	// the reload period and slack), then disappears.
	c.Advance(cfg.AccessTokenTTL)
	if got := kids(ring.Published(c.Now())); len(got) != 2 {
		t.Errorf("published %v at the old tokens' expiry, want both", got)
	}
	c.Advance(cfg.Reload + 2*time.Minute)
	if got := kids(ring.Published(c.Now())); len(got) != 1 || got[0] != next.ID {
		t.Errorf("published %v after retention, want only %s", got, next.ID)
	}
}

// Keys that are no longer published are deleted by the maintenance loop.
func TestRunDeletesRetiredKeys(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	cfg := config(c)
	cfg.Reload = 10 * time.Millisecond
	cfg.PublishDelay = 0
	ring := newRing(t, db, cfg)
	if _, err := ring.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ring.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for countKeys(t, db) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d keys, want the retired one deleted", countKeys(t, db))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Automatic rotation: a replica finds the active key older than Rotation
// and adds a successor; replicas finding it due together add one.
func TestAutomaticRotation(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	cfg := config(c)
	cfg.Rotation = 24 * time.Hour
	cfg.Reload = 5 * time.Millisecond
	a, b := newRing(t, db, cfg), newRing(t, db, cfg)
	c.Advance(cfg.Rotation)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range []*keys.Keyring{a, b} {
		wg.Go(func() { _ = r.Run(ctx) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for countKeys(t, db) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // several more ticks: no second rotation
	cancel()
	wg.Wait()
	if n := countKeys(t, db); n != 2 {
		t.Fatalf("%d keys, want exactly one rotation", n)
	}
}

// With a key-encryption key, the stored private key is sealed; without
// (or with another) the service refuses to start rather than sign with
// garbage.
func TestPrivateKeysSealedAtRest(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	cfg := config(c)
	cfg.EncryptionKey = make([]byte, 32)
	_, _ = rand.Read(cfg.EncryptionKey)
	ring := newRing(t, db, cfg)
	active, _ := ring.Active(c.Now())

	var row struct {
		PrivateKey []byte
		Encryption string
	}
	if err := db.Raw("SELECT private_key, encryption FROM signing_keys").Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.Encryption != keys.EncryptionAESGCM256 || len(row.PrivateKey) <= ed25519.SeedSize {
		t.Fatalf("stored %s key of %d bytes, want sealed", row.Encryption, len(row.PrivateKey))
	}
	// The same KEK opens it: a second replica signs with the same key.
	if k, _ := newRing(t, db, cfg).Active(c.Now()); k.ID != active.ID {
		t.Errorf("second replica's key %s, want %s", k.ID, active.ID)
	}
	for name, kek := range map[string][]byte{"no KEK": nil, "another KEK": make([]byte, 32)} {
		bad := cfg
		bad.EncryptionKey = kek
		if _, err := keys.New(context.Background(), identitydb.New(db, nil), bad); !errors.Is(err, keys.ErrSealedKeyWithoutKEK) {
			t.Errorf("%s: got %v, want ErrSealedKeyWithoutKEK", name, err)
		}
	}
}

// A key file is imported and signs; with keys already present it is
// published first and activates after the publish delay; rotating it by
// command is refused.
func TestKeyFile(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	generated := newRing(t, db, config(c))
	old, _ := generated.Active(c.Now())

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pemBytes, err := keys.MarshalPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := keys.ParsePrivateKeyPEM(pemBytes)
	if err != nil || !parsed.Equal(priv) {
		t.Fatalf("PEM round trip: %v", err)
	}
	cfg := config(c)
	cfg.FileKey = parsed
	ring := newRing(t, db, cfg)
	if k, _ := ring.Active(c.Now()); k.ID != old.ID {
		t.Errorf("file key active before the publish delay")
	}
	c.Advance(cfg.PublishDelay)
	k, _ := ring.Active(c.Now())
	if k.ID != keys.Thumbprint(priv.Public().(ed25519.PublicKey)) || k.Source != keys.SourceFile {
		t.Errorf("active key %s (%s), want the file's", k.ID, k.Source)
	}
	newRing(t, db, cfg) // a restart imports nothing twice
	if n := countKeys(t, db); n != 2 {
		t.Errorf("%d keys, want 2", n)
	}
	if _, err := ring.Rotate(context.Background()); !errors.Is(err, keys.ErrRotationWithKeyFile) {
		t.Errorf("Rotate with a key file: %v", err)
	}
}

// Sign makes the token the verifiers expect: EdDSA, kid, all claims.
func TestSignClaims(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	c := newClock()
	ring := newRing(t, db, config(c))
	active, _ := ring.Active(c.Now())
	user := uuid.Must(uuid.NewV7())
	now := c.Now()
	raw, err := ring.Sign(context.Background(), identity.AccessClaims{UserID: user, Role: identity.RoleSeller,
		ID: "jti-1", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return active.Public, nil })
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["kid"] != active.ID {
		t.Errorf("kid = %v", tok.Header["kid"])
	}
	want := map[string]any{"sub": user.String(), "role": "SELLER", "iss": "shop-identity", "aud": "shop",
		"jti": "jti-1", "iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(15 * time.Minute).Unix())}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	set := ring.JWKS(c.Now())
	if len(set.Keys) != 1 || set.Keys[0].KeyID != active.ID || set.Keys[0].KeyType != "OKP" || set.Keys[0].Algorithm != "EdDSA" {
		t.Errorf("JWKS = %+v", set)
	}
}
