package flowlogs

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/demo"
	"github.com/furrowdev/furrow/ingest/pods"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/internal/testenv/miniotest"
	"github.com/furrowdev/furrow/store"
)

// TestIngestDemoS3 ingests a generated data set from MinIO twice and checks
// exactly-once, then compares the attribution with the generator's truth.
func TestIngestDemoS3(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a data set and starts MinIO")
	}
	ctx := context.Background()
	dir := t.TempDir()
	gen, err := demo.Generate(ctx, dir, demo.Options{Days: 1, FlowsPerHour: 4000})
	require.NoError(t, err)

	srv := miniotest.Start(t)
	srv.MakeBucket(t, "flows")
	root := filepath.Join(dir, "s3")
	require.NoError(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		srv.PutObject(t, "flows", filepath.ToSlash(rel), body)
		return nil
	}))

	s := migrated(t)
	idx, hostNet := demoIndex(t, dir)
	src := sources.New(sources.DefaultConfiguration(), sources.Dependencies{S3: srv.Client(t)})
	in := newTestIngester(t, s, Dependencies{
		Source: src, Traffic: demoTraffic(t, dir), Index: func(context.Context, time.Time, time.Time) *pods.Index { return idx },
	}, IngestOptions{BatchRows: 4096})

	sum, err := in.Run(ctx, []string{"s3://flows/AWSLogs/"}, sources.Window{})
	require.NoError(t, err)
	require.False(t, sum.Failed(), "%+v", sum)
	require.Equal(t, gen.Files, sum.Ingested)
	require.Equal(t, gen.Records, sum.Records)
	require.Equal(t, gen.Records, sum.Stored)
	require.Equal(t, strconv.FormatInt(gen.Records, 10), queryTSV(t, s, "SELECT count() FROM flow_logs"))

	again, err := in.Run(ctx, []string{"s3://flows/AWSLogs/"}, sources.Window{})
	require.NoError(t, err)
	require.Equal(t, gen.Files, again.Skipped)
	require.Empty(t, again.Files)
	require.Equal(t, strconv.FormatInt(gen.Records, 10), queryTSV(t, s, "SELECT count() FROM flow_logs"))
	// The rollup saw every record once.
	require.Equal(t, strconv.FormatInt(gen.Records, 10), queryTSV(t, s, "SELECT sum(records) FROM flow_traffic_hourly"))

	compareTruth(t, s, gen, hostNet)
}

// compareTruth checks the per-namespace-pair transfer bytes of the
// pod-to-pod classes against the generator's ground truth.
//
// Tolerance: attribution uses pod snapshots taken every ten minutes. A pod
// that ended between two snapshots is still taken to hold its IP until the
// next one, and an IP reused in that gap goes to whichever pod started
// last, so a record near a pod's end may land on the wrong pod. The
// generator sends no traffic from pods that lived between two snapshots,
// and each pod's start time is exact, so the error is limited to those
// hand-over minutes: well under 1% of a pair's bytes for pairs with real
// volume. Pairs under 1 MB are skipped (a single mis-attributed flow is a
// large share of them).
//
// The CronJob pods of batch/report-export run two to five minutes and most
// are only ever listed as Succeeded: their intervals end at the containers'
// finishedAt, and their traffic is compared like the rest.

func compareTruth(t *testing.T, s store.Store, gen demo.Summary, hostNet map[string]bool) {
	t.Helper()
	type key struct{ src, dst, class string }
	want := map[key]float64{}
	ns := func(namespace, workload string) string {
		if hostNet[namespace+"/"+workload] {
			return "" // attributed to the node
		}
		return namespace
	}
	for _, r := range gen.Truth {
		if r.Class == demo.ClassSameZone || r.Class == demo.ClassCrossZone {
			want[key{ns(r.SrcNamespace, r.SrcWorkload), ns(r.DstNamespace, r.DstWorkload), r.Class}] += float64(r.Bytes)
		}
	}
	got := map[key]float64{}
	out := queryTSV(t, s, `SELECT src_namespace, dst_namespace, traffic_class, sum(transfer_bytes) FROM flow_logs
		WHERE traffic_class IN ('same-zone', 'cross-zone') AND src_kind IN ('pod', 'node') AND dst_kind IN ('pod', 'node')
		GROUP BY ALL`)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		v, err := strconv.ParseFloat(f[3], 64)
		require.NoError(t, err)
		got[key{f[0], f[1], f[2]}] = v
	}
	var keys []key
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	var totalWant, totalGot, worst float64
	checked := 0
	for _, k := range keys {
		w, g := want[k], got[k]
		totalWant += w
		totalGot += g
		if max(w, g) < 1e6 {
			continue
		}
		checked++
		rel := math.Abs(g-w) / max(w, g)
		worst = max(worst, rel)
		if rel > 0.01 {
			t.Errorf("%s → %s %s: got %.0f bytes, truth %.0f (%.2f%% off)", k.src, k.dst, k.class, g, w, 100*rel)
		}
	}
	t.Logf("%d namespace pairs checked, worst %.4f%% off; total %.0f vs truth %.0f", checked, 100*worst, totalGot, totalWant)
	require.Positive(t, checked)
	require.InEpsilon(t, totalWant, totalGot, 0.001)
}
