package pods

import (
	"math"
	"net/netip"
	"sort"
	"time"
)

// EndpointKind says what an IP was attributed to.
type EndpointKind uint8

const (
	// EndpointPod is a pod owning the IP (pod network).
	EndpointPod EndpointKind = iota + 1
	// EndpointNode is a node IP, including the traffic of hostNetwork pods.
	EndpointNode
)

// Endpoint is what an IP belonged to at a given time. For EndpointNode only
// Cluster, Node and Zone are set.
type Endpoint struct {
	Kind                   EndpointKind
	Cluster                string
	Namespace, Pod         string
	WorkloadKind, Workload string
	Node, Zone             string
}

// interval is one holder of an IP during [from, to) in Unix nanoseconds.
type interval struct {
	from, to int64
	// maxTo is the largest to among this and the earlier intervals of the
	// slice: a backward scan stops as soon as it is below the looked-up time.
	maxTo int64
	ep    *Endpoint
}

// Index answers which pod or node held an IP at a time. It is immutable
// once built and safe for concurrent use; rebuild it (NewIndex) to take new
// records in and swap it atomically.
//
// Lookups are cluster-agnostic: IPs only overlap between clusters whose VPCs
// overlap, which flow attribution cannot tell apart anyway. When intervals
// of several holders cover the time (overlapping clusters, or a pod and a
// node claiming the same IP), the one that started last wins; LookupCluster
// restricts the answer to one cluster.
type Index struct {
	// v4 and v6 map an IP to its run of intervals in ivs, packed as
	// offset<<32 | length: IPv4 keys hash faster and the flat slice keeps a
	// lookup to a few cache lines.
	v4  map[uint32]uint64
	v6  map[[16]byte]uint64
	ivs []interval
}

// NewIndex builds an index from pod and node records. Pod records of
// hostNetwork pods attribute their IP to their node, for the times no node
// record covers it.
func NewIndex(pods []PodIP, nodes []NodeInfo) *Index {
	b := newBuilder(len(pods) + len(nodes))
	for _, n := range nodes {
		b.addNode(n)
	}
	var hostNet []PodIP
	for _, p := range pods {
		if p.HostNetwork {
			hostNet = append(hostNet, p)
			continue
		}
		b.add(p.IP.Unmap().As16(), nanos(p.ValidFrom, math.MinInt64), nanos(p.ValidTo, math.MaxInt64), podEndpoint(p))
	}
	// A hostNetwork pod only stands for its node when no node record has the
	// IP (nodes whose addresses were not collected or did not parse).
	for _, p := range hostNet {
		if k := p.IP.Unmap().As16(); !b.has(k) || b.hostNet[k] {
			b.addHostNet(k, nanos(p.ValidFrom, math.MinInt64), nanos(p.ValidTo, math.MaxInt64), hostNetEndpoint(p))
		}
	}
	return b.index()
}

// podEndpoint is the record a pod-network pod is attributed to.
func podEndpoint(p PodIP) *Endpoint {
	return &Endpoint{
		Kind: EndpointPod, Cluster: p.Cluster, Namespace: p.Namespace, Pod: p.Pod,
		WorkloadKind: p.WorkloadKind, Workload: p.Workload, Node: p.Node, Zone: p.Zone,
	}
}

// hostNetEndpoint is the record a hostNetwork pod's IP is attributed to:
// its node.
func hostNetEndpoint(p PodIP) *Endpoint {
	return &Endpoint{Kind: EndpointNode, Cluster: p.Cluster, Node: p.Node, Zone: p.Zone}
}

// builder gathers the intervals of each IP before they are packed into an
// Index. Node and pod-network intervals are added first; the intervals of
// hostNetwork pods then only go to IPs that have none (see NewIndex), which
// has and addHostNet let the caller decide.
type builder struct {
	byIP map[[16]byte][]interval
	// hostNet marks the IPs whose intervals came from hostNetwork pods
	// only, so that a second hostNetwork pod of the same IP is added too.
	hostNet map[[16]byte]bool
}

func newBuilder(n int) *builder {
	return &builder{byIP: make(map[[16]byte][]interval, n), hostNet: map[[16]byte]bool{}}
}

// add adds an interval [from, to) in Unix nanoseconds of k (16-byte form,
// IPv4-mapped for IPv4).
func (b *builder) add(k [16]byte, from, to int64, ep *Endpoint) {
	b.byIP[k] = append(b.byIP[k], interval{from: from, to: to, ep: ep})
}

// addNode adds the intervals of a node's addresses.
func (b *builder) addNode(n NodeInfo) {
	ep := &Endpoint{Kind: EndpointNode, Cluster: n.Cluster, Node: n.Node, Zone: n.Zone}
	for _, ip := range n.IPs {
		b.add(ip.Unmap().As16(), nanos(n.ValidFrom, math.MinInt64), nanos(n.ValidTo, math.MaxInt64), ep)
	}
}

// has reports whether k has an interval.
func (b *builder) has(k [16]byte) bool {
	_, ok := b.byIP[k]
	return ok
}

// addHostNet adds the interval of a hostNetwork pod.
func (b *builder) addHostNet(k [16]byte, from, to int64, ep *Endpoint) {
	b.hostNet[k] = true
	b.add(k, from, to, ep)
}

