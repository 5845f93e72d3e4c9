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
	"strings"
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
		require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM ingested_objects WHERE kind = 'flowlogs'"), "cut at %d", at)
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

// goodLine is a v2 record with the given action, status, packets, bytes,
// start and end.
func goodLine(action, status, packets, bytes, start, end string) string {
	return "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 " +
		packets + " " + bytes + " " + start + " " + end + " " + action + " " + status + "\n"
}

const okLine = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"

// readAll reads every batch of data and returns the records' bytes, the
// stats and the error that ended the read (nil at the end of the file).
func readAll(t *testing.T, name string, data []byte) ([]uint64, Stats, error) {
	t.Helper()
	rd, err := NewReader(name, bytes.NewReader(data), Options{BatchRows: 3})
	if err != nil {
		return nil, Stats{}, err
	}
	defer rd.Close()
	var got []uint64
	b := NewBatch()
	for {
		n, err := rd.Next(b)
		for i := range n {
			got = append(got, b.Bytes(i))
		}
		if err == io.EOF {
			return got, rd.Stats(), nil
		} else if err != nil {
			return got, rd.Stats(), err
		}
	}
}

// TestRejectImpossibleValues: values no flow log can have are rejected per
// line with the reason; the lines around them are kept.
func TestRejectImpossibleValues(t *testing.T) {
	max, maxP := strconv.FormatUint(MaxRecordBytes, 10), strconv.FormatUint(MaxRecordPackets, 10)
	for _, tc := range []struct {
		name, line, reason string
	}{
		{"action", goodLine("MAYBE", "OK", "1", "40", "1418530010", "1418530070"), `action "MAYBE"`},
		{"action_case", goodLine("accept", "OK", "1", "40", "1418530010", "1418530070"), `action "accept"`},
		{"status", goodLine("ACCEPT", "WEIRD", "1", "40", "1418530010", "1418530070"), `log-status "WEIRD"`},
		{"bytes_max_uint64", goodLine("ACCEPT", "OK", "1", "18446744073709551615", "1418530010", "1418530070"), "bytes 18446744073709551615"},
		{"bytes_over_bound", goodLine("ACCEPT", "OK", "1", max+"0", "1418530010", "1418530070"), "bytes " + max + "0"},
		{"packets_over_bound", goodLine("ACCEPT", "OK", maxP+"0", "40", "1418530010", "1418530070"), "packets " + maxP + "0"},
		{"start_after_end", goodLine("ACCEPT", "OK", "1", "40", "1418530070", "1418530010"), "start 1418530070 is after end"},
		{"protocol", strings.Replace(okLine, " 22 6 ", " 22 256 ", 1), "bad protocol number"},
		{"port", strings.Replace(okLine, " 20641 ", " 65536 ", 1), "bad srcport number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := readAll(t, tc.name, []byte(okLine+tc.line+okLine))
			require.NoError(t, err)
			require.Equal(t, []uint64{4249, 4249}, got, "the neighbours are kept")
			require.EqualValues(t, 1, st.Rejected)
			require.Len(t, st.Errors, 1)
			require.Equal(t, int64(2), st.Errors[0].Line)
			require.Contains(t, st.Errors[0].Error(), tc.name+":2: "+tc.reason)
		})
	}
	// The bounds themselves, "-" and NODATA/SKIPDATA records pass.
	for _, line := range []string{
		goodLine("REJECT", "OK", maxP, max, "1418530010", "1418530010"),
		goodLine("-", "NODATA", "-", "-", "1418530010", "1418530070"),
		goodLine("-", "SKIPDATA", "-", "-", "-", "-"),
	} {
		_, st, err := readAll(t, "ok", []byte(line))
		require.NoError(t, err)
		require.EqualValues(t, 1, st.Stored, "%s: %v", line, st.Errors)
	}
}

// TestNULsInFirstLines: NULs in the first lines (what a crashed writer
// leaves) reject those lines, not the file; a file of NULs and junk is
// still not a flow log.
func TestNULsInFirstLines(t *testing.T) {
	nulLine := strings.Replace(okLine, "eni-1235b8ca123456789", "eni-1235b8\x00a123456789", 1)
	for _, tc := range []struct {
		name     string
		data     string
		stored   []uint64
		rejected int64
	}{
		{"nul_in_a_field", nulLine + okLine + okLine, []uint64{4249, 4249}, 1},
		{"nul_lines_first", "\x00\x00\x00\n" + nulLine + "\x00\n" + okLine, []uint64{4249}, 3},
		{"nul_run_before", strings.Repeat("\x00", 5000) + "\n" + okLine + okLine, []uint64{4249, 4249}, 1},
		{"nul_run_in_the_middle", okLine + strings.Repeat("\x00", 300) + okLine, []uint64{4249}, 1},
		{"other_control_byte", strings.Replace(okLine, "ACCEPT", "ACC\x01EPT", 1) + okLine, []uint64{4249}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st, err := readAll(t, tc.name, []byte(tc.data))
			require.NoError(t, err)
			require.Equal(t, tc.stored, got)
			require.Equal(t, tc.rejected, st.Rejected, "%v", st.Errors)
			require.Contains(t, st.Errors[0].Reason, "control byte 0x")
			// Gzip gives the same.
			got, _, err = readAll(t, tc.name, gzipBytes(t, []byte(tc.data)))
			require.NoError(t, err)
			require.Equal(t, tc.stored, got)
		})
	}
	_, _, err := readAll(t, "nul_junk", []byte(strings.Repeat("\x00\x00junk\n", 20)))
	require.ErrorIs(t, err, ErrNotFlowLog)
}

