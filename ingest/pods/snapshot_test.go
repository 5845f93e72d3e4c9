package pods

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sharedTestdata is /work/shared/testdata/k8s, found relative to this file:
// the samples live next to the repository, not in it.
func sharedTestdata(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "testdata", "k8s")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("shared Kubernetes samples not found at %s: %v (they live in ../shared/testdata next to the repository)", dir, err)
	}
	return dir
}

func glob(t *testing.T, dir string, patterns ...string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(dir, p))
		require.NoError(t, err)
		require.NotEmpty(t, m, "no file matches %s", p)
		out = append(out, m...)
	}
	return out
}

type golden struct {
	Pods    []PodIP        `json:"pods"`
	Nodes   []NodeInfo     `json:"nodes"`
	Skipped map[string]int `json:"skipped"`
	Ignored map[string]int `json:"ignored"`
}

func TestSnapshotSamples(t *testing.T) {
	dir := sharedTestdata(t)
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name     string
		patterns []string
	}{
		{"kubectl-neat", []string{"kubectl-neat/*.json"}},
		{"troubleshoot", []string{"troubleshoot/nodes.json", "troubleshoot/pods_*.json"}},
		{"insights-operator", []string{"insights-operator/nodes/*.json", "insights-operator/pods/*.json"}},
		{"k9s", []string{"k9s/*.json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadSnapshot("c1", at, glob(t, dir, tc.patterns...)...)
			require.NoError(t, err)
			pods, nodes, skipped := s.Records()
			got, err := json.MarshalIndent(golden{pods, nodes, skipped, s.Ignored}, "", "  ")
			require.NoError(t, err)
			path := filepath.Join("testdata", "snapshot-"+tc.name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

func TestSnapshotInsightsOperatorAttribution(t *testing.T) {
	s, err := ReadSnapshot("gcp", time.Time{}, glob(t, sharedTestdata(t), "insights-operator/nodes/*.json", "insights-operator/pods/*.json")...)
	require.NoError(t, err)
	require.False(t, s.Time.IsZero(), "snapshot time defaults to the files' mtime")
	pods, nodes, _ := s.Records()
	idx := NewIndex(pods, nodes)
	at := time.Date(2020, 8, 13, 0, 0, 0, 0, time.UTC)

	ep, ok := idx.Lookup(mustAddr("10.128.2.11"), at)
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointPod, Cluster: "gcp", Namespace: "openshift-monitoring", Pod: "prometheus-k8s-0",
		WorkloadKind: "StatefulSet", Workload: "prometheus-k8s", Node: "ci-ln-d53y532-f76d1-2btqq-worker-c-nmnbz", Zone: "us-east1-c"}, ep)

	// sdn-controller is hostNetwork on master-1: its IP is the node's (whose
	// addresses are obfuscated in the sample), so the answer is the node.
	ep, ok = idx.Lookup(mustAddr("10.0.0.6"), at)
	require.True(t, ok)
	require.Equal(t, Endpoint{Kind: EndpointNode, Cluster: "gcp", Node: "ci-ln-d53y532-f76d1-2btqq-master-1", Zone: "us-east1-c"}, ep)

	ep, ok = idx.Lookup(mustAddr("10.130.0.91"), at)
	require.True(t, ok)
	require.Equal(t, "Deployment", ep.WorkloadKind)
	require.Equal(t, "insights-operator", ep.Workload)

	_, ok = idx.Lookup(mustAddr("10.130.0.91"), time.Date(2020, 8, 1, 0, 0, 0, 0, time.UTC))
	require.False(t, ok, "before the pod started")
}

func TestDecodeObjectsYAMLAndMixedList(t *testing.T) {
	const doc = `
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata: {name: web-abc, namespace: ns, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]}
  spec: {replicas: 1, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}}
- metadata: {name: web-abc-1, namespace: ns, uid: p1, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: r1, controller: true}]}
  spec: {nodeName: n1, containers: [{name: c, image: x}]}
  status: {phase: Running, podIP: 10.1.0.5, startTime: "2024-05-01T10:00:00Z"}
- metadata: {name: n1, labels: {topology.kubernetes.io/zone: eu-west-1b}}
  status: {addresses: [{type: InternalIP, address: 10.0.0.9}]}
- apiVersion: v1
  kind: Service
  metadata: {name: svc}
---
apiVersion: batch/v1
kind: Job
metadata: {name: nightly-1, namespace: ns}
spec: {template: {spec: {containers: [{name: c, image: x}]}}}
---
`
	objs, err := DecodeObjects(strings.NewReader(doc))
	require.NoError(t, err)
	require.Len(t, objs.Pods, 1)
	require.Len(t, objs.Nodes, 1)
	require.Len(t, objs.ReplicaSets, 1)
	require.Len(t, objs.Jobs, 1)
	require.Equal(t, map[string]int{"Service": 1}, objs.Ignored)

	s := &Snapshot{Cluster: "c", Objects: *objs}
	pods, nodes, _ := s.Records()
	require.Len(t, pods, 1)
	require.Equal(t, "Deployment", pods[0].WorkloadKind)
	require.Equal(t, "web", pods[0].Workload)
	require.Equal(t, "eu-west-1b", pods[0].Zone)
	require.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), pods[0].ValidFrom)
	require.Equal(t, "eu-west-1b", nodes[0].Zone)
}

