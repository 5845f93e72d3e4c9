package flowlogs

import (
	"fmt"
	"net/netip"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/internal/posmemo"
	"github.com/furrowdev/furrow/store"
)

// Attributor resolves both ends of flow records (pod, node, NAT gateway,
// AWS service, VPC, internet), classifies and costs them. It is the
// compiled form of a TrafficConfiguration: immutable and safe for
// concurrent use. Each goroutine attributes into an Attribution of its own.
type Attributor struct {
	cfg      TrafficConfiguration
	vpc      prefixMap[struct{}]
	zones    prefixMap[zoneInfo]
	aws      prefixMap[awsInfo]
	zoneByID map[string]string // az-id → zone name
	regionOf map[string]string // zone name → region
	natByENI map[string]natInfo
	natByIP  map[[16]byte]natInfo
	// natBits has the bit natHash(ip) set for each NAT address: most
	// addresses are not one, and the bit says so without hashing 16 bytes
	// (four times per record).
	natBits [4]uint64
}

func natHash(a [16]byte) uint8 { return a[15] ^ a[14]<<3 ^ a[13]>>2 }

type zoneInfo struct{ zone, region string }

type awsInfo struct{ service, region string }

type natInfo struct{ zone string }

// privateRanges stand for the VPC when neither vpc_cidrs nor zones say.
var privateRanges = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"}

// NewAttributor compiles cfg, reading its AWS IP ranges file if any.
func NewAttributor(cfg TrafficConfiguration) (*Attributor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("traffic configuration: %w", err)
	}
	a := &Attributor{cfg: cfg, zoneByID: map[string]string{}, regionOf: map[string]string{},
		natByENI: map[string]natInfo{}, natByIP: map[[16]byte]natInfo{}}
	for _, z := range cfg.Zones {
		region := cfg.region(z.Region)
		a.zones.add(z.CIDR, zoneInfo{z.Zone, region})
		if z.ZoneID != "" {
			a.zoneByID[z.ZoneID] = z.Zone
		}
		a.regionOf[z.Zone] = region
	}
	for _, p := range cfg.VPCCIDRs {
		a.vpc.add(p, struct{}{})
	}
	if a.vpc.empty() {
		for _, z := range cfg.Zones {
			a.vpc.add(z.CIDR, struct{}{})
		}
	}
	if a.vpc.empty() {
		for _, p := range privateRanges {
			a.vpc.add(netip.MustParsePrefix(p), struct{}{})
		}
	}
	ranges := cfg.AWSIPRanges
	if cfg.AWSIPRangesFile != "" {
		more, err := ReadAWSIPRanges(cfg.AWSIPRangesFile)
		if err != nil {
			return nil, err
		}
		ranges = append(append([]AWSIPRange(nil), ranges...), more...)
	}
	// AMAZON lists every AWS range; a specific service of the same range
	// says more, so it goes first.
	for _, pass := range []bool{false, true} {
		for _, r := range ranges {
			if (r.Service == "AMAZON") == pass {
				a.aws.add(r.CIDR, awsInfo{r.Service, r.Region})
			}
		}
	}
	for _, n := range cfg.NATGateways {
		zone := n.Zone
		if zone == "" && n.IP.IsValid() {
			z, _ := a.zones.lookup(n.IP.Unmap())
			zone = z.zone
		}
		if n.ENI != "" {
			a.natByENI[n.ENI] = natInfo{zone}
		}
		if n.IP.IsValid() {
			k := n.IP.Unmap().As16()
			a.natByIP[k] = natInfo{zone}
			h := natHash(k)
			a.natBits[h>>6] |= 1 << (h & 63)
		}
	}
	return a, nil
}

// netInfo is what the configuration says about an address.
type netInfo struct {
	inVPC            bool
	zone, region     string
	service, svcRegn string
}