// TestIngestBadValues stores a file with impossible values and NULs:
// only the good records reach flow_logs and the rollup, and sum(bytes)
// is theirs.
func TestIngestBadValues(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	data := "\x00\x00\x00\n" + okLine +
		goodLine("MAYBE", "OK", "1", "40", "1418530010", "1418530070") +
		goodLine("ACCEPT", "WEIRD", "1", "40", "1418530010", "1418530070") +
		goodLine("ACCEPT", "OK", "1", "18446744073709551615", "1418530010", "1418530070") +
		okLine
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.log"), []byte(data), 0o644))
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.EqualValues(t, 2, sum.Stored)
	require.EqualValues(t, 4, sum.Rejected)
	require.Len(t, sum.Files[0].Errors, 4)
	require.Contains(t, sum.Files[0].Errors[1], "bad.log:3: action \"MAYBE\"")
	require.Equal(t, "2\t8498", queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs"))
	require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_logs WHERE action NOT IN ('ACCEPT', 'REJECT', '') OR log_status NOT IN ('OK', 'NODATA', 'SKIPDATA', '')"))
	require.Equal(t, "8498", queryTSV(t, s, "SELECT sum(bytes) FROM flow_traffic_hourly"))
}

// TestIngestSameContentOnce: a directory named through a link (with and
// without a trailing slash), a link inside it and a copy of a file store
// each record once.
func TestIngestSameContentOnce(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	require.NoError(t, os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	f1, f2 := flowFile(t, 3000, 1), flowFile(t, 2000, 2)
	require.NoError(t, os.WriteFile(filepath.Join(data, "f1.log.gz"), f1, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "f2.log.gz"), f2, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(data, "sub", "copy-of-f1.log.gz"), f1, 0o644))
	require.NoError(t, os.Symlink(filepath.Join(data, "f2.log.gz"), filepath.Join(data, "sub", "link-to-f2.log.gz")))
	link := filepath.Join(root, "link")
	require.NoError(t, os.Symlink(data, link))

	s := migrated(t)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{link}, sources.Window{})
	require.NoError(t, err)
	require.False(t, sum.Failed(), "%+v", sum)
	require.Equal(t, 4, sum.Listed, "the link without a slash is the directory, links inside are followed")
	require.Equal(t, 2, sum.Ingested)
	require.Equal(t, 2, sum.Skipped, "the copy and the link are the same content")
	require.EqualValues(t, 5000, sum.Stored)
	for _, srcs := range [][]string{{link + "/"}, {data}, {filepath.Join(data, "sub", "copy-of-f1.log.gz")}} {
		sum, err := in.Run(ctx, srcs, sources.Window{})
		require.NoError(t, err)
		require.Zero(t, sum.Ingested, "%v", srcs)
		require.Zero(t, sum.Stored, "%v", srcs)
	}
	require.Equal(t, "5000", queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, "5000", queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"))
	// Rows name where they were read: the real path, not the link.
	require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_logs WHERE source LIKE '%/link/%'"))
}

// TestIngestUnreadableEntry: entries of a directory that cannot be read
// are reported one by one, and the rest is stored.
func TestIngestUnreadableEntry(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.log.gz"), flowFile(t, 1000, 1), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "z.log.gz"), flowFile(t, 500, 2), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "broken.log")))
	// Reading /proc/self/mem at offset 0 fails, even for root, for whom
	// chmod 000 changes nothing.
	require.NoError(t, os.Symlink("/proc/self/mem", filepath.Join(dir, "mem.log")))
	s := migrated(t)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.True(t, sum.Failed())
	require.Equal(t, 2, sum.Ingested)
	require.Equal(t, 2, sum.FailedFiles)
	require.EqualValues(t, 1500, sum.Stored)
	var out bytes.Buffer
	require.NoError(t, sum.Print(&out))
	require.Contains(t, out.String(), filepath.Join(dir, "broken.log"))
	require.Contains(t, out.String(), filepath.Join(dir, "mem.log"))
	require.Equal(t, "1500", queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, "2", queryTSV(t, s, "SELECT count() FROM ingested_objects FINAL WHERE kind = 'flowlogs'"))
}
