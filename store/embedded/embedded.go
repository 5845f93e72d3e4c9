// Package embedded is furrow's default store: the real ClickHouse engine
// running inside the furrow process through chDB (github.com/chdb-io/chdb-go,
// libchdb.so from the npm package @chdb/lib-linux-x64-gnu).
//
// chDB runs one engine per process: a second session on another path
// silently reuses the first one's data. So this package keeps one engine per
// process (Open on another data directory fails) and several Stores on the
// same engine differ by database. Queries on the engine are serialized (the
// engine serializes them anyway) and each runs after a `USE` of its Store's
// database when needed.
//
// A data directory is held by one process at a time through an flock on
// <dir>/furrow.lock; the lock file says who holds it so others can point at
// the holder (see ReadHolder).
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/chdb-io/chdb-go/chdb"

	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded/chdblib"
)

// engine is the process's single chDB session.
type engine struct {
	mu        sync.Mutex // serializes queries and guards currentDB
	session   *chdb.Session
	dir       string
	lock      *dirLock
	currentDB string
	refs      int
	staging   string
	seq       atomic.Uint64
}

var (
	engineMu sync.Mutex
	theEng   *engine
)

// Store is a database on the embedded engine. It implements store.Store.
type Store struct {
	eng      *engine
	database string
	cfg      Configuration
	logger   *slog.Logger
	closed   atomic.Bool
}

// Options are what Open needs besides the configuration.
type Options struct {
	// Dir is the data directory; it survives restarts.
	Dir string
	// Database is created if missing; unqualified table names refer to it.
	Database string
	// Command describes the holder in the lock file (e.g. "furrow serve").
	Command string
	// Logger receives engine events; nil discards them.
	Logger *slog.Logger
}

// LibraryPath is the libchdb.so this process loaded, and where it came from.
func LibraryPath() (path, source string) { return chdblib.Path, chdblib.Source }

// Open opens (creating if needed) the data directory and database. It fails
// fast with a *LockedError when another process holds the directory.
func Open(ctx context.Context, cfg Configuration, opts Options) (*Store, error) {
	if opts.Database == "" {
		return nil, fmt.Errorf("embedded store: database name is empty")
	}
	if !validIdent(opts.Database) {
		return nil, fmt.Errorf("embedded store: database name %q must be letters, digits and underscores", opts.Database)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	eng, err := openEngine(cfg, opts, logger)
	if err != nil {
		return nil, err
	}
	s := &Store{eng: eng, database: opts.Database, cfg: cfg, logger: logger}
	if err := s.rawExec("CREATE DATABASE IF NOT EXISTS " + quoteIdent(opts.Database)); err != nil {
		s.Close()
		return nil, fmt.Errorf("create database %s: %w", opts.Database, err)
	}
	return s, nil
}

func openEngine(cfg Configuration, opts Options, logger *slog.Logger) (*engine, error) {
	engineMu.Lock()
	defer engineMu.Unlock()
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", opts.Dir, err)
	}
	if theEng != nil {
		if theEng.dir != dir {
			return nil, fmt.Errorf("the embedded engine is already open on %s in this process; chDB runs one engine per process, so %s cannot be opened too", theEng.dir, dir)
		}
		theEng.refs++
		return theEng, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	cmd := opts.Command
	if cmd == "" {
		cmd = filepath.Base(os.Args[0])
	}
	lk, err := lockDir(dir, cmd)
	if err != nil {
		return nil, err
	}
	staging := cfg.StagingDir
	if staging == "" {
		staging = os.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			staging = "/dev/shm"
		}
	}
	sweepStaging(staging)
	staging = filepath.Join(staging, fmt.Sprintf("furrow-%d", os.Getpid()))
	if err := os.MkdirAll(staging, 0o700); err != nil {
		lk.release()
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	sess, err := chdb.NewSession(dir)
	if err != nil {
		lk.release()
		return nil, fmt.Errorf("start embedded ClickHouse on %s: %w", dir, err)
	}
	logger.Debug("embedded ClickHouse started", "dir", dir, "library", chdblib.Path)
	theEng = &engine{session: sess, dir: dir, lock: lk, refs: 1, staging: staging}
	return theEng, nil
}

// SetAddress records the HTTP address of the holder in the lock file, so
// other furrow commands on the same data directory can go through it.
func (s *Store) SetAddress(addr string) error {
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	s.eng.lock.holder.Address = addr
	return s.eng.lock.write()
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.eng.dir }

// Info implements store.Store.
func (s *Store) Info() store.Info { return store.Info{Kind: "embedded", Database: s.database} }

// Close releases this Store; the engine stops with the last one.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	engineMu.Lock()
	defer engineMu.Unlock()
	e := s.eng
	e.refs--
	if e.refs > 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.session.Close()
	e.lock.release()
	_ = os.RemoveAll(e.staging)
	theEng = nil
	return nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	return s.Query(ctx, io.Discard, "SELECT 1", "TSV")
}

