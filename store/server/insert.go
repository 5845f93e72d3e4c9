package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Insert sends b to table as one native-protocol INSERT. The columns of b
// name the target columns; omitted columns take their defaults. A non-empty
// token is sent as insert_deduplication_token. An empty block inserts
// nothing.
func (s *Store) Insert(ctx context.Context, table string, b store.Block, token string) error {
	st, err := s.InsertStream(ctx, table, token)
	if err != nil {
		return err
	}
	return store.SendOne(st, b)
}

// InsertStream implements store.Store with one clickhouse-go batch: each
// block is sent as a Data packet of the same INSERT (batch.Flush), which
// the server squashes into parts and deduplicates as token_0, token_1, …
func (s *Store) InsertStream(ctx context.Context, table, token string, opts ...store.Option) (store.BlockStream, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, wrapError(ctx, "server: insert into "+table, err)
	}
	return &batchStream{s: s, ctx: ctx, table: table, token: token, settings: store.Apply(opts).Settings}, nil
}

// batchStream is an open InsertStream; the batch is prepared with the
// first block, whose columns name the target columns.
type batchStream struct {
	s            *Store
	ctx          context.Context
	table, token string
	settings     map[string]string
	query        string
	cols         *store.StreamColumns // fixed by the first block
	batch        driver.Batch
	ended        bool
}

func (st *batchStream) Send(b store.Block) error {
	op := "server: insert into " + st.table
	if st.ended {
		return fmt.Errorf("%s: Send after Close or Abort", op)
	}
	if st.cols != nil {
		var err error
		if b, err = st.cols.Conform(b); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	query, values, err := insertValues(st.table, b)
	if err != nil {
		// The block itself is malformed: sending it again fails again.
		return store.MarkPermanent(wrapError(st.ctx, op, err))
	}
	if values == nil {
		return nil
	}
	if st.batch == nil {
		ctx := clickhouse.Context(st.ctx, clickhouse.WithSettings(insertSettings(st.s.cfg.Cluster, st.token, st.settings)))
		if st.batch, err = st.s.native.PrepareBatch(ctx, query); err != nil {
			st.ended = true
			return wrapError(st.ctx, op, err)
		}
		st.query = query
		st.cols = store.NewStreamColumns(b)
	} else if query != st.query {
		return store.MarkPermanent(fmt.Errorf("%s: block columns differ from the stream's first block", op))
	}
	for i, v := range values {
		if err := st.batch.Column(i).Append(v); err != nil {
			return wrapError(st.ctx, fmt.Sprintf("%s: column %s", op, b.Columns[i].Name), err)
		}
	}
	return wrapError(st.ctx, op, st.batch.Flush())
}

// insertSettings are the settings of an INSERT with deduplication token
// token (none when empty) on cluster (none for a single node), over the
// caller's settings.
//
// On a cluster the INSERT goes to a Distributed table, and exactly-once
// needs it to be synchronous (insert_distributed_sync, called
// distributed_foreground_insert since ClickHouse 23.10, where the old name
// stays an alias): the INSERT then returns only once every shard has stored
// its rows, under the same token, so a success means the rows are stored
// and the ledger may say so. The default, asynchronous mode returns once
// the rows are queued on the receiving node's disk; a ledger entry written
// then can outlive the queue (the node's disk lost), and the queue's
// background sends batch files of several INSERTs together. With the
// deterministic sharding key of flow_logs (migration 5), a retried block is
// split as the first attempt was, and each shard deduplicates its part.
// See docs/store.md, "why cluster inserts are exactly once".
func insertSettings(cluster, token string, extra map[string]string) clickhouse.Settings {
	settings := clickhouse.Settings{}
	for k, v := range extra {
		settings[k] = v
	}
	if cluster != "" {
		// After the caller's settings: exactly-once does not hold without.
		settings["insert_distributed_sync"] = 1
	}
	if token != "" {
		settings["insert_deduplication_token"] = token
		settings["deduplicate_blocks_in_dependent_materialized_views"] = 1
	}
	return settings
}

func (st *batchStream) Close() error {
	if st.ended {
		return nil
	}
	st.ended = true
	if st.batch == nil {
		return nil
	}
	if err := st.batch.Send(); err != nil {
		_ = st.batch.Abort()
		return wrapError(st.ctx, "server: insert into "+st.table, err)
	}
	return nil
}

func (st *batchStream) Abort() {
	if st.ended {
		return
	}
	st.ended = true
	if st.batch != nil {
		_ = st.batch.Abort()
	}
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
		if c.Name == "" || strings.ContainsAny(c.Name, "`\"\\") {
			// clickhouse-go's column list parser does not handle escaped
			// quotes inside identifiers, so a name that would need an
			// escape is refused rather than quoted.
			return "", nil, fmt.Errorf("column %d: name %q is empty or has quotes or backslashes", i, c.Name)
		}
		if n := c.Data.Rows(); n != rows {
			return "", nil, fmt.Errorf("column %s has %d rows, column %s has %d", c.Name, n, b.Columns[0].Name, rows)
		}
		names[i] = chsql.QuoteIdent(c.Name)
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
