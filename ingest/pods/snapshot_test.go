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
