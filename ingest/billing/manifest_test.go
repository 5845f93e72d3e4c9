package billing

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

const curHead = "identity/LineItemId,bill/PayerAccountId,bill/BillingPeriodStartDate,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/LineItemType,lineItem/CurrencyCode,lineItem/UnblendedCost\n"

func curRow(period, day, cost string) string {
	return fmt.Sprintf("x,111,%s-01T00:00:00Z,%sT00:00:00Z,%sT01:00:00Z,Usage,USD,%s\n", period, day, day, cost)
}

// writeAt writes a file under root and sets its time.
func writeAt(t *testing.T, root, rel, body string, at time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	require.NoError(t, os.Chtimes(p, at, at))
}

func manifestJSONOf(t *testing.T, v map[string]any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func periodTotals(t *testing.T, s store.Store) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b, "SELECT toString(toDate(billing_period_start)), toString(sum(billed_cost)), count() FROM billing_costs GROUP BY 1 ORDER BY 1", "TSV"))
	return strings.TrimSpace(b.String())
}

// TestManifestTrees: a CUR 1.0 report tree (versioned assemblies) and a
// CUR 2.0 export tree; the newest assembly per period is the delivery, its
// part files combined; the tree again changes nothing; an older assembly
// named on its own loses; a manifest listing a missing part replaces
// nothing.
func TestManifestTrees(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	root := t.TempDir()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// CUR 1.0: s3://bucket/cur/rep/… copied under root/rep.
	nov := "rep/20261101-20261201/"
	writeAt(t, root, nov+"aaaa/rep-1.csv", curHead+curRow("2026-11", "2026-11-01", "1"), t0)
	writeAt(t, root, nov+"aaaa/rep-2.csv", curHead+curRow("2026-11", "2026-11-02", "2"), t0)
	oldManifest := manifestJSONOf(t, map[string]any{"assemblyId": "aaaa", "billingPeriod": map[string]string{"start": "20261101T000000.000Z", "end": "20261201T000000.000Z"},
		"reportKeys": []string{"cur/" + nov + "aaaa/rep-1.csv", "cur/" + nov + "aaaa/rep-2.csv"}, "bucket": "bucket", "reportName": "rep"})
	writeAt(t, root, nov+"aaaa/rep-Manifest.json", oldManifest, t0)
	t1 := t0.Add(8 * time.Hour)
	writeAt(t, root, nov+"bbbb/rep-00001.csv", curHead+curRow("2026-11", "2026-11-01", "1.5"), t1)
	writeAt(t, root, nov+"bbbb/rep-00002.csv", curHead+curRow("2026-11", "2026-11-02", "2.5")+curRow("2026-11", "2026-11-03", "3"), t1)
	newManifest := manifestJSONOf(t, map[string]any{"assemblyId": "bbbb", "billingPeriod": map[string]string{"start": "20261101T000000.000Z", "end": "20261201T000000.000Z"},
		"reportKeys": []string{"cur/" + nov + "bbbb/rep-00001.csv", "cur/" + nov + "bbbb/rep-00002.csv"}, "bucket": "bucket", "reportName": "rep"})
	writeAt(t, root, nov+"bbbb/rep-Manifest.json", newManifest, t1)
	writeAt(t, root, nov+"rep-Manifest.json", newManifest, t1)
	oct := "rep/20261001-20261101/"
	writeAt(t, root, oct+"cccc/rep-1.csv", curHead+curRow("2026-10", "2026-10-05", "5"), t0)
	writeAt(t, root, oct+"rep-Manifest.json", manifestJSONOf(t, map[string]any{"assemblyId": "cccc", "billingPeriod": map[string]string{"start": "20261001T000000.000Z"},
		"reportKeys": []string{"cur/" + oct + "cccc/rep-1.csv"}}), t0)

	reps, err := IngestSources(ctx, s, []string{filepath.Join(root, "rep")}, Options{Version: "test", Now: t1})
	require.NoError(t, err)
	require.Len(t, reps, 2, "one delivery per period: the newest assembly")
	require.Equal(t, "2026-10-01\t5\t1\n2026-11-01\t7\t3", periodTotals(t, s), "the parts of one assembly combined")

	again, err := IngestSources(ctx, s, []string{filepath.Join(root, "rep")}, Options{Version: "test", Now: t1.Add(time.Hour)})
	require.NoError(t, err)
	for _, r := range again {
		require.True(t, r.Skipped, r.Source)
	}

	// The older assembly named on its own: loaded, but the newer holds.
	old, err := IngestSources(ctx, s, []string{filepath.Join(root, nov, "aaaa", "rep-Manifest.json")}, Options{Version: "test", Now: t1.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, old, 1)
	require.Equal(t, []string{"111/2026-11-01"}, old[0].Kept)
	require.Equal(t, "2026-10-01\t5\t1\n2026-11-01\t7\t3", periodTotals(t, s))

	// CUR 2.0: dataFiles as s3:// URIs, a later execution with a part
	// missing: an error, the period unchanged.
	exp := "exp/"
	writeAt(t, root, exp+"data/BILLING_PERIOD=2026-12/exp-00001.csv", curHead+curRow("2026-12", "2026-12-01", "10"), t1)
	writeAt(t, root, exp+"data/BILLING_PERIOD=2026-12/exp-00002.csv", curHead+curRow("2026-12", "2026-12-02", "20"), t1)
	m := map[string]any{"executionId": "e1", "billingPeriod": map[string]string{"start": "2026-12-01T00:00:00.000Z"},
		"dataFiles": []string{"s3://bucket/p/exp/data/BILLING_PERIOD=2026-12/exp-00001.csv", "s3://bucket/p/exp/data/BILLING_PERIOD=2026-12/exp-00002.csv"}}
	writeAt(t, root, exp+"metadata/BILLING_PERIOD=2026-12/exp-Manifest.json", manifestJSONOf(t, m), t1)
	reps, err = IngestSources(ctx, s, []string{filepath.Join(root, exp, "metadata/BILLING_PERIOD=2026-12/exp-Manifest.json")}, Options{Version: "test", Now: t1})
	require.NoError(t, err)
	require.Len(t, reps, 1)
	require.Len(t, reps[0].Files, 2)
	require.Contains(t, periodTotals(t, s), "2026-12-01\t30\t2")

	m["executionId"] = "e2"
	m["dataFiles"] = []string{"s3://bucket/p/exp/data/BILLING_PERIOD=2026-12/exp-00001.csv", "s3://bucket/p/exp/data/BILLING_PERIOD=2026-12/exp-00003.csv"}
	writeAt(t, root, exp+"metadata/BILLING_PERIOD=2026-12/exp-Manifest.json", manifestJSONOf(t, m), t1.Add(time.Hour))
	_, err = IngestSources(ctx, s, []string{filepath.Join(root, exp)}, Options{Version: "test", Now: t1})
	require.ErrorIs(t, err, ErrManifest)
	require.Contains(t, periodTotals(t, s), "2026-12-01\t30\t2", "a partial delivery replaces nothing")
}

// TestPlainDirectory: a directory without manifests is one delivery of its
// bill files; a directory without bills says so.
func TestPlainDirectory(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	root := t.TempDir()
	writeAt(t, root, "a/part-1.csv", curHead+curRow("2026-11", "2026-11-01", "1"), time.Now())
	writeAt(t, root, "a/part-2.csv", curHead+curRow("2026-11", "2026-11-02", "2"), time.Now())
	writeAt(t, root, "a/README.txt", "not a bill", time.Now())
	reps, err := IngestSources(ctx, s, []string{filepath.Join(root, "a")}, Options{Version: "test", Now: time.Now()})
	require.NoError(t, err)
	require.Len(t, reps, 1)
	require.Len(t, reps[0].Files, 2)
	require.Equal(t, "2026-11-01\t3\t2", periodTotals(t, s))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "empty"), 0o755))
	_, err = IngestSources(ctx, s, []string{filepath.Join(root, "empty")}, Options{Version: "test", Now: time.Now()})
	require.ErrorIs(t, err, errNoBills)
}

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Manifest
		err      bool
	}{
		{"cur1", `{"assemblyId":"a-1","billingPeriod":{"start":"20231101T000000.000Z","end":"20231201T000000.000Z"},"reportKeys":["p/r/20231101-20231201/a-1/r-1.csv.gz","p/r/20231101-20231201/a-1/r-2.csv.gz"],"columns":[{"category":"lineItem","name":"UnblendedCost"}]}`,
			Manifest{Assembly: "a-1", Period: "2023-11-01", Keys: []string{"p/r/20231101-20231201/a-1/r-1.csv.gz", "p/r/20231101-20231201/a-1/r-2.csv.gz"}}, false},
		{"cur2", `{"executionId":"e-9","exportArn":"arn:aws:bcm-data-exports:us-east-1:111:export/x","billingPeriod":{"start":"2024-01-01T00:00:00.000Z"},"dataFiles":["s3://b/p/x/data/BILLING_PERIOD=2024-01/x-00001.snappy.parquet"]}`,
			Manifest{Assembly: "e-9", Period: "2024-01-01", Keys: []string{"p/x/data/BILLING_PERIOD=2024-01/x-00001.snappy.parquet"}}, false},
		{"no period", `{"assemblyId":"a","reportKeys":["k.csv"]}`, Manifest{Assembly: "a", Keys: []string{"k.csv"}}, false},
		{"no files", `{"assemblyId":"a","reportKeys":[]}`, Manifest{}, true},
		{"no id", `{"reportKeys":["k.csv"]}`, Manifest{}, true},
		{"folder", `{"assemblyId":"a","dataFiles":["s3://b/"]}`, Manifest{}, true},
		{"not json", `<xml/>`, Manifest{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.in))
			if tc.err {
				require.ErrorIs(t, err, ErrManifest)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, m)
		})
	}
}

// FuzzParseManifest: any input parses or fails with ErrManifest; a parsed
// manifest names an assembly and files with names.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"assemblyId":"a","reportKeys":["x/y.csv"],"billingPeriod":{"start":"20231101T000000.000Z"}}`))
	f.Add([]byte(`{"executionId":"e","dataFiles":["s3://b/k.parquet"],"billingPeriod":{"start":"2024-01"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			require.ErrorIs(t, err, ErrManifest)
			return
		}
		require.NotEmpty(t, m.Assembly)
		require.NotEmpty(t, m.Keys)
		for _, k := range m.Keys {
			require.NotEmpty(t, k)
		}
		if m.Period != "" {
			_, err := time.Parse(time.DateOnly, m.Period)
			require.NoError(t, err)
		}
	})
}

func gz(t *testing.T, body string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.String()
}
