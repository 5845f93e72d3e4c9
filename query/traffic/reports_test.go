package traffic

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/flowclass"
)

// at returns the caller's position, so a failing table case points at itself.
func at() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line)
}

const gB = 1e9

func TestTopTalkers(t *testing.T) {
	r := New(loaded(t))
	tests := []struct {
		pos  string
		f    Filter
		by   By
		want []TalkerRow
	}{
		{at(), Filter{}, ByNamespace, []TalkerRow{
			{"istio-system", "shop", 7 * gB, 0.07, 7.0 / 11, 3},
			{"shop", "shop", 3 * gB, 0.03, 3.0 / 11, 2},
			{"monitoring", "shop", 1 * gB, 0.01, 1.0 / 11, 1},
		}},
		{at(), Filter{}, ByWorkload, []TalkerRow{
			{"istio-system/istio-ingressgateway", "shop/cart", 7 * gB, 0.07, 7.0 / 11, 3},
			{"shop/cart", "shop/db", 3 * gB, 0.03, 3.0 / 11, 2},
			{"monitoring/prometheus", "shop/cart", 1 * gB, 0.01, 1.0 / 11, 1},
		}},
		{at(), Filter{}, ByZone, []TalkerRow{
			{za, zb, 7 * gB, 0.07, 7.0 / 11, 3},
			{zc, za, 2 * gB, 0.02, 2.0 / 11, 1},
			{za, zc, 1 * gB, 0.01, 1.0 / 11, 1},
			{zb, zc, 1 * gB, 0.01, 1.0 / 11, 1},
		}},
		// Share is of everything the filter selects, not of the rows returned.
		{at(), Filter{Limit: 1}, ByNamespace, []TalkerRow{
			{"istio-system", "shop", 7 * gB, 0.07, 7.0 / 11, 3},
		}},
		{at(), Filter{From: day("2026-03-02")}, ByNamespace, []TalkerRow{
			{"shop", "shop", 2 * gB, 0.02, 2.0 / 3, 1},
			{"istio-system", "shop", 1 * gB, 0.01, 1.0 / 3, 1},
		}},
		// To is exclusive at the hour: 10:00 on 03-01 holds two records.
		{at(), Filter{From: day("2026-03-01"), To: day("2026-03-01").Add(11 * time.Hour)}, ByNamespace, []TalkerRow{
			{"istio-system", "shop", 6 * gB, 0.06, 1, 2},
		}},
		// From is rounded down to its hour.
		{at(), Filter{From: day("2026-03-02").Add(12*time.Hour + 30*time.Minute)}, ByNamespace, []TalkerRow{
			{"shop", "shop", 2 * gB, 0.02, 1, 1},
		}},
		{at(), Filter{Namespace: "monitoring"}, ByNamespace, []TalkerRow{
			{"monitoring", "shop", 1 * gB, 0.01, 1, 1},
		}},
		{at(), Filter{Workload: "db"}, ByWorkload, []TalkerRow{
			{"shop/cart", "shop/db", 3 * gB, 0.03, 1, 2},
		}},
		{at(), Filter{Cluster: "staging"}, ByNamespace, []TalkerRow{}},
		{at(), Filter{Classes: []string{flowclass.NATGateway, flowclass.InternetEgress}}, ByNamespace, []TalkerRow{
			{"shop", "(nat-gateway)", 3 * gB, 0.135, 3 / 3.5, 1},
			{"shop", "(internet)", 0.5 * gB, 0.045, 0.5 / 3.5, 1},
		}},
		{at(), Filter{Classes: []string{flowclass.NATGateway, flowclass.InternetEgress}}, ByZone, []TalkerRow{
			{za, za, 3 * gB, 0.135, 3 / 3.5, 1},
			{za, "(internet)", 0.5 * gB, 0.045, 0.5 / 3.5, 1},
		}},
		{at(), Filter{Classes: []string{ClassAll}, Namespace: "istio-system"}, ByNamespace, []TalkerRow{
			{"istio-system", "shop", 13 * gB, 0.07, 1, 4},
		}},
		// A value that would break concatenated SQL is just a namespace.
		{at(), Filter{Namespace: `x' OR 1=1 --\`}, ByNamespace, []TalkerRow{}},
	}
	for _, tt := range tests {
		got, err := r.TopTalkers(context.Background(), tt.f, tt.by)
		require.NoError(t, err, tt.pos)
		require.Equal(t, tt.by, got.By, tt.pos)
		require.Len(t, got.Rows, len(tt.want), "%s: %+v", tt.pos, got.Rows)
		for i, w := range tt.want {
			g := got.Rows[i]
			require.Equal(t, [2]string{w.Src, w.Dst}, [2]string{g.Src, g.Dst}, "%s row %d", tt.pos, i)
			require.Equal(t, w.Bytes, g.Bytes, "%s row %d bytes", tt.pos, i)
			require.Equal(t, w.Records, g.Records, "%s row %d records", tt.pos, i)
			require.InDelta(t, w.CostUSD, g.CostUSD, 1e-12, "%s row %d cost", tt.pos, i)
			require.InDelta(t, w.Share, g.Share, 1e-12, "%s row %d share", tt.pos, i)
		}
	}
}

func TestCostPerDay(t *testing.T) {
	r := New(loaded(t))
	tests := []struct {
		pos  string
		f    Filter
		want DayCosts
	}{
		{at(), Filter{}, DayCosts{
			{"2026-03-01", "cross-zone", 8 * gB, 0.08, 4},
			{"2026-03-02", "cross-zone", 3 * gB, 0.03, 2},
		}},
		{at(), Filter{Classes: []string{ClassAll}}, DayCosts{
			{"2026-03-01", "cross-zone", 8 * gB, 0.08, 4},
			{"2026-03-01", "nat-gateway", 3 * gB, 0.135, 1},
			{"2026-03-01", "same-zone", 5 * gB, 0, 1},
			{"2026-03-02", "cross-zone", 3 * gB, 0.03, 2},
			{"2026-03-02", "internet-egress", 0.5 * gB, 0.045, 1},
			{"2026-03-02", "same-zone", 6 * gB, 0, 1},
		}},
		{at(), Filter{Workload: "istio-ingressgateway", Classes: []string{flowclass.CrossZone, flowclass.SameZone}}, DayCosts{
			{"2026-03-01", "cross-zone", 6 * gB, 0.06, 2},
			{"2026-03-02", "cross-zone", 1 * gB, 0.01, 1},
			{"2026-03-02", "same-zone", 6 * gB, 0, 1},
		}},
		{at(), Filter{To: day("2026-03-01")}, DayCosts{}},
	}
	for _, tt := range tests {
		got, err := r.CostPerDay(context.Background(), tt.f)
		require.NoError(t, err, tt.pos)
		require.Len(t, got, len(tt.want), "%s: %+v", tt.pos, got)
		for i, w := range tt.want {
			g := got[i]
			require.Equal(t, [2]string{w.Day, w.Class}, [2]string{g.Day, g.Class}, "%s row %d", tt.pos, i)
			require.Equal(t, w.Bytes, g.Bytes, "%s row %d", tt.pos, i)
			require.Equal(t, w.Records, g.Records, "%s row %d", tt.pos, i)
			require.InDelta(t, w.CostUSD, g.CostUSD, 1e-12, "%s row %d", tt.pos, i)
		}
	}
}

func TestBeforeAfter(t *testing.T) {
	r := New(loaded(t))
	h := func(d string, hours int) time.Time { return day(d).Add(time.Duration(hours) * time.Hour) }
	tests := []struct {
		pos           string
		f             Filter
		at            time.Time
		window        time.Duration
		before, after Side
	}{
		// 7 days each side, clipped to the data: 03-01 10:00 … 03-02 16:00.
		{at(), Filter{Namespace: "shop"}, day("2026-03-02"), 0,
			Side{From: h("2026-03-01", 10), To: day("2026-03-02"), Days: 14.0 / 24,
				TotalBytes: 16 * gB, ClassBytes: 8 * gB, CostUSD: 0.08},
			Side{From: day("2026-03-02"), To: h("2026-03-02", 16), Days: 16.0 / 24,
				TotalBytes: 9.5 * gB, ClassBytes: 3 * gB, CostUSD: 0.03}},
		// at is rounded down to the hour; the window cuts both sides.
		{at(), Filter{Workload: "istio-ingressgateway"}, h("2026-03-02", 10).Add(20 * time.Minute), 2 * time.Hour,
			Side{From: h("2026-03-02", 8), To: h("2026-03-02", 10), Days: 2.0 / 24},
			Side{From: h("2026-03-02", 10), To: h("2026-03-02", 12), Days: 2.0 / 24,
				TotalBytes: 7 * gB, ClassBytes: 1 * gB, CostUSD: 0.01}},
		// Data before at only: the after side is empty.
		{at(), Filter{Namespace: "monitoring"}, day("2026-03-02"), 0,
			Side{From: h("2026-03-01", 14), To: h("2026-03-01", 15), Days: 1.0 / 24,
				TotalBytes: 1 * gB, ClassBytes: 1 * gB, CostUSD: 0.01},
			Side{}},
		{at(), Filter{Namespace: "nobody"}, day("2026-03-02"), 0, Side{}, Side{}},
	}
	for _, tt := range tests {
		got, err := r.BeforeAfter(context.Background(), tt.f, tt.at, tt.window)
		require.NoError(t, err, tt.pos)
		require.Equal(t, "cross-zone", got.Classes, tt.pos)
		require.Equal(t, tt.at.Truncate(time.Hour), got.At, tt.pos)
		for _, side := range []struct {
			name      string
			want, got Side
		}{{"before", tt.before, got.Before}, {"after", tt.after, got.After}} {
			w, g := side.want, side.got
			msg := tt.pos + " " + side.name
			require.True(t, w.From.Equal(g.From) && w.To.Equal(g.To), "%s: window %s–%s", msg, g.From, g.To)
			require.InDelta(t, w.Days, g.Days, 1e-12, msg)
			require.Equal(t, w.TotalBytes, g.TotalBytes, msg)
			require.Equal(t, w.ClassBytes, g.ClassBytes, msg)
			require.InDelta(t, w.CostUSD, g.CostUSD, 1e-12, msg)
			share, perDay, costPerDay := 0.0, 0.0, 0.0
			if w.TotalBytes > 0 {
				share = w.ClassBytes / w.TotalBytes
			}
			if w.Days > 0 {
				perDay, costPerDay = w.ClassBytes/w.Days, w.CostUSD/w.Days
			}
			require.InDelta(t, share, g.ClassShare, 1e-12, msg)
			require.InDelta(t, perDay, g.ClassBytesPerDay, 1e-3, msg)
			require.InDelta(t, costPerDay, g.CostPerDay, 1e-12, msg)
		}
	}

	t.Run("change", func(t *testing.T) {
		got, err := r.BeforeAfter(context.Background(), Filter{Namespace: "shop"}, day("2026-03-02"), 0)
		require.NoError(t, err)
		bPerDay, aPerDay := 8*gB/(14.0/24), 3*gB/(16.0/24)
		require.InDelta(t, aPerDay-bPerDay, got.ClassBytesPerDay.Abs, 1e-3)
		require.InDelta(t, (aPerDay-bPerDay)/bPerDay*100, *got.ClassBytesPerDay.Pct, 1e-9) // -67.1875%
		require.InDelta(t, 3/9.5-0.5, got.ClassShare.Abs, 1e-12)
		require.InDelta(t, 0.03/(16.0/24)-0.08/(14.0/24), got.CostPerDay.Abs, 1e-12)
		require.InDelta(t, -67.1875, *got.CostPerDay.Pct, 1e-9)
	})
	t.Run("no before", func(t *testing.T) {
		got, err := r.BeforeAfter(context.Background(), Filter{Namespace: "shop"}, day("2026-02-01"), 0)
		require.NoError(t, err)
		require.Zero(t, got.Before.Days)
		require.Nil(t, got.CostPerDay.Pct, "no percentage change from zero")
	})
}

func TestZoneSkew(t *testing.T) {
	r := New(loaded(t))
	window := Filter{From: day("2026-03-01"), To: day("2026-03-03")}
	// cart, over 48 h: pod-hours az1 48, az2 36 (FINAL: closed at 03-02
	// 12:00), az4 24 (from 03-02); cart-0 ended before the window.
	// Bytes sent+received: az1 3+6+0.5, az2 4+2+1+5+1, az4 1+2 = 25.5 GB.
	cart := WorkloadSkew{Cluster: "prod", Namespace: "shop", Workload: "cart", Bytes: 25.5 * gB,
		Zones: []ZoneShare{
			{Zone: za, Bytes: 9.5 * gB, TrafficShare: 9.5 / 25.5, Pods: 1, PodShare: 48.0 / 108},
			{Zone: zb, Bytes: 13 * gB, TrafficShare: 13 / 25.5, Pods: 0.75, PodShare: 36.0 / 108},
			{Zone: zc, Bytes: 3 * gB, TrafficShare: 3 / 25.5, Pods: 0.5, PodShare: 24.0 / 108},
		}}
	cart.Score = 13/25.5 - 36.0/108
	ingress := WorkloadSkew{Cluster: "prod", Namespace: "istio-system", Workload: "istio-ingressgateway", Bytes: 13 * gB,
		Zones: []ZoneShare{{Zone: za, Bytes: 13 * gB, TrafficShare: 1, Pods: 1, PodShare: 1}}}
	// Cross-zone only: cart az1 0, az2 4+2+1+1, az4 1+2.
	cartCross := WorkloadSkew{Cluster: "prod", Namespace: "shop", Workload: "cart", Bytes: 11 * gB,
		Zones: []ZoneShare{
			{Zone: za, Bytes: 0, TrafficShare: 0, Pods: 1, PodShare: 48.0 / 108},
			{Zone: zb, Bytes: 8 * gB, TrafficShare: 8.0 / 11, Pods: 0.75, PodShare: 36.0 / 108},
			{Zone: zc, Bytes: 3 * gB, TrafficShare: 3.0 / 11, Pods: 0.5, PodShare: 24.0 / 108},
		}}
	cartCross.Score = 48.0 / 108 // az1 has pods but no cross-zone traffic
	ingressCross := ingress
	ingressCross.Bytes = 7 * gB
	ingressCross.Zones = []ZoneShare{{Zone: za, Bytes: 7 * gB, TrafficShare: 1, Pods: 1, PodShare: 1}}

	withFilter := func(f Filter, mod func(*Filter)) Filter { mod(&f); return f }
	tests := []struct {
		pos  string
		f    Filter
		want Skews
	}{
		{at(), window, Skews{cart, ingress}},
		{at(), withFilter(window, func(f *Filter) { f.Limit = 1 }), Skews{cart}},
		// Filtering on shop keeps shop's ends only: the ingress gateway
		// talks to shop but is not scored.
		{at(), withFilter(window, func(f *Filter) { f.Namespace = "shop" }), Skews{cart}},
		{at(), withFilter(window, func(f *Filter) { f.Classes = []string{flowclass.CrossZone} }), Skews{cartCross, ingressCross}},
		{at(), withFilter(window, func(f *Filter) { f.Workload = "prometheus" }), Skews{}},
	}
	for _, tt := range tests {
		got, err := r.ZoneSkew(context.Background(), tt.f)
		require.NoError(t, err, tt.pos)
		require.Len(t, got, len(tt.want), "%s: %+v", tt.pos, got)
		for i, w := range tt.want {
			g := got[i]
			msg := fmt.Sprintf("%s workload %d", tt.pos, i)
			require.Equal(t, [3]string{w.Cluster, w.Namespace, w.Workload}, [3]string{g.Cluster, g.Namespace, g.Workload}, msg)
			require.Equal(t, w.Bytes, g.Bytes, msg)
			require.InDelta(t, w.Score, g.Score, 1e-12, msg)
			require.Len(t, g.Zones, len(w.Zones), msg)
			for j, wz := range w.Zones {
				gz := g.Zones[j]
				require.Equal(t, wz.Zone, gz.Zone, msg)
				require.Equal(t, wz.Bytes, gz.Bytes, msg)
				require.InDelta(t, wz.TrafficShare, gz.TrafficShare, 1e-12, msg)
				require.InDelta(t, wz.Pods, gz.Pods, 1e-12, msg)
				require.InDelta(t, wz.PodShare, gz.PodShare, 1e-12, msg)
				require.InDelta(t, wz.TrafficShare/wz.PodShare, gz.Ratio, 1e-12, msg)
			}
		}
	}

	t.Run("window from data", func(t *testing.T) {
		// Without From/To the window is the data's hours, 03-01 10:00 …
		// 03-02 16:00 (30 h): cart-1 30 h, cart-2 26 h, cart-3 16 h.
		got, err := r.ZoneSkew(context.Background(), Filter{Workload: "cart"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.InDelta(t, 26.0/72, got[0].Zones[1].PodShare, 1e-12)
		require.InDelta(t, 16.0/30, got[0].Zones[2].Pods, 1e-12)
	})
}

func TestValidation(t *testing.T) {
	r := New(newStore(t))
	ctx := context.Background()
	bad := []struct {
		pos string
		run func() error
	}{
		{at(), func() error { _, err := r.TopTalkers(ctx, Filter{}, "pod"); return err }},
		{at(), func() error { _, err := r.TopTalkers(ctx, Filter{Classes: []string{"cross-az"}}, ByZone); return err }},
		{at(), func() error { _, err := r.TopTalkers(ctx, Filter{Limit: -1}, ByZone); return err }},
		{at(), func() error {
			_, err := r.CostPerDay(ctx, Filter{From: day("2026-03-02"), To: day("2026-03-01")})
			return err
		}},
		{at(), func() error { _, err := r.BeforeAfter(ctx, Filter{}, time.Time{}, 0); return err }},
		{at(), func() error { _, err := r.BeforeAfter(ctx, Filter{}, day("2026-03-01"), -time.Hour); return err }},
		{at(), func() error { _, err := r.ZoneSkew(ctx, Filter{Limit: MaxLimit + 1}); return err }},
	}
	for _, tt := range bad {
		require.True(t, errors.Is(tt.run(), ErrBadFilter), tt.pos)
	}
}

// TestReadsRollup puts traffic in the rollup only: the reports see it, so
// they read flow_traffic_hourly, not flow_logs. Two parts of the same key
// must be summed, merged or not.
func TestReadsRollup(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, v := range []string{"5, 3e9, 0.03", "5, 1e9, 0.01"} { // distinct blocks: identical ones are deduplicated
		require.NoError(t, s.Exec(ctx, `INSERT INTO flow_traffic_hourly
  (hour, traffic_class, src_kind, src_namespace, dst_kind, dst_namespace, records, transfer_bytes, cost_usd)
VALUES ('2026-03-05 07:00:00', 'cross-zone', 'pod', 'ghost', 'pod', 'shop', `+v+`)`))
	}
	r := New(s)
	top, err := r.TopTalkers(ctx, Filter{}, ByNamespace)
	require.NoError(t, err)
	require.Equal(t, []TalkerRow{{Src: "ghost", Dst: "shop", Bytes: 4e9, CostUSD: 0.04, Share: 1, Records: 10}}, top.Rows)
	days, err := r.CostPerDay(ctx, Filter{})
	require.NoError(t, err)
	require.Equal(t, DayCosts{{Day: "2026-03-05", Class: "cross-zone", Bytes: 4e9, CostUSD: 0.04, Records: 10}}, days)
	var n string
	require.NoError(t, queryString(ctx, s, "SELECT count() FROM flow_logs", &n))
	require.Equal(t, "0\n", n)
}
