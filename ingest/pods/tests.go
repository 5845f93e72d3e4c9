//go:build !release

package pods

import (
	"context"
	"sort"
	"sync"
)

// MemorySink is a Sink that keeps the latest version of every record in
// memory, merging a closed record into the open one of the same key: a test
// double for the ClickHouseSink, which tests here and in ingest/flowlogs
// read back or build an Index from. Release builds leave it out.
type MemorySink struct {
	mu    sync.Mutex
	pods  map[memPodKey]PodIP
	nodes map[memNodeKey]NodeInfo
}

type memNodeKey struct {
	cluster, node string
	from          int64
}

// NewMemorySink returns an empty MemorySink.
func NewMemorySink() *MemorySink {
	return &MemorySink{pods: map[memPodKey]PodIP{}, nodes: map[memNodeKey]NodeInfo{}}
}

// PodIPs implements Sink.
func (m *MemorySink) PodIPs(_ context.Context, records []PodIP) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range records {
		m.pods[memPodKey{r.Cluster, r.PodUID, r.IP.As16(), r.ValidFrom.UnixNano()}] = r
	}
	return nil
}

// Nodes implements Sink.
func (m *MemorySink) Nodes(_ context.Context, records []NodeInfo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range records {
		m.nodes[memNodeKey{r.Cluster, r.Node, r.ValidFrom.UnixNano()}] = r
	}
	return nil
}

// Records returns every record, ordered by cluster, IP (node name) and start.
func (m *MemorySink) Records() ([]PodIP, []NodeInfo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pods := make([]PodIP, 0, len(m.pods))
	for _, r := range m.pods {
		pods = append(pods, r)
	}
	nodes := make([]NodeInfo, 0, len(m.nodes))
	for _, r := range m.nodes {
		nodes = append(nodes, r)
	}
	sortPodIPs(pods)
	sort.Slice(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.Cluster+"/"+a.Node != b.Cluster+"/"+b.Node {
			return a.Cluster+"/"+a.Node < b.Cluster+"/"+b.Node
		}
		return a.ValidFrom.Before(b.ValidFrom)
	})
	return pods, nodes
}

// Index builds an Index of the records received so far.
func (m *MemorySink) Index() *Index {
	return NewIndex(m.Records())
}

// compile-time check.
var _ Sink = (*MemorySink)(nil)
