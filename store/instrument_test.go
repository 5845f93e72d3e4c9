package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
)

func TestInstrument(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := store.Instrument(chtest.Store(t), reg)
	ctx := context.Background()
	require.NoError(t, s.Exec(ctx, "CREATE TABLE r (a UInt32) ENGINE = MergeTree ORDER BY a"))
	block := func(vs ...uint32) store.Block {
		col := new(proto.ColUInt32)
		for _, v := range vs {
			col.Append(v)
		}
		return store.Block{Columns: proto.Input{{Name: "a", Data: col}}}
	}
	require.NoError(t, s.Insert(ctx, "r", block(1, 2), "t1"))
	st, err := s.InsertStream(ctx, "r", "t2")
	require.NoError(t, err)
	require.NoError(t, st.Send(block(3)))
	require.NoError(t, st.Send(block(4, 5)))
	require.NoError(t, st.Close())
	require.Error(t, s.Exec(ctx, "SELECT * FROM nope"))
	require.NoError(t, s.Ping(ctx))

	// A second instance on the same registry shares the metrics.
	again := store.Instrument(s, reg)
	require.NoError(t, again.Ping(ctx))

	const want = `
# HELP furrow_store_inserted_rows_total Rows written by Insert, by table.
# TYPE furrow_store_inserted_rows_total counter
furrow_store_inserted_rows_total{table="r"} 5
# HELP furrow_store_errors_total Failed store calls, by operation and ClickHouse error code ("canceled" when the caller gave up, "other" for transport errors).
# TYPE furrow_store_errors_total counter
furrow_store_errors_total{code="60",op="exec"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"furrow_store_inserted_rows_total", "furrow_store_errors_total"))
	// again.Ping counted twice: once by each wrapper, on the shared series.
	require.Equal(t, 3, testutil.CollectAndCount(reg, "furrow_store_operations_total"), "exec, insert and ping series")
}
