package server

import (
	"context"
	"errors"
	"io"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/furrowdev/furrow/store"
)

// Exec runs one statement over the native protocol.
func (s *Store) Exec(ctx context.Context, query string, opts ...store.Option) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return wrapError(ctx, "server: exec", s.native.Exec(queryContext(ctx, opts), query))
}

// Query streams the result of query to w in a ClickHouse output format.
//
// The native protocol only carries Native blocks: clickhouse-client formats
// them itself, with the server's own code. Re-implementing ~70 formats in Go
// (Pretty's layout, Parquet's encodings, TSV escaping) would never be exactly
// what the server produces. Over the HTTP interface, the server does the
// encoding, so Query uses clickhouse-go's QueryFormat on an HTTP pool: it
// sets default_format, sends settings, parameters and query id as URL
// parameters, and turns an exception sent after the first bytes (the
// "__exception__" block, tagged per response since ClickHouse 25.9) into an
// error from Read. QueryFormat is marked experimental in clickhouse-go
// v2.50; this method is the only caller.
//
// The query must not end in its own FORMAT clause: format is the argument.
// On error, w may already hold part of the result.
func (s *Store) Query(ctx context.Context, w io.Writer, query, format string, opts ...store.Option) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	rc, err := s.http.QueryFormat(queryContext(ctx, opts), format, query)
	if err != nil {
		return wrapError(ctx, "server: query", err)
	}
	_, err = io.Copy(w, rc)
	// Close drains a bounded tail so the HTTP connection can be reused.
	err = errors.Join(err, rc.Close())
	return wrapError(ctx, "server: query", err)
}

// queryContext attaches per-query settings, parameters and id to ctx the way
// clickhouse-go reads them, for both protocols.
func queryContext(ctx context.Context, opts []store.Option) context.Context {
	o := store.Apply(opts)
	var chOpts []clickhouse.QueryOption
	if len(o.Settings) > 0 {
		settings := make(clickhouse.Settings, len(o.Settings))
		for k, v := range o.Settings {
			settings[k] = v
		}
		chOpts = append(chOpts, clickhouse.WithSettings(settings))
	}
	if len(o.Params) > 0 {
		chOpts = append(chOpts, clickhouse.WithParameters(clickhouse.Parameters(o.Params)))
	}
	if o.QueryID != "" {
		chOpts = append(chOpts, clickhouse.WithQueryID(o.QueryID))
	}
	if len(chOpts) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, chOpts...)
}
