package demo

import (
	"sort"
)

// Traffic classes of the ground truth, as furrow is expected to classify
// the records.
const (
	ClassSameZone    = "same-zone"    // pod to pod, different nodes of one zone
	ClassCrossZone   = "cross-zone"   // pod to pod across zones
	ClassSameNode    = "same-node"    // pod to pod on one node: never in flow logs
	ClassInternet    = "internet"     // pod to/from the internet through a NAT gateway
	ClassCrossRegion = "cross-region" // pod to/from eu-central-1 through a NAT gateway
	ClassAWSService  = "aws-service"  // pod to/from S3 through the gateway endpoint
)

// Pseudo-namespaces and workloads naming the far end of external traffic.
const (
	PeerInternet = "internet"
	PeerS3       = "s3"
	PeerRemote   = RemoteRegion
)

// TruthRow is the number of bytes the generator sent from one workload to
// another in one class on one day. Each directed transfer counts once (the
// flow logs show it twice for in-VPC traffic: the sender's egress record
// and the receiver's ingress record).
type TruthRow struct {
	Day          int    `json:"day"` // 0-based day of the data set
	SrcNamespace string `json:"src_namespace"`
	SrcWorkload  string `json:"src_workload"`
	DstNamespace string `json:"dst_namespace"`
	DstWorkload  string `json:"dst_workload"`
	Class        string `json:"class"`
	// NAT is "same-zone" or "cross-zone" when the traffic passed a NAT
	// gateway (relative to the pod's zone), empty otherwise.
	NAT     string `json:"nat,omitempty"`
	Bytes   int64  `json:"bytes"`
	Packets int64  `json:"packets"`
}

// NamespaceRow is TruthRow summed over workloads.
type NamespaceRow struct {
	Day          int    `json:"day"`
	SrcNamespace string `json:"src_namespace"`
	DstNamespace string `json:"dst_namespace"`
	Class        string `json:"class"`
	Bytes        int64  `json:"bytes"`
}

// Locality is the before/after effect of locality load balancing on the
// namespace that switched it on, per day, over bytes visible in flow logs
// (same-node traffic excluded).
type Locality struct {
	Namespace string `json:"namespace"`
	From      string `json:"from"`
	// CallerCrossZoneShare is the cross-zone share of the bytes (both
	// directions) of the mesh service calls the namespace's pods made (its
	// DNS lookups and xDS streams go through kube-proxy and are excluded).
	CallerCrossZoneShare []float64 `json:"caller_cross_zone_share"`
	// SourceCrossZoneShare is the cross-zone share of all pod-to-pod bytes
	// sent by the namespace's pods (its calls' requests plus its responses
	// to its own callers): what a query on the source namespace sees.
	SourceCrossZoneShare []float64 `json:"source_cross_zone_share"`
}

// truthKey indexes the accumulation; workloads are indexes into the
// catalog, negative values are the external peers.
type truthKey struct {
	day      int16
	src, dst int16
	class    int8
	nat      int8
}

const (
	peerInternet = -1
	peerS3       = -2
	peerRemote   = -3
)

var classNames = []string{ClassSameZone, ClassCrossZone, ClassSameNode, ClassInternet, ClassCrossRegion, ClassAWSService}

const (
	cSameZone = iota
	cCrossZone
	cSameNode
	cInternet
	cCrossRegion
	cAWSService
)

// tally is one worker's share of the ground truth.
type tally struct {
	bytes, packets map[truthKey]int64
	// locality[day][0: caller same, 1: caller cross, 2: source same, 3: source cross]
	locality    [][4]int64
	recordBytes []int64 // sum of the bytes column per day
	records     int64
}

func newTally(days int) *tally {
	return &tally{
		bytes: map[truthKey]int64{}, packets: map[truthKey]int64{},
		locality: make([][4]int64, days), recordBytes: make([]int64, days),
	}
}

func (t *tally) add(k truthKey, bytes, packets int64) {
	t.bytes[k] += bytes
	t.packets[k] += packets
}

func (t *tally) merge(o *tally) {
	for k, v := range o.bytes {
		t.bytes[k] += v
	}
	for k, v := range o.packets {
		t.packets[k] += v
	}
	for d := range o.locality {
		for i := range 4 {
			t.locality[d][i] += o.locality[d][i]
		}
		t.recordBytes[d] += o.recordBytes[d]
	}
	t.records += o.records
}

// rows turns the tally into sorted TruthRows.
func (t *tally) rows(ws []*workload) []TruthRow {
	name := func(i int16) (string, string) {
		switch i {
		case peerInternet:
			return PeerInternet, PeerInternet
		case peerS3:
			return PeerS3, PeerS3
		case peerRemote:
			return PeerRemote, PeerRemote
		}
		return ws[i].NS, ws[i].Name
	}
	out := make([]TruthRow, 0, len(t.bytes))
	for k, b := range t.bytes {
		r := TruthRow{Day: int(k.day), Class: classNames[k.class], Bytes: b, Packets: t.packets[k]}
		r.SrcNamespace, r.SrcWorkload = name(k.src)
		r.DstNamespace, r.DstWorkload = name(k.dst)
		switch k.nat {
		case 1:
			r.NAT = ClassSameZone
		case 2:
			r.NAT = ClassCrossZone
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.SrcNamespace+"/"+a.SrcWorkload != b.SrcNamespace+"/"+b.SrcWorkload {
			return a.SrcNamespace+"/"+a.SrcWorkload < b.SrcNamespace+"/"+b.SrcWorkload
		}
		if a.DstNamespace+"/"+a.DstWorkload != b.DstNamespace+"/"+b.DstWorkload {
			return a.DstNamespace+"/"+a.DstWorkload < b.DstNamespace+"/"+b.DstWorkload
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.NAT < b.NAT
	})
	return out
}

// ByNamespace sums rows per day, namespace pair and class.
func ByNamespace(rows []TruthRow) []NamespaceRow {
	type k struct {
		day             int
		src, dst, class string
	}
	sum := map[k]int64{}
	var keys []k
	for _, r := range rows {
		kk := k{r.Day, r.SrcNamespace, r.DstNamespace, r.Class}
		if _, ok := sum[kk]; !ok {
			keys = append(keys, kk)
		}
		sum[kk] += r.Bytes
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.day != b.day {
			return a.day < b.day
		}
		if a.src != b.src {
			return a.src < b.src
		}
		if a.dst != b.dst {
			return a.dst < b.dst
		}
		return a.class < b.class
	})
	out := make([]NamespaceRow, len(keys))
	for i, kk := range keys {
		out[i] = NamespaceRow{kk.day, kk.src, kk.dst, kk.class, sum[kk]}
	}
	return out
}

// share is cross / (same + cross), 0 when there is nothing.
func share(same, cross int64) float64 {
	if same+cross == 0 {
		return 0
	}
	return float64(cross) / float64(same+cross)
}
