package loginthrottle_test

import (
	"context"
	"testing"
	"time"

	"github.com/shop-oss/shop/pkg/testkit"
	"github.com/shop-oss/shop/services/identity/internal/identity"
	"github.com/shop-oss/shop/services/identity/internal/loginthrottle"
)

func TestCountsPerAccountClientAndPair(t *testing.T) {
	t.Parallel()
	rds := testkit.Redis(t)
	th := loginthrottle.New(rds.Client, 15*time.Minute, testkit.Logger(t))
	ctx := context.Background()
	for range 3 {
		if err := th.Failed(ctx, "acct-a", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range [][2]string{{"acct-b", "192.0.2.1"}, {"acct-a", "192.0.2.2"}} {
		if err := th.Failed(ctx, f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	p, err := th.Pressure(ctx, "acct-a", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if p.AccountFailures != 4 || p.ClientFailures != 4 || p.AddressFailures != 3 {
		t.Errorf("pressure %+v, want 4 account, 4 client and 3 pair failures", p)
	}
	if p.AddressRetryAfter <= 14*time.Minute || p.AddressRetryAfter > 15*time.Minute || p.ClientRetryAfter <= 14*time.Minute {
		t.Errorf("retry after %s / %s, want the rest of the window", p.AddressRetryAfter, p.ClientRetryAfter)
	}
	// The window starts at the first failure: later failures do not extend it.
	if ttl := rds.Client.PTTL(ctx, "identity:login-failures:account:acct-a").Val(); ttl > 15*time.Minute {
		t.Errorf("TTL %s", ttl)
	}

	// A success clears the account and the pair, not the client.
	if err := th.Succeeded(ctx, "acct-a", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	p, _ = th.Pressure(ctx, "acct-a", "192.0.2.1")
	if p.AccountFailures != 0 || p.ClientFailures != 4 || p.AddressFailures != 0 {
		t.Errorf("after success %+v, want 0 account, 4 client and 0 pair failures", p)
	}
	if p, _ := th.Pressure(ctx, "acct-new", "192.0.2.9"); p != (identity.LoginPressure{}) {
		t.Errorf("fresh keys %+v", p)
	}
}

// Without Redis the throttle counts in process: failures still add up (and
// refuse, in the domain's policy), with the error returned for the caller
// to ignore; the counts kept during the outage still count when Redis is
// back.
func TestCountsInProcessWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	rds := testkit.Redis(t)
	th := loginthrottle.New(rds.Client, time.Minute, testkit.Logger(t))
	ctx := context.Background()
	if err := th.Failed(ctx, "acct", "ip"); err != nil {
		t.Fatal(err)
	}
	rds.Stop()
	for range 5 {
		if err := th.Failed(ctx, "acct", "ip"); err == nil {
			t.Fatal("Redis down: Failed reports no error")
		}
	}
	p, err := th.Pressure(ctx, "acct", "ip")
	if err == nil || p.AccountFailures != 5 || p.ClientFailures != 5 || p.AddressFailures != 5 || p.AddressRetryAfter <= 0 {
		t.Errorf("Redis down: %+v, %v; want the 5 failures counted here, and an error", p, err)
	}
	rds.Start()
	time.Sleep(loginthrottle.CoolDown + 100*time.Millisecond)
	p, err = th.Pressure(ctx, "acct", "ip")
	if err != nil || p.AddressFailures != 5 {
		t.Errorf("Redis back: %+v, %v; want the in-process count of the outage", p, err)
	}
	if err := th.Succeeded(ctx, "acct", "ip"); err != nil {
		t.Fatal(err)
	}
	if p, _ := th.Pressure(ctx, "acct", "ip"); p.AddressFailures != 0 || p.AccountFailures != 0 {
		t.Errorf("after a success %+v, want the account and pair cleared", p)
	}
}
