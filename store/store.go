// Package store is furrow's access to ClickHouse. Two backends implement
// Store: the embedded engine (chDB, in-process, the default) and a ClickHouse
// server or cluster (clickhouse-go/v2). No other package knows which one it
// talks to: they write SQL and columnar blocks, and read results in a
// ClickHouse output format or decoded from JSONEachRow.
package store

import (
	"context"
	"errors"
	"io"

	"github.com/ClickHouse/ch-go/proto"
)

// Store is one ClickHouse database reached through either backend.
// Implementations are safe for concurrent use.
//
// Once ctx is done, a call returns an error that satisfies
// errors.Is(err, ctx.Err()); the embedded engine cannot interrupt a running
// query, so there the query finishes in the background (bound it with
// max_execution_time).
type Store interface {
	// Exec runs one statement that returns no rows (DDL, INSERT … SELECT).
	Exec(ctx context.Context, query string, opts ...Option) error
	// Query runs one statement and streams its result to w in a ClickHouse
	// output format (TSV, CSV, JSONEachRow, Pretty, Parquet, …). The query
	// must not carry its own FORMAT clause, nor a SETTINGS clause when
	// settings are passed as options. w may hold part of the result when
	// an error is returned.
	Query(ctx context.Context, w io.Writer, query, format string, opts ...Option) error
	// Insert writes a columnar block into table. A non-empty token makes the
	// insert idempotent: a retry with the same token is not stored twice
	// (ClickHouse insert_deduplication_token; tables carry a deduplication
	// window). The columns of b name the target columns.
	Insert(ctx context.Context, table string, b Block, token string) error
	// InsertStream opens one INSERT into table that takes its rows block
	// by block, so that the engine stores one block while the caller
	// produces the next, and the per-insert costs (parts, merges of small
	// parts, the deduplication log, materialized views) are paid once per
	// stream instead of once per block. The engine squashes the blocks into
	// parts of its own size and commits each part atomically as it goes.
	// A non-empty token makes the stream idempotent: sending the same
	// sequence of blocks again with the same token (after a failure, an
	// Abort or a crash half way) stores only the parts that are missing.
	//
	// On the embedded engine a stream holds the engine from its first block
	// to Close: other queries wait for it, so the goroutine that feeds a
	// stream must not query the store before closing it.
	// Settings among opts apply to the INSERT (e.g. the squashing
	// thresholds min_insert_block_size_rows/_bytes); parameters are ignored.
	InsertStream(ctx context.Context, table, token string, opts ...Option) (BlockStream, error)
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	// Info describes the backend.
	Info() Info
	// Close releases the backend; it does not flush writers (they are
	// closed first by their owners).
	Close() error
}

// BlockStream is an open InsertStream. It is not safe for concurrent use.
type BlockStream interface {
	// Send writes b; b's columns may be reused once Send returns. Every
	// block of a stream has the same columns, in the same order. An error
	// ends the stream: the caller calls Abort.
	Send(b Block) error
	// Close ends the stream and returns once the engine stored every row
	// sent, or with the error that stopped it.
	Close() error
	// Abort ends the stream as failed: rows not yet in a committed part
	// are discarded. Abort after Close, or after another Abort, does
	// nothing.
	Abort()
}

// SendOne sends b as the only block of st and closes it; on a failed
// Send the stream is aborted.
func SendOne(st BlockStream, b Block) error {
	if err := st.Send(b); err != nil {
		st.Abort()
		return err
	}
	return st.Close()
}

// Info describes a Store's backend.
type Info struct {
	// Kind is "embedded" or "server".
	Kind string
	// Database is the database every unqualified table name refers to.
	Database string
	// Cluster is the ClickHouse cluster name used for ON CLUSTER DDL and
	// Replicated/Distributed tables; empty for a single node.
	Cluster string
}

// Block is a columnar batch of rows for one INSERT. Columns use the encoders
// of github.com/ClickHouse/ch-go/proto, which both backends can send: the
// embedded engine as a Native-format file, the server as a clickhouse-go
// batch.
type Block struct {
	Columns proto.Input
}

// Rows is the number of rows in the block (all columns have the same length).
func (b Block) Rows() int {
	if len(b.Columns) == 0 {
		return 0
	}
	return b.Columns[0].Data.Rows()
}

// QueryOptions are per-query settings and parameters.
type QueryOptions struct {
	// Settings are ClickHouse settings applied to this query only, values
	// in plain text ("throw", not "'throw'").
	Settings map[string]string
	// Params bind {name:Type} placeholders (ClickHouse query parameters);
	// values are in the type's text form, exactly as clickhouse-client
	// --param_name=value takes them.
	Params map[string]string
	// QueryID names the query in system.query_log and for cancellation.
	QueryID string
}

// Option sets a QueryOptions field.
type Option func(*QueryOptions)

// WithSettings applies ClickHouse settings to one query.
func WithSettings(s map[string]string) Option {
	return func(o *QueryOptions) {
		if o.Settings == nil {
			o.Settings = map[string]string{}
		}
		for k, v := range s {
			o.Settings[k] = v
		}
	}
}

// WithParams binds query parameters to one query.
func WithParams(p map[string]string) Option {
	return func(o *QueryOptions) {
		if o.Params == nil {
			o.Params = map[string]string{}
		}
		for k, v := range p {
			o.Params[k] = v
		}
	}
}

// WithQueryID sets the query id.
func WithQueryID(id string) Option { return func(o *QueryOptions) { o.QueryID = id } }

// Apply folds opts into a QueryOptions.
func Apply(opts []Option) QueryOptions {
	var o QueryOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Error is an error reported by ClickHouse itself (as opposed to a transport
// or setup failure). Code is ClickHouse's numeric error code.
type Error struct {
	Code    int
	Name    string
	Message string
}

func (e *Error) Error() string {
	if e.Name != "" {
		return e.Message + " (" + e.Name + ")"
	}
	return e.Message
}

// ErrClosed is returned by a Store or Writer used after Close.
var ErrClosed = errors.New("store: closed")
