package pods

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"

	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

// TestWatcherToClickHouse runs the Watcher on a real API server (kwok) into
// the ClickHouse sink, churns an IP from one workload to another and reads
// the history back from ClickHouse.
func TestWatcherToClickHouse(t *testing.T) {
	env := k8senv.Shared(t)
	s := migratedStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := env.Client
	const ns = "chsink"
	require.NoError(t, env.EnsureNamespace(ctx, ns))
	_, err := env.AddNode(ctx, "ch-a", "eu-west-1a")
	require.NoError(t, err)

	reg := prometheus.NewRegistry()
	sink, err := NewClickHouseSink(s, reg)
	require.NoError(t, err)
	cfg := DefaultConfiguration()
	cfg.Clusters = []ClusterConfiguration{{Name: "kwok"}}
	cfg.FlushInterval = time.Hour // flushed by hand
	cfg.SyncTimeout = 30 * time.Second
	w, err := New(cfg, Dependencies{Sink: sink, Registry: reg, Clients: map[string]kubernetes.Interface{"kwok": c}})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })

	old := runningPod(t, ctx, c, podSpec(ns, "api-0", "ch-a", map[string]string{"app": "api"}, nil))
	oldIP := netip.MustParseAddr(old.Status.PodIP)
	require.NoError(t, w.Flush(ctx))
	tOld := time.Now()
	deletePod(t, ctx, c, ns, old.Name)

	var newName string
	for i := 0; i < 40 && newName == ""; i++ {
		name := fmt.Sprintf("job-%d", i)
		p := runningPod(t, ctx, c, podSpec(ns, name, "ch-a", map[string]string{"app": "job"}, nil))
		if p.Status.PodIP == oldIP.String() {
			newName = name
			break
		}
		deletePod(t, ctx, c, ns, name)
	}
	require.NotEmpty(t, newName, "kwok never handed %s out again in 40 pods", oldIP)

	// Flush until ClickHouse has the new holder (the informer may lag).
	var idx *Index
	eventually(t, 10*time.Second, "new holder in ClickHouse", func() bool {
		require.NoError(t, w.Flush(ctx))
		idx, err = LoadIndex(ctx, s, time.Now().Add(-time.Hour), time.Now())
		require.NoError(t, err)
		ep, ok := idx.Lookup(oldIP, time.Now())
		return ok && ep.Pod == newName
	})
	ep, ok := idx.Lookup(oldIP, tOld)
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointPod, Cluster: "kwok", Namespace: ns, Pod: "api-0", WorkloadKind: "Pod", Workload: "api-0", Node: "ch-a", Zone: "eu-west-1a"}, ep)
	ep, ok = idx.Lookup(oldIP, time.Now())
	require.True(t, ok)
	require.Equal(t, newName, ep.Workload)
	nodeIP := netip.MustParseAddr(old.Status.HostIP)
	ep, ok = idx.Lookup(nodeIP, time.Now())
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointNode, Cluster: "kwok", Node: "ch-a", Zone: "eu-west-1a"}, ep)

	// One row per interval after FINAL: the closes replaced the opens.
	require.Equal(t,
		queryString(t, s, "SELECT uniqExact(pod_uid, ip, valid_from) FROM pod_ips", "TSV"),
		queryString(t, s, "SELECT count() FROM pod_ips FINAL", "TSV"))
	require.Equal(t, "1\n", queryString(t, s, "SELECT count() FROM pod_ips FINAL WHERE pod = 'api-0' AND toUnixTimestamp64Milli(valid_to) > 0", "TSV"))
	require.Positive(t, testutil.ToFloat64(sink.metrics.inserts.WithLabelValues(PodIPsTable)))
	require.Positive(t, testutil.ToFloat64(w.metrics.sinkRecords.WithLabelValues("pod")))
}
