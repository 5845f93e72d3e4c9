package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/store"
)

// recorded is one query a report sent to the store.
type recorded struct {
	sql, format string
	opts        store.QueryOptions
}

// recordingStore keeps the queries the reports send, to run them again
// through the ClickHouse HTTP interface and to read their statistics.
type recordingStore struct {
	store.Store
	mu      sync.Mutex
	queries []recorded
}

func (r *recordingStore) Query(ctx context.Context, w io.Writer, q, format string, opts ...store.Option) error {
	r.mu.Lock()
	r.queries = append(r.queries, recorded{q, format, store.Apply(opts)})
	r.mu.Unlock()
	return r.Store.Query(ctx, w, q, format, opts...)
}

func (r *recordingStore) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queries
	r.queries = nil
	return q
}

// panel is one query a 30-day cross-zone dashboard runs.
type panel struct {
	name string
	run  func(ctx context.Context, r *Reports) error
}

func dashboardPanels() []panel {
	f := benchFilter
	shop := Filter{From: f.From, To: f.To, Namespace: "ns7", Classes: []string{ClassAll}}
	mid := benchStart.AddDate(0, 0, 15).Add(13 * time.Hour)
	return []panel{
		{"top-namespaces", func(ctx context.Context, r *Reports) error { _, err := r.TopTalkers(ctx, f, ByNamespace); return err }},
		{"top-workloads", func(ctx context.Context, r *Reports) error { _, err := r.TopTalkers(ctx, f, ByWorkload); return err }},
		{"top-zones", func(ctx context.Context, r *Reports) error { _, err := r.TopTalkers(ctx, f, ByZone); return err }},
		{"cost-per-day", func(ctx context.Context, r *Reports) error { _, err := r.CostPerDay(ctx, f); return err }},
		{"zone-skew", func(ctx context.Context, r *Reports) error { _, err := r.ZoneSkew(ctx, f); return err }},
		{"before-after", func(ctx context.Context, r *Reports) error {
			_, err := r.BeforeAfter(ctx, shop, mid, 7*24*time.Hour)
			return err
		}},
	}
}

// readStats runs qs with the JSON format and sums the rows and bytes the
// engine read (its statistics).
func readStats(b *testing.B, s store.Store, qs []recorded) (rows, bytes_ uint64) {
	for _, q := range qs {
		var buf bytes.Buffer
		// A format setting makes the embedded engine fill in the
		// statistics (its streaming path leaves them at 0).
		require.NoError(b, s.Query(context.Background(), &buf, q.sql, "JSON", store.WithParams(q.opts.Params),
			store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"})), q.sql)
		var out struct {
			Statistics struct {
				RowsRead  uint64 `json:"rows_read"`
				BytesRead uint64 `json:"bytes_read"`
			} `json:"statistics"`
		}
		require.NoError(b, json.Unmarshal(buf.Bytes(), &out))
		rows += out.Statistics.RowsRead
		bytes_ += out.Statistics.BytesRead
	}
	return rows, bytes_
}

// BenchmarkPanels30d times each panel of a 30-day cross-zone dashboard
// over 30 days of rollups (1.44M hourly rows): from the daily and hourly
// rollups (daily) and, in the same run, from the hourly rollup alone
// (hourly-only, today's way), with the rows and bytes the engine read.
// Target: < 100 ms each (daily).
func BenchmarkPanels30d(b *testing.B) {
	base := newStore(b)
	fillRollup30d(b, base)
	s := &recordingStore{Store: base}
	r := New(s)
	ctx := context.Background()
	for _, p := range dashboardPanels() {
		for _, mode := range []string{"daily", "hourly-only"} {
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				useDaily = mode == "daily"
				defer func() { useDaily = true }()
				require.NoError(b, p.run(ctx, r))
				rows, read := readStats(b, base, s.take())
				b.ResetTimer()
				for b.Loop() {
					require.NoError(b, p.run(ctx, r))
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
				b.ReportMetric(float64(rows), "rows_read")
				b.ReportMetric(float64(read)/1e6, "MB_read")
				s.take()
			})
		}
	}
	fmt.Printf("target: < 100 ms/query for every panel (daily)\n")
}

// BenchmarkClickHouseHTTPOverhead runs a dashboard's worth of panel
// queries (30 days) through furrow's ClickHouse HTTP interface, as
// Grafana's ClickHouse datasource sends them (URL parameters, a FORMAT),
// and the same SQL directly on the store, in the same run: queries per
// second, p50 and p99 of each, and furrow's overhead as the ratio of the
// direct rate to the HTTP rate. Target: ≤ 1.2×.
func BenchmarkClickHouseHTTPOverhead(b *testing.B) {
	base := newStore(b)
	fillRollup30d(b, base)
	s := &recordingStore{Store: base}
	r := New(s)
	ctx := context.Background()
	for _, p := range dashboardPanels() {
		require.NoError(b, p.run(ctx, r))
	}
	queries := s.take()

	cfg := api.DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.DevMode = true
	srv, err := api.New(cfg, api.Dependencies{Store: base, Registry: prometheus.NewRegistry()})
	require.NoError(b, err)
	require.NoError(b, srv.Start(ctx))
	defer func() { _ = srv.Stop(context.Background()) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	endpoint := "http://" + srv.Addr() + "/clickhouse/"

	viaHTTP := func(q recorded) error {
		v := url.Values{"default_format": {q.format}}
		for k, val := range q.opts.Params {
			v.Set("param_"+k, val)
		}
		for k, val := range q.opts.Settings {
			v.Set(k, val)
		}
		resp, err := client.Post(endpoint+"?"+v.Encode(), "text/plain", bytes.NewReader([]byte(q.sql)))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
		}
		return err
	}
	direct := func(q recorded) error {
		return base.Query(ctx, io.Discard, q.sql, q.format, store.WithParams(q.opts.Params), store.WithSettings(q.opts.Settings))
	}
	measure := func(b *testing.B, run func(recorded) error) {
		for _, q := range queries { // warm: plans cached, parts in the page cache
			require.NoError(b, run(q))
		}
		var lat []time.Duration
		b.ResetTimer()
		for b.Loop() {
			for _, q := range queries {
				t0 := time.Now()
				require.NoError(b, run(q))
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "queries/s")
		b.ReportMetric(pct(0.5), "p50_ms")
		b.ReportMetric(pct(0.99), "p99_ms")
	}
	var httpQPS, directQPS float64
	b.Run("direct", func(b *testing.B) {
		measure(b, direct)
		directQPS = float64(b.N*len(queries)) / b.Elapsed().Seconds()
	})
	b.Run("clickhouse-http", func(b *testing.B) {
		measure(b, viaHTTP)
		httpQPS = float64(b.N*len(queries)) / b.Elapsed().Seconds()
	})
	if httpQPS > 0 {
		fmt.Printf("%d panel queries; overhead %.2f× (direct %.1f q/s, through /clickhouse/ %.1f q/s); target ≤ 1.2×\n",
			len(queries), directQPS/httpQPS, directQPS, httpQPS)
	}
}
