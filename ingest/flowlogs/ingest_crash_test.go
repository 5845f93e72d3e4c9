package flowlogs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/demo"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// crashingStore fails every flow_logs insert after the first ok ones, as a
// process killed mid-object would stop inserting.
type crashingStore struct {
	store.Store
	ok       int64
	inserted atomic.Int64
}

var errCrash = errors.New("simulated crash")

func (c *crashingStore) Insert(ctx context.Context, table string, b store.Block, token string) error {
	if table == "flow_logs" && c.inserted.Add(1) > c.ok {
		return errCrash
	}
	return c.Store.Insert(ctx, table, b, token)
}

// TestIngestCrashMidObject stops an ingest after a few blocks, then runs it
// again: each record is stored once and the object is recorded once.
func TestIngestCrashMidObject(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.log.gz")
	f, err := os.Create(path)
	require.NoError(t, err)
	const records = 50000
	require.NoError(t, demo.WriteFlowFile(f, records, 7))
	require.NoError(t, f.Close())

	s := migrated(t)
	opts := IngestOptions{BatchRows: 4096, Retry: store.RetryOptions{MaxAttempts: 2}}
	crashing := newTestIngester(t, &crashingStore{Store: s, ok: 5}, Dependencies{}, opts)
	sum, err := crashing.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.FailedFiles)
	require.True(t, sum.Failed())
	require.ErrorContains(t, errors.New(sum.Files[0].Error), "simulated crash")
	partial := queryTSV(t, s, "SELECT count() FROM flow_logs")
	require.Equal(t, strconv.Itoa(5*4096), partial, "the blocks before the crash are stored")

	again := newTestIngester(t, s, Dependencies{}, opts)
	sum, err = again.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.False(t, sum.Failed(), "%+v", sum)
	require.EqualValues(t, records, sum.Stored)
	require.Equal(t, strconv.Itoa(records), queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, strconv.Itoa(records), queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"))

	// sum(bytes) equals the file's.
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	rd, err := NewReader(path, fh, Options{})
	require.NoError(t, err)
	var want uint64
	for b := NewBatch(); ; {
		n, err := rd.Next(b)
		for i := range n {
			want += b.Bytes(i)
		}
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	require.Equal(t, strconv.FormatUint(want, 10), queryTSV(t, s, "SELECT sum(bytes) FROM flow_logs"))
	require.Equal(t, "1", queryTSV(t, s, "SELECT count() FROM ingested_objects FINAL"))
}
