package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"golang.org/x/sys/unix"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Insert implements store.Store.
//
// The block is encoded in ClickHouse's Native format (ch-go's encoders)
// into memory and written through a named pipe in the staging directory,
// which the engine reads with INSERT … FROM INFILE … FORMAT Native (see
// nativeStream). chDB takes queries as C strings, so binary data cannot be
// passed inline; Native through a pipe is the fastest path measured (`make
// bench` prints each path's rate next to the storage limit).
//
// A block becomes one or more parts, each committed atomically; with a token,
// a retry of the same block after a failure or a crash stores only the parts
// that are missing (insert_deduplication_token; tables keep a
// non_replicated_deduplication_window).
func (s *Store) Insert(ctx context.Context, table string, b store.Block, token string) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Rows() == 0 {
		return nil
	}
	return store.SendOne(&nativeStream{s: s, table: table, token: token}, b)
}

// InsertStream implements store.Store: the blocks go through one named
// pipe into one INSERT … FROM INFILE … FORMAT Native.
func (s *Store) InsertStream(ctx context.Context, table, token string, opts ...store.Option) (store.BlockStream, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &nativeStream{s: s, table: table, token: token, settings: store.Apply(opts).Settings}, nil
}

// nativeStream is an open InsertStream. Its blocks are encoded into memory
// as they come; Close starts the INSERT, which reads them through a named
// pipe and holds the engine until the pipe is closed. The first block's
// columns name the target columns.
//
// Why in memory: the INSERT holds the engine from its start to its end,
// and queries wait for it. Fed from memory it holds the engine for the
// engine's own work; fed block by block by the writer, for as long as the
// writer takes to produce them too (65,536 flow records held it 250–370 ms
// that way). It also means an open stream never holds the engine, so its
// writer may query the store between two blocks. The cost is the encoded
// stream in memory, which its writer bounds (the flow ingest sends 98,304
// records, about 30 MB, per stream).
type nativeStream struct {
	s            *Store
	table, token string
	settings     map[string]string
	cols         *store.StreamColumns // fixed by the first block
	staged       bytes.Buffer         // encoded blocks not yet sent
	path         string
	f            *os.File
	done         chan error // the INSERT's outcome
	buf          proto.Buffer
	ended        bool
}

func (st *nativeStream) Send(b store.Block) error {
	if st.ended {
		return errors.New("insert stream: Send after Close or Abort")
	}
	if b.Rows() == 0 {
		return nil
	}
	if st.cols == nil {
		st.cols = store.NewStreamColumns(b)
	} else {
		var err error
		if b, err = st.cols.Conform(b); err != nil {
			return fmt.Errorf("insert into %s: %w", st.table, err)
		}
	}
	return encodeNative(&st.staged, b, &st.buf)
}

// startStaged starts the INSERT and sends it the staged blocks.
func (st *nativeStream) startStaged() error {
	if err := st.start(); err != nil {
		st.ended = true
		return err
	}
	_, err := st.staged.WriteTo(st.f)
	st.staged.Reset()
	if err != nil {
		// A failed write means the engine closed its end: its error says
		// why.
		if qerr := st.wait(); qerr != nil {
			return qerr
		}
		return fmt.Errorf("insert into %s: stream batch: %w", st.table, err)
	}
	return nil
}

// start creates the pipe, starts the INSERT and opens the pipe once the
// engine reads it.
func (st *nativeStream) start() error {
	st.path = filepath.Join(st.s.eng.staging, fmt.Sprintf("insert-%d.fifo", st.s.eng.seq.Add(1)))
	if err := syscall.Mkfifo(st.path, 0o600); err != nil {
		st.path = ""
		return fmt.Errorf("stage insert: %w", err)
	}
	// giveUp tells the writer that no reader will come (the engine failed
	// before opening the pipe).
	giveUp := make(chan struct{})
	st.done = make(chan error, 1)
	go func() {
		err := st.s.insertFile(st.table, st.cols.Names(), st.path, "Native", st.token, st.settings)
		close(giveUp)
		st.done <- err
	}()
	f, err := openPipeWriter(st.path, giveUp)
	if err != nil {
		qerr := <-st.done
		st.done <- qerr
		st.cleanup()
		if qerr != nil {
			return qerr
		}
		return fmt.Errorf("insert into %s: %w", st.table, err)
	}
	st.f = f
	return nil
}

// wait closes the pipe and returns the INSERT's outcome.
func (st *nativeStream) wait() error {
	if st.f != nil {
		st.f.Close()
		st.f = nil
	}
	if st.done == nil {
		return nil
	}
	err := <-st.done
	st.done <- err
	return err
}

func (st *nativeStream) cleanup() {
	if st.path != "" {
		os.Remove(st.path)
		st.path = ""
	}
}

