package flowlogs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

// migrated returns a store with furrow's schema.
func migrated(t testing.TB) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

// queryTSV runs q and returns its TSV output, trimmed.
func queryTSV(t testing.TB, s store.Store, q string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf, q, "TSV"), q)
	return strings.TrimSpace(buf.String())
}

func newTestIngester(t testing.TB, s store.Store, deps Dependencies, opts IngestOptions) *Ingester {
	t.Helper()
	deps.Store = s
	if deps.Source == nil {
		deps.Source = sources.New(sources.DefaultConfiguration(), sources.Dependencies{})
	}
	if deps.Traffic.Prices == (Prices{}) {
		deps.Traffic.Prices = DefaultTrafficConfiguration().Prices
	}
	in, err := NewIngester(deps, opts)
	require.NoError(t, err)
	return in
}

// TestIngestSamples ingests the real-world samples of testdata and checks
// what every column received, not only the row counts.
func TestIngestSamples(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	for _, name := range []string{"v2_header.log", "v2_headerless.log", "v5_custom.log", "not_flowlog.txt", "cloudwatch.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	sum, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, sum.Print(&out))
	t.Log("\n" + out.String())
	require.Equal(t, 1, sum.NotFlowLogs, "not_flowlog.txt")
	require.Equal(t, 4, sum.Ingested)
	require.Zero(t, sum.FailedFiles)
	require.Positive(t, sum.Rejected)
	require.False(t, sum.Failed())
	sum.Strict = true
	require.True(t, sum.Failed(), "strict fails on rejected lines")

	require.Equal(t, itoa(sum.Stored), queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, itoa(sum.Records-sum.Rejected), itoa(sum.Stored))
	// Per file and per column: each file's rows carry the fields it has.
	got := queryTSV(t, s, `SELECT replaceRegexpOne(source, '.*/([^/?]+)\?.*', '\\1') AS f, count(),
		countIf(version > 0), countIf(srcaddr != toIPv6('::')), countIf(bytes > 0), countIf(start > 0),
		countIf(log_status != ''), countIf(flow_direction != ''), countIf(pkt_srcaddr != toIPv6('::')),
		countIf(src_kind != ''), countIf(traffic_class = 'unknown'), countIf(transfer_bytes > 0)
		FROM flow_logs GROUP BY f ORDER BY f`)
	t.Log("\n" + got)
	for _, line := range strings.Split(got, "\n") {
		f := strings.Fields(line)
		require.Equal(t, f[1], f[2], "every row has a version: %s", line)
		require.Equal(t, f[1], f[5], "every row has a start: %s", line)
		require.Equal(t, f[1], f[6], "every row has a log_status: %s", line)
		if f[0] == "v5_custom.log" {
			require.Equal(t, f[1], f[7], "v5 rows have flow_direction: %s", line)
		}
	}
	// The ledger knows every file, junk included: a second run skips all.
	again, err := in.Run(ctx, []string{dir}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, 5, again.Skipped)
	require.Empty(t, again.Files)
	require.Equal(t, itoa(sum.Stored), queryTSV(t, s, "SELECT count() FROM flow_logs"))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestIngestWindow drops and counts the records whose start is outside
// the window.
func TestIngestWindow(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "v2_header.log"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "v2.log"), data, 0o644))
	// A file without a time in its name is listed only with an open window,
	// so ingest the object directly with a window.
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	var obj sources.Object
	require.NoError(t, in.deps.Source.List(ctx, filepath.Join(dir, "v2.log"), sources.Window{}, func(o sources.Object) error { obj = o; return nil }))
	w := sources.Window{Since: time.Unix(1418530000, 0), Until: time.Unix(1431280000, 0)}
	res, err := in.ingest(ctx, obj, w, nil)
	require.NoError(t, err)
	require.Positive(t, res.OutsideWindow)
	require.Equal(t, itoa(res.Stored), queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM flow_logs WHERE start < toDateTime(1418530000) OR start >= toDateTime(1431280000)"))
	require.Equal(t, res.Read-res.Rejected, res.Stored+res.OutsideWindow)
}
