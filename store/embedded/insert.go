package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// Insert implements store.Store.
//
// The block is encoded in ClickHouse's Native format (ch-go's encoders) into
// a file in the staging directory (tmpfs by default) and the engine reads it
// with INSERT … FROM INFILE … FORMAT Native. chDB takes queries as C
// strings, so binary data cannot be passed inline; a Native file is the
// fastest path measured (`make bench` prints each path's rate next to the
// storage limit).
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
	rows := b.Rows()
	if rows == 0 {
		return nil
	}
	path, err := s.stageNative(b)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	return s.insertFile(table, b, path, "Native", token)
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
		q.WriteString(" SETTINGS insert_deduplication_token = ")
		q.WriteString(SettingLiteral(token))
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