func (a *Attributor) netInfo(ip netip.Addr) netInfo {
	var n netInfo
	if z, ok := a.zones.lookup(ip); ok {
		n.inVPC, n.zone, n.region = true, z.zone, z.region
	}
	if _, ok := a.vpc.lookup(ip); ok {
		n.inVPC = true
	}
	if !n.inVPC {
		if r, ok := a.aws.lookup(ip); ok {
			n.service, n.svcRegn = r.service, r.region
		}
	}
	return n
}

// Attribution holds the attribution columns of one block and a cache of
// address facts. Reuse it block after block from one goroutine; the block
// Attribute returns aliases it until the next call.
//
// The src_ and dst_ columns are not filled row by row: each side numbers
// the block's distinct ends (a few thousand pods, nodes and outside peers
// for 16k records), a row stores the number of its end, and the ten
// columns of the side read their values from per-end tables
// (store.LowCardinalityRefs). This cut the cost of attribution by more
// than half.
type Attribution struct {
	src, dst side
	eniNAT   posmemo.Memo[eniNAT] // per interface-id position
	source   *store.LowCardinalityRefs
	group    *store.LowCardinalityRefs // ingest_group: one value per block
	class    *store.LowCardinalityStrings
	transfer proto.ColFloat64
	cost     proto.ColFloat64
	cache    map[[16]byte]netInfo
	// defaults are the columns sent for the fields a block lacks, one per
	// catalogue field.
	defaults []store.DefaultColumn
}

// maxNetCache bounds the address cache (internet peers are many).
const maxNetCache = 1 << 16

// side numbers the distinct ends of one side of a block, in order of
// first use, and holds the side's columns.
type side struct {
	ends   map[End]uint32       // end → position in list and tables
	list   []End                // the ends by position
	byPod  posmemo.Memo[uint32] // per pod index interval: its end, see id
	tables endTables
	cols   endCols
}

func newSide() side {
	lc := func() *store.LowCardinalityRefs { return &store.LowCardinalityRefs{Dense: true} }
	return side{ends: map[End]uint32{}, cols: endCols{kind: lc(), cluster: lc(), namespace: lc(),
		workloadKind: lc(), workload: lc(), pod: &store.StringRefs{}, node: lc(), zone: lc(), region: lc(), service: lc()}}
}

// id numbers e among the side's ends. iv is the pod index interval that
// alone determines e, or -1: most ends are pods placed in their own zone,
// whose kind, zone and region follow from the index record, and they are
// numbered by interval through an array instead of hashing the strings of
// an End.
func (sd *side) id(e *End, iv int) uint32 {
	if iv >= 0 {
		if id, ok := sd.byPod.Get(uint32(iv)); ok {
			return id
		}
	}
	id, ok := sd.ends[*e]
	if !ok {
		id = uint32(len(sd.list))
		sd.ends[*e] = id
		sd.list = append(sd.list, *e)
		sd.tables.add(e)
	}
	if iv >= 0 {
		sd.byPod.Set(uint32(iv), id)
	}
	return id
}

func (sd *side) reset(idx *pods.Index) {
	clear(sd.ends)
	sd.list = sd.list[:0]
	sd.tables.reset()
	sd.cols.refs = sd.cols.refs[:0]
	if idx != nil {
		sd.byPod.Begin(idx.Intervals())
	}
}

// endTables hold the column values of each distinct end of a side.
type endTables struct {
	kind, cluster, namespace, workloadKind, workload, pod, node, zone, region, service []string
}

func (t *endTables) reset() {
	for _, s := range []*[]string{&t.kind, &t.cluster, &t.namespace, &t.workloadKind, &t.workload, &t.pod, &t.node, &t.zone, &t.region, &t.service} {
		*s = (*s)[:0]
	}
}