func (st *nativeStream) Close() error {
	if st.ended {
		return nil
	}
	if st.f == nil && st.staged.Len() > 0 {
		if err := st.startStaged(); err != nil {
			st.ended = true
			st.cleanup()
			return err
		}
	}
	st.ended = true
	defer st.cleanup()
	return st.wait()
}

// Abort drops the stream: its blocks never reached the engine (the
// INSERT starts in Close), so nothing of it is stored.
func (st *nativeStream) Abort() {
	if st.ended {
		return
	}
	st.ended = true
	st.staged.Reset()
}

// pipeBufferBytes is the buffer size asked for the insert pipe.
const pipeBufferBytes = 1 << 20

// errNoReader means the engine never opened the pipe.
var errNoReader = errors.New("the engine did not open the batch pipe")

// openPipeWriter opens the write end of the FIFO once a reader has opened
// it. A blocking open could wait forever when the engine fails before
// opening the pipe, so it polls a non-blocking open (ENXIO while there is
// no reader) until giveUp is closed, then makes the descriptor blocking.
func openPipeWriter(path string, giveUp <-chan struct{}) (*os.File, error) {
	wait := 20 * time.Microsecond
	for {
		fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err == nil {
			if err := syscall.SetNonblock(fd, false); err != nil {
				syscall.Close(fd)
				return nil, err
			}
			// A larger pipe buffer (64 KB by default) lets the writer run
			// ahead of the engine by a column or two instead of switching
			// to it every 64 KB. Best effort: the limit is
			// /proc/sys/fs/pipe-max-size.
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeBufferBytes)
			return os.NewFile(uintptr(fd), path), nil
		}
		if !errors.Is(err, syscall.ENXIO) {
			return nil, err
		}
		select {
		case <-giveUp:
			return nil, errNoReader
		case <-time.After(wait):
		}
		if wait < 2*time.Millisecond {
			wait *= 2
		}
	}
}

// encodeNative writes b to w as one Native block, column by column, with
// buf as scratch space.
func encodeNative(w io.Writer, b store.Block, buf *proto.Buffer) error {
	rows := b.Rows()
	buf.Reset()
	buf.PutInt(len(b.Columns))
	buf.PutInt(rows)
	for _, col := range b.Columns {
		if r := col.Data.Rows(); r != rows {
			return fmt.Errorf("column %q has %d rows, expected %d", col.Name, r, rows)
		}
		col.EncodeStart(buf, 0)
		if v, ok := col.Data.(proto.Preparable); ok {
			if err := v.Prepare(); err != nil {
				return fmt.Errorf("prepare %q: %w", col.Name, err)
			}
		}
		if v, ok := col.Data.(proto.StateEncoder); ok {
			v.EncodeState(buf)
		}
		col.Data.EncodeColumn(buf)
		if _, err := w.Write(buf.Buf); err != nil {
			return err
		}
		buf.Reset()
	}
	return nil
}

// stageNative writes b as a Native-format file and returns its path.
func (s *Store) stageNative(b store.Block) (string, error) {
	var buf proto.Buffer
	blk := proto.Block{Columns: len(b.Columns), Rows: b.Rows()}
	if err := blk.EncodeRawBlock(&buf, 0, b.Columns); err != nil {
		return "", fmt.Errorf("encode native block: %w", err)
	}
	path := filepath.Join(s.eng.staging, fmt.Sprintf("insert-%d.native", s.eng.seq.Add(1)))
	if err := os.WriteFile(path, buf.Buf, 0o600); err != nil {
		return "", fmt.Errorf("stage insert: %w", err)
	}
	return path, nil
}

// insertFile loads a staged file into table.
func (s *Store) insertFile(table string, columns []string, path, format, token string, settings map[string]string) error {
	var q strings.Builder
	q.WriteString("INSERT INTO ")
	q.WriteString(table)
	q.WriteString(" (")
	for i, c := range columns {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(chsql.QuoteIdent(c))
	}
	q.WriteString(") FROM INFILE '")
	q.WriteString(path)
	q.WriteString("'")
	all := make(map[string]string, len(settings)+2)
	for k, v := range settings {
		all[k] = v
	}
	if token != "" {
		// The token also deduplicates what materialized views derive from
		// the block, so a retried insert does not double a rollup.
		all["insert_deduplication_token"] = token
		all["deduplicate_blocks_in_dependent_materialized_views"] = "1"
	}
	q.WriteString(" ")
	q.WriteString(strings.TrimPrefix(appendSettings("", all), "\n"))
	q.WriteString(" FORMAT ")
	q.WriteString(format)
	if err := s.execPlain(context.Background(), q.String()); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}
