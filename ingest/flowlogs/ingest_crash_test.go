package flowlogs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/demo"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// crashingStore fails every block sent to flow_logs after the first ok
// ones, as a process killed mid-object would stop inserting. (The SIGKILL
// itself is tested on the store: store/embedded's crash test.)
type crashingStore struct {
	store.Store
	ok   int64
	once bool // fail only block ok+1: a transient failure
	sent atomic.Int64
}

var errCrash = errors.New("simulated crash")

func (c *crashingStore) InsertStream(ctx context.Context, table, token string, opts ...store.Option) (store.BlockStream, error) {
	st, err := c.Store.InsertStream(ctx, table, token, opts...)
	if err != nil || table != "flow_logs" {
		return st, err
	}
	return &crashingStream{BlockStream: st, c: c}, nil
}

type crashingStream struct {
	store.BlockStream
	c *crashingStore
}

func (s *crashingStream) Send(b store.Block) error {
	if n := s.c.sent.Add(1); n > s.c.ok && (!s.c.once || n == s.c.ok+1) {
		return errCrash
	}
	return s.BlockStream.Send(b)
}

// TestIngestCrashMidObject stops an ingest after a few blocks, in the
// middle of its third insert stream, then runs it again: each record is
// stored once and the object is recorded once.
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
	opts := IngestOptions{BatchRows: 4096, StreamBlocks: 2, Retry: RetryOptions{MaxAttempts: 1}}
	crashing := newTestIngester(t, &crashingStore{Store: s, ok: 5}, Dependencies{}, opts)
	sum, err := crashing.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.FailedFiles)
	require.True(t, sum.Failed())
	require.ErrorContains(t, errors.New(sum.Files[0].Error), "simulated crash")
	require.False(t, sum.Files[0].Permanent, "a transient failure is not recorded as failed")
	failed, err := crashing.Ledger().Failed(ctx, []string{sum.Files[0].ID})
	require.NoError(t, err)
	require.Empty(t, failed)
	partial := queryTSV(t, s, "SELECT count() FROM flow_logs")
	require.Equal(t, strconv.Itoa(4*4096), partial, "the streams committed before the crash are stored")

	again := newTestIngester(t, s, Dependencies{}, opts)
	sum, err = again.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.False(t, sum.Failed(), "%+v", sum)
	// The summary says what the re-run added, and what it found stored.
	require.EqualValues(t, records-4*4096, sum.Stored)
	require.EqualValues(t, 4*4096, sum.AlreadyStored)
	require.EqualValues(t, records, sum.Records)
	var out bytes.Buffer
	require.NoError(t, sum.Print(&out))
	require.Contains(t, out.String(), strconv.Itoa(4*4096)+" records were already stored by an interrupted run")
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
	require.Equal(t, "1", queryTSV(t, s, "SELECT count() FROM ingested_objects FINAL WHERE kind = 'flowlogs'"))
}

// TestIngestRetriesStoreFailure: a transient store failure in the middle of
// an object makes the ingester read the object again; the streams it had
// committed are not stored twice.
func TestIngestRetriesStoreFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "flows.log.gz"))
	require.NoError(t, err)
	const records = 30000
	require.NoError(t, demo.WriteFlowFile(f, records, 3))
	require.NoError(t, f.Close())

	s := migrated(t)
	opts := IngestOptions{BatchRows: 4096, StreamBlocks: 2, Retry: RetryOptions{MaxAttempts: 3, Initial: time.Millisecond}}
	reg := prometheus.NewRegistry()
	in := newTestIngester(t, &crashingStore{Store: s, ok: 5, once: true}, Dependencies{Registry: reg}, opts)
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.False(t, sum.Failed(), "%+v", sum)
	require.EqualValues(t, records, sum.Stored, "every record is new to the store, the retried streams included")
	require.Zero(t, sum.AlreadyStored)
	require.Equal(t, strconv.Itoa(records), queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, strconv.Itoa(records), queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"))
	require.Equal(t, 1.0, testutil.ToFloat64(in.wm.retries.WithLabelValues("flow_logs")))
	require.Equal(t, 2, sum.Files[0].Attempts, "a transient failure is retried")
}
