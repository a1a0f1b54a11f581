package main

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// The sample finds this process under its own name, and a second sample
// after burning CPU for a while says so.
func TestCPUSamplesCountThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	a, err := sampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	self, ok := a.procs[os.Getpid()]
	if !ok || self.comm == "" {
		t.Fatalf("this process (%d) is not in the sample: %+v", os.Getpid(), self)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		x++
	}
	_ = x
	b, err := sampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	use := a.until(b)
	if got := use.byProgram[program(self.comm)]; got < 100*time.Millisecond {
		t.Fatalf("300 ms of spinning counted as %s for %q", got, self.comm)
	}
	if use.busy < 100*time.Millisecond {
		t.Fatalf("machine busy %s over 300 ms of spinning", use.busy)
	}
	if s := use.perOrder(10); s == "" {
		t.Fatal("empty report")
	}
}

func TestProgramGroups(t *testing.T) {
	for comm, want := range map[string]string{
		"postgres": "postgres", "payment": "payment", "redis-server": "redis", "loadgen": "loadgen", "nginx": "gateway",
		"kworker/u8:3-flush-254:0": "other",
	} {
		if got := program(comm); got != want {
			t.Errorf("program(%q) = %q, want %q", comm, got, want)
		}
	}
}

func TestWALPerOrder(t *testing.T) {
	a := walStats{bytes: 1 << 20, records: 500, syncs: 10}
	b := walStats{bytes: 1<<20 + 10*16*1024, records: 500 + 10*150, syncs: 26}
	if got, want := a.perOrder(b, 10), "16.0 KB written in 150 records, 1.60 flushes to disk"; got != want {
		t.Errorf("perOrder = %q, want %q", got, want)
	}
	if got := a.perOrder(b, 0); got != "no orders" {
		t.Errorf("perOrder with no orders = %q", got)
	}
}
