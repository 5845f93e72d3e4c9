package flowlogs

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/furrowdev/furrow/demo"
	"github.com/furrowdev/furrow/ingest/pods"
)

// demoTraffic reads the traffic section of a generated data set's
// furrow.yaml.
func demoTraffic(t testing.TB, dir string) TrafficConfiguration {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "furrow.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := struct {
		Traffic TrafficConfiguration `yaml:"traffic"`
	}{Traffic: DefaultTrafficConfiguration()}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Traffic
}

// demoIndex replays a data set's pod snapshots (one every ten minutes)
// into a pod index, as the pods watcher would have recorded them. It also
// returns the hostNetwork workloads ("namespace/workload"), whose traffic
// is attributed to their node.
func demoIndex(t testing.TB, dir string) (*pods.Index, map[string]bool) {
	t.Helper()
	snaps, err := filepath.Glob(filepath.Join(dir, "k8s", "pods-*.json"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no pod snapshots in %s: %v", dir, err)
	}
	sort.Strings(snaps)
	h := pods.NewHistory()
	sink := pods.NewMemorySink()
	nodes := filepath.Join(dir, "k8s", "nodes.json")
	hostNet := map[string]bool{}
	for _, p := range snaps {
		stamp := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "pods-"), ".json")
		at, err := time.Parse("20060102T1504Z", stamp)
		if err != nil {
			t.Fatal(err)
		}
		s, err := pods.ReadSnapshot(demo.ClusterName, at, nodes, p)
		if err != nil {
			t.Fatal(err)
		}
		ps, ns, _ := h.Apply(s)
		for _, p := range ps {
			if p.HostNetwork {
				hostNet[p.Namespace+"/"+p.Workload] = true
			}
		}
		_ = sink.PodIPs(t.Context(), ps)
		_ = sink.Nodes(t.Context(), ns)
	}
	return sink.Index(), hostNet
}
