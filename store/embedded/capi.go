package embedded

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/furrowdev/furrow/store/embedded/chdblib"
)

// This file binds the dozen functions of libchdb's C API that furrow uses,
// with purego (what chdb-go itself uses), instead of going through chdb-go's
// Session. Why: chdb-go v1.11 drops the result handle when a query fails
// (so it is never destroyed), passes chdb_stream_cancel_query a pointer of
// the wrong level, and returns either an error or a result, never both. Each
// of these made results leak from one query into the next. Owning the
// binding lets every path, error paths included, destroy exactly the handles
// it created.

// cAPI is the subset of libchdb's C API used by the engine.
type cAPI struct {
	connect       func(argc int, argv []*byte) unsafe.Pointer // chdb_connection *
	closeConn     func(conn unsafe.Pointer)                   // takes chdb_connection *
	query         func(conn unsafe.Pointer, query, format string) unsafe.Pointer
	streamQuery   func(conn unsafe.Pointer, query, format string) unsafe.Pointer
	streamFetch   func(conn unsafe.Pointer, result unsafe.Pointer) unsafe.Pointer
	streamCancel  func(conn unsafe.Pointer, result unsafe.Pointer)
	destroyResult func(result unsafe.Pointer)
	resultBuffer  func(result unsafe.Pointer) unsafe.Pointer
	resultLength  func(result unsafe.Pointer) uintptr
	resultError   func(result unsafe.Pointer) string
}

var (
	capiOnce sync.Once
	capi     *cAPI
	capiErr  error
)

// loadCAPI opens libchdb.so (found by package chdblib) and resolves the
// functions. A file that is not the library gives an error that names it and
// the command that installs the right one, instead of a panic.
func loadCAPI() (*cAPI, error) {
	capiOnce.Do(func() {
		if chdblib.Path == "" {
			capiErr = errors.New("the embedded ClickHouse engine (libchdb.so) was not found; fix: " + chdblib.FixHint)
			return
		}
		lib, err := purego.Dlopen(chdblib.Path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			capiErr = fmt.Errorf("load %s (from %s): %v; fix: %s", chdblib.Path, chdblib.Source, err, chdblib.FixHint)
			return
		}
		a := &cAPI{}
		syms := []struct {
			fn   any
			name string
		}{
			{&a.connect, "chdb_connect"},
			{&a.closeConn, "chdb_close_conn"},
			{&a.query, "chdb_query"},
			{&a.streamQuery, "chdb_stream_query"},
			{&a.streamFetch, "chdb_stream_fetch_result"},
			{&a.streamCancel, "chdb_stream_cancel_query"},
			{&a.destroyResult, "chdb_destroy_query_result"},
			{&a.resultBuffer, "chdb_result_buffer"},
			{&a.resultLength, "chdb_result_length"},
			{&a.resultError, "chdb_result_error"},
		}
		for _, s := range syms {
			if _, err := purego.Dlsym(lib, s.name); err != nil {
				capiErr = fmt.Errorf("%s (from %s) is not a usable libchdb.so: it lacks %s; fix: %s", chdblib.Path, chdblib.Source, s.name, chdblib.FixHint)
				return
			}
			purego.RegisterLibFunc(s.fn, lib, s.name)
		}
		capi = a
	})
	return capi, capiErr
}

// conn is one chDB connection: the engine of this process.
type conn struct {
	api *cAPI
	ptr unsafe.Pointer // chdb_connection * (what chdb_connect returned)
	c   unsafe.Pointer // chdb_connection (*ptr), what the query functions take
}

// openConn starts the engine on dir.
func openConn(dir string) (*conn, error) {
	api, err := loadCAPI()
	if err != nil {
		return nil, err
	}
	args := []string{"clickhouse", "--path=" + dir}
	argv := make([]*byte, len(args))
	keep := make([][]byte, len(args))
	for i, a := range args {
		keep[i] = append([]byte(a), 0)
		argv[i] = &keep[i][0]
	}
	p := api.connect(len(argv), argv)
	if p == nil || *(*unsafe.Pointer)(p) == nil {
		return nil, fmt.Errorf("the engine could not start on %s (is another process using it?)", dir)
	}
	return &conn{api: api, ptr: p, c: *(*unsafe.Pointer)(p)}, nil
}

