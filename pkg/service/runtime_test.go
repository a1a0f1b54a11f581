package service

import (
	"runtime/debug"
	"testing"
)

func TestTuneRuntimeSetsTheGCTargetUnlessGOGCIsSet(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	t.Setenv("GOGC", "")
	TuneRuntime()
	if got := debug.SetGCPercent(100); got != DefaultGCPercent {
		t.Fatalf("GOGC unset: GC percent %d, want %d", got, DefaultGCPercent)
	}
	t.Setenv("GOGC", "150")
	TuneRuntime()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set: TuneRuntime changed the GC percent to %d", got)
	}
}