func (t *endTables) add(e *End) {
	var ep pods.Endpoint
	if e.Endpoint != nil {
		ep = *e.Endpoint
	}
	t.kind = append(t.kind, e.Kind.String())
	t.cluster = append(t.cluster, ep.Cluster)
	t.namespace = append(t.namespace, ep.Namespace)
	t.workloadKind = append(t.workloadKind, ep.WorkloadKind)
	t.workload = append(t.workload, ep.Workload)
	t.pod = append(t.pod, ep.Pod)
	t.node = append(t.node, ep.Node)
	t.zone = append(t.zone, e.Zone)
	t.region = append(t.region, e.Region)
	t.service = append(t.service, e.Service)
}

// endCols are the columns of one side: per row, the position of its end in
// the side's tables. Each position is first used in order, so the columns
// are Dense.
type endCols struct {
	refs                                             []uint32
	kind, cluster, namespace, workloadKind, workload *store.LowCardinalityRefs
	pod                                              *store.StringRefs
	node, zone, region, service                      *store.LowCardinalityRefs
}

// NewAttribution returns empty attribution columns.
func NewAttribution() *Attribution {
	return &Attribution{src: newSide(), dst: newSide(),
		source: &store.LowCardinalityRefs{}, group: &store.LowCardinalityRefs{}, class: store.NewLowCardinalityStrings(),
		cache: map[[16]byte]netInfo{}, defaults: make([]store.DefaultColumn, numFields)}
}

// bind points the side's columns at its tables and refs.
func (sd *side) bind() {
	c, t := &sd.cols, &sd.tables
	for _, b := range []struct {
		col   *store.LowCardinalityRefs
		table []string
	}{{c.kind, t.kind}, {c.cluster, t.cluster}, {c.namespace, t.namespace}, {c.workloadKind, t.workloadKind},
		{c.workload, t.workload}, {c.node, t.node}, {c.zone, t.zone}, {c.region, t.region}, {c.service, t.service}} {
		b.col.Table, b.col.Refs = b.table, c.refs
	}
	c.pod.Table, c.pod.Refs = t.pod, c.refs
}

func (c *endCols) input(prefix string, in proto.Input) proto.Input {
	return append(in,
		proto.InputColumn{Name: prefix + "kind", Data: c.kind},
		proto.InputColumn{Name: prefix + "cluster", Data: c.cluster},
		proto.InputColumn{Name: prefix + "namespace", Data: c.namespace},
		proto.InputColumn{Name: prefix + "workload_kind", Data: c.workloadKind},
		proto.InputColumn{Name: prefix + "workload", Data: c.workload},
		proto.InputColumn{Name: prefix + "pod", Data: c.pod},
		proto.InputColumn{Name: prefix + "node", Data: c.node},
		proto.InputColumn{Name: prefix + "zone", Data: c.zone},
		proto.InputColumn{Name: prefix + "region", Data: c.region},
		proto.InputColumn{Name: prefix + "aws_service", Data: c.service},
	)
}

func (o *Attribution) reset(idx *pods.Index) {
	o.src.reset(idx)
	o.dst.reset(idx)
	o.source.Refs = o.source.Refs[:0]
	o.group.Refs = o.group.Refs[:0]
	o.class.Values = o.class.Values[:0]
	o.transfer = o.transfer[:0]
	o.cost = o.cost[:0]
}

func (o *Attribution) net(a *Attributor, k proto.IPv6) netInfo {
	if n, ok := o.cache[k]; ok {
		return n
	}
	n := a.netInfo(netip.AddrFrom16(k).Unmap())
	if len(o.cache) >= maxNetCache {
		clear(o.cache)
	}
	o.cache[k] = n
	return n
}

// Attribute resolves, classifies and costs every record of b and returns
// a block of the flow_logs columns: every raw column (those of fields no
// record of b has as store.DefaultColumn, which holds no rows), source,
// ingest_group (empty), the src_/dst_ attribution, traffic_class,
// transfer_bytes and cost_usd. idx may be nil (no pod attribution). The
// block aliases b and out: insert it before reusing either.
func (a *Attributor) Attribute(b *Batch, source string, idx *pods.Index, out *Attribution) store.Block {
	return a.AttributeGroup(b, source, "", idx, out)
}

