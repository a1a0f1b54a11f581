package testkit

import (
	"testing"

	"github.com/shop-oss/shop/pkg/localbroker"
)

// Broker starts an in-process Kafka-protocol broker on a free port with a data
// directory in the test's temp dir, stopped when the test ends. Stop and
// Start restart it on the same port and data, as a broker outage would.
func Broker(t testing.TB) *localbroker.Broker {
	t.Helper()
	b, err := localbroker.Start(localbroker.Config{DataDir: t.TempDir(), Partitions: 6})
	if err != nil {
		t.Fatalf("start test broker: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}
