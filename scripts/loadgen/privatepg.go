package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shop-oss/shop/pkg/freeport"
)

// privatePG is a PostgreSQL server of the fault suite's own, made with the
// installed initdb and postgres in a temporary directory: the suite restarts
// it, which it must not do to the machine's shared server (other people's
// tests use it).
type privatePG struct {
	dir, bin string
	port     int
	// cred runs the server as the postgres user when this is root.
	cred *syscall.Credential
	cmd  *exec.Cmd
	done chan struct{}
}

// pgBinDir finds the directory of initdb, postgres and pgbench: on PATH, or
// Debian's newest /usr/lib/postgresql/N/bin.
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("the postgres binary is not found (make deps installs PostgreSQL)")
}

func startPrivatePG(work string) (*privatePG, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	port, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	pg := &privatePG{dir: filepath.Join(work, "pg"), bin: bin, port: port}
	if err := os.MkdirAll(pg.dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, d := range []string{work, pg.dir} {
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	if out, err := pg.ctl(filepath.Join(bin, "initdb"), "-D", pg.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nmax_connections = 300\nfsync = on\n", port, pg.dir)
	f, err := os.OpenFile(filepath.Join(pg.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(conf)
	if err := errorsJoin(err, f.Close()); err != nil {
		return nil, err
	}
	return pg, pg.start()
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// ctl runs a PostgreSQL program (initdb), as the postgres user when this is
// root.
func (pg *privatePG) ctl(prog string, args ...string) (string, error) {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// start runs the server as a child of this process (not pg_ctl's daemon):
// if the suite dies, the server gets SIGINT (a fast shutdown) and goes too.
func (pg *privatePG) start() error {
	log, err := os.OpenFile(filepath.Join(pg.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own descriptor
	cmd := exec.Command(filepath.Join(pg.bin, "postgres"), "-D", pg.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT, Credential: pg.cred}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	pg.cmd, pg.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(pg.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, pg.adminURL())
		if err == nil {
			_ = conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-pg.done:
			return fmt.Errorf("postgres exited at start; see %s", filepath.Join(pg.dir, "server.log"))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 60s: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop stops the server: "fast" (SIGINT) rolls back open transactions and
// closes connections; "immediate" (SIGQUIT) is a crash (recovery from the
// WAL at the next start).
func (pg *privatePG) stop(mode string) error {
	if pg.cmd == nil {
		return nil
	}
	sig := syscall.SIGINT
	if mode == "immediate" {
		sig = syscall.SIGQUIT
	}
	_ = pg.cmd.Process.Signal(sig)
	select {
	case <-pg.done:
	case <-time.After(60 * time.Second):
		_ = pg.cmd.Process.Kill()
		<-pg.done
	}
	pg.cmd = nil
	return nil
}

func (pg *privatePG) adminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}
