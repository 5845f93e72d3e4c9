package traffic

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Zone skew compares where a workload's traffic is with where its pods are.
// Pods are counted time-weighted: a pod counts for the part of the window it
// existed (pod-seconds), so the pod share of a zone is its average pod count
// over the window divided by the workload's. Counting distinct pods instead
// would over-weight zones with churn (spot evictions, restarts re-create
// pods) and ignore when an autoscaler added them. Pods are deduplicated by
// pod UID (a pod may hold several IPs); intervals come from pod_ips FINAL.

// ZoneShare is one zone of a workload.
type ZoneShare struct {
	Zone string `json:"zone"`
	// Bytes are transfer bytes the workload's pods in the zone sent plus
	// received.
	Bytes float64 `json:"bytes"`
	// TrafficShare is Bytes over the workload's bytes, 0..1.
	TrafficShare float64 `json:"traffic_share"`
	// Pods is the zone's average pod count over the window.
	Pods float64 `json:"pods"`
	// PodShare is Pods over the workload's average pod count, 0..1.
	PodShare float64 `json:"pod_share"`
	// Ratio is TrafficShare / PodShare (0 when PodShare is 0): above 1 the
	// zone's pods carry more than their share.
	Ratio float64 `json:"ratio"`
}

// WorkloadSkew is the zone skew of one workload.
type WorkloadSkew struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Workload  string `json:"workload"`
	// Score is max over zones of |TrafficShare − PodShare|, 0..1: 0 is
	// traffic spread like the pods, 1 is all traffic where no pod is.
	Score float64 `json:"score"`
	// Bytes are the workload's transfer bytes, sent plus received.
	Bytes float64     `json:"bytes"`
	Zones []ZoneShare `json:"zones"`
}

// Skews are the workloads of a zone-skew report, most skewed first.
type Skews []WorkloadSkew

type zoneKey struct{ cluster, namespace, workload, zone string }

// ZoneSkew scores each workload with traffic in the window by how far its
// traffic per zone is from its pods per zone. f.Classes empty means every
// class (load, not only cross-zone traffic). Workloads without pod history
// in pod_ips for the window are left out: their pod share is unknown. A zone
// with pods but no traffic, or traffic but no pods, is listed.
func (r *Reports) ZoneSkew(ctx context.Context, f Filter) (Skews, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	from, to := f.From, f.To
	if from.IsZero() || to.IsZero() {
		lo, hi, ok, err := r.bounds(ctx, f)
		if err != nil {
			return nil, err
		}
		if !ok {
			return Skews{}, nil
		}
		from, to = clip(lo, hi, f.From, f.To)
	}
	from = from.UTC().Truncate(time.Hour)
	traffic, err := r.zoneTraffic(ctx, f, from, to)
	if err != nil {
		return nil, err
	}
	pods, err := r.zonePods(ctx, f, from, to)
	if err != nil {
		return nil, err
	}
	return skews(traffic, pods, to.Sub(from).Seconds(), f.limit()), nil
}

// zoneTraffic sums bytes sent plus received per pod workload and zone.
func (r *Reports) zoneTraffic(ctx context.Context, f Filter, from, to time.Time) (map[zoneKey]float64, error) {
	p := newParams()
	f.apply(p, filterOpts{timeCol: "hour", from: from, to: to, allClasses: len(f.Classes) == 0})
	where := p.sql()
	table := rollupFrom(p, from, to)
	side := func(prefix string) string {
		return `SELECT ` + prefix + `_cluster AS cluster, ` + prefix + `_namespace AS namespace,
    ` + prefix + `_workload AS workload, ` + prefix + `_zone AS zone, transfer_bytes
  FROM ` + table + `
  WHERE ` + where + ` AND ` + prefix + `_kind = 'pod' AND ` + prefix + `_workload != ''`
	}
	// The namespace/workload filter matches either end; keep only the
	// matching end so a peer's zones do not show up as the workload's.
	keep := "1"
	if f.Namespace != "" {
		keep = "namespace = {namespace:String}"
	}
	if f.Workload != "" {
		keep += " AND workload = {workload:String}"
	}
	if f.Cluster != "" {
		keep += " AND cluster = {cluster:String}"
	}
	q := `SELECT cluster, namespace, workload, zone, round(sum(transfer_bytes)) AS bytes
FROM (
  ` + side("src") + `
  UNION ALL
  ` + side("dst") + `
)
WHERE ` + keep + `
GROUP BY cluster, namespace, workload, zone`
	rows, err := queryRows[struct {
		Cluster   string  `json:"cluster"`
		Namespace string  `json:"namespace"`
		Workload  string  `json:"workload"`
		Zone      string  `json:"zone"`
		Bytes     float64 `json:"bytes"`
	}](ctx, r.s, q, p)
	if err != nil {
		return nil, fmt.Errorf("zone skew traffic: %w", err)
	}
	out := make(map[zoneKey]float64, len(rows))
	for _, row := range rows {
		out[zoneKey{row.Cluster, row.Namespace, row.Workload, row.Zone}] = row.Bytes
	}
	return out, nil
}

