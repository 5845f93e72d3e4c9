// Package storetest is the conformance suite every store.Store backend
// passes: the same SQL, blocks, options and errors must behave the same on
// the embedded engine and on a ClickHouse server or cluster.
//
// It depends on nothing but package store, so each backend hooks it from its
// own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Run runs every conformance test as a subtest. open must return a store on
// a fresh, empty database (a random name, dropped in t.Cleanup) and close it
// in t.Cleanup: each subtest creates its tables without looking for others.
//
// On a cluster (Info().Cluster set), tables are ReplicatedMergeTree created
// ON CLUSTER; reads must reach the replica that took the writes (a single
// shard with an in_order connection strategy does).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"DDL", testDDL},
		{"InsertTypes", testInsertTypes},
		{"InsertDeduplication", testInsertDedup},
		{"InsertStream", testInsertStream},
		{"InsertDefaults", testInsertDefaults},
		{"Params", testParams},
		{"Settings", testSettings},
		{"Errors", testErrors},
		{"Formats", testFormats},
		{"Concurrent", testConcurrent},
		{"Cancel", testCancel},
		{"Isolation", testIsolation},
		{"Abandoned", testAbandoned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

// query runs q and returns its result in format.
func query(t *testing.T, s store.Store, q, format string, opts ...store.Option) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf, q, format, opts...), "query: %s", q)
	return buf.String()
}

// createTable creates a MergeTree table that deduplicates inserts, the
// replicated kind on a cluster.
func createTable(t *testing.T, s store.Store, name, columns, orderBy string) {
	t.Helper()
	info := s.Info()
	ddl := fmt.Sprintf("CREATE TABLE %s (%s) ENGINE = MergeTree ORDER BY %s SETTINGS non_replicated_deduplication_window = 1000",
		name, columns, orderBy)
	if info.Cluster != "" {
		// Replicated tables deduplicate by default (replicated_deduplication_window).
		ddl = fmt.Sprintf("CREATE TABLE %s ON CLUSTER %s (%s) ENGINE = ReplicatedMergeTree ORDER BY %s",
			name, chsql.QuoteIdent(info.Cluster), columns, orderBy)
	}
	require.NoError(t, s.Exec(context.Background(), ddl), "create table %s", name)
}

// count returns the number of rows of table.
func count(t *testing.T, s store.Store, table string) string {
	t.Helper()
	return query(t, s, "SELECT count() FROM "+table, "TSV")
}

func testDDL(t *testing.T, s store.Store) {
	ctx := context.Background()
	createTable(t, s, "ddl", "id UInt64, name String", "id")
	require.Equal(t, "1\n", query(t, s, "EXISTS TABLE ddl", "TSV"))

	require.NoError(t, s.Exec(ctx, "INSERT INTO ddl SELECT number, toString(number) FROM numbers(10)"))
	require.Equal(t, "10\n", count(t, s, "ddl"))

	require.NoError(t, s.Exec(ctx, "ALTER TABLE ddl ADD COLUMN extra UInt8 DEFAULT 7"))
	require.Equal(t, "7\n", query(t, s, "SELECT DISTINCT extra FROM ddl", "TSV"))

	require.NoError(t, s.Exec(ctx, "DROP TABLE ddl"))
	require.Equal(t, "0\n", query(t, s, "EXISTS TABLE ddl", "TSV"))

	require.NoError(t, s.Ping(ctx))
	info := s.Info()
	require.NotEmpty(t, info.Kind)
	require.NotEmpty(t, info.Database)
	require.Equal(t, info.Database+"\n", query(t, s, "SELECT currentDatabase()", "TSV"))
}
