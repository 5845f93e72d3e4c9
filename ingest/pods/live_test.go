package pods

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

// TestWatcherRecordsResources runs the Watcher on a real API server (kwok)
// into ClickHouse: a pod's requests and limits (a host-network pod's too)
// and its node's EC2 instance id are recorded, and an in-place resize
// through the pods/resize subresource splits the pod's interval at the
// resize without releasing its IP.
func TestWatcherRecordsResources(t *testing.T) {
	env := k8senv.Shared(t)
	s := migratedStore(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := env.Client
	const ns = "resources"
	require.NoError(t, env.EnsureNamespace(ctx, ns))
	_, err := env.AddNode(ctx, "res-a", "eu-west-1b")
	require.NoError(t, err)
	// providerID may be set once on a node that has none, as the cloud
	// controller does.
	_, err = c.CoreV1().Nodes().Patch(ctx, "res-a", types.MergePatchType,
		[]byte(`{"spec":{"providerID":"aws:///eu-west-1b/i-0a1b2c3d4e5f60718"}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	sink, err := NewClickHouseSink(s, nil)
	require.NoError(t, err)
	cfg := DefaultConfiguration()
	cfg.Clusters = []ClusterConfiguration{{Name: "kwok"}}
	cfg.FlushInterval = time.Hour // flushed by hand
	cfg.SyncTimeout = 30 * time.Second
	w, err := New(cfg, Dependencies{Sink: sink, Registry: prometheus.NewRegistry(), Clients: map[string]kubernetes.Interface{"kwok": c}})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })

	api := podSpec(ns, "api-0", "res-a", map[string]string{"app": "api"}, nil)
	api.Spec.Containers = []corev1.Container{
		{Name: "app", Image: "registry.example/app:1", Resources: corev1.ResourceRequirements{
			Requests: rl("250m", "256Mi"), Limits: rl("1", "512Mi"),
		}},
		{Name: "proxy", Image: "registry.example/proxy:1", Resources: corev1.ResourceRequirements{Requests: rl("50m", "64Mi")}},
	}
	agent := podSpec(ns, "agent-0", "res-a", map[string]string{"app": "agent"}, nil)
	agent.Spec.HostNetwork = true
	agent.Spec.Containers[0].Resources.Requests = rl("20m", "32Mi")
	api = runningPod(t, ctx, c, api)
	runningPod(t, ctx, c, agent)

	q := `SELECT pod, cpu_request_millis, memory_request_bytes, cpu_limit_millis, memory_limit_bytes, toUnixTimestamp64Milli(valid_to) = 0
		FROM pod_resources WHERE namespace = 'resources' ORDER BY pod, valid_from`
	want := "agent-0\t20\t33554432\t0\t0\t1\n" +
		"api-0\t300\t335544320\t1000\t536870912\t1\n"
	var got string
	eventually(t, 15*time.Second, "requests in ClickHouse", func() bool {
		require.NoError(t, w.Flush(ctx))
		g := queryString(t, s, q, "TSV")
		if g != got {
			t.Logf("pod_resources now:\n%s", g)
		}
		got = g
		return got == want
	})
	require.Equal(t, "i-0a1b2c3d4e5f60718\taws:///eu-west-1b/i-0a1b2c3d4e5f60718\n",
		queryString(t, s, "SELECT instance_id, provider_id FROM k8s_nodes FINAL WHERE node = 'res-a' AND toUnixTimestamp64Milli(valid_to) = 0", "TSV"))

	// The API server accepts a resize only of a pod whose kubelet reports
	// the containers' resources (kwok does not): report them as a kubelet
	// with in-place resize does. The values are the spec's, so nothing
	// changes for the watcher.
	api, err = c.CoreV1().Pods(ns).Get(ctx, api.Name, metav1.GetOptions{})
	require.NoError(t, err)
	for i := range api.Status.ContainerStatuses {
		cs := &api.Status.ContainerStatuses[i]
		for _, ctr := range api.Spec.Containers {
			if ctr.Name == cs.Name {
				cs.Resources = ctr.Resources.DeepCopy()
				cs.AllocatedResources = ctr.Resources.Requests.DeepCopy()
			}
		}
	}
	api, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, api, metav1.UpdateOptions{})
	require.NoError(t, err)

	// Resize the app container in place: 250m → 400m.
	api.Spec.Containers[0].Resources.Requests = rl("400m", "256Mi")
	_, err = c.CoreV1().Pods(ns).UpdateResize(ctx, api.Name, api, metav1.UpdateOptions{})
	require.NoError(t, err)
	tResize := time.Now()
	want = "agent-0\t20\t33554432\t0\t0\t1\n" +
		"api-0\t300\t335544320\t1000\t536870912\t0\n" +
		"api-0\t450\t335544320\t1000\t536870912\t1\n"
	eventually(t, 15*time.Second, "the resize in ClickHouse", func() bool {
		require.NoError(t, w.Flush(ctx))
		g := queryString(t, s, q, "TSV")
		if g != got {
			t.Logf("pod_resources now:\n%s", g)
		}
		got = g
		return got == want
	})
	// The old interval ends where the new one starts, at the resize.
	require.Equal(t, "1\n", queryString(t, s, `SELECT
		(SELECT valid_to FROM pod_resources WHERE pod = 'api-0' AND toUnixTimestamp64Milli(valid_to) > 0) =
		(SELECT max(valid_from) FROM pod_resources WHERE pod = 'api-0')`, "TSV"))
	// The IP stayed the pod's throughout.
	idx, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)
	for _, at := range []time.Time{tResize.Add(-time.Second), tResize.Add(time.Second)} {
		ep, ok := idx.Lookup(netip.MustParseAddr(api.Status.PodIP), at)
		require.True(t, ok)
		require.Equal(t, "api-0", ep.Pod)
	}
	require.Equal(t, 1.0, testutil.ToFloat64(w.metrics.intervalsClosed.WithLabelValues("kwok", "pod", closeResized)))

	// Restart the watcher. The resized pod (generation 2) opens anew, its
	// old requests' interval untouched, and the view ends the one left
	// open before the restart where the new one starts. The agent, first
	// seen by an event (valid from the event), is listed now (valid from
	// its start time, a second earlier): the view ends that interval where
	// the first one starts, so no time counts twice.
	api, err = c.CoreV1().Pods(ns).Get(ctx, api.Name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Greater(t, api.Generation, int64(1), "the API server counts the resize in the pod's generation")
	require.NoError(t, w.Stop(ctx))
	time.Sleep(5 * time.Millisecond)
	w2, err := New(cfg, Dependencies{Sink: sink, Registry: prometheus.NewRegistry(), Clients: map[string]kubernetes.Interface{"kwok": c}})
	require.NoError(t, err)
	require.NoError(t, w2.Start(ctx))
	t.Cleanup(func() { _ = w2.Stop(context.Background()) })
	q = strings.Replace(q, "WHERE namespace = 'resources'", "WHERE pod = 'api-0'", 1)
	want = "api-0\t300\t335544320\t1000\t536870912\t0\n" +
		"api-0\t450\t335544320\t1000\t536870912\t0\n" +
		"api-0\t450\t335544320\t1000\t536870912\t1\n"
	eventually(t, 15*time.Second, "the restarted watcher's records", func() bool {
		require.NoError(t, w2.Flush(ctx))
		g := queryString(t, s, q, "TSV")
		if g != got {
			t.Logf("pod_resources now:\n%s", g)
		}
		got = g
		return got == want
	})
	require.Equal(t, "1\n", queryString(t, s, "SELECT countIf(toUnixTimestamp64Milli(valid_to) = 0) FROM pod_resources WHERE pod = 'agent-0'", "TSV"))
	require.Equal(t, "0\n", queryString(t, s, `SELECT count() FROM pod_resources AS a
		INNER JOIN pod_resources AS b ON a.pod_uid = b.pod_uid
		WHERE a.valid_from < b.valid_from AND (toUnixTimestamp64Milli(a.valid_to) = 0 OR a.valid_to > b.valid_from)`, "TSV"),
		"no two intervals of a pod overlap")
}