// index packs the intervals into an Index.
func (b *builder) index() *Index {
	n := 0
	for _, ivs := range b.byIP {
		n += len(ivs)
	}
	idx := &Index{v4: make(map[uint32]uint64, len(b.byIP)), v6: map[[16]byte]uint64{}, ivs: make([]interval, 0, n)}
	for k, ivs := range b.byIP {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].before(&ivs[j]) })
		maxTo := int64(math.MinInt64)
		for i := range ivs {
			maxTo = max(maxTo, ivs[i].to)
			ivs[i].maxTo = maxTo
		}
		run := uint64(len(idx.ivs))<<32 | uint64(len(ivs))
		idx.ivs = append(idx.ivs, ivs...)
		if v4, ok := v4key(k); ok {
			idx.v4[v4] = run
		} else {
			idx.v6[k] = run
		}
	}
	return idx
}

// before orders the intervals of one IP: by start, then, for holders that
// start at the same time, node before pod (the pod wins, as it is the more
// specific answer), then by cluster, namespace and pod, so that the winner
// does not depend on the order the records were read in (a windowed index
// and a full one agree).
func (iv *interval) before(o *interval) bool {
	if iv.from != o.from {
		return iv.from < o.from
	}
	a, b := iv.ep, o.ep
	if a.Kind != b.Kind {
		return a.Kind > b.Kind
	}
	if a.Cluster != b.Cluster {
		return a.Cluster < b.Cluster
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Pod != b.Pod {
		return a.Pod < b.Pod
	}
	return a.Node < b.Node
}

// v4Prefix starts an IPv4-mapped address.
var v4Prefix = [12]byte{10: 0xff, 11: 0xff}

// v4key returns the key of an IPv4(-mapped) address in the v4 map.
func v4key(ip [16]byte) (uint32, bool) {
	if [12]byte(ip[:12]) != v4Prefix {
		return 0, false
	}
	return uint32(ip[12])<<24 | uint32(ip[13])<<16 | uint32(ip[14])<<8 | uint32(ip[15]), true
}

// run returns ip's run of intervals (offset<<32 | length).
func (idx *Index) run(ip [16]byte) (uint64, bool) {
	if k, ok := v4key(ip); ok {
		run, ok := idx.v4[k]
		return run, ok
	}
	run, ok := idx.v6[ip]
	return run, ok
}

func nanos(t time.Time, zero int64) int64 {
	if t.IsZero() {
		return zero
	}
	return t.UnixNano()
}

// Len is the number of distinct IPs in the index.
func (idx *Index) Len() int { return len(idx.v4) + len(idx.v6) }

// Lookup returns who held ip at t, in any cluster (see Index). Intervals
// are half-open: at the exact time a pod released an IP, it no longer holds
// it. No holder covering t means no answer, even if the IP was known before
// or after.
func (idx *Index) Lookup(ip netip.Addr, t time.Time) (Endpoint, bool) {
	ep := idx.lookup(ip, t, "")
	if ep == nil {
		return Endpoint{}, false
	}
	return *ep, true
}

// Find is Lookup for hot paths: the address comes as its 16 bytes (IPv4
// mapped, as ClickHouse's IPv6 columns hold it), the time as Unix
// nanoseconds, and the answer is the index's own record, or nil, with the
// number of the interval that matched (below Intervals): callers may
// memoize per interval in an array. The record is shared and must not be
// modified.
func (idx *Index) Find(ip [16]byte, t int64) (*Endpoint, int) {
	run, ok := idx.run(ip)
	if !ok {
		return nil, -1
	}
	i := idx.holder(run, t, "")
	if i < 0 {
		return nil, -1
	}
	return idx.ivs[i].ep, i
}

// Intervals is the number of intervals in the index.
func (idx *Index) Intervals() int { return len(idx.ivs) }

// LookupCluster is Lookup restricted to one cluster.
func (idx *Index) LookupCluster(cluster string, ip netip.Addr, t time.Time) (Endpoint, bool) {
	ep := idx.lookup(ip, t, cluster)
	if ep == nil {
		return Endpoint{}, false
	}
	return *ep, true
}

func (idx *Index) lookup(ip netip.Addr, t time.Time, cluster string) *Endpoint {
	run, ok := idx.run(ip.Unmap().As16())
	if !ok {
		return nil
	}
	if i := idx.holder(run, t.UnixNano(), cluster); i >= 0 {
		return idx.ivs[i].ep
	}
	return nil
}

// holder returns the position in ivs of the holder at ts among the run of
// intervals of one IP, or -1.
func (idx *Index) holder(run uint64, ts int64, cluster string) int {
	off := int(run >> 32)
	ivs := idx.ivs[off : off+int(run&0xffffffff)]
	// Last interval starting at or before ts, then backwards while an
	// earlier one may still be open at ts.
	lo, hi := 0, len(ivs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ivs[m].from <= ts {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo - 1; i >= 0 && ivs[i].maxTo > ts; i-- {
		if ivs[i].to > ts && (cluster == "" || ivs[i].ep.Cluster == cluster) {
			return off + i
		}
	}
	return -1
}
