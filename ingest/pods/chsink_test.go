package pods

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

// migratedStore returns a fresh database with furrow's schema.
func migratedStore(t testing.TB) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

// queryString runs q and returns its output in format.
func queryString(t testing.TB, s store.Store, q, format string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf, q, format))
	return buf.String()
}

func TestClickHouseSinkRoundTrip(t *testing.T) {
	s := migratedStore(t)
	ctx := t.Context()
	reg := prometheus.NewRegistry()
	// Through the instrumented store, as furrow serve runs it: the store
	// counts the rows, the sink its inserts.
	sink, err := NewClickHouseSink(store.Instrument(s, reg), reg)
	require.NoError(t, err)
	// A stopped clock: versions must still grow.
	sink.now = func() time.Time { return time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) }

	t0 := time.Date(2026, 11, 1, 10, 0, 0, 123e6, time.UTC)
	web := PodIP{
		Cluster: "prod", IP: netip.MustParseAddr("10.0.0.7"), Namespace: "shop", Pod: "web-1", PodUID: "u1",
		WorkloadKind: "Deployment", Workload: "web", Node: "n1", Zone: "eu-west-1a", ValidFrom: t0,
	}
	web6 := web
	web6.IP = netip.MustParseAddr("2001:db8::7")
	agent := PodIP{
		Cluster: "prod", IP: netip.MustParseAddr("10.1.0.1"), Namespace: "kube-system", Pod: "agent-x", PodUID: "u2",
		WorkloadKind: "DaemonSet", Workload: "agent", Node: "n1", Zone: "eu-west-1a", HostNetwork: true, ValidFrom: t0,
	}
	node := NodeInfo{
		Cluster: "prod", Node: "n1", IPs: []netip.Addr{netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("2001:db8::1")},
		Zone: "eu-west-1a", Region: "eu-west-1", InstanceType: "m5.large", ValidFrom: t0.Add(-time.Hour),
	}
	require.NoError(t, sink.Nodes(ctx, []NodeInfo{node}))
	require.NoError(t, sink.PodIPs(ctx, []PodIP{web, web6, agent}))

	// The columns as ClickHouse stores them; the pods' version is one
	// millisecond after the nodes'.
	require.Equal(t,
		"prod\t::ffff:10.0.0.7\tshop\tweb-1\tu1\tDeployment\tweb\tn1\teu-west-1a\tfalse\t0\t0\t0\t0\t2026-11-01 10:00:00.123\t1970-01-01 00:00:00.000\t2026-11-02 00:00:00.001\n"+
			"prod\t::ffff:10.1.0.1\tkube-system\tagent-x\tu2\tDaemonSet\tagent\tn1\teu-west-1a\ttrue\t0\t0\t0\t0\t2026-11-01 10:00:00.123\t1970-01-01 00:00:00.000\t2026-11-02 00:00:00.001\n"+
			"prod\t2001:db8::7\tshop\tweb-1\tu1\tDeployment\tweb\tn1\teu-west-1a\tfalse\t0\t0\t0\t0\t2026-11-01 10:00:00.123\t1970-01-01 00:00:00.000\t2026-11-02 00:00:00.001\n",
		queryString(t, s, "SELECT * FROM pod_ips FINAL ORDER BY ip", "TSV"))
	require.Equal(t,
		"prod\tn1\t['::ffff:10.1.0.1','2001:db8::1']\teu-west-1a\teu-west-1\tm5.large\t\t\t0\t0\t0\t0\t2026-11-01 09:00:00.123\t1970-01-01 00:00:00.000\t2026-11-02 00:00:00.000\n",
		queryString(t, s, "SELECT * FROM k8s_nodes FINAL", "TSV"))

	// Close web in a later flush: the closed version replaces the open one
	// although the clock did not move.
	closed := web
	closed.ValidTo = t0.Add(time.Hour)
	require.NoError(t, sink.PodIPs(ctx, []PodIP{closed}))
	require.Equal(t, "3\n", queryString(t, s, "SELECT count() FROM pod_ips FINAL", "TSV"))
	require.Equal(t, "2026-11-01 11:00:00.123\t2026-11-02 00:00:00.002\n",
		queryString(t, s, "SELECT valid_to, updated_at FROM pod_ips FINAL WHERE pod_uid = 'u1' AND ip = toIPv6('10.0.0.7')", "TSV"))

	// A retried flush (same records, new updated_at) is not stored twice;
	// an open and its close in one flush are one row.
	require.NoError(t, sink.PodIPs(ctx, []PodIP{closed}))
	require.Equal(t, "4\n", queryString(t, s, "SELECT count() FROM pod_ips", "TSV"))
	other := web
	other.PodUID, other.ValidFrom = "u3", t0.Add(2*time.Hour)
	otherClosed := other
	otherClosed.ValidTo = t0.Add(3 * time.Hour)
	require.NoError(t, sink.PodIPs(ctx, []PodIP{other, otherClosed}))
	require.Equal(t, "5\n", queryString(t, s, "SELECT count() FROM pod_ips", "TSV"))

	pods, nodes, err := LoadRecords(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, pods, 4)
	require.Equal(t, []NodeInfo{{
		Cluster: "prod", Node: "n1", IPs: node.IPs, Zone: "eu-west-1a", Region: "eu-west-1", InstanceType: "m5.large",
		ValidFrom: node.ValidFrom,
	}}, nodes)
	idx, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)
	ep, ok := idx.Lookup(web.IP, t0.Add(30*time.Minute))
	require.True(t, ok)
	require.Equal(t, "web-1", ep.Pod)
	_, ok = idx.Lookup(web.IP, t0.Add(90*time.Minute))
	require.False(t, ok, "between the two holders")
	ep, ok = idx.Lookup(web.IP, t0.Add(150*time.Minute))
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointPod, Cluster: "prod", Namespace: "shop", Pod: "web-1", WorkloadKind: "Deployment", Workload: "web", Node: "n1", Zone: "eu-west-1a"}, ep)
	ep, ok = idx.Lookup(netip.MustParseAddr("10.1.0.1"), t0)
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointNode, Cluster: "prod", Node: "n1", Zone: "eu-west-1a"}, ep)
	ep, ok = idx.Lookup(web6.IP, t0.Add(5*time.Hour))
	require.True(t, ok, "open interval")
	require.Equal(t, "web-1", ep.Pod)

	// The time window: only intervals overlapping it.
	pods, _, err = LoadRecords(ctx, s, t0.Add(150*time.Minute), t0.Add(160*time.Minute))
	require.NoError(t, err)
	require.Len(t, pods, 3, "web's first interval ended before the window")
	pods, _, err = LoadRecords(ctx, s, time.Time{}, t0.Add(-time.Minute))
	require.NoError(t, err)
	require.Empty(t, pods)

	// Rows sent, the deduplicated retry included, counted once, by the store.
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP furrow_store_inserted_rows_total Rows written by Insert, by table.
# TYPE furrow_store_inserted_rows_total counter
furrow_store_inserted_rows_total{table="k8s_nodes"} 1
furrow_store_inserted_rows_total{table="pod_ips"} 6
`), "furrow_store_inserted_rows_total"))
	// A second sink on the registry shares the counters.
	again, err := NewClickHouseSink(s, reg)
	require.NoError(t, err)
	require.Same(t, sink.metrics.inserts, again.metrics.inserts)
}

func TestTSVReader(t *testing.T) {
	var rows [][]string
	r := &tsvReader{row: func(f [][]byte) error {
		var row []string
		for _, b := range f {
			row = append(row, string(b))
		}
		rows = append(rows, row)
		return nil
	}}
	// Written in pieces that split lines and escapes.
	in := "a\\tb\tc\\\\d\n\te\\n\nlast"
	for i := 0; i < len(in); i += 3 {
		_, err := r.Write([]byte(in[i:min(i+3, len(in))]))
		require.NoError(t, err)
	}
	require.NoError(t, r.close())
	require.Equal(t, [][]string{{"a\tb", "c\\d"}, {"", "e\n"}, {"last"}}, rows)
}

// benchRecords returns n pod intervals over n/4 IPs of 16 nodes, four
// holders per IP.
func benchRecords(n int) ([]PodIP, []NodeInfo) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var nodes []NodeInfo
	for i := range 16 {
		nodes = append(nodes, NodeInfo{
			Cluster: "bench", Node: fmt.Sprintf("node-%d", i), IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 250, 0, byte(i + 1)})},
			Zone: fmt.Sprintf("eu-west-1%c", 'a'+i%3), Region: "eu-west-1", InstanceType: "m5.large", ValidFrom: t0.Add(-24 * time.Hour),
		})
	}
	pods := make([]PodIP, 0, n)
	for i := range n {
		ipn := i / 4
		holder := i % 4
		from := t0.Add(time.Duration(holder) * 6 * time.Hour)
		var to time.Time
		if holder < 3 {
			to = from.Add(6 * time.Hour)
		}
		pods = append(pods, PodIP{
			Cluster: "bench", IP: netip.AddrFrom4([4]byte{10, byte(ipn >> 16), byte(ipn >> 8), byte(ipn)}),
			Namespace: fmt.Sprintf("ns-%d", i%40), Pod: fmt.Sprintf("w%d-%d", i%300, i), PodUID: fmt.Sprintf("uid-%08d", i),
			WorkloadKind: "Deployment", Workload: fmt.Sprintf("w%d", i%300), Node: nodes[ipn%16].Node, Zone: nodes[ipn%16].Zone,
			ValidFrom: from, ValidTo: to,
		})
	}
	return pods, nodes
}

// BenchmarkLoadIndex loads 100k intervals from the embedded engine and
// builds the index; ns/op divided by 1e5 is the cost per interval.
func BenchmarkLoadIndex(b *testing.B) {
	const n = 100_000
	s := migratedStore(b)
	ctx := context.Background()
	sink, err := NewClickHouseSink(s, nil)
	require.NoError(b, err)
	pods, nodes := benchRecords(n)
	require.NoError(b, sink.Nodes(ctx, nodes))
	require.NoError(b, sink.PodIPs(ctx, pods))
	b.ResetTimer()
	for b.Loop() {
		idx, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if idx.Len() != n/4+16 {
			b.Fatalf("index has %d IPs, want %d", idx.Len(), n/4+16)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/interval")
}

// BenchmarkLoadRecordsParse is the parsing part alone, without the engine.
func BenchmarkLoadRecordsParse(b *testing.B) {
	pods, _ := benchRecords(100_000)
	var buf strings.Builder
	for _, p := range pods {
		a := p.IP.Unmap().As16()
		fmt.Fprintf(&buf, "%s\t%X\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t%d\t%d\n", p.Cluster, a, p.Namespace, p.Pod, p.PodUID,
			p.WorkloadKind, p.Workload, p.Node, p.Zone, dbMillis(p.ValidFrom), dbMillis(p.ValidTo))
	}
	data := []byte(buf.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		in := newInterner()
		out := make([]PodIP, 0, len(pods))
		r := &tsvReader{row: func(f [][]byte) error {
			p, err := parsePodIPRow(f, in)
			out = append(out, p)
			return err
		}}
		for off := 0; off < len(data); off += 1 << 16 {
			if _, err := r.Write(data[off:min(off+1<<16, len(data))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.close(); err != nil || len(out) != len(pods) {
			b.Fatal(err, len(out))
		}
	}
}

// TestPodResourcesView writes a resized dual-stack pod, a host-network pod
// and an AWS node through History and the sink, and reads them back from
// the engine through the pod_resources view and k8s_nodes: one row per pod
// interval, the requests of each, open intervals with valid_to at the
// epoch, and the node's instance id and size.
func TestPodResourcesView(t *testing.T) {
	s := migratedStore(t)
	ctx := t.Context()
	sink, err := NewClickHouseSink(s, nil)
	require.NoError(t, err)

	const node = `{"kind":"Node","metadata":{"name":"ip-10-0-1-5","creationTimestamp":"2024-01-01T08:00:00Z",` +
		`"labels":{"topology.kubernetes.io/zone":"eu-west-1a","node.kubernetes.io/instance-type":"m5.xlarge"}},` +
		`"spec":{"providerID":"aws:///eu-west-1a/i-0123456789abcdef0"},` +
		`"status":{"capacity":{"cpu":"4","memory":"16009768Ki"},"allocatable":{"cpu":"3920m","memory":"15186984Ki"},` +
		`"addresses":[{"type":"InternalIP","address":"10.0.1.5"}]}}`
	web := func(cpu string) string {
		return `{"kind":"Pod","metadata":{"name":"web-1","namespace":"shop","uid":"u1"},"spec":{"nodeName":"ip-10-0-1-5",` +
			`"containers":[{"name":"app","resources":{"requests":{"cpu":"` + cpu + `","memory":"1Gi"},"limits":{"cpu":"2","memory":"1Gi"}}}]},` +
			`"status":{"phase":"Running","podIPs":[{"ip":"10.0.0.7"},{"ip":"2001:db8::7"}],"startTime":"2024-01-01T09:00:00Z"}}`
	}
	const agent = `{"kind":"Pod","metadata":{"name":"agent-x","namespace":"kube-system","uid":"u2"},"spec":{"nodeName":"ip-10-0-1-5","hostNetwork":true,` +
		`"containers":[{"name":"a","resources":{"requests":{"cpu":"50m","memory":"64Mi"}}}]},` +
		`"status":{"phase":"Running","podIP":"10.0.1.5","startTime":"2024-01-01T08:30:00Z"}}`
	snap := func(at time.Time, objs ...string) *Snapshot {
		o, err := DecodeObjects(strings.NewReader(strings.Join(objs, "\n")))
		require.NoError(t, err)
		return &Snapshot{Cluster: "prod", Time: at, Objects: *o}
	}
	h := NewHistory()
	t1 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	for _, sn := range []*Snapshot{
		snap(t1, node, web("500m"), agent),
		snap(t1.Add(time.Hour), node, web("1500m"), agent), // resized in place
	} {
		pods, nodes, _ := h.Apply(sn)
		require.NoError(t, sink.Nodes(ctx, nodes))
		require.NoError(t, sink.PodIPs(ctx, pods))
	}

	require.Equal(t, "5\n", queryString(t, s, "SELECT count() FROM pod_ips FINAL", "TSV"), "two intervals of two IPs, and the agent")
	require.Equal(t,
		"prod\tkube-system\tagent-x\tu2\tPod\tagent-x\tip-10-0-1-5\t2024-01-01 08:30:00.000\t1970-01-01 00:00:00.000\t50\t67108864\t0\t0\n"+
			"prod\tshop\tweb-1\tu1\tPod\tweb-1\tip-10-0-1-5\t2024-01-01 09:00:00.000\t2024-01-01 11:00:00.000\t500\t1073741824\t2000\t1073741824\n"+
			"prod\tshop\tweb-1\tu1\tPod\tweb-1\tip-10-0-1-5\t2024-01-01 11:00:00.000\t1970-01-01 00:00:00.000\t1500\t1073741824\t2000\t1073741824\n",
		queryString(t, s, `SELECT cluster, namespace, pod, pod_uid, workload_kind, workload, node, valid_from, valid_to,
			cpu_request_millis, memory_request_bytes, cpu_limit_millis, memory_limit_bytes
			FROM pod_resources ORDER BY pod, valid_from`, "TSV"))
	require.Equal(t,
		"ip-10-0-1-5\tm5.xlarge\taws:///eu-west-1a/i-0123456789abcdef0\ti-0123456789abcdef0\t3920\t15551471616\t4000\t16394002432\n",
		queryString(t, s, `SELECT node, instance_type, provider_id, instance_id, cpu_allocatable_millis, memory_allocatable_bytes,
			cpu_capacity_millis, memory_capacity_bytes FROM k8s_nodes FINAL`, "TSV"))

	// The analysts' queries of docs/ingest-pods.md.
	require.Equal(t, "shop\tip-10-0-1-5\t1.5\nkube-system\tip-10-0-1-5\t0.05\n", queryString(t, s, `
		SELECT namespace, node, sum(cpu_request_millis) / 1000 AS cores_requested
		FROM pod_resources
		WHERE valid_from <= '2024-01-01 12:00:00'
		  AND (valid_to > '2024-01-01 12:00:00' OR toUnixTimestamp64Milli(valid_to) = 0)
		GROUP BY namespace, node ORDER BY cores_requested DESC`, "TSV"))
	require.Equal(t, "ip-10-0-1-5\ti-0123456789abcdef0\tm5.xlarge\teu-west-1a\t3.92\t14.483436584472656\n", queryString(t, s, `
		SELECT node, instance_id, instance_type, zone,
		       cpu_allocatable_millis / 1000 AS cores, memory_allocatable_bytes / 1073741824 AS gib
		FROM k8s_nodes FINAL
		WHERE toUnixTimestamp64Milli(valid_to) = 0 AND instance_id != ''`, "TSV"))

	// Ingesting the same records again changes nothing.
	h = NewHistory()
	for _, sn := range []*Snapshot{snap(t1, node, web("500m"), agent), snap(t1.Add(time.Hour), node, web("1500m"), agent)} {
		pods, nodes, _ := h.Apply(sn)
		require.NoError(t, sink.Nodes(ctx, nodes))
		require.NoError(t, sink.PodIPs(ctx, pods))
	}
	require.Equal(t, "3\n", queryString(t, s, "SELECT count() FROM pod_resources", "TSV"))

	// A watcher restarted after the resize opens web anew (its generation
	// says its spec changed) while the interval from the resize is still
	// open in pod_ips: the view ends that one where the new one starts.
	restarted := h.pods[podKey{"prod", "u1", mustAddr("10.0.0.7").As16()}]
	require.False(t, restarted.ValidFrom.IsZero())
	restarted.ValidFrom = t1.Add(2 * time.Hour)
	require.NoError(t, sink.PodIPs(ctx, []PodIP{restarted}))
	require.Equal(t,
		"2024-01-01 09:00:00.000\t2024-01-01 11:00:00.000\t500\n"+
			"2024-01-01 11:00:00.000\t2024-01-01 12:00:00.000\t1500\n"+
			"2024-01-01 12:00:00.000\t1970-01-01 00:00:00.000\t1500\n",
		queryString(t, s, "SELECT valid_from, valid_to, cpu_request_millis FROM pod_resources WHERE pod = 'web-1' ORDER BY valid_from", "TSV"))
}
