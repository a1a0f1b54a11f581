package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
)

// BenchmarkVerify measures Verify on a valid token whose key is fetched:
// "cached" is the default configuration, where a client's repeated token
// skips the signature check; "uncached" verifies the signature every time
// (a token's first request); "+revocations" checks a revocation list of
// 1,000 users that holds the token's user (a hit, at its generation), the
// check's costliest case. Verifications per second per core =
// 1e9 / (ns/op) / GOMAXPROCS.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []struct {
		name string
		opts []authtest.SignOption
	}{{"EdDSA", nil}, {"ES256", []authtest.SignOption{authtest.ES256()}}} {
		for _, cache := range []struct {
			name    string
			size    int
			revoked bool
		}{{"cached", 0, false}, {"cached+revocations", 0, true}, {"uncached", -1, false}, {"uncached+revocations", -1, true}} {
			b.Run(alg.name+"/"+cache.name, func(b *testing.B) {
				iss := authtest.NewIssuer(b)
				cfg := iss.Config()
				cfg.CacheSize = cache.size
				if cache.revoked {
					cfg.Revocations = revocationsOf(1000, alice)
				}
				v := newVerifier(b, cfg, nil)
				raw := iss.Sign(b, iss.Claims(alice, auth.RoleCustomer), alg.opts...)
				if _, err := v.Verify(b.Context(), raw); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := v.Verify(b.Context(), raw); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// revocationsOf is a list of n users, user among them at generation 0
// (its tokens stay accepted).
func revocationsOf(n int, user string) *auth.Revocations {
	until := time.Now().Add(time.Hour)
	entries := []auth.Revocation{{UserID: user, Generation: 0, Until: until}}
	for i := 1; i < n; i++ {
		entries = append(entries, auth.Revocation{UserID: fmt.Sprintf("0190f3c4-8a7e-7b1c-9d2e-%012d", i), Generation: 1, Until: until})
	}
	list := auth.NewRevocations()
	list.Apply(time.Now(), entries...)
	return list
}

// BenchmarkRevoked measures the revocation check alone, as Verify makes it
// on every call: an empty list (the usual case), and a list of 1,000
// users that holds the caller (a lookup that hits).
func BenchmarkRevoked(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			list := auth.NewRevocations()
			if n > 0 {
				list = revocationsOf(n, alice)
			}
			p := auth.Principal{UserID: alice, Role: auth.RoleCustomer}
			b.ReportAllocs()
			for b.Loop() {
				if list.Revoked(p) {
					b.Fatal("revoked")
				}
			}
		})
	}
}
