package keys_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/services/identity/internal/identity"
	"github.com/shop-oss/shop/services/identity/internal/keys"
)

// memKeys is an in-memory keys.Store, for benchmarks that need no database.
type memKeys struct {
	mu   sync.Mutex
	recs []keys.Record
}

func (m *memKeys) Keys(context.Context) ([]keys.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]keys.Record(nil), m.recs...), nil
}

func (m *memKeys) Exclusive(_ context.Context, fn func(keys.TxStore) error) error { return fn(m) }

func (m *memKeys) InsertKey(_ context.Context, r keys.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

func (m *memKeys) DeleteKeys(context.Context, []string) error { return nil }

func benchRing(b *testing.B) (*keys.Keyring, string) {
	b.Helper()
	ring, err := keys.New(context.Background(), &memKeys{}, keys.Config{Issuer: auth.DefaultIssuer, Audience: auth.DefaultAudience,
		AccessTokenTTL: 15 * time.Minute, Reload: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tok, err := ring.Sign(context.Background(), identity.AccessClaims{UserID: uuid.Must(uuid.NewV7()), Role: identity.RoleCustomer,
		ID: uuid.NewString(), IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	return ring, tok
}

// BenchmarkSign is the cost of issuing one access token (part of every
// login and refresh).
func BenchmarkSign(b *testing.B) {
	ring, _ := benchRing(b)
	claims := identity.AccessClaims{UserID: uuid.Must(uuid.NewV7()), Role: identity.RoleCustomer, ID: uuid.NewString(),
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(15 * time.Minute)}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ring.Sign(context.Background(), claims); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyMiddleware is what every service pays per request for an
// identity token: pkg/auth's gin middleware against this keyring's JWKS,
// with the verified-token cache (a client's repeated token) and without
// (a token's first request). Verifications/s per core = 1e9 / (ns/op) /
// GOMAXPROCS; scripts/bench/identity prints it beside raw ed25519.Verify.
func BenchmarkVerifyMiddleware(b *testing.B) {
	ring, tok := benchRing(b)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(ring.JWKS(time.Now()))
	}))
	defer jwks.Close()
	gin.SetMode(gin.ReleaseMode)
	for _, c := range []struct {
		name string
		size int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(c.name, func(b *testing.B) {
			v, err := auth.NewVerifier(b.Context(), auth.Config{JWKSURL: jwks.URL, CacheSize: c.size}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			r := gin.New()
			r.GET("/x", auth.Authenticate(v), func(c *gin.Context) { c.Status(http.StatusNoContent) })
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "/x", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				for pb.Next() {
					w := httptest.NewRecorder()
					r.ServeHTTP(w, req)
					if w.Code != http.StatusNoContent {
						b.Errorf("status %d", w.Code)
						return
					}
				}
			})
		})
	}
}