// AttributeGroup is Attribute for a block inserted with the small-object
// group group (its rows' ingest_group).
func (a *Attributor) AttributeGroup(b *Batch, source, group string, idx *pods.Index, out *Attribution) store.Block {
	out.reset(idx)
	out.eniNAT.Begin(len(b.cols[idxInterfaceID].lc.Table))
	n := b.Rows()
	var src, dst End
	for i := range n {
		f, srcIV, dstIV := a.record(b, i, idx, out, &src, &dst)
		v := a.cfg.classify(f, &src, &dst)
		out.src.cols.refs = append(out.src.cols.refs, out.src.id(&src, srcIV))
		out.dst.cols.refs = append(out.dst.cols.refs, out.dst.id(&dst, dstIV))
		out.class.Values = append(out.class.Values, v.class)
		out.transfer = append(out.transfer, v.transfer)
		out.cost = append(out.cost, v.cost)
	}
	out.src.bind()
	out.dst.bind()
	out.source.Table = append(out.source.Table[:0], source)
	out.source.Refs = append(out.source.Refs, make([]uint32, n)...)
	out.source.Dense = n > 0
	out.group.Table = append(out.group.Table[:0], group)
	out.group.Refs = append(out.group.Refs, make([]uint32, n)...)
	out.group.Dense = n > 0
	in := make(proto.Input, 0, numFields+26)
	for f := range b.cols {
		c := &b.cols[f]
		if c.present {
			in = append(in, proto.InputColumn{Name: catalogue[f].Column, Data: c.data()})
			continue
		}
		// Every block of a stream carries every column (the engine reads
		// a stream with its first block's header), whichever fields its
		// records happen to set: a field no record of this block has is
		// sent as its default, encoded without a value per row.
		d := &out.defaults[f]
		d.Typ, d.N = c.data().Type(), n
		in = append(in, proto.InputColumn{Name: catalogue[f].Column, Data: d})
	}
	in = append(in, proto.InputColumn{Name: "source", Data: out.source}, proto.InputColumn{Name: "ingest_group", Data: out.group})
	in = out.src.cols.input("src_", in)
	in = out.dst.cols.input("dst_", in)
	in = append(in,
		proto.InputColumn{Name: "traffic_class", Data: out.class},
		proto.InputColumn{Name: "transfer_bytes", Data: &out.transfer},
		proto.InputColumn{Name: "cost_usd", Data: &out.cost},
	)
	return store.Block{Columns: in}
}

// record resolves the ends of row i into src and dst and returns the
// facts classification needs.
func (a *Attributor) record(b *Batch, i int, idx *pods.Index, out *Attribution, src, dst *End) (f facts, srcIV, dstIV int) {
	status := b.LogStatus(i)
	f = facts{
		bytes:     float64(b.Bytes(i)),
		direction: b.FlowDirection(i),
		ok:        status != "NODATA" && status != "SKIPDATA",
		reject:    b.Action(i) == "REJECT",
	}
	// Addresses stay in their stored 16-byte form: the NAT set, the pod
	// index and the address cache all take it, without conversions.
	hopSrc, hopDst := b.ip16(idxSrcAddr, i), b.ip16(idxDstAddr, i)
	sa, da := hopSrc, hopDst
	if p := b.ip16(idxPktSrcAddr, i); !unspecified(p) {
		sa = p
	}
	if p := b.ip16(idxPktDstAddr, i); !unspecified(p) {
		da = p
	}
	t := int64(b.Start(i)) * 1e9
	srcIV = a.resolve(sa, b.PktSrcAWSService(i), t, idx, out, &out.src, src)
	dstIV = a.resolve(da, b.PktDstAWSService(i), t, idx, out, &out.dst, dst)

	if n, ok := a.nat(hopSrc); ok {
		f.natSide, f.natZone = natSrc, n.zone
	} else if n, ok := a.nat(hopDst); ok {
		f.natSide, f.natZone = natDst, n.zone
	}
	if f.natSide == natNone && len(a.natByENI) > 0 {
		if n, ok := a.natENI(b, i, out); ok {
			switch f.direction {
			case "egress":
				f.natSide, f.natZone = natSrc, n.zone
			case "ingress":
				f.natSide, f.natZone = natDst, n.zone
			}
		}
	}
	// The logging ENI's zone (az-id) places its own end when nothing
	// else did.
	if az := b.AZID(i); az != "" {
		switch {
		case f.direction == "egress" && src.Zone == "" && src.Kind.Inside() && sa == hopSrc:
			src.Zone = a.zoneByID[az]
		case f.direction == "ingress" && dst.Zone == "" && dst.Kind.Inside() && da == hopDst:
			dst.Zone = a.zoneByID[az]
		}
	}
	return f, srcIV, dstIV
}

