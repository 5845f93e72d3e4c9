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
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded/chdblib"
)

// engine is the process's single chDB connection.
type engine struct {
	// seat serializes statements (the engine runs one at a time per
	// connection, and the chdb result API is not safe to use concurrently)
	// and guards currentDB.
	seat      slot
	conn      *conn
	dir       string
	lock      *dirLock
	currentDB string
	refs      int
	staging   string
	seq       atomic.Uint64
}

// acquire takes the engine, or gives up when ctx ends first.
func (e *engine) acquire(ctx context.Context) error { return e.seat.acquire(ctx, false) }

// acquireForInsert takes the engine for a bulk insert: waiting queries go
// first.
func (e *engine) acquireForInsert(ctx context.Context) error { return e.seat.acquire(ctx, true) }

func (e *engine) release() { e.seat.release() }

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
	if err := s.rawExec("CREATE DATABASE IF NOT EXISTS " + chsql.QuoteIdent(opts.Database)); err != nil {
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
	c, err := openConn(dir)
	if err != nil {
		lk.release()
		return nil, fmt.Errorf("start embedded ClickHouse on %s: %w", dir, err)
	}
	logger.Debug("embedded ClickHouse started", "dir", dir, "library", chdblib.Path)
	theEng = &engine{conn: c, dir: dir, lock: lk, refs: 1, staging: staging}
	return theEng, nil
}

