package main

import (
	"bytes"
	"testing"
	"time"
)

func TestCapacityPlotsDrawEveryFigure(t *testing.T) {
	steps := []step{
		{customers: 4, paid: 100, paidPerSec: 5, p50: 80 * time.Millisecond, p95: 150 * time.Millisecond, p99: 200 * time.Millisecond,
			cpu: cpuUse{byProgram: map[string]time.Duration{"order": time.Second, "postgres": 2 * time.Second}}},
		{customers: 8, paid: 180, paidPerSec: 9, p50: 90 * time.Millisecond, p95: 300 * time.Millisecond, p99: 1200 * time.Millisecond,
			cpu: cpuUse{byProgram: map[string]time.Duration{"order": 2 * time.Second, "postgres": 3 * time.Second}}},
	}
	out, err := capacityPlots(steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"throughput.png", "latency.png", "cpu.png"} {
		if !bytes.HasPrefix(out[name], []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG (%d bytes)", name, len(out[name]))
		}
	}
	if _, err := capacityPlots(nil); err == nil {
		t.Error("no steps drew plots")
	}
}
