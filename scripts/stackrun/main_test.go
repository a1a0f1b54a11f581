package main

import (
	"bufio"
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
// -seed), and a clean stop of everything on SIGTERM, or when the process
// that started it dies (a SIGTERM to `go run` kills only the go command).
func TestLauncher(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "stackrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	args := []string{"-log-level", "warn", "-env", "identity:SHOP_IDENTITY_BCRYPT_COST=4"}

	t.Run("ready, seeded, stopped by SIGTERM", func(t *testing.T) {
		l := launch(t, exec.Command(bin, append(args, "-seed")...))
		res, err := http.Get(l.base + "/api/v1/products")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"sku"`) {
			t.Errorf("GET /api/v1/products: %d %.200s, want the demo catalog", res.StatusCode, body)
		}
		if err := l.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := l.waitExit(t); err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, l.stderr.String())
		}
		l.stopped(t)
	})

	t.Run("stopped when its parent dies", func(t *testing.T) {
		// sh stands for `go run`: it starts the launcher and is killed.
		l := launch(t, exec.Command("sh", append([]string{"-c", `"$0" "$@" & wait`, bin}, args...)...))
		if err := l.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = l.waitExit(t) // sh's own status: killed
		// The launcher holds stdout until it has stopped its stack.
		if line, ok := <-l.lines; ok {
			t.Errorf("more on stdout: %q", line)
		}
		l.stopped(t)
	})
}

// launched is a started launcher.
type launched struct {
	cmd    *exec.Cmd
	base   string
	lines  chan string
	exited chan error
	stderr *syncBuffer
}

// launch starts cmd and waits for its ready line.
func launch(t *testing.T, cmd *exec.Cmd) *launched {
	t.Helper()
	l := &launched{cmd: cmd, lines: make(chan string, 4), exited: make(chan error, 1), stderr: &syncBuffer{}}
	cmd.Stderr = l.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
		close(l.lines)
		l.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case line, ok := <-l.lines:
		var found bool
		l.base, found = strings.CutPrefix(line, "ready ")
		if !ok || !found {
			t.Fatalf("first line %q, want 'ready URL'; stderr:\n%s", line, l.stderr.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("no ready line within 5 minutes; stderr:\n%s", l.stderr.String())
	}
	return l
}

// waitExit waits for stdout to close and the process to end.
func (l *launched) waitExit(t *testing.T) error {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-l.lines:
			if ok {
				t.Errorf("more on stdout: %q", line)
			}
		case err := <-l.exited:
			return err
		case <-deadline:
			t.Fatalf("still running 60 s after the stop; stderr:\n%s", l.stderr.String())
		}
	}
}

// stopped checks that the launcher stopped cleanly and that nothing it
// started still listens: the gateway, and every service whose address it
// printed on stderr.
func (l *launched) stopped(t *testing.T) {
	t.Helper()
	out := l.stderr.String()
	if !strings.Contains(out, "stackrun: stopping") || strings.Contains(out, "shutdown:") {
		t.Errorf("no clean stop in stderr:\n%s", out)
	}
	u, _ := url.Parse(l.base)
	hosts := map[string]string{"gateway": u.Host}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.HasPrefix(f[2], "http://127.0.0.1:") {
			hosts[f[1]] = strings.TrimPrefix(f[2], "http://")
		}
	}
	if len(hosts) != 6 {
		t.Errorf("addresses on stderr: %v, want the gateway's and five services'", hosts)
	}
	for name, host := range hosts {
		if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listens on %s", name, host)
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
