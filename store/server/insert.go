package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/furrowdev/furrow/store"
)

// Insert sends b to table as one native-protocol INSERT. The columns of b
// name the target columns; omitted columns take their defaults. A non-empty
// token is sent as insert_deduplication_token. An empty block inserts
// nothing.
func (s *Store) Insert(ctx context.Context, table string, b store.Block, token string) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	op := "server: insert into " + table
	query, values, err := insertValues(table, b)
	if err != nil || values == nil {
		return wrapError(ctx, op, err)
	}
	if token != "" {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplication_token":                         token,
			"deduplicate_blocks_in_dependent_materialized_views": 1,
		}))
	}
	batch, err := s.native.PrepareBatch(ctx, query)
	if err != nil {
		return wrapError(ctx, op, err)
	}
	for i, v := range values {
		if err := batch.Column(i).Append(v); err != nil {
			_ = batch.Abort()
			return wrapError(ctx, fmt.Sprintf("%s: column %s", op, b.Columns[i].Name), err)
		}
	}
	if err := batch.Send(); err != nil {
		_ = batch.Abort()
		return wrapError(ctx, op, err)
	}
	return nil
}

// insertValues checks b and returns the INSERT statement and one Append
// argument per column; nil values mean there is nothing to insert.
func insertValues(table string, b store.Block) (query string, values []any, err error) {
	if table == "" {
		return "", nil, fmt.Errorf("empty table name")
	}
	if len(b.Columns) == 0 {
		return "", nil, fmt.Errorf("block has no columns")
	}
	rows := b.Rows()
	names := make([]string, len(b.Columns))
	for i, c := range b.Columns {
		if c.Name == "" || strings.ContainsAny(c.Name, "`\"") {
			// clickhouse-go's column list parser does not handle escaped
			// quotes inside identifiers.
			return "", nil, fmt.Errorf("column %d: name %q is empty or has quotes", i, c.Name)
		}
		if n := c.Data.Rows(); n != rows {
			return "", nil, fmt.Errorf("column %s has %d rows, column %s has %d", c.Name, n, b.Columns[0].Name, rows)
		}
		names[i] = "`" + c.Name + "`"
	}
	if rows == 0 {
		return "", nil, nil
	}
	values = make([]any, len(b.Columns))
	for i, c := range b.Columns {
		if values[i], err = appendValue(c.Data); err != nil {
			return "", nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	return "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ")", values, nil
}