func TestDecodeObjectsErrors(t *testing.T) {
	_, err := DecodeObjects(strings.NewReader(`{"kind": "PodList", "items": [1]}`))
	require.Error(t, err)
	_, err = DecodeObjects(strings.NewReader(`{"kind": "Pod", "spec": {"containers": "nope"}}`))
	require.Error(t, err)
}

func TestHistoryClosesMissingPods(t *testing.T) {
	pod := func(name, uid, ip, start string) string {
		return `{"metadata":{"name":"` + name + `","namespace":"ns","uid":"` + uid + `"},"spec":{"containers":[{"name":"c"}]},"status":{"phase":"Running","podIP":"` + ip + `","startTime":"` + start + `"}}`
	}
	snap := func(at time.Time, pods ...string) *Snapshot {
		objs, err := DecodeObjects(strings.NewReader(`{"kind":"PodList","items":[` + strings.Join(pods, ",") + `]}`))
		require.NoError(t, err)
		return &Snapshot{Cluster: "c", Time: at, Objects: *objs}
	}
	t1 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	h := NewHistory()
	sink := NewMemorySink()

	opened, _, _ := h.Apply(snap(t1, pod("a", "u1", "10.0.0.1", "2024-01-01T09:00:00Z"), pod("b", "u2", "10.0.0.2", "2024-01-01T09:30:00Z")))
	require.Len(t, opened, 2)
	require.NoError(t, sink.PodIPs(t.Context(), opened))

	// a is gone, c reuses its IP.
	changed, _, _ := h.Apply(snap(t2, pod("b", "u2", "10.0.0.2", "2024-01-01T09:30:00Z"), pod("c", "u3", "10.0.0.1", "2024-01-01T10:30:00Z")))
	require.Len(t, changed, 2)
	require.NoError(t, sink.PodIPs(t.Context(), changed))

	recs, _ := sink.Records()
	require.Len(t, recs, 3)
	require.Equal(t, "a", recs[0].Pod)
	require.Equal(t, t2, recs[0].ValidTo, "a closed at the snapshot that lacks it")
	require.Equal(t, "c", recs[1].Pod)
	require.True(t, recs[1].ValidTo.IsZero())

	idx := sink.Index()
	ep, ok := idx.Lookup(mustAddr("10.0.0.1"), t1)
	require.True(t, ok)
	require.Equal(t, "a", ep.Pod)
	// Between c's start and the snapshot closing a, both claim the IP: the
	// later start wins.
	ep, ok = idx.Lookup(mustAddr("10.0.0.1"), t1.Add(45*time.Minute))
	require.True(t, ok)
	require.Equal(t, "c", ep.Pod)
}

