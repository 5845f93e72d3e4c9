// Package pgtest gives tests a real PostgreSQL: a private server started
// once per test binary on a free loopback port (initdb and pg_ctl as the
// postgres user, since the server refuses root; see
// ../shared/POSTGRES-TESTING.md), and a fresh database per test, dropped in
// cleanup. Stop it from TestMain. Missing binaries fail the test with the
// command that installs them (make test installs them).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Bin is where Debian's PostgreSQL binaries are (FURROW_TEST_PG_BIN
// overrides it).
func Bin() string {
	if b := os.Getenv("FURROW_TEST_PG_BIN"); b != "" {
		return b
	}
	for _, v := range []string{"17", "16", "15"} {
		d := "/usr/lib/postgresql/" + v + "/bin"
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return "/usr/lib/postgresql/15/bin"
}

type server struct {
	dir, data string
	port      int
}

var (
	once   sync.Once
	srv    *server
	srvErr error
)

// asPostgres runs a PostgreSQL binary as the postgres user when we are root.
func asPostgres(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(Bin(), name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func start() (*server, error) {
	if _, err := os.Stat(filepath.Join(Bin(), "initdb")); err != nil {
		return nil, fmt.Errorf("PostgreSQL binaries not found in %s: run make setup-test (apt-get install -y postgresql)", Bin())
	}
	dir, err := os.MkdirTemp("", "furrow-pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("the postgres user is missing (apt-get install -y postgresql): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	s := &server{dir: dir, data: filepath.Join(dir, "data")}
	if out, err := asPostgres("initdb", "-D", s.data, "-A", "trust", "-U", "furrow", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", s.port, dir)
	if out, err := asPostgres("pg_ctl", "-D", s.data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start", "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return nil, fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	return s, nil
}

// DSN returns the DSN of a new database on the shared server, dropped when
// the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { srv, srvErr = start() })
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	admin := fmt.Sprintf("postgres://furrow@127.0.0.1:%d/postgres?sslmode=disable", srv.port)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return fmt.Sprintf("postgres://furrow@127.0.0.1:%d/%s?sslmode=disable", srv.port, name)
}

// Stop stops the shared server, if one was started.
func Stop() {
	if srv == nil {
		return
	}
	_ = asPostgres("pg_ctl", "-D", srv.data, "-m", "immediate", "-w", "stop").Run()
	_ = os.RemoveAll(srv.dir)
}