func (c *conn) close() {
	if c.ptr != nil {
		c.api.closeConn(c.ptr)
		c.ptr, c.c = nil, nil
	}
}

// errNotStreamable is the engine's answer when a statement cannot run as a
// streaming query (everything but SELECT-like statements).
const errNotStreamable = "Streaming query is not supported"

// take copies a result's output and error and destroys the result.
func (c *conn) take(r unsafe.Pointer, out []byte) ([]byte, string) {
	if r == nil {
		return out, ""
	}
	msg := c.api.resultError(r)
	if n := c.api.resultLength(r); n > 0 && msg == "" {
		if p := c.api.resultBuffer(r); p != nil {
			out = append(out, unsafe.Slice((*byte)(p), n)...)
		}
	}
	c.api.destroyResult(r)
	return out, msg
}

// plainQuery runs q to completion (chdb_query) and returns its output. The
// caller holds the engine. It is the path for statements that cannot stream
// (DDL, INSERT, SHOW, EXPLAIN…). chDB 26.5 keeps the partial output of a
// query that fails in the middle of its result and prepends it to the next
// query's output (verified: after a failed `SELECT … FROM numbers(1100000)`
// over the row limit, `SELECT 42` returned 6.8 MB of the failed rows), so a
// failure is followed by reset, which drains that output.
func (c *conn) plainQuery(q, format string) ([]byte, error) {
	out, msg := c.take(c.api.query(c.c, q, format), nil)
	if msg != "" {
		if err := c.reset(); err != nil {
			return nil, fmt.Errorf("%s; then: %w", msg, err)
		}
		return nil, errors.New(msg)
	}
	return out, nil
}

// resetProbe is the query reset runs; its output is known exactly.
const resetProbe = "SELECT 'furrow-reset'"

// reset runs a probe query until its output is exactly the probe's own: the
// first probe after a failure absorbs the failed query's leftovers.
func (c *conn) reset() error {
	for i := 0; i < 4; i++ {
		out, msg := c.take(c.api.query(c.c, resetProbe, "TSVRaw"), nil)
		if msg == "" && string(out) == "furrow-reset\n" {
			return nil
		}
	}
	return errors.New("the engine's output could not be reset after a failed query; restart furrow")
}

// stream is an open streaming query.
type stream struct {
	c *conn
	h unsafe.Pointer
}

// streamQuery starts q as a streaming query. ok is false when the
// statement cannot stream (then nothing was run and the caller uses
// plainQuery).
func (c *conn) streamQuery(q, format string) (st *stream, ok bool, err error) {
	h := c.api.streamQuery(c.c, q, format)
	if h == nil {
		return nil, false, errors.New("the engine returned no result for a streaming query")
	}
	if msg := c.api.resultError(h); msg != "" {
		c.api.destroyResult(h)
		if strings.Contains(msg, errNotStreamable) {
			return nil, false, nil
		}
		return nil, true, errors.New(msg)
	}
	return &stream{c: c, h: h}, true, nil
}

// next appends the next chunk of output to out. done is true at the end of
// the result (or on error, after which the stream must only be closed).
func (s *stream) next(out []byte) (_ []byte, done bool, err error) {
	r := s.c.api.streamFetch(s.c.c, s.h)
	if r == nil {
		return out, true, nil
	}
	before := len(out)
	out, msg := s.c.take(r, out)
	if msg != "" {
		return out, true, errors.New(msg)
	}
	return out, len(out) == before, nil
}

// close ends the stream. cancel stops a query whose result was not read to
// the end; it must not run while a fetch is under way (chDB serializes
// fetches and cancels on the connection: a cancel issued during a fetch
// waits for the query behind it).
func (s *stream) close(cancel bool) {
	if s.h == nil {
		return
	}
	if cancel {
		s.c.api.streamCancel(s.c.c, s.h)
	}
	s.c.api.destroyResult(s.h)
	s.h = nil
}
