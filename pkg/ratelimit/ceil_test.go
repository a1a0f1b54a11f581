package ratelimit

import (
	"testing"
	"time"
)

func TestCeilSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{
		-1: 0, 0: 0, time.Nanosecond: 1, 200 * time.Millisecond: 1, time.Second: 1,
		time.Second + time.Millisecond: 2, 19*time.Second + 999*time.Millisecond: 20,
	} {
		if got := ceilSeconds(d); got != want {
			t.Errorf("ceilSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}