// TestHistoryClosesFinishedPods: a terminated pod (a completed Job's) held
// its IP until its containers finished, whether a snapshot saw it running
// or only finished; a terminated pod without a finish time is skipped.
func TestHistoryClosesFinishedPods(t *testing.T) {
	pod := func(name, uid, phase, finished string) string {
		status := `"containerStatuses":[{"name":"c","state":{"running":{"startedAt":"2024-01-01T09:00:00Z"}}}]`
		if finished != "" {
			status = `"containerStatuses":[{"name":"c","state":{"terminated":{"exitCode":0,"reason":"Completed","finishedAt":"` + finished + `"}}},` +
				`{"name":"sidecar","state":{"terminated":{"exitCode":0,"finishedAt":"2024-01-01T09:05:00Z"}}}]`
		}
		return `{"metadata":{"name":"` + name + `","namespace":"batch","uid":"` + uid + `"},"spec":{"containers":[{"name":"c"}]},` +
			`"status":{"phase":"` + phase + `","podIP":"10.0.0.` + uid + `","startTime":"2024-01-01T09:00:00Z",` + status + `}}`
	}
	snap := func(at time.Time, pods ...string) *Snapshot {
		objs, err := DecodeObjects(strings.NewReader(`{"kind":"PodList","items":[` + strings.Join(pods, ",") + `]}`))
		require.NoError(t, err)
		return &Snapshot{Cluster: "c", Time: at, Objects: *objs}
	}
	t1 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	finished := time.Date(2024, 1, 1, 10, 4, 0, 0, time.UTC)
	type step struct {
		pods    []string
		changed []string // pod/valid_to of the records Apply returns
		skipped int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"seen running, then finished", []step{
			{[]string{pod("job-1", "1", "Running", "")}, []string{"job-1/open"}, 0},
			{[]string{pod("job-1", "1", "Succeeded", "2024-01-01T10:04:00Z")}, []string{"job-1/10:04"}, 0},
			{[]string{pod("job-1", "1", "Succeeded", "2024-01-01T10:04:00Z")}, nil, 0},
			{nil, nil, 0},
		}},
		{"seen only finished, emitted once", []step{
			{[]string{pod("job-2", "2", "Succeeded", "2024-01-01T10:04:00Z")}, []string{"job-2/10:04"}, 0},
			{[]string{pod("job-2", "2", "Succeeded", "2024-01-01T10:04:00Z")}, nil, 0},
		}},
		{"failed pod", []step{
			{[]string{pod("job-3", "3", "Failed", "2024-01-01T10:04:00Z")}, []string{"job-3/10:04"}, 0},
		}},
		{"no finish time", []step{
			{[]string{pod("job-4", "4", "Succeeded", "")}, nil, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistory()
			for i, st := range tt.steps {
				recs, _, skipped := h.Apply(snap(t1.Add(time.Duration(i)*10*time.Minute), st.pods...))
				var got []string
				for _, r := range recs {
					end := "open"
					if !r.ValidTo.IsZero() {
						end = r.ValidTo.Format("15:04")
						require.Equal(t, finished, r.ValidTo)
					}
					require.Equal(t, "2024-01-01T09:00:00Z", r.ValidFrom.Format(time.RFC3339))
					got = append(got, r.Pod+"/"+end)
				}
				require.Equal(t, st.changed, got, "step %d", i)
				require.Equal(t, st.skipped, skipped[SkipTerminated], "step %d", i)
			}
		})
	}
}

// TestSnapshotRecordsResources: the records of the real samples carry the
// pods' requests (hostNetwork pods too) and the nodes' provider ids and
// sizes, as the files say.
func TestSnapshotRecordsResources(t *testing.T) {
	s, err := ReadSnapshot("gcp", time.Unix(0, 0), glob(t, sharedTestdata(t), "insights-operator/nodes/*.json", "insights-operator/pods/*.json")...)
	require.NoError(t, err)
	pods, nodes, _ := s.Records()
	byPod := map[string]PodIP{}
	for _, p := range pods {
		byPod[p.Pod] = p
	}
	require.Equal(t, Resources{CPURequestMillis: 76, MemoryRequestBytes: gi + 160*mi}, byPod["prometheus-k8s-1"].Resources)
	sdn := byPod["sdn-controller-xcnqb"]
	require.True(t, sdn.HostNetwork)
	require.Equal(t, Resources{CPURequestMillis: 10, MemoryRequestBytes: 50 * mi}, sdn.Resources)
	require.Equal(t, Resources{CPURequestMillis: 10, MemoryRequestBytes: 120 * mi}, byPod["service-ca-54c85d7fdb-9g4t4"].Resources)

	require.Len(t, nodes, 7)
	for _, n := range nodes {
		require.Equal(t, "gce://openshift-gce-devel-ci/"+n.Zone+"/"+n.Node, n.ProviderID)
		require.Empty(t, n.InstanceID, "GCE nodes have no EC2 instance id")
		// allocatable 3500m of 4 cores; memory in Ki as the kubelet writes it.
		require.Equal(t, uint64(3500), n.CPUAllocatableMillis)
		require.Equal(t, uint64(4000), n.CPUCapacityMillis)
	}
	require.Equal(t, NodeSize{3500, 14236104 * 1024, 4000, 15387080 * 1024}, nodes[0].NodeSize)

	// DigitalOcean and unlabelled nodes: provider ids kept, no instance id.
	s, err = ReadSnapshot("do", time.Unix(0, 0), glob(t, sharedTestdata(t), "troubleshoot/nodes.json")...)
	require.NoError(t, err)
	_, nodes, _ = s.Records()
	providers := map[string]string{}
	for _, n := range nodes {
		providers[n.Node] = n.ProviderID
		require.Empty(t, n.InstanceID)
	}
	require.Equal(t, "digitalocean://219734583", providers["smallnode-3i74t"])
	require.Equal(t, "", providers["ip-172-31-21-92"])
}

