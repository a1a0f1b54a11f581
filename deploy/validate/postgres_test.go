package validate

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// privatePostgres starts a PostgreSQL server of its own (the local
// installation's binaries, a fresh cluster, a Unix socket only) for the
// test, as the postgres container starts one, and returns a function that
// runs psql against it as a role.
type privatePostgres struct {
	bin, socket string
	cred        *syscall.Credential
}

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin): make deps installs them")
	}
	sort.Strings(bins)
	pg := &privatePostgres{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "shop-validate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	pg.socket = sock
	pg.run(t, nil, "mkdir", "-p", sock)
	pg.run(t, nil, filepath.Join(pg.bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8")
	pg.run(t, nil, filepath.Join(pg.bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-w",
		"-o", "-c listen_addresses='' -k "+sock+" -p 5432", "start")
	t.Cleanup(func() {
		_ = pg.command(nil, filepath.Join(pg.bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
	})
	return pg
}

func (pg *privatePostgres) command(env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PGHOST=" + pg.socket, "PGPORT=5432", "LC_ALL=C"}, env...)
	cmd.Dir = "/"
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return cmd
}

func (pg *privatePostgres) run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := pg.command(env, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// psql runs sql as role in database, and returns its output and error.
func (pg *privatePostgres) psql(role, database, sql string) (string, error) {
	out, err := pg.command(nil, filepath.Join(pg.bin, "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
		"-U", role, "-d", database, "-c", sql).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// The compose stack's init script makes one database and one role per
// service; a service's role owns its database and cannot enter another's.
func TestComposeDatabasesAreIsolated(t *testing.T) {
	pg := startPrivatePostgres(t)
	p := loadCompose(t)
	env := []string{"POSTGRES_USER=postgres"}
	for k, v := range composeEnv(p.Services["postgres"].Environment) {
		if strings.HasSuffix(k, "_DB_PASSWORD") {
			env = append(env, k+"="+v)
		}
	}
	pg.run(t, env, "bash", path(t, "deploy/compose/postgres/init-databases.sh"))

	dbs := map[string]string{"identity": "identity", "catalog": "catalog", "inventory": "inventory", "order": "orders", "payment": "payment"}
	for _, s := range services {
		role, db := "shop_"+s, dbs[s]
		if owner, err := pg.psql("postgres", "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '"+db+"'"); err != nil || owner != role {
			t.Errorf("database %s: owner %q (%v), want %s", db, owner, err, role)
		}
		if has, err := pg.psql("postgres", "postgres", "SELECT rolpassword IS NOT NULL AND NOT rolsuper AND NOT rolcreatedb AND NOT rolcreaterole FROM pg_authid WHERE rolname = '"+role+"'"); err != nil || has != "t" {
			t.Errorf("role %s: want a password and no superuser, createdb or createrole rights (%q, %v)", role, has, err)
		}
		if _, err := pg.psql(role, db, "CREATE TABLE widgets (id int PRIMARY KEY); INSERT INTO widgets VALUES (1); DROP TABLE widgets"); err != nil {
			t.Errorf("%s cannot use its own database %s: %v", role, db, err)
		}
		for _, other := range []string{"postgres", dbs[services[(indexOf(s)+1)%len(services)]]} {
			out, err := pg.psql(role, other, "SELECT 1")
			if err == nil || !strings.Contains(out, "permission denied for database") {
				t.Errorf("%s can connect to database %s (%q, %v); want permission denied", role, other, out, err)
			}
		}
	}
}

func indexOf(service string) int {
	for i, s := range services {
		if s == service {
			return i
		}
	}
	return -1
}
