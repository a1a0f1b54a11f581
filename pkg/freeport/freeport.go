// Package freeport finds a TCP port on 127.0.0.1 for a server that another
// process (a redis-server, a service under test) will bind a moment later.
//
// The port is taken below the kernel's ephemeral range. A port from that
// range, which is what binding port 0 gives, can be taken in between by any
// outgoing connection, and tests running beside each other make many: the
// e2e suite saw "bind: address already in use" that way.
package freeport

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Get returns a port that was free a moment ago: a random one below the
// ephemeral range when the kernel says where that range starts, else one
// the kernel picks.
func Get() (int, error) {
	if low := ephemeralLow(); low > 12_000 {
		for range 50 {
			port := low - 10_000 + rand.IntN(10_000)
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				_ = ln.Close()
				return port, nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux;
// 0 when unknown).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	low, _ := strconv.Atoi(f[0])
	return low
}
