package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The launcher's interface, as the browser tests use it: one line
// "ready URL" on stdout once the shop answers there (demo data loaded with
// -seed), and a clean stop of everything on SIGTERM.
func TestLauncherPrintsReadyAndStopsOnSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "stackrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-seed", "-log-level", "warn", "-env", "identity:SHOP_IDENTITY_BCRYPT_COST=4")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()

	var base string
	select {
	case line, ok := <-lines:
		var found bool
		base, found = strings.CutPrefix(line, "ready ")
		if !ok || !found {
			t.Fatalf("first line %q, want 'ready URL'; stderr:\n%s", line, stderr.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("no ready line within 5 minutes; stderr:\n%s", stderr.String())
	}
	res, err := http.Get(base + "/api/v1/products")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"sku"`) {
		t.Errorf("GET /api/v1/products: %d %.200s, want the demo catalog", res.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if line, ok := <-lines; ok {
		t.Errorf("more on stdout: %q", line)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("still running 60 s after SIGTERM; stderr:\n%s", stderr.String())
	}
	u, _ := url.Parse(base)
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("the gateway still listens on %s", u.Host)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Logf("dial %s after the stop: %v", u.Host, err)
	}
	// Every service it started is gone too: their addresses are on stderr.
	for _, line := range strings.Split(stderr.String(), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.HasPrefix(f[2], "http://127.0.0.1:") {
			host := strings.TrimPrefix(f[2], "http://")
			if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still listens on %s", f[1], host)
			}
		}
	}
}

// syncBuffer is a strings.Builder that the process's stderr copier and the
// test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
