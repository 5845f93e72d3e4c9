package datasource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/dashboards"
	"github.com/furrowdev/furrow/datasource"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/query/traffic"
	"github.com/furrowdev/furrow/store"
)

// BenchmarkPluginPath runs the cross-zone dashboard's panel queries over
// 30 days of rollups through the built plugin binary over Grafana's gRPC
// protocol (plugin → furrow's HTTP API → store), and the same work directly
// on the store (the SQL, the reports' Go calls) in the same run: queries
// per second, p50 and p99, and the plugin path's overhead as the ratio of
// the rates. Target: ≤ 1.2×.
func BenchmarkPluginPath(b *testing.B) {
	ctx := context.Background()
	s := chtest.Store(b)
	_, err := migrations.New(s, migrations.Options{}).Up(ctx)
	require.NoError(b, err)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(b, s.Exec(ctx, `INSERT INTO flow_traffic_hourly
  (hour, traffic_class, src_cluster, src_kind, src_namespace, src_workload, src_zone,
   dst_cluster, dst_kind, dst_namespace, dst_workload, dst_zone, records, packets, bytes, transfer_bytes, cost_usd)
SELECT toDateTime({start:Int64}, 'UTC') + intDiv(number, 2000) * 3600,
  ['cross-zone', 'same-zone', 'nat-gateway', 'internet-egress'][1 + k % 4],
  'prod', 'pod', concat('ns', toString(k % 50)), concat('wl', toString(k % 400)), ['az1', 'az2', 'az3'][1 + k % 3],
  'prod', 'pod', concat('ns', toString(intDiv(k, 7) % 50)), concat('wl', toString(intDiv(k, 7) % 400)), ['az1', 'az2', 'az3'][1 + intDiv(k, 3) % 3],
  1 + number % 5, 10, 1000000, 1e6 * (1 + number % 97), 1e-5 * (1 + number % 97)
FROM (SELECT number, number % 2000 AS k FROM numbers(1440000))`, store.WithParams(map[string]string{"start": strconv.FormatInt(start.Unix(), 10)})))

	cfg := api.DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.DevMode = true
	srv, err := api.New(cfg, api.Dependencies{Store: s, Registry: prometheus.NewRegistry()})
	require.NoError(b, err)
	reports := traffic.New(s)
	reports.Routes(srv.Group(api.ScopeRead))
	require.NoError(b, srv.Start(ctx))
	defer func() { _ = srv.Stop(context.Background()) }()
	p := startPlugin(b)
	pc := pluginContext("http://"+srv.Addr(), "")

	// The dashboard's furrow targets, as Grafana sends them once the
	// variables are applied (class cross-zone, the rest All, a change).
	out, err := dashboards.JSON(dashboards.CrossZone())
	require.NoError(b, err)
	iv := strings.NewReplacer("${class}", "cross-zone", "${cluster}", "$__all", "${namespace}", "$__all", "${change}", "2026-01-16", "${team}", "$__all")
	var d struct {
		Panels []struct {
			Targets []json.RawMessage `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(b, json.Unmarshal([]byte(iv.Replace(string(out))), &d))
	tr := &pluginv2.TimeRange{FromEpochMS: start.UnixMilli(), ToEpochMS: start.AddDate(0, 0, 30).UnixMilli()}
	var targets []*pluginv2.DataQuery
	var models []datasource.Query
	for _, panel := range d.Panels {
		for _, t := range panel.Targets {
			var m datasource.Query
			require.NoError(b, json.Unmarshal(t, &m))
			models = append(models, m)
			targets = append(targets, &pluginv2.DataQuery{RefId: "A", Json: t, TimeRange: tr, IntervalMS: 3_600_000, MaxDataPoints: 1000})
		}
	}
	require.NotEmpty(b, targets)

	viaPlugin := func(i int) error {
		resp, err := p.data.QueryData(ctx, &pluginv2.QueryDataRequest{PluginContext: pc, Queries: []*pluginv2.DataQuery{targets[i]}})
		if err != nil {
			return err
		}
		if e := resp.Responses["A"].Error; e != "" {
			return fmt.Errorf("%s", e)
		}
		return nil
	}
	f := traffic.Filter{From: start, To: start.AddDate(0, 0, 30), Classes: []string{"cross-zone"}}
	direct := func(i int) error {
		m := models[i]
		switch m.QueryType {
		case datasource.QueryTypeSQL:
			sql, err := datasource.Expand(m.RawSQL, datasource.TimeRange{From: f.From, To: f.To, Interval: time.Hour})
			if err != nil {
				return err
			}
			sql = strings.NewReplacer("'$__all'", "''").Replace(sql)
			return s.Query(ctx, io.Discard, sql, "JSONCompact")
		case datasource.QueryTypeTopTalkers:
			_, err := reports.TopTalkers(ctx, traffic.Filter{From: f.From, To: f.To, Classes: f.Classes, Limit: m.Limit}, traffic.By(m.By))
			return err
		case datasource.QueryTypeCostPerDay:
			_, err := reports.CostPerDay(ctx, f)
			return err
		case datasource.QueryTypeBeforeAfter:
			at, _ := traffic.ParseTime("at", m.At, false)
			_, err := reports.BeforeAfter(ctx, f, at, 7*24*time.Hour)
			return err
		case datasource.QueryTypeZoneSkew:
			_, err := reports.ZoneSkew(ctx, traffic.Filter{From: f.From, To: f.To, Limit: m.Limit})
			return err
		}
		return fmt.Errorf("query type %q", m.QueryType)
	}
	measure := func(b *testing.B, run func(int) error) float64 {
		for i := range targets {
			require.NoError(b, run(i))
		}
		var lat []time.Duration
		b.ResetTimer()
		for b.Loop() {
			for i := range targets {
				t0 := time.Now()
				require.NoError(b, run(i))
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		qps := float64(len(lat)) / b.Elapsed().Seconds()
		b.ReportMetric(qps, "queries/s")
		b.ReportMetric(pct(0.5), "p50_ms")
		b.ReportMetric(pct(0.99), "p99_ms")
		return qps
	}
	var directQPS, pluginQPS float64
	b.Run("direct", func(b *testing.B) { directQPS = measure(b, direct) })
	b.Run("plugin", func(b *testing.B) { pluginQPS = measure(b, viaPlugin) })
	if pluginQPS > 0 {
		fmt.Printf("%d panel queries; plugin path overhead %.2f× (direct %.1f q/s, through the plugin %.1f q/s); target ≤ 1.2×\n",
			len(targets), directQPS/pluginQPS, directQPS, pluginQPS)
	}
}
