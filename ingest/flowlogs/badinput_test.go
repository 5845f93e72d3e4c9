package flowlogs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/demo"
	sources "github.com/furrowdev/furrow/ingest/source"
)

// flowFile returns a gzip flow log of n demo records.
func flowFile(t testing.TB, n int, seed int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, demo.WriteFlowFile(&buf, n, seed))
	return buf.Bytes()
}

// cuts are the offsets at which a gzip object of size n is cut or damaged:
// inside the header, early and late in the deflate data, and in the CRC-32
// and length trailer.
func cuts(n int) []int { return []int{5, 40, n / 3, n / 2, n - 9, n - 5, n - 1} }

// TestCheckCompressedTruncated: a gzip stream cut anywhere, or with a
// flipped byte, is ErrCorrupt with the offset, whether it is checked alone
// or read through a Reader; the whole stream passes.
func TestCheckCompressedTruncated(t *testing.T) {
	data := flowFile(t, 20000, 1)
	require.NoError(t, CheckCompressed("whole", bytes.NewReader(data)))
	require.NoError(t, CheckCompressed("text", bytes.NewReader([]byte("2 1 eni-1 - - - - - - - 1 2 - NODATA\n"))))
	type tc struct {
		name string
		data []byte
	}
	var cases []tc
	for _, at := range cuts(len(data)) {
		cases = append(cases, tc{fmt.Sprintf("cut_at_%d", at), data[:at]})
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-6] ^= 0xff // the CRC-32
	cases = append(cases, tc{"bad_crc", flipped})
	grown := bytes.Clone(data)
	grown[len(grown)-2] ^= 0x01 // the length
	cases = append(cases, tc{"bad_length", grown})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckCompressed(c.name, bytes.NewReader(c.data))
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, c.name)
			require.ErrorContains(t, err, "at compressed byte ")

			// The streaming reader fails too: the end of a cut stream is
			// never taken for the end of the data.
			rd, err := NewReader(c.name, bytes.NewReader(c.data), Options{BatchRows: 1000})
			if err == nil {
				defer rd.Close()
				for err == nil {
					_, err = rd.Next(NewBatch())
				}
			}
			require.ErrorIs(t, err, ErrCorrupt)
			require.NotErrorIs(t, err, io.EOF)
		})
	}
}

// TestIngestTruncatedGzip: an object cut at several offsets fails, keeps
// no row and is not recorded; once whole, it is stored exactly once.
func TestIngestTruncatedGzip(t *testing.T) {
	ctx := context.Background()
	const records = 40000
	data := flowFile(t, records, 2)
	s := migrated(t)
	// Small blocks and streams: without the check, the first streams of
	// the object would be committed before the cut is reached.
	opts := IngestOptions{BatchRows: 2048, StreamBlocks: 2}
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.log.gz")
	for _, at := range cuts(len(data)) {
		require.NoError(t, os.WriteFile(path, data[:at], 0o644))
		in := newTestIngester(t, s, Dependencies{}, opts)
		sum, err := in.Run(ctx, []string{dir}, sources.Window{})
		require.NoError(t, err)
		require.Equal(t, 1, sum.FailedFiles, "cut at %d: %+v", at, sum)
		require.Equal(t, "failed", sum.Status)
		require.Contains(t, sum.Files[0].Error, "at compressed byte ", "cut at %d", at)
		require.Zero(t, sum.Stored, "cut at %d", at)
		require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_logs"), "cut at %d", at)
		require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_traffic_hourly"), "cut at %d", at)
		require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM ingested_objects"), "cut at %d", at)
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	in := newTestIngester(t, s, Dependencies{}, opts)
	for run := range 2 {
		sum, err := in.Run(ctx, []string{dir}, sources.Window{})
		require.NoError(t, err)
		require.False(t, sum.Failed(), "%+v", sum)
		if run == 0 {
			require.EqualValues(t, records, sum.Stored)
		} else {
			require.Equal(t, 1, sum.Skipped)
		}
		require.Equal(t, strconv.Itoa(records), queryTSV(t, s, "SELECT count() FROM flow_logs"))
		require.Equal(t, strconv.Itoa(records), queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"))
	}
}

// TestOpenParquetCorrupt: a file that starts as Parquet but is cut short
// is corrupt (read again when it changes), not "not a flow log" (recorded
// and never read again).
func TestOpenParquetCorrupt(t *testing.T) {
	rows := make([]awsRow, 100)
	for i := range rows {
		rows[i] = awsRow{Version: p[int32](5), Bytes: p(int64(i)), Start: p[int64](1418530010), End: p[int64](1418530070)}
	}
	data := writeParquet(t, rows, 10)
	for _, at := range []int{4, len(data) / 2, len(data) - 1} {
		_, err := OpenParquet("cut.parquet", bytes.NewReader(data[:at]), int64(at), Options{})
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", at)
		require.False(t, errors.Is(err, ErrNotFlowLog))
	}
	_, err := NewReader("fake", bytes.NewReader(append([]byte("PAR1"), make([]byte, 100)...)), Options{})
	require.ErrorIs(t, err, ErrCorrupt)
}
