package identity

import "time"

// ThrottlePolicy decides how repeated failed logins are slowed down and
// then refused.
type ThrottlePolicy struct {
	// MaxAccountFailures failed attempts on one account (within the
	// throttle's window) refuse further attempts on it until the window
	// ends; a successful login clears them.
	MaxAccountFailures int
	// MaxClientFailures does the same per client IP, over all accounts.
	MaxClientFailures int
	// SlowAfter failures, each further attempt waits Slowdown, doubling
	// per failure up to MaxSlowdown, before its password is checked.
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
	if tp.MaxAccountFailures > 0 && p.AccountFailures >= tp.MaxAccountFailures {
		retry = max(retry, p.AccountRetryAfter, time.Second)
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
