package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// Insert implements store.Store.
//
// The block is encoded in ClickHouse's Native format (ch-go's encoders) and
// streamed through a named pipe in the staging directory, which the engine
// reads with INSERT … FROM INFILE … FORMAT Native. chDB takes queries as C
// strings, so binary data cannot be passed inline; Native through a pipe is
// the fastest path measured (`make bench` prints each path's rate next to
// the storage limit).
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
	return s.insertStream(table, b, token)
}

// insertStream streams b in Native format through a named pipe: the engine
// reads and decodes each column while the next one is being encoded, and
// no copy of the batch is staged.
func (s *Store) insertStream(table string, b store.Block, token string) error {
	path := filepath.Join(s.eng.staging, fmt.Sprintf("insert-%d.fifo", s.eng.seq.Add(1)))
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("stage insert: %w", err)
	}
	defer os.Remove(path)
	// giveUp tells the writer that no reader will come (the engine failed
	// before opening the pipe).
	giveUp := make(chan struct{})
	werr := make(chan error, 1)
	go func() { werr <- writeNative(path, b, giveUp) }()
	err := s.insertFile(table, b, path, "Native", token)
	close(giveUp)
	if werr := <-werr; err == nil && werr != nil {
		return fmt.Errorf("insert into %s: stream batch: %w", table, werr)
	}
	return err
}

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

// writeNative writes b to the pipe at path as one Native block, column by
// column.
func writeNative(path string, b store.Block, giveUp <-chan struct{}) error {
	f, err := openPipeWriter(path, giveUp)
	if err != nil {
		return err
	}
	defer f.Close()
	rows := b.Rows()
	var buf proto.Buffer
	buf.PutInt(len(b.Columns))
	buf.PutInt(rows)
	for _, col := range b.Columns {
		if r := col.Data.Rows(); r != rows {
			return fmt.Errorf("column %q has %d rows, expected %d", col.Name, r, rows)
		}
		col.EncodeStart(&buf, 0)
		if v, ok := col.Data.(proto.Preparable); ok {
			if err := v.Prepare(); err != nil {
				return fmt.Errorf("prepare %q: %w", col.Name, err)
			}
		}
		if v, ok := col.Data.(proto.StateEncoder); ok {
			v.EncodeState(&buf)
		}
		col.Data.EncodeColumn(&buf)
		if _, err := f.Write(buf.Buf); err != nil {
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
func (s *Store) insertFile(table string, b store.Block, path, format, token string) error {
	var q strings.Builder
	q.WriteString("INSERT INTO ")
	q.WriteString(table)
	q.WriteString(" (")
	for i, c := range b.Columns {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(quoteIdent(c.Name))
	}
	q.WriteString(") FROM INFILE '")
	q.WriteString(path)
	q.WriteString("'")
	if token != "" {
		// The token also deduplicates what materialized views derive from
		// the block, so a retried insert does not double a rollup.
		q.WriteString(" SETTINGS insert_deduplication_token = ")
		q.WriteString(SettingLiteral(token))
		q.WriteString(", deduplicate_blocks_in_dependent_materialized_views = 1")
	}
	q.WriteString(" FORMAT ")
	q.WriteString(format)
	_, free, err := s.run(q.String(), "TSV")
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	free()
	return nil
}
