package pods

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/demo"
)

func TestSnapshotTime(t *testing.T) {
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		name string
		want time.Time
	}{
		{"k8s/pods-20261101T0010Z.json", at("2026-11-01T00:10:00Z")},
		{"pods-20261101T001030Z.yaml", at("2026-11-01T00:10:30Z")},
		{"dump-2026-11-01T00:10:00Z.json", at("2026-11-01T00:10:00Z")},
		{"dump-2026-11-01T00-10Z.json", at("2026-11-01T00:10:00Z")},
		{"pods-20261399T0010Z.json", time.Time{}},
		{"pods.json", time.Time{}},
	}
	for _, tt := range tests {
		got, ok := SnapshotTime(tt.name)
		require.Equal(t, !tt.want.IsZero(), ok, tt.name)
		require.True(t, tt.want.Equal(got), "%s: got %s", tt.name, got)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestIngestSnapshots(t *testing.T) {
	s := migratedStore(t)
	ctx := t.Context()
	dir := t.TempDir()
	pod := func(name, uid, ip, node, start string) string {
		return `{"metadata":{"name":"` + name + `","namespace":"shop","uid":"` + uid + `","ownerReferences":[{"kind":"ReplicaSet","name":"web-6b8f","controller":true}],"labels":{"pod-template-hash":"6b8f"}},` +
			`"spec":{"nodeName":"` + node + `","containers":[{"name":"c"}]},"status":{"phase":"Running","podIP":"` + ip + `","startTime":"` + start + `"}}`
	}
	list := func(pods ...string) string { return `{"kind":"List","items":[` + strings.Join(pods, ",") + `]}` }
	writeFile(t, filepath.Join(dir, "k8s", "nodes.json"), `{"kind":"NodeList","items":[
		{"metadata":{"name":"n1","creationTimestamp":"2026-10-01T00:00:00Z","labels":{"topology.kubernetes.io/zone":"eu-west-1a"}},
		 "status":{"addresses":[{"type":"InternalIP","address":"10.1.0.1"}]}}]}`)
	// 00:10 web-a on .7; 00:20 web-a gone, web-b got .7 at 00:15; 00:30 all gone.
	writeFile(t, filepath.Join(dir, "k8s", "pods-20261101T0010Z.json"), list(pod("web-6b8f-a", "ua", "10.0.0.7", "n1", "2026-11-01T00:01:00Z"), pod("web-6b8f-c", "uc", "10.0.0.8", "n1", "2026-11-01T00:02:00Z")))
	writeFile(t, filepath.Join(dir, "k8s", "pods-20261101T0020Z.json"), list(pod("web-6b8f-b", "ub", "10.0.0.7", "n1", "2026-11-01T00:15:00Z"), pod("web-6b8f-c", "uc", "10.0.0.8", "n1", "2026-11-01T00:02:00Z")))
	writeFile(t, filepath.Join(dir, "k8s", "pods-20261101T0030Z.json"), list(pod("web-6b8f-c", "uc", "10.0.0.8", "n1", "2026-11-01T00:02:00Z")))
	writeFile(t, filepath.Join(dir, "k8s", "pods-20261101T0025Z.json"), `{"kind":"PodList","items":[1]}`)
	writeFile(t, filepath.Join(dir, "k8s", "notes.txt"), "not a snapshot")

	res, err := IngestSnapshots(ctx, s, "prod", []string{filepath.Join(dir, "k8s"), filepath.Join(dir, "missing")}, time.Time{})
	require.NoError(t, err)
	require.Len(t, res.FileErrors, 2)
	require.Contains(t, res.FileErrors[0].Error(), "missing")
	require.Contains(t, res.FileErrors[1].Error(), "pods-20261101T0025Z.json")
	require.Equal(t, 4, res.Files)
	require.Equal(t, 3, res.Snapshots)
	require.Equal(t, time.Date(2026, 11, 1, 0, 10, 0, 0, time.UTC), res.From)
	require.Equal(t, 3, res.Pods)
	require.Equal(t, 3, res.PodIntervals)
	require.Equal(t, 1, res.Nodes)

	idx, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)
	ip := netip.MustParseAddr("10.0.0.7")
	at := func(hhmm string) time.Time { t, _ := time.Parse("15:04", hhmm); return t.AddDate(2026, 10, 0) }
	for _, tt := range []struct {
		at   string
		want string
	}{{"00:05", "web-6b8f-a"}, {"00:16", "web-6b8f-b"}, {"00:25", "web-6b8f-b"}, {"00:31", ""}, {"00:00", ""}} {
		ep, ok := idx.Lookup(ip, at(tt.at))
		require.Equal(t, tt.want != "", ok, tt.at)
		require.Equal(t, tt.want, ep.Pod, tt.at)
		if ok {
			require.Equal(t, Endpoint{Kind: EndpointPod, Cluster: "prod", Namespace: "shop", Pod: tt.want, WorkloadKind: "Deployment", Workload: "web", Node: "n1", Zone: "eu-west-1a"}, ep,
				"zone from the nodes file")
		}
	}
	ep, ok := idx.Lookup(netip.MustParseAddr("10.0.0.8"), at("23:00"))
	require.True(t, ok, "pods of the last snapshot stay open")
	require.Equal(t, "web-6b8f-c", ep.Pod)

	// Again: nothing doubles, not even before merges.
	raw := queryString(t, s, "SELECT count() FROM pod_ips", "TSV") + queryString(t, s, "SELECT count() FROM k8s_nodes", "TSV")
	res2, err := IngestSnapshots(ctx, s, "prod", []string{filepath.Join(dir, "k8s")}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, res.PodIntervals, res2.PodIntervals)
	require.Equal(t, raw, queryString(t, s, "SELECT count() FROM pod_ips", "TSV")+queryString(t, s, "SELECT count() FROM k8s_nodes", "TSV"))
	require.Equal(t, "3\n", queryString(t, s, "SELECT count() FROM pod_ips FINAL", "TSV"))

	_, err = IngestSnapshots(ctx, s, "prod", []string{filepath.Join(dir, "missing")}, time.Time{})
	require.ErrorIs(t, err, ErrNoSnapshots)
}

