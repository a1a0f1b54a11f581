package auth_test

import (
	"testing"

	"github.com/shop-oss/shop/pkg/auth"
	"github.com/shop-oss/shop/pkg/auth/authtest"
)

// BenchmarkVerify measures Verify on a valid token whose key is fetched:
// "cached" is the default configuration, where a client's repeated token
// skips the signature check; "uncached" verifies the signature every time
// (a token's first request). Verifications per second per core =
// 1e9 / (ns/op) / GOMAXPROCS.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []struct {
		name string
		opts []authtest.SignOption
	}{{"EdDSA", nil}, {"ES256", []authtest.SignOption{authtest.ES256()}}} {
		for _, cache := range []struct {
			name string
			size int
		}{{"cached", 0}, {"uncached", -1}} {
			b.Run(alg.name+"/"+cache.name, func(b *testing.B) {
				iss := authtest.NewIssuer(b)
				cfg := iss.Config()
				cfg.CacheSize = cache.size
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
