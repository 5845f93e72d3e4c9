package pods

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// historyIPs is how many distinct IPs the benchmark history reuses: 200k
// at 10M intervals (50 holders per IP over 90 days, 1.8 days each).
func historyIPs(intervals int) int { return max(intervals/50, 1) }

// insertHistory fills pod_ips with n intervals over 90 days from t0, in
// the engine itself: 8 clusters, n/50 IPs each held by one pod after
// another (a few minutes' gap between holders, each IP's schedule shifted
// by a hash), the last holder of each IP still open.
func insertHistory(b *testing.B, s store.Store, n int, t0 time.Time) {
	ips := historyIPs(n)
	holders := (n + ips - 1) / ips
	slot := 90 * 24 * time.Hour / time.Duration(holders)
	q := fmt.Sprintf(`INSERT INTO %s (cluster, ip, namespace, pod, pod_uid, workload_kind, workload, node, zone, host_network, valid_from, valid_to, updated_at)
SELECT concat('c', toString(ipn %% 8)), toIPv6(toIPv4(167772160 + ipn)), concat('ns-', toString(number %% 40)),
	concat('w', toString(number %% 300), '-', toString(number)), toString(generateUUIDv4(number)), 'Deployment',
	concat('w', toString(number %% 300)), concat('node-', toString(ipn %% 500)), concat('z', toString(ipn %% 3)), false,
	fromUnixTimestamp64Milli(toInt64(%d + j * %d + cityHash64(ipn) %% %d)),
	if(j = %d, fromUnixTimestamp64Milli(0), fromUnixTimestamp64Milli(toInt64(%d + (j + 1) * %d + cityHash64(ipn) %% %d - cityHash64(number) %% 600000))),
	now64(3)
FROM (SELECT number, number %% %d AS ipn, intDiv(number, %d) AS j FROM numbers(%d))`,
		PodIPsTable, t0.UnixMilli(), slot.Milliseconds(), slot.Milliseconds(), holders-1,
		t0.UnixMilli(), slot.Milliseconds(), slot.Milliseconds(), ips, ips, n)
	require.NoError(b, s.Exec(context.Background(), q))
}

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIndexHistory is issue 8's figure for the pod index: over a
// history of FURROW_BENCH_POD_INTERVALS intervals (default 10M: 200k IPs,
// 8 clusters, 90 days) in the embedded engine, the whole history loaded
// as the cache did before (LoadIndex), against IndexCache's one-day window:
// load time and live heap of each, the cost of extending the window by an
// hour, and ns per lookup (ns/op is the window's).
func BenchmarkIndexHistory(b *testing.B) {
	n := 10_000_000
	if v := os.Getenv("FURROW_BENCH_POD_INTERVALS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("FURROW_BENCH_POD_INTERVALS=%q: want a number of intervals, at least 100", v)
		}
	}
	ctx := context.Background()
	t0 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	s := migratedStore(b)
	start := time.Now()
	insertHistory(b, s, n, t0)
	b.Logf("%d intervals inserted in %v", n, time.Since(start).Round(time.Millisecond))
	ips := historyIPs(n)
	keys := make([][16]byte, ips)
	for i := range keys {
		keys[i] = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).As16()
	}
	day := t0.Add(60 * 24 * time.Hour)
	r := rand.New(rand.NewPCG(1, 2))
	lookups := func(idx interface {
		Find([16]byte, int64) (*Endpoint, int)
	}, from time.Time, span time.Duration, count int) (time.Duration, int) {
		hits := 0
		start := time.Now()
		for range count {
			if ep, _ := idx.Find(keys[r.IntN(ips)], from.Add(time.Duration(r.Int64N(int64(span)))).UnixNano()); ep != nil {
				hits++
			}
		}
		return time.Since(start), hits
	}

	// The whole history, as IndexCache loaded it before.
	base := heapAfterGC()
	start = time.Now()
	full, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(b, err)
	fullLoad := time.Since(start)
	fullHeap := heapAfterGC() - base
	fullIntervals := full.Intervals()
	took, hits := lookups(full, day, 22*time.Hour, 1_000_000)
	fullNs := float64(took.Nanoseconds()) / 1e6
	require.Positive(b, hits)
	full = nil // only the window stays alive from here
	runtime.KeepAlive(full)

	// The window of a one-day request: 22 hours plus the margin each side.
	base = heapAfterGC()
	c := NewIndexCache(s, time.Hour, nil)
	c.SetWindow(time.Hour, 24*time.Hour)
	start = time.Now()
	idx := c.Index(ctx, day, day.Add(22*time.Hour))
	dayLoad := time.Since(start)
	require.NotNil(b, idx)
	dayHeap := heapAfterGC() - base
	dayStats := c.Stats()

	// A backlog moving on an hour at a time: every other request passes
	// the window's end and extends it by two hours (the hour asked and the
	// margin), evicting as much at the other end.
	start = time.Now()
	for i := range 12 {
		at := day.Add(time.Duration(22+i+1) * time.Hour)
		idx = c.Index(ctx, at, at)
	}
	st := c.Stats()
	require.Positive(b, st.Extensions, "%+v", st)
	extend := time.Since(start) / time.Duration(st.Extensions)

	from := st.From.Add(time.Hour)
	b.ReportAllocs()
	hits = 0
	for b.Loop() {
		if ep, _ := idx.Find(keys[r.IntN(ips)], from.Add(time.Duration(r.Int64N(int64(20*time.Hour)))).UnixNano()); ep != nil {
			hits++
		}
	}
	require.Positive(b, hits)
	mb := func(x uint64) float64 { return float64(x) / (1 << 20) }
	b.ReportMetric(fullLoad.Seconds(), "full-load-s")
	b.ReportMetric(mb(fullHeap), "full-heap-MB")
	b.ReportMetric(fullNs, "full-ns/lookup")
	b.ReportMetric(dayLoad.Seconds(), "day-load-s")
	b.ReportMetric(mb(dayHeap), "day-heap-MB")
	b.ReportMetric(float64(extend.Milliseconds()), "extend-2h-ms")
	b.Logf("pod index over %d intervals (%d IPs, 90 days): whole history %d intervals, load %.1f s, heap %.0f MB, %.0f ns/lookup | one-day window %d records, load %.2f s, heap %.0f MB; +2 h extension %v (%d rows loaded in all)",
		n, ips, fullIntervals, fullLoad.Seconds(), mb(fullHeap), fullNs,
		dayStats.Records, dayLoad.Seconds(), mb(dayHeap), extend.Round(time.Millisecond), st.PodRowsLoaded)
}
