package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond every 20 ms until it holds, failing the test with
// what after timeout: for effects that land asynchronously (a consumer's
// commit, a relay's publish).
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
