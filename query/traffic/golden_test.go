package traffic

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./query/traffic -update to create %s", path)
	require.Equal(t, string(want), string(got), "%s differs (go test ./query/traffic -update if intended)", path)
}

var extension = map[string]string{FormatTable: "txt", FormatCSV: "csv", FormatJSON: "json"}

func TestGolden(t *testing.T) {
	r := New(loaded(t))
	ctx := context.Background()
	window := Filter{From: day("2026-03-01"), To: day("2026-03-03")}
	reports := []struct {
		name string
		run  func() (Result, error)
	}{
		{"top_namespace", func() (Result, error) { return r.TopTalkers(ctx, Filter{}, ByNamespace) }},
		{"top_workload", func() (Result, error) { return r.TopTalkers(ctx, Filter{}, ByWorkload) }},
		{"top_zone", func() (Result, error) { return r.TopTalkers(ctx, Filter{}, ByZone) }},
		{"cost_per_day", func() (Result, error) { return r.CostPerDay(ctx, Filter{Classes: []string{ClassAll}}) }},
		{"before_after", func() (Result, error) {
			return r.BeforeAfter(ctx, Filter{Namespace: "shop"}, day("2026-03-02"), 0)
		}},
		{"zone_skew", func() (Result, error) { return r.ZoneSkew(ctx, window) }},
	}
	for _, rep := range reports {
		res, err := rep.run()
		require.NoError(t, err, rep.name)
		for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
			var buf bytes.Buffer
			require.NoError(t, Render(&buf, res, format))
			golden(t, rep.name+"."+extension[format], buf.Bytes())
		}
	}
	for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
		var buf bytes.Buffer
		f := Filter{Namespace: "shop", At: day("2026-03-02")}
		require.NoError(t, r.CrossZoneReport(ctx, &buf, f, format))
		golden(t, "cross_zone_report."+extension[format], buf.Bytes())
	}
}

func TestRenderEmpty(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, Talkers{By: ByZone, Rows: []TalkerRow{}}, FormatTable))
	require.Equal(t, "SRC ZONE  DST ZONE  GB  COST  SHARE  RECORDS\n(no traffic)\n", buf.String())
	buf.Reset()
	require.NoError(t, Render(&buf, DayCosts{}, FormatJSON))
	require.Equal(t, "[]\n", buf.String())
	require.ErrorIs(t, Render(&buf, DayCosts{}, "xml"), ErrBadFilter)
}
