package loginthrottle_test

import (
	"context"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/identity/internal/loginthrottle"
)

func TestCountsPerAccountAndClient(t *testing.T) {
	t.Parallel()
	rds := testkit.Redis(t)
	th := loginthrottle.New(rds.Client, 15*time.Minute, testkit.Logger(t))
	ctx := context.Background()
	for range 3 {
		if err := th.Failed(ctx, "acct-a", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.Failed(ctx, "acct-b", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	p, err := th.Pressure(ctx, "acct-a", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if p.AccountFailures != 3 || p.ClientFailures != 4 {
		t.Errorf("pressure %+v, want 3 account and 4 client failures", p)
	}
	if p.AccountRetryAfter <= 14*time.Minute || p.AccountRetryAfter > 15*time.Minute || p.ClientRetryAfter <= 14*time.Minute {
		t.Errorf("retry after %s / %s, want the rest of the window", p.AccountRetryAfter, p.ClientRetryAfter)
	}
	// The window starts at the first failure: later failures do not extend it.
	if ttl := rds.Client.PTTL(ctx, "identity:login-failures:account:acct-a").Val(); ttl > 15*time.Minute {
		t.Errorf("TTL %s", ttl)
	}

	// A success clears the account, not the client.
	if err := th.Succeeded(ctx, "acct-a"); err != nil {
		t.Fatal(err)
	}
	p, _ = th.Pressure(ctx, "acct-a", "192.0.2.1")
	if p.AccountFailures != 0 || p.ClientFailures != 4 {
		t.Errorf("after success %+v, want 0 account and 4 client failures", p)
	}
	if p, _ := th.Pressure(ctx, "acct-new", "192.0.2.9"); p.AccountFailures != 0 || p.ClientFailures != 0 || p.AccountRetryAfter != 0 {
		t.Errorf("fresh keys %+v", p)
	}
}

// Without Redis the throttle fails open: no failures reported, an error
// returned for the caller to ignore.
func TestFailsOpen(t *testing.T) {
	t.Parallel()
	rds := testkit.Redis(t)
	th := loginthrottle.New(rds.Client, time.Minute, testkit.Logger(t))
	ctx := context.Background()
	_ = th.Failed(ctx, "acct", "ip")
	rds.Stop()
	p, err := th.Pressure(ctx, "acct", "ip")
	if err == nil || p.AccountFailures != 0 || p.ClientFailures != 0 {
		t.Errorf("Redis down: %+v, %v; want no pressure and an error", p, err)
	}
	if th.Failed(ctx, "acct", "ip") == nil || th.Succeeded(ctx, "acct") == nil {
		t.Error("Redis down: Failed/Succeeded report no error")
	}
}
