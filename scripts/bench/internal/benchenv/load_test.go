package benchenv

import (
	"context"
	"errors"
	"math/rand/v2"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsSuccessesRefusalsAndErrorsApart(t *testing.T) {
	var calls atomic.Int64
	errBoom := errors.New("boom")
	op := func(context.Context, *rand.Rand) (time.Duration, error) {
		time.Sleep(time.Millisecond)
		switch calls.Add(1) % 4 {
		case 0:
			return 0, ErrRejected
		case 1:
			return 0, errBoom
		default:
			return time.Duration(calls.Load()), nil
		}
	}
	res := Run(context.Background(), 3, 0, 100*time.Millisecond, op)
	n := int(calls.Load())
	if got := len(res.Lat) + res.Rejected + res.Errors; got != n {
		t.Fatalf("%d operations counted, %d made", got, n)
	}
	if res.Rejected == 0 || res.Errors == 0 || len(res.Lat) < res.Rejected {
		t.Errorf("successes %d, refusals %d, errors %d: want all three, successes the most", len(res.Lat), res.Rejected, res.Errors)
	}
	if !errors.Is(res.LastErr, errBoom) {
		t.Errorf("last error %v, want boom", res.LastErr)
	}
	if res.Took < 100*time.Millisecond || res.Rate() <= 0 {
		t.Errorf("took %s, rate %.0f/s", res.Took, res.Rate())
	}
	for i := 1; i < len(res.Lat); i++ {
		if res.Lat[i] < res.Lat[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
	if res.P(0) != res.Lat[0] || res.P(100) != res.Lat[len(res.Lat)-1] {
		t.Errorf("P(0) %s, P(100) %s; want the least and the greatest", res.P(0), res.P(100))
	}
}

func TestProcCPUReadsTheProcessTimes(t *testing.T) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &Proc{cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for p.CPU() < 100*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("a busy loop shows %s of CPU after 10s", p.CPU())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