// TestHistoryResize: a running pod whose requests change between two
// snapshots (an in-place resize) has its intervals, both IPs of a
// dual-stack pod alike, closed at the later snapshot and reopened there
// with the new values; unchanged requests emit nothing.
func TestHistoryResize(t *testing.T) {
	pod := func(cpu, mem string) string {
		return `{"metadata":{"name":"web-1","namespace":"shop","uid":"u1"},"spec":{"nodeName":"n1",` +
			`"initContainers":[{"name":"proxy","restartPolicy":"Always","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}],` +
			`"containers":[{"name":"app","resources":{"requests":{"cpu":"` + cpu + `","memory":"` + mem + `"},"limits":{"memory":"` + mem + `"}}}]},` +
			`"status":{"phase":"Running","podIPs":[{"ip":"10.0.0.7"},{"ip":"2001:db8::7"}],"startTime":"2024-01-01T09:00:00Z"}}`
	}
	snap := func(at time.Time, pods ...string) *Snapshot {
		objs, err := DecodeObjects(strings.NewReader(`{"kind":"PodList","items":[` + strings.Join(pods, ",") + `]}`))
		require.NoError(t, err)
		return &Snapshot{Cluster: "c", Time: at, Objects: *objs}
	}
	start := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	t1, t2, t3 := start.Add(time.Hour), start.Add(2*time.Hour), start.Add(3*time.Hour)
	h := NewHistory()
	sink := NewMemorySink()
	apply := func(s *Snapshot) []PodIP {
		recs, _, _ := h.Apply(s)
		require.NoError(t, sink.PodIPs(t.Context(), recs))
		return recs
	}
	require.Len(t, apply(snap(t1, pod("500m", "256Mi"))), 2)
	require.Empty(t, apply(snap(t2, pod("500m", "256Mi"))), "same requests: nothing changed")
	changed := apply(snap(t3, pod("1", "512Mi")))
	require.Len(t, changed, 4, "two closes and two opens")

	// The sidecar's request adds to the app's; it sets no limit.
	small := Resources{CPURequestMillis: 600, MemoryRequestBytes: 320 * mi, MemoryLimitBytes: 256 * mi}
	big := Resources{CPURequestMillis: 1100, MemoryRequestBytes: 576 * mi, MemoryLimitBytes: 512 * mi}
	recs, _ := sink.Records()
	require.Len(t, recs, 4)
	for _, r := range recs {
		switch {
		case r.ValidFrom.Equal(start):
			require.Equal(t, t3, r.ValidTo, "%s: closed at the snapshot that saw the resize", r.IP)
			require.Equal(t, small, r.Resources)
		case r.ValidFrom.Equal(t3):
			require.True(t, r.ValidTo.IsZero(), "%s: open with the new values", r.IP)
			require.Equal(t, big, r.Resources)
		default:
			t.Fatalf("unexpected interval %+v", r)
		}
	}
	// The IP stays the pod's across the split.
	ep, ok := sink.Index().Lookup(mustAddr("10.0.0.7"), t3)
	require.True(t, ok)
	require.Equal(t, "web-1", ep.Pod)

	// Gone at the next snapshot: the new interval closes there.
	changed = apply(snap(t3.Add(time.Hour)))
	require.Len(t, changed, 2)
	for _, r := range changed {
		require.Equal(t, t3, r.ValidFrom)
		require.Equal(t, t3.Add(time.Hour), r.ValidTo)
	}
}