// TestIngestDemoSnapshots ingests the pod snapshots of a demo data set and
// compares them with the generator's ground truth.
func TestIngestDemoSnapshots(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	start := time.Now()
	sum, err := demo.Generate(ctx, dir, demo.Options{Days: 1, FlowsPerHour: 2000, Nodes: 12})
	require.NoError(t, err)
	t.Logf("generated in %s: %d pods (%d unlisted), %d reused IPs, %d snapshots", time.Since(start), sum.Pods, sum.Unlisted, sum.ReusedIPs, sum.Snapshots)

	s := migratedStore(t)
	start = time.Now()
	res, err := IngestSnapshots(ctx, s, demo.ClusterName, []string{filepath.Join(dir, "k8s")}, time.Time{})
	require.NoError(t, err)
	t.Logf("ingested in %s: %+v", time.Since(start), res)
	require.Empty(t, res.FileErrors)
	require.Equal(t, sum.Snapshots, res.Snapshots)
	require.Equal(t, sum.Start, res.From)
	require.Equal(t, sum.End, res.To)
	require.Equal(t, sum.Nodes, res.Nodes)

	// Every pod a snapshot shows has an interval, including a Job pod that
	// completed before its first snapshot and shows only as Succeeded: its
	// interval ends when its container finished.
	onlySucceeded := succeededOnly(t, filepath.Join(dir, "k8s"))
	require.Positive(t, onlySucceeded)
	require.Equal(t, sum.Pods-sum.Unlisted, res.Pods, "pods: %d, %d unlisted", sum.Pods, sum.Unlisted)
	finished := queryString(t, s, `SELECT countIf(toUnixTimestamp64Milli(valid_to) > 0 AND dateDiff('second', valid_from, valid_to) < 600) FROM pod_ips FINAL WHERE workload_kind = 'CronJob'`, "TSV")
	require.GreaterOrEqual(t, atoi(t, strings.TrimSpace(finished)), onlySucceeded, "Job pods closed at their finish time")
	require.Equal(t, res.Pods, res.PodIntervals, "one IP per pod, and no pod leaves and comes back")
	require.Equal(t, queryString(t, s, "SELECT uniqExact(pod_uid) FROM pod_ips FINAL", "TSV"), itoa(res.Pods)+"\n")

	// Reuse: pods on an IP an earlier pod (of the data set) held. The
	// generator rests an IP ten minutes, so snapshots separate every reuse;
	// only reuses by pods without an interval (unlisted) are not seen.
	reused := queryString(t, s, `SELECT count() FROM (
		SELECT ip, pod_uid, valid_from, count() OVER (PARTITION BY ip ORDER BY valid_from ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
		FROM pod_ips FINAL WHERE NOT host_network) WHERE earlier > 0 AND valid_from >= toDateTime64('`+sum.Start.Format("2006-01-02 15:04:05")+`', 3, 'UTC')`, "TSV")
	got := atoi(t, strings.TrimSpace(reused))
	t.Logf("reused IPs: %d seen, %d generated (%d unlisted pods)", got, sum.ReusedIPs, sum.Unlisted)
	require.LessOrEqual(t, got, sum.ReusedIPs)
	require.GreaterOrEqual(t, got, sum.ReusedIPs-sum.Unlisted)
	// No two non-hostNetwork holders of an IP overlap beyond the snapshot
	// resolution (the old interval closes at the next snapshot).
	overlap := queryString(t, s, `SELECT count() FROM (
		SELECT valid_from, lagInFrame(valid_to) OVER (PARTITION BY ip ORDER BY valid_from ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS prev_to,
			row_number() OVER (PARTITION BY ip ORDER BY valid_from) AS n
		FROM pod_ips FINAL WHERE NOT host_network) WHERE n > 1 AND (toUnixTimestamp64Milli(prev_to) = 0 OR prev_to > valid_from + INTERVAL 10 MINUTE)`, "TSV")
	require.Equal(t, "0\n", overlap)

	// Idempotent.
	before := queryString(t, s, "SELECT count() FROM pod_ips", "TSV")
	_, err = IngestSnapshots(ctx, s, demo.ClusterName, []string{filepath.Join(dir, "k8s")}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, before, queryString(t, s, "SELECT count() FROM pod_ips", "TSV"))
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// succeededOnly counts the pods that every snapshot of dir shows Succeeded.
func succeededOnly(t *testing.T, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "pods-*.json"))
	require.NoError(t, err)
	running, seen := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		objs, err := DecodeObjects(fh)
		fh.Close()
		require.NoError(t, err)
		for _, p := range objs.Pods {
			seen[string(p.UID)] = true
			if !podTerminated(&p) {
				running[string(p.UID)] = true
			}
		}
	}
	return len(seen) - len(running)
}