// Exec implements store.Store.
func (s *Store) Exec(ctx context.Context, query string, opts ...store.Option) error {
	return s.Query(ctx, io.Discard, query, "TSV", opts...)
}

// Query implements store.Store. The embedded engine cannot cancel a running
// query; ctx is checked before it starts, and callers bound run time with
// the max_execution_time setting.
func (s *Store) Query(ctx context.Context, w io.Writer, query, format string, opts ...store.Option) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o := store.Apply(opts)
	q, err := bindParams(query, o.Params)
	if err != nil {
		return err
	}
	for k := range o.Settings {
		if !validIdent(k) {
			return fmt.Errorf("invalid setting name %q", k)
		}
	}
	q = appendSettings(q, o.Settings)
	// The engine cannot interrupt a query, but the caller should not have
	// to wait for one it gave up on: the query runs on, the result is freed
	// when it ends, and the caller gets ctx's error at once.
	type result struct {
		buf  []byte
		free func()
		err  error
	}
	done := make(chan result, 1)
	abandoned := make(chan struct{})
	go func() {
		buf, free, err := s.run(q, format)
		select {
		case done <- result{buf, free, err}:
		case <-abandoned:
			if free != nil {
				free()
			}
		}
	}()
	select {
	case <-ctx.Done():
		close(abandoned)
		return ctx.Err()
	case r := <-done:
		if r.err != nil {
			return r.err
		}
		defer r.free()
		if len(r.buf) == 0 {
			return nil
		}
		_, err := w.Write(r.buf)
		return err
	}
}

// run executes q in the Store's database and returns the result buffer; free
// must be called once the buffer has been used.
func (s *Store) run(q, format string) ([]byte, func(), error) {
	e := s.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.currentDB != s.database {
		use := "USE " + quoteIdent(s.database)
		if err := e.exec(use); err != nil {
			// The database may have been dropped behind this Store (tests
			// drop theirs in cleanup): recreate it so USE works.
			if err := e.exec("CREATE DATABASE IF NOT EXISTS " + quoteIdent(s.database)); err != nil {
				return nil, nil, err
			}
			if err := e.exec(use); err != nil {
				return nil, nil, err
			}
		}
		e.currentDB = s.database
	}
	r, err := e.session.Query(q, format)
	if err != nil {
		return nil, nil, store.ParseError(err.Error())
	}
	if r == nil {
		return nil, func() {}, nil
	}
	return r.Buf(), r.Free, nil
}

// exec runs q and frees its result; the caller holds e.mu.
func (e *engine) exec(q string) error {
	r, err := e.session.Query(q, "TSV")
	if err != nil {
		return store.ParseError(err.Error())
	}
	if r != nil {
		r.Free()
	}
	return nil
}

// rawExec runs q outside any database (used for CREATE DATABASE).
func (s *Store) rawExec(q string) error {
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	return s.eng.exec(q)
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}

// sweepStaging removes the staging directories of furrow processes that are
// gone (a crashed process cannot clean up after itself).
func sweepStaging(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "furrow-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "furrow-"))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}
