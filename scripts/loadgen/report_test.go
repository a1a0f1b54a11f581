package main

import (
	"strings"
	"testing"
	"time"
)

// The target line is met only when the rate, the tail and every check are.
func TestTargetNeedsRateTailAndChecks(t *testing.T) {
	good := report{paidPerSec: 320, sagaP99: 180 * time.Millisecond}
	cases := []struct {
		name string
		r    report
		met  bool
	}{
		{"all met", good, true},
		{"rate just at the target", report{paidPerSec: 300, sagaP99: 499 * time.Millisecond}, true},
		{"too slow", report{paidPerSec: 299.4, sagaP99: 180 * time.Millisecond}, false},
		{"tail too long", report{paidPerSec: 320, sagaP99: 500 * time.Millisecond}, false},
		{"no order reached PAID", report{}, false},
		{"oversold", func() report { r := good; r.oversold = []string{"p"}; return r }(), false},
		{"charged twice", func() report { r := good; r.doubleCharged = 1; return r }(), false},
		{"money kept", func() report { r := good; r.unrefunded = 1; return r }(), false},
		{"paid without a capture", func() report { r := good; r.paidWithoutPayment = 1; return r }(), false},
		{"stuck", func() report { r := good; r.open = 1; return r }(), false},
	}
	for _, c := range cases {
		line := c.r.target()
		if got := strings.HasSuffix(line, ": met"); got != c.met {
			t.Errorf("%s: %q, want met=%t", c.name, line, c.met)
		}
	}
}