// unspecified reports whether a stored address is absent ("::", stored
// for "-") or the IPv4 or IPv6 unspecified address.
func unspecified(ip proto.IPv6) bool {
	return ip == proto.IPv6{} || ip == proto.IPv6{10: 0xff, 11: 0xff}
}

// nat returns the configured NAT gateway whose address ip is.
func (a *Attributor) nat(ip proto.IPv6) (natInfo, bool) {
	if h := natHash(ip); a.natBits[h>>6]&(1<<(h&63)) == 0 {
		return natInfo{}, false
	}
	n, ok := a.natByIP[ip]
	return n, ok
}

// natENI returns the NAT gateway whose ENI logged row i, remembering the
// answer per interface-id of the block: the map lookup hashes a string,
// the memo indexes an array.
func (a *Attributor) natENI(b *Batch, i int, out *Attribution) (natInfo, bool) {
	r := b.ref(idxInterfaceID, i)
	m, ok := out.eniNAT.Get(r)
	if !ok {
		m.nat, m.ok = a.natByENI[b.cols[idxInterfaceID].lc.Table[r]]
		out.eniNAT.Set(r, m)
	}
	return m.nat, m.ok
}

// eniNAT is what natENI remembers of an interface.
type eniNAT struct {
	nat natInfo
	ok  bool
}

// resolve says what ip was at t (Unix nanoseconds). It returns the pod
// index interval that alone determines the end (see endID), or -1.
func (a *Attributor) resolve(ip proto.IPv6, service string, t int64, idx *pods.Index, out *Attribution, sd *side, e *End) int {
	*e = End{}
	if unspecified(ip) {
		return -1
	}
	if n, ok := a.nat(ip); ok {
		e.Kind, e.Zone, e.Region = KindNATGateway, n.zone, a.cfg.region("")
		return -1
	}
	if idx != nil {
		if ep, iv := idx.Find(ip, t); ep != nil {
			if ep.Zone == "" {
				iv = -1 // placed by its subnet, or by the logging ENI
			} else if id, ok := sd.byPod.Get(uint32(iv)); ok {
				*e = sd.list[id]
				return iv
			}
			e.Kind, e.Endpoint, e.Zone = KindPod, ep, ep.Zone
			if ep.Kind == pods.EndpointNode {
				e.Kind = KindNode
			}
			if e.Zone == "" {
				e.Zone = out.net(a, ip).zone
			}
			e.Region = a.cfg.region(a.regionOf[e.Zone])
			return iv
		}
	}
	n := out.net(a, ip)
	switch {
	case service != "" || n.service != "":
		e.Kind, e.Service, e.Region = KindAWSService, service, n.svcRegn
		if service == "" {
			e.Service = n.service
		}
	case n.inVPC:
		e.Kind, e.Zone, e.Region = KindVPC, n.zone, a.cfg.region(n.region)
	default:
		e.Kind = KindInternet
	}
	return -1
}
