package pods

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	k8senv.StopShared()
	os.Exit(code)
}

// eventually polls cond every 50ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runningPod(t *testing.T, ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	_, err := c.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	return waitRunning(t, ctx, c, pod.Namespace, pod.Name)
}

func waitRunning(t *testing.T, ctx context.Context, c kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	var got *corev1.Pod
	var err error
	eventually(t, 30*time.Second, "pod "+name+" running with an IP", func() bool {
		got, err = c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.PodRunning && got.Status.PodIP != ""
	})
	return got
}

func deletePod(t *testing.T, ctx context.Context, c kubernetes.Interface, ns, name string) {
	t.Helper()
	require.NoError(t, c.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}))
	eventually(t, 30*time.Second, "pod "+name+" gone", func() bool {
		_, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return err != nil
	})
}

func podSpec(ns, name, node string, labels map[string]string, owners []metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, OwnerReferences: owners},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
		},
	}
}

// findRecord returns the record of pod name for ip, if the sink has it.
func findRecord(sink *MemorySink, name string, ip netip.Addr) (PodIP, bool) {
	pods, _ := sink.Records()
	for _, p := range pods {
		if p.Pod == name && p.IP == ip {
			return p, true
		}
	}
	return PodIP{}, false
}

func TestWatcherTracksIPReuseOnRealAPIServer(t *testing.T) {
	env := k8senv.Shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := env.Client
	const ns = "churn"
	require.NoError(t, env.EnsureNamespace(ctx, ns))
	zones := map[string]string{"w-a": "eu-west-1a", "w-b": "eu-west-1b", "w-c": "eu-west-1c"}
	for _, n := range []string{"w-a", "w-b", "w-c"} {
		_, err := env.AddNode(ctx, n, zones[n])
		require.NoError(t, err)
	}

	// A Deployment and its ReplicaSet, created by hand (no controller-manager).
	labels := map[string]string{"app": "web"}
	dep, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	const hash = "6b8f7c9d4"
	rsLabels := map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-" + hash, Labels: rsLabels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: rsLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: rsLabels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	rsOwner := []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}

	// The watcher starts before the pods, so every IP is seen live.
	sink := NewMemorySink()
	reg := prometheus.NewRegistry()
	cfg := DefaultConfiguration()
	cfg.Clusters = []ClusterConfiguration{{Name: "kwok"}}
	cfg.FlushInterval = 50 * time.Millisecond
	cfg.SyncTimeout = 30 * time.Second
	w, err := New(cfg, Dependencies{Sink: sink, Registry: reg, Clients: map[string]kubernetes.Interface{"kwok": c}})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() { _ = w.Stop(context.Background()) })

	// Create all pods first, then wait: kwok starts them concurrently.
	hostPod := podSpec(ns, "node-agent", "w-b", map[string]string{"app": "agent"}, nil)
	hostPod.Spec.HostNetwork = true
	toCreate := []*corev1.Pod{hostPod}
	for i, n := range []string{"w-a", "w-b", "w-c"} {
		toCreate = append(toCreate, podSpec(ns, fmt.Sprintf("web-%s-%d", hash, i), n, rsLabels, rsOwner))
	}
	for _, p := range toCreate {
		_, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	webPods := map[string]*corev1.Pod{}
	for _, p := range toCreate[1:] {
		webPods[p.Name] = waitRunning(t, ctx, c, ns, p.Name)
	}
	hostPod = waitRunning(t, ctx, c, ns, hostPod.Name)

	for name, p := range webPods {
		ip := netip.MustParseAddr(p.Status.PodIP)
		eventually(t, 10*time.Second, "open record of "+name, func() bool { _, ok := findRecord(sink, name, ip); return ok })
		rec, _ := findRecord(sink, name, ip)
		require.Equal(t, "Deployment", rec.WorkloadKind)
		require.Equal(t, "web", rec.Workload)
		require.Equal(t, zones[p.Spec.NodeName], rec.Zone)
		require.False(t, rec.HostNetwork)
		require.True(t, rec.ValidTo.IsZero())
	}
	hostIP := netip.MustParseAddr(hostPod.Status.PodIP)
	require.Equal(t, hostPod.Status.HostIP, hostPod.Status.PodIP, "kwok gives hostNetwork pods the node IP")
	eventually(t, 10*time.Second, "record of the hostNetwork pod", func() bool { _, ok := findRecord(sink, "node-agent", hostIP); return ok })
	rec, _ := findRecord(sink, "node-agent", hostIP)
	require.True(t, rec.HostNetwork)
	ep, ok := sink.Index().Lookup(hostIP, time.Now())
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointNode, Cluster: "kwok", Node: "w-b", Zone: "eu-west-1b"}, ep)

	// Churn on w-a: delete the web pod, then create and delete pods of
	// another workload (a bare pod each time) until one gets its IP again.
	oldName := fmt.Sprintf("web-%s-0", hash)
	oldIP := netip.MustParseAddr(webPods[oldName].Status.PodIP)
	deletePod(t, ctx, c, ns, oldName)
	eventually(t, 10*time.Second, "closed record of "+oldName, func() bool {
		r, ok := findRecord(sink, oldName, oldIP)
		return ok && !r.ValidTo.IsZero()
	})
	var newName string
	for i := 0; i < 40 && newName == ""; i++ {
		name := fmt.Sprintf("batch-%d", i)
		p := runningPod(t, ctx, c, podSpec(ns, name, "w-a", map[string]string{"app": "batch"}, nil))
		if p.Status.PodIP == oldIP.String() {
			newName = name
			break
		}
		deletePod(t, ctx, c, ns, name)
	}
	require.NotEmpty(t, newName, "kwok never handed %s out again in 40 pods", oldIP)
	eventually(t, 10*time.Second, "open record of "+newName, func() bool { _, ok := findRecord(sink, newName, oldIP); return ok })

	oldRec, _ := findRecord(sink, oldName, oldIP)
	newRec, _ := findRecord(sink, newName, oldIP)
	require.False(t, oldRec.ValidTo.IsZero(), "old interval closed")
	require.True(t, newRec.ValidTo.IsZero(), "new interval open")
	require.False(t, newRec.ValidFrom.Before(oldRec.ValidTo), "new holder starts after the old one released the IP")
	require.Equal(t, "Pod", newRec.WorkloadKind)
	require.Equal(t, "eu-west-1a", newRec.Zone)

	idx := sink.Index()
	mid := oldRec.ValidFrom.Add(oldRec.ValidTo.Sub(oldRec.ValidFrom) / 2)
	ep, ok = idx.Lookup(oldIP, mid)
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointPod, Cluster: "kwok", Namespace: ns, Pod: oldName, WorkloadKind: "Deployment", Workload: "web", Node: "w-a", Zone: "eu-west-1a"}, ep)
	ep, ok = idx.Lookup(oldIP, time.Now())
	require.True(t, ok)
	require.Equal(t, newName, ep.Pod)
	require.Equal(t, newName, ep.Workload, "a bare pod is its own workload")

	require.Positive(t, testutil.ToFloat64(w.metrics.intervalsClosed.WithLabelValues("kwok", "pod", closeDeleted)))
	require.Positive(t, testutil.ToFloat64(w.metrics.intervalsOpened.WithLabelValues("kwok", "node")))
	require.Positive(t, testutil.ToFloat64(w.metrics.events.WithLabelValues("kwok", "replicaset", "add")))
	t.Logf("IP %s: %s [%s, %s) then %s from %s", oldIP, oldName, oldRec.ValidFrom.Format(time.RFC3339Nano),
		oldRec.ValidTo.Format(time.RFC3339Nano), newName, newRec.ValidFrom.Format(time.RFC3339Nano))
}
