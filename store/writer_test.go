package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
)

// flakyStore inserts, then reports a transient failure for the first
// failures inserts: the commit happened, the acknowledgement was lost.
type flakyStore struct {
	store.Store
	failures int64
	calls    atomic.Int64
	gate     chan struct{} // when set, each insert waits for a value
}

func (f *flakyStore) Insert(ctx context.Context, table string, b store.Block, token string) error {
	if f.gate != nil {
		<-f.gate
	}
	err := f.Store.Insert(ctx, table, b, token)
	if err == nil && f.calls.Add(1) <= f.failures {
		return errors.New("connection reset by peer")
	}
	return err
}

func count(t *testing.T, s store.Store, table string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf, "SELECT count() FROM "+table, "TSV"))
	return strings.TrimSpace(buf.String())
}

func newTable(t *testing.T) store.Store {
	s := chtest.Store(t)
	require.NoError(t, s.Exec(context.Background(),
		"CREATE TABLE t (n UInt64) ENGINE = MergeTree ORDER BY n SETTINGS non_replicated_deduplication_window = 100"))
	return s
}

func block(from, n uint64) store.Block {
	var c proto.ColUInt64
	for i := range n {
		c = append(c, from+i)
	}
	return store.Block{Columns: proto.Input{{Name: "n", Data: &c}}}
}

func TestWriterRetrySameTokenStoredOnce(t *testing.T) {
	ctx := context.Background()
	s := newTable(t)
	reg := prometheus.NewRegistry()
	m := store.NewWriterMetrics(reg)
	var results []store.Result
	w := store.NewWriter(&flakyStore{Store: s, failures: 1}, "t", store.WriterOptions{
		Metrics: m, Retry: store.RetryOptions{Initial: time.Millisecond},
		OnResult: func(r store.Result) { results = append(results, r) },
	})
	require.NoError(t, w.Write(ctx, block(0, 10), "tok-1"))
	require.NoError(t, w.Write(ctx, block(100, 5), "tok-2"))
	require.NoError(t, w.Close(ctx))
	require.Equal(t, "15", count(t, s, "t"), "the retried block is stored once")
	require.Len(t, results, 2)
	require.Equal(t, 2, results[0].Attempts)
	require.Equal(t, 1, results[1].Attempts)
	require.Equal(t, 1.0, testutil.ToFloat64(m.Retries("t")))
	require.Equal(t, 15.0, testutil.ToFloat64(m.Rows("t")))
	require.ErrorIs(t, w.Write(ctx, block(0, 1), ""), store.ErrClosed)
}

func TestWriterPermanentError(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	w := store.NewWriter(s, "no_such_table", store.WriterOptions{Retry: store.RetryOptions{Initial: time.Millisecond}})
	require.NoError(t, w.Write(ctx, block(0, 1), "x"))
	err := w.Flush(ctx)
	var se *store.Error
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), "1 attempts", "an unknown table is not retried")
	require.Error(t, w.Write(ctx, block(0, 1), "y"), "a failed writer refuses blocks")
	w.Reset()
	require.NoError(t, w.Write(ctx, block(0, 1), "z"))
	_ = w.Close(ctx)
}

func TestWriterBackPressure(t *testing.T) {
	ctx := context.Background()
	s := newTable(t)
	f := &flakyStore{Store: s, gate: make(chan struct{})}
	w := store.NewWriter(f, "t", store.WriterOptions{Queue: 1})
	require.NoError(t, w.Write(ctx, block(0, 1), "a")) // taken by the insert goroutine
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, w.Write(ctx, block(1, 1), "b")) // queued
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, w.Write(short, block(2, 1), "c"), context.DeadlineExceeded, "a full queue blocks the writer")
	close(f.gate)
	require.NoError(t, w.Write(ctx, block(2, 1), "c"))
	require.NoError(t, w.Close(ctx))
	require.Equal(t, "3", count(t, s, "t"))
}

func TestBufferFlushesOnTime(t *testing.T) {
	ctx := context.Background()
	s := newTable(t)
	w := store.NewWriter(s, "t", store.WriterOptions{})
	col := func(b store.Block) *proto.ColUInt64 { return b.Columns[0].Data.(*proto.ColUInt64) }
	buf := store.NewBuffer(w, func() store.Block { return block(0, 0) },
		store.BufferOptions{Rows: 1000, Interval: 30 * time.Millisecond})
	for i := range 3 {
		require.NoError(t, buf.Append(ctx, func(b store.Block) { col(b).Append(uint64(i)) }))
	}
	require.Eventually(t, func() bool { return count(t, s, "t") == "3" }, 5*time.Second, 20*time.Millisecond)
	// And on size.
	require.NoError(t, buf.Append(ctx, func(b store.Block) {
		for i := range 1000 {
			col(b).Append(uint64(10 + i))
		}
	}))
	require.NoError(t, w.Flush(ctx))
	require.Equal(t, "1003", count(t, s, "t"))
	require.NoError(t, buf.Close(ctx))
	require.NoError(t, w.Close(ctx))
}
