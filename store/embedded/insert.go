package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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
	werr := make(chan error, 1)
	go func() { werr <- writeNative(path, b) }()
	err := s.insertFile(table, b, path, "Native", token)
	if err != nil {
		// The engine may have failed before opening the pipe: open it
		// ourselves (non-blocking) so the writer is released.
		if f, oerr := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); oerr == nil {
			f.Close()
		}
		<-werr
		return err
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("insert into %s: stream batch: %w", table, err)
	}
	return nil
}

// writeNative writes b to path as one Native block, column by column.
func writeNative(path string, b store.Block) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
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