// SetAddress records the HTTP address of the holder in the lock file, so
// other furrow commands on the same data directory can go through it.
func (s *Store) SetAddress(addr string) error {
	_ = s.eng.acquire(context.Background())
	defer s.eng.release()
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
	_ = e.acquire(context.Background())
	defer e.release()
	e.conn.close()
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
//
// Statements run to completion (the non-streaming path), whatever they are:
// a SELECT … INTO OUTFILE streams empty chunks while it writes its file,
// which a streaming read would take for the end of its result.
func (s *Store) Exec(ctx context.Context, query string, opts ...store.Option) error {
	return s.query(ctx, io.Discard, query, "TSV", true, opts...)
}

// Query implements store.Store.
//
// SELECT-like statements run as streaming queries: their output comes in
// chunks, and when ctx ends between two chunks the query is cancelled and
// the engine is free for the next caller. A chunk that is being computed
// cannot be interrupted (chDB queues a cancel behind the fetch under way),
// so a long aggregation that produces its first chunk late runs until that
// chunk or until its max_execution_time; the caller still gets ctx's error
// at once. Other statements (DDL, INSERT, SHOW…) run to completion.
//
// Every result handle is destroyed on every path, and a failure on the
// non-streaming path is followed by a reset of the engine's output (see
// conn.plainQuery): a query only ever sees its own result.
func (s *Store) Query(ctx context.Context, w io.Writer, query, format string, opts ...store.Option) error {
	return s.query(ctx, w, query, format, false, opts...)
}

func (s *Store) query(ctx context.Context, w io.Writer, query, format string, plain bool, opts ...store.Option) error {
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
	plain = plain || formatsOutput(o.Settings) || writesFile(q)
	if err := checkOneStatement(q); err != nil {
		return err
	}
	type result struct {
		buf []byte
		err error
	}
	// The query runs in its own goroutine so that a caller whose context
	// ends gets its error at once, even while a chunk is being computed;
	// the goroutine sees ctx between chunks and cancels the query.
	done := make(chan result, 1)
	go func() {
		buf, err := s.run(ctx, q, format, plain)
		done <- result{buf, err}
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case r := <-done:
		if r.err != nil {
			return r.err
		}
		if len(r.buf) == 0 {
			return nil
		}
		_, err := w.Write(r.buf)
		return err
	}
}

// formatsOutput reports whether settings change how the output is written.
// chDB 26.5 creates a streaming query's output format before it applies the
// query's SETTINGS clause (verified: date_time_output_format='iso' is
// ignored when streaming, honoured otherwise), so such queries run on the
// non-streaming path.
func formatsOutput(settings map[string]string) bool {
	for k := range settings {
		if strings.Contains(k, "format") || strings.HasSuffix(k, "_representation") {
			return true
		}
	}
	return false
}

// writesFile reports whether q writes its result to a file (INTO OUTFILE),
// which the streaming path would cut short (see Exec).
func writesFile(q string) bool {
	w := chsql.Words(q)
	for i := 0; i+1 < len(w); i++ {
		if strings.EqualFold(w[i], "INTO") && strings.EqualFold(w[i+1], "OUTFILE") {
			return true
		}
	}
	return false
}

// run executes q in the Store's database and returns its output. plain
// skips the streaming path.
func (s *Store) run(ctx context.Context, q, format string, plain bool) ([]byte, error) {
	e := s.eng
	if err := e.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.held(time.Now(), q)
	defer e.release()
	if err := s.useDatabase(); err != nil {
		return nil, err
	}
	var st *stream
	streamable := false
	if !plain {
		var err error
		st, streamable, err = e.conn.streamQuery(q, format)
		if err != nil {
			return nil, store.ParseError(err.Error())
		}
	}
	if !streamable {
		out, err := e.conn.plainQuery(q, format)
		if err != nil {
			return nil, store.ParseError(err.Error())
		}
		return out, nil
	}
	var out []byte
	var err error
	for {
		if err := ctx.Err(); err != nil {
			st.close(true)
			return nil, err
		}
		var done bool
		out, done, err = st.next(out)
		if err != nil && strings.Contains(err.Error(), errNoActiveStream) {
			done, err = true, nil // the end of the result, said another way
		}
		if err != nil {
			st.close(false)
			return nil, store.ParseError(err.Error())
		}
		if done {
			st.close(false)
			return out, nil
		}
	}
}

// errNoActiveStream is what chDB 26.5 answers the fetch after the last
// chunk of some streaming queries instead of an empty chunk (verified: a
// JSON result with no rows, after its frame). It ends the result.
const errNoActiveStream = "No active streaming query"

// useDatabase makes the Store's database the engine's current one; the
// caller holds the engine.
func (s *Store) useDatabase() error {
	e := s.eng
	if e.currentDB == s.database {
		return nil
	}
	use := "USE " + chsql.QuoteIdent(s.database)
	if err := e.exec(use); err != nil {
		// The database may have been dropped behind this Store (tests
		// drop theirs in cleanup): recreate it so USE works.
		if err := e.exec("CREATE DATABASE IF NOT EXISTS " + chsql.QuoteIdent(s.database)); err != nil {
			return err
		}
		if err := e.exec(use); err != nil {
			return err
		}
	}
	e.currentDB = s.database
	return nil
}

// slowHold is how long a statement may hold the engine before it is logged
// (at debug level): every other query waits meanwhile.
const slowHold = 200 * time.Millisecond

// held logs a statement that held the engine for long.
func (s *Store) held(since time.Time, q string) {
	if d := time.Since(since); d > slowHold {
		if len(q) > 120 {
			q = q[:120] + "…"
		}
		s.logger.Debug("statement held the engine", "ms", d.Milliseconds(), "query", q)
	}
}

// execPlain runs a bulk insert in the Store's database: a statement that
// cannot stream and returns nothing, run without trying the streaming path
// first; waiting queries go before it.
func (s *Store) execPlain(ctx context.Context, q string) error {
	e := s.eng
	if err := e.acquireForInsert(ctx); err != nil {
		return err
	}
	defer s.held(time.Now(), q)
	defer e.release()
	if err := s.useDatabase(); err != nil {
		return err
	}
	return e.exec(q)
}

// exec runs a statement that returns nothing; the caller holds the engine.
func (e *engine) exec(q string) error {
	if _, err := e.conn.plainQuery(q, "TSV"); err != nil {
		return store.ParseError(err.Error())
	}
	return nil
}

// rawExec runs q outside any database (used for CREATE DATABASE).
func (s *Store) rawExec(q string) error {
	if err := s.eng.acquire(context.Background()); err != nil {
		return err
	}
	defer s.eng.release()
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

// checkOneStatement refuses what the engine must never receive: more than
// one statement (chDB runs every ';'-separated statement of a
// non-streaming query, which a ClickHouse server's HTTP interface refuses,
// and which would let a trailing SETTINGS clause cover only the last
// statement) and NUL bytes (the engine takes queries as C strings, so a NUL
// would cut the query short).
func checkOneStatement(q string) error {
	if strings.IndexByte(q, 0) >= 0 {
		return &store.Error{Code: store.CodeSyntaxError, Name: "SYNTAX_ERROR", Message: "the query contains a NUL byte"}
	}
	if err := chsql.OneStatement(q); err != nil {
		return &store.Error{Code: store.CodeSyntaxError, Name: "SYNTAX_ERROR", Message: "Multi-statements are not allowed: " + err.Error()}
	}
	return nil
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
