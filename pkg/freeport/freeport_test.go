package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPortsComeFromBelowTheEphemeralRangeAndAreFree(t *testing.T) {
	low := ephemeralLow()
	if low == 0 {
		t.Fatal("no ephemeral range read from /proc (these machines are Linux)")
	}
	for range 20 {
		port, err := Get()
		if err != nil {
			t.Fatal(err)
		}
		if port >= low || port < low-10_000 {
			t.Fatalf("port %d, want one in [%d, %d)", port, low-10_000, low)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("port %d is not free: %v", port, err)
		}
		_ = ln.Close()
	}
}

func TestAPortInUseIsNotReturned(t *testing.T) {
	// Hold a port and check it is never handed out; 200 draws from 10,000
	// ports would hit a fixed one rarely, so hold many.
	var held []net.Listener
	taken := map[int]bool{}
	low := ephemeralLow()
	for p := low - 10_000; p < low-10_000+2_000; p++ {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		held = append(held, ln)
		taken[p] = true
	}
	defer func() {
		for _, ln := range held {
			_ = ln.Close()
		}
	}()
	for range 200 {
		port, err := Get()
		if err != nil {
			t.Fatal(err)
		}
		if taken[port] {
			t.Fatalf("port %d is held here, yet returned", port)
		}
	}
}