// zonePods sums the pod-seconds each workload had per zone in [from, to).
func (r *Reports) zonePods(ctx context.Context, f Filter, from, to time.Time) (map[zoneKey]float64, error) {
	p := newParams()
	fromExpr := "toDateTime64(" + p.add("from", "Int64", fmt.Sprint(from.Unix())) + ", 3, 'UTC')"
	toExpr := "toDateTime64(" + p.add("to", "Int64", fmt.Sprint(to.Unix())) + ", 3, 'UTC')"
	p.where("workload != ''")
	if f.Cluster != "" {
		p.where("cluster = " + p.str("cluster", f.Cluster))
	}
	if f.Namespace != "" {
		p.where("namespace = " + p.str("namespace", f.Namespace))
	}
	if f.Workload != "" {
		p.where("workload = " + p.str("workload", f.Workload))
	}
	// valid_to at the epoch means the interval is still open.
	q := `SELECT cluster, namespace, workload, zone,
  sum(greatest(0, dateDiff('millisecond', greatest(first, ` + fromExpr + `), least(last, ` + toExpr + `)))) / 1000 AS pod_seconds
FROM (
  SELECT cluster, namespace, workload, pod_uid, any(zone) AS zone,
    min(valid_from) AS first,
    max(if(valid_to = toDateTime64(0, 3, 'UTC'), ` + toExpr + `, valid_to)) AS last
  FROM pod_ips FINAL
  WHERE ` + p.sql() + `
  GROUP BY cluster, namespace, workload, pod_uid
)
GROUP BY cluster, namespace, workload, zone
HAVING pod_seconds > 0`
	rows, err := queryRows[struct {
		Cluster    string  `json:"cluster"`
		Namespace  string  `json:"namespace"`
		Workload   string  `json:"workload"`
		Zone       string  `json:"zone"`
		PodSeconds float64 `json:"pod_seconds"`
	}](ctx, r.s, q, p)
	if err != nil {
		return nil, fmt.Errorf("zone skew pods: %w", err)
	}
	out := make(map[zoneKey]float64, len(rows))
	for _, row := range rows {
		out[zoneKey{row.Cluster, row.Namespace, row.Workload, row.Zone}] = row.PodSeconds
	}
	return out, nil
}

// skews joins traffic and pod-seconds per workload and zone, scores each
// workload and returns the limit most skewed.
func skews(traffic, pods map[zoneKey]float64, windowSeconds float64, limit int) Skews {
	type wk struct{ cluster, namespace, workload string }
	type acc struct {
		bytes, podSeconds float64
		zones             map[string]*ZoneShare
	}
	ws := map[wk]*acc{}
	get := func(k zoneKey) (*acc, *ZoneShare) {
		w := wk{k.cluster, k.namespace, k.workload}
		a := ws[w]
		if a == nil {
			a = &acc{zones: map[string]*ZoneShare{}}
			ws[w] = a
		}
		z := a.zones[k.zone]
		if z == nil {
			z = &ZoneShare{Zone: k.zone}
			a.zones[k.zone] = z
		}
		return a, z
	}
	for k, b := range traffic {
		a, z := get(k)
		a.bytes += b
		z.Bytes += b
	}
	for k, s := range pods {
		if _, ok := ws[wk{k.cluster, k.namespace, k.workload}]; !ok {
			continue // pods without traffic in the window
		}
		a, z := get(k)
		a.podSeconds += s
		z.Pods += s
	}
	out := Skews{}
	for w, a := range ws {
		if a.podSeconds == 0 || a.bytes == 0 {
			continue
		}
		s := WorkloadSkew{Cluster: w.cluster, Namespace: w.namespace, Workload: w.workload, Bytes: a.bytes}
		for _, z := range a.zones {
			z.TrafficShare = z.Bytes / a.bytes
			z.PodShare = z.Pods / a.podSeconds
			z.Pods /= windowSeconds
			if z.PodShare > 0 {
				z.Ratio = z.TrafficShare / z.PodShare
			}
			s.Score = math.Max(s.Score, math.Abs(z.TrafficShare-z.PodShare))
			s.Zones = append(s.Zones, *z)
		}
		slices.SortFunc(s.Zones, func(x, y ZoneShare) int { return cmp.Compare(x.Zone, y.Zone) })
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y WorkloadSkew) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Cluster, y.Cluster),
			cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Workload, y.Workload))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
