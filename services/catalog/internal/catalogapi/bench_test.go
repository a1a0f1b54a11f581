package catalogapi_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkGetProduct reads one product through HTTP, cached in Redis and
// not; scripts/bench/catalog (make bench-catalog) measures the same under
// load, beside baselines measured in the same run.
func BenchmarkGetProduct(b *testing.B) {
	for _, tc := range []struct{ name, ttl string }{{"cached", "60s"}, {"uncached", "0s"}} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b, "SHOP_CATALOG_CACHE_TTL", tc.ttl, "SHOP_RATE_LIMIT_PER_MINUTE", "0", "SHOP_LOG_LEVEL", "warn")
			url := e.base + "/api/v1/products/" + e.create(e.seller).ID
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
		})
	}
}
