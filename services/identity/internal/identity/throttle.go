package identity

import "time"

// ThrottlePolicy decides how repeated failed logins are slowed down and
// then refused. Nothing here locks an account: failures on an account slow
// every attempt on it down, but only the addresses that failed (and a
// client failing over many accounts) are refused, so an attacker cannot
// lock the real user out, and a correct password from an address that has
// not been failing always gets in.
type ThrottlePolicy struct {
	// MaxAddressFailures failed attempts on one account from one client
	// address (within the throttle's window) refuse that address's
	// attempts on that account until the window ends; a successful login
	// from the address clears them.
	MaxAddressFailures int
	// MaxClientFailures failed attempts from one client address, over all
	// accounts, refuse its attempts on every account.
	MaxClientFailures int
	// SlowAfter failures on the account (from any address) or from the
	// client, each further attempt waits Slowdown, doubling per failure up
	// to MaxSlowdown, before its password is checked.
	SlowAfter   int
	Slowdown    time.Duration
	MaxSlowdown time.Duration
}

// decide returns, for an attempt under pressure p, how long to wait before
// checking the password, or that the attempt is refused and for how long.
// The wait applies to every attempt (successful or not) so that its length
// does not tell an impatient attacker the outcome.
func (tp ThrottlePolicy) decide(p LoginPressure) (delay time.Duration, refused *ThrottledError) {
	var retry time.Duration
	if tp.MaxAddressFailures > 0 && p.AddressFailures >= tp.MaxAddressFailures {
		retry = max(retry, p.AddressRetryAfter, time.Second)
	}
	if tp.MaxClientFailures > 0 && p.ClientFailures >= tp.MaxClientFailures {
		retry = max(retry, p.ClientRetryAfter, time.Second)
	}
	if retry > 0 {
		return 0, &ThrottledError{RetryAfter: retry}
	}
	n := max(p.AccountFailures, p.ClientFailures) - tp.SlowAfter
	if n < 0 || tp.Slowdown <= 0 {
		return 0, nil
	}
	delay = tp.Slowdown
	for i := 0; i < n && delay < tp.MaxSlowdown; i++ {
		delay *= 2
	}
	if tp.MaxSlowdown > 0 {
		delay = min(delay, tp.MaxSlowdown)
	}
	return delay, nil
}
