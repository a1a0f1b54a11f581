package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shop-oss/shop/pkg/freeport"
)

// privatePG is a PostgreSQL server of the fault suite's own, made with the
// installed initdb and pg_ctl in a temporary directory: the suite restarts
// it, which it must not do to the machine's shared server (other people's
// tests use it).
type privatePG struct {
	dir, bin string
	port     int
}

// pgBinDir finds the directory of initdb and pg_ctl.
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("pg_ctl not found (make deps installs PostgreSQL)")
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

// ctl runs a PostgreSQL program, as the postgres user when this is root.
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

func (pg *privatePG) start() error {
	if out, err := pg.ctl(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.dir, "-l", filepath.Join(pg.dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// stop stops the server: "fast" rolls back open transactions and closes
// connections; "immediate" is a crash (recovery from the WAL at start).
func (pg *privatePG) stop(mode string) error {
	if out, err := pg.ctl(filepath.Join(pg.bin, "pg_ctl"), "-D", pg.dir, "-m", mode, "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (pg *privatePG) adminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}
