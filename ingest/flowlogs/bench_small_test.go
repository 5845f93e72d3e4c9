package flowlogs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	sources "github.com/furrowdev/furrow/ingest/source"
)

// BenchmarkSmallObjects ingests N objects of 3,300 records (the size of a
// busy ENI's 5-minute file; FURROW_BENCH_SMALL_OBJECTS, default 300: about
// a day of one log's files and 1M records, a backlog's shape) and,
// in the same run, one file holding the same records, alternately into
// fresh databases, and prints the rates: small objects grouped (the
// default, groups.go), one by one (IngestOptions.NoGroups), and the large
// file. The target: small objects at ≥ 0.7× the large-file rate.
func BenchmarkSmallObjects(b *testing.B) {
	const per = 3300
	n := 300
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_SMALL_OBJECTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	smallDir, largeDir := b.TempDir(), b.TempDir()
	var all bytes.Buffer
	for k := range n {
		var w bytes.Buffer
		// Each object its own records (content identity: copies would be
		// skipped as already ingested).
		writeLines(&w, VersionFields(5), per, func(i int, f string) string { return v5Value(k*per+i, f) })
		name := fmt.Sprintf("123456789012_vpcflowlogs_eu-west-1_fl-0123_20261102T%02d%02dZ_%08x.log.gz", k/12%24, k%12*5, k)
		if err := os.WriteFile(filepath.Join(smallDir, name), gzipBytes(b, w.Bytes()), 0o644); err != nil {
			b.Fatal(err)
		}
		if k == 0 {
			all.Write(w.Bytes())
		} else {
			all.Write(w.Bytes()[bytes.IndexByte(w.Bytes(), '\n')+1:]) // one header
		}
	}
	if err := os.WriteFile(filepath.Join(largeDir, "large.log.gz"), gzipBytes(b, all.Bytes()), 0o644); err != nil {
		b.Fatal(err)
	}
	run := func(dir string, noGroups bool) time.Duration {
		s := migrated(b)
		quiesce(b, s)
		in := newTestIngester(b, s, Dependencies{}, IngestOptions{NoGroups: noGroups})
		t0 := time.Now()
		sum, err := in.Run(ctx, []string{dir}, sources.Window{})
		d := time.Since(t0)
		if err != nil || sum.Stored != int64(n*per) {
			b.Fatalf("ingest %s: %v, stored %d of %d", dir, err, sum.Stored, n*per)
		}
		return d
	}
	for b.Loop() {
		var small, single, large time.Duration
		for r := range 2 {
			sm, sg, lg := run(smallDir, false), run(smallDir, true), run(largeDir, false)
			if r == 0 || sm < small {
				small = sm
			}
			if r == 0 || sg < single {
				single = sg
			}
			if r == 0 || lg < large {
				large = lg
			}
		}
		rate := func(d time.Duration) float64 { return float64(n*per) / d.Seconds() }
		rs, r1, rl := rate(small), rate(single), rate(large)
		fmt.Printf("small objects: %d × %d records, grouped %.2f s = %.0f records/s, one by one %.2f s = %.0f records/s | one file of the same records %.2f s = %.0f records/s | grouped/large = %.2fx (target >= 0.7x), one by one/large = %.2fx (best of 2, alternating)\n",
			n, per, small.Seconds(), rs, single.Seconds(), r1, large.Seconds(), rl, rs/rl, r1/rl)
		b.ReportMetric(rs, "small-records/s")
		b.ReportMetric(r1, "small-one-by-one-records/s")
		b.ReportMetric(rl, "large-records/s")
		b.ReportMetric(rs/rl, "x-large-file")
	}
}
