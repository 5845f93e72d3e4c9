package demo

import (
	"io"
	"math"
	"sort"
)

// gen holds what every flow-log file shares: the topology, the pod timeline
// and the traffic model. It is read-only while files are generated.
type gen struct {
	o        Options
	topo     *topology
	cl       *cluster
	zoneIDs  []string
	start    int64
	locFrom  int64
	edges    []edge
	edgeCum  []float64
	inet     weighted
	s3       weighted
	remote   weighted
	istiod   *workload
	coredns  *workload
	prom     *workload
	scrape   []*workload // workloads Prometheus scrapes
	xds      []*workload // workloads with an Envoy (sidecar or gateway)
	dns      []*workload // workloads resolving names through CoreDNS
	gateways *workload
}

// edge is a call-graph edge with resolved workloads.
type edge struct {
	from, to *workload
	c        call
}

// weighted is a list of workloads with cumulative weights.
type weighted struct {
	ws  []*workload
	cum []float64
}

func (w *weighted) add(x *workload, weight float64) {
	if weight <= 0 {
		return
	}
	total := weight
	if n := len(w.cum); n > 0 {
		total += w.cum[n-1]
	}
	w.ws = append(w.ws, x)
	w.cum = append(w.cum, total)
}

// draw picks an index proportionally to weight.
func draw(r rng, cum []float64) int {
	v := r.Float64() * cum[len(cum)-1]
	return sort.SearchFloat64s(cum, v)
}

// Shares of the conversation mix (of conversations, not bytes).
var mix = []float64{
	46,  // service calls (gateway, mesh)
	14,  // Prometheus scrapes
	8,   // istiod xDS
	12,  // DNS
	6,   // internet through NAT
	5,   // S3
	1.5, // cross-region
	0.4, // rejected probes
}

// newGen prepares the traffic model on a simulated cluster.
func newGen(o Options, topo *topology, cl *cluster) *gen {
	g := &gen{o: o, topo: topo, cl: cl, start: o.Start.Unix(), locFrom: o.LocalityFrom.Unix()}
	for _, z := range topo.Zones {
		g.zoneIDs = append(g.zoneIDs, z.ID)
	}
	total := 0.0
	for _, w := range cl.ws {
		for _, c := range w.calls {
			to := cl.byKey[c.To]
			if to == nil {
				panic("demo: call to unknown workload " + c.To)
			}
			total += c.Weight
			g.edges = append(g.edges, edge{w, to, c})
			g.edgeCum = append(g.edgeCum, total)
		}
		g.inet.add(w, w.Internet)
		g.s3.add(w, w.S3)
		g.remote.add(w, w.Remote)
		switch w.Name {
		case "istiod":
			g.istiod = w
		case "coredns":
			g.coredns = w
		case "prometheus":
			g.prom = w
		case "istio-ingressgateway":
			g.gateways = w
		}
		if w.Port != 0 || w.Mesh {
			g.scrape = append(g.scrape, w)
		}
		if w.Mesh || w.Name == "istio-ingressgateway" {
			g.xds = append(g.xds, w)
		}
		if !w.HostNetwork && w.Name != "coredns" {
			g.dns = append(g.dns, w)
		}
	}
	return g
}

// metricsPort is where Prometheus scrapes a workload's pods.
func metricsPort(w *workload) uint16 {
	switch {
	case w.Mesh || w.Name == "istio-ingressgateway":
		return 15020 // Istio merged metrics
	case w.Name == "coredns":
		return 9153
	case w.Name == "istiod":
		return 15014
	}
	return w.Port
}

// fileGen produces the records of one flow-log object (or of the benchmark
// stream) with its own random stream and tally.
type fileGen struct {
	g      *gen
	r      rng
	t      *tally
	out    io.Writer
	buf    []byte
	limit  int64 // stop after this many records (0: no limit)
	day    int
	cand   [][]*pod
	active [][]*pod
	zoned  [][3][]*pod
	scrape []*pod
	xds    []*pod
	dns    []*pod
	err    error
}

func newFileGen(g *gen, r rng, t *tally, out io.Writer) *fileGen {
	n := len(g.cl.ws)
	return &fileGen{g: g, r: r, t: t, out: out, buf: make([]byte, 0, 1<<18),
		cand: make([][]*pod, n), active: make([][]*pod, n), zoned: make([][3][]*pod, n)}
}

// candidates keeps the pods that hold their IP at some point of [from, to).
func (f *fileGen) candidates(from, to int64) {
	for i, ps := range f.g.cl.byW {
		f.cand[i] = f.cand[i][:0]
		for _, p := range ps {
			if p.Start < to && p.ipEnd() > from {
				f.cand[i] = append(f.cand[i], p)
			}
		}
	}
}

// window emits the conversations of the minute starting at m until about
// target records are written; it returns how many it wrote.
func (f *fileGen) window(m int64, target float64) int64 {
	g := f.g
	f.day = int((m - g.start) / 86400)
	f.scrape, f.xds, f.dns = f.scrape[:0], f.xds[:0], f.dns[:0]
	for i := range f.cand {
		f.active[i] = f.active[i][:0]
		f.zoned[i] = [3][]*pod{f.zoned[i][0][:0], f.zoned[i][1][:0], f.zoned[i][2][:0]}
		for _, p := range f.cand[i] {
			if p.activeFor(m, m+60) {
				f.active[i] = append(f.active[i], p)
				f.zoned[i][p.Node.Zone] = append(f.zoned[i][p.Node.Zone], p)
			}
		}
	}
	for _, w := range g.scrape {
		f.scrape = append(f.scrape, f.active[w.idx]...)
	}
	for _, w := range g.xds {
		f.xds = append(f.xds, f.active[w.idx]...)
	}
	for _, w := range g.dns {
		f.dns = append(f.dns, f.active[w.idx]...)
	}
	mixCum := make([]float64, len(mix))
	total := 0.0
	for i, v := range mix {
		total += v
		mixCum[i] = total
	}
	before := f.t.records
	for tries := 0; float64(f.t.records-before) < target && tries < 100000; tries++ {
		if f.limit > 0 && f.t.records >= f.limit {
			break
		}
		switch draw(f.r, mixCum) {
		case 0:
			f.serviceCall(m)
		case 1:
			f.scrapeCall(m)
		case 2:
			f.xdsCall(m)
		case 3:
			f.dnsCall(m)
		case 4:
			f.external(m, &g.inet, cInternet)
		case 5:
			f.external(m, &g.s3, cAWSService)
		case 6:
			f.external(m, &g.remote, cCrossRegion)
		case 7:
			f.probe(m)
		}
	}
	return f.t.records - before
}

// serviceCall is one caller pod's calls to one service in the window.
func (f *fileGen) serviceCall(m int64) {
	g, r := f.g, f.r
	e := g.edges[draw(r, g.edgeCum)]
	callers, servers := f.active[e.from.idx], f.active[e.to.idx]
	if len(callers) == 0 || len(servers) == 0 {
		return
	}
	c := callers[r.pick(len(callers))]
	s := f.endpoint(c, e.to, m)
	n := r.pareto(1, 1.5, 5000) * diurnal(m)
	req := int64(n * r.logNormal(e.c.Req, 0.5))
	resp := int64(n * r.logNormal(e.c.Resp, 0.9))
	calls := int64(math.Ceil(n))
	f.podPair(m, c, s, s.W.Port, 6, req, resp, calls, r.chance(0.04), true)
}

// endpoint is the server pod a caller's proxy picks: uniformly over all
// endpoints, or mostly in its own zone once locality load balancing is on.
func (f *fileGen) endpoint(c *pod, to *workload, m int64) *pod {
	all := f.active[to.idx]
	if c.W.NS == f.g.o.LocalityNamespace && m >= f.g.locFrom {
		if same := f.zoned[to.idx][c.Node.Zone]; len(same) > 0 && f.r.chance(0.86) {
			return same[f.r.pick(len(same))]
		}
	}
	return all[f.r.pick(len(all))]
}

// scrapeCall is a Prometheus replica scraping one target twice (30 s).
func (f *fileGen) scrapeCall(m int64) {
	proms := f.active[f.g.prom.idx]
	if len(proms) == 0 || len(f.scrape) == 0 {
		return
	}
	r := f.r
	p := proms[r.pick(len(proms))]
	t := f.scrape[r.pick(len(f.scrape))]
	if t == p {
		return
	}
	size := 45000.0
	switch {
	case t.W.Name == "node-exporter":
		size = 110000
	case t.W.Name == "kube-state-metrics":
		size = 900000
	case t.W.Name == "istiod" || t.W.Name == "istio-ingressgateway":
		size = 260000
	}
	req := int64(2 * r.logNormal(330, 0.1))
	resp := int64(2 * r.logNormal(size, 0.7))
	f.podPair(m, p, t, metricsPort(t.W), 6, req, resp, 2, false, false)
}

// xdsCall is a proxy's long-lived gRPC stream to istiod: small requests
// and acks up, configuration pushes (heavy-tailed) down.
func (f *fileGen) xdsCall(m int64) {
	ist := f.active[f.g.istiod.idx]
	if len(ist) == 0 || len(f.xds) == 0 {
		return
	}
	r := f.r
	c := f.xds[r.pick(len(f.xds))]
	s := ist[int(c.IP)%len(ist)] // the stream sticks to one istiod
	n := r.pareto(1, 1.5, 400)
	f.podPair(m, c, s, 15012, 6, int64(n*r.logNormal(1400, 0.6)), int64(n*r.logNormal(22000, 1.5)), int64(math.Ceil(n)), false, false)
}

// dnsCall is a pod's lookups against one CoreDNS replica (UDP, chosen by
// kube-proxy at random: two thirds cross zones).
func (f *fileGen) dnsCall(m int64) {
	dns := f.active[f.g.coredns.idx]
	if len(dns) == 0 || len(f.dns) == 0 {
		return
	}
	r := f.r
	c := f.dns[r.pick(len(f.dns))]
	s := dns[r.pick(len(dns))]
	n := math.Ceil(r.pareto(2, 1.4, 3000))
	f.podPair(m, c, s, 53, 17, int64(n*r.logNormal(82, 0.15)), int64(n*r.logNormal(190, 0.4)), int64(n), false, false)
}

// ephemeral is a client port; pooled connections keep theirs for an hour.
func ephemeral(a, b uint32, m int64) uint16 {
	h := uint64(a)*0x9e3779b97f4a7c15 ^ uint64(b)*0xc2b2ae3d27d4eb4f ^ uint64(m/3600)*0x165667b19e3779f9
	h ^= h >> 29
	return uint16(32768 + h%28232)
}

// podPair writes a conversation between two pods: four records when the
// pods are on different nodes (egress and ingress on each node's ENI),
// none when they share a node (the traffic never reaches the VPC).
//
// svc marks mesh service calls, the traffic locality load balancing steers.
func (f *fileGen) podPair(m int64, c, s *pod, port uint16, proto uint8, req, resp, calls int64, fresh, svc bool) {
	g, r := f.g, f.r
	reqPk := calls + req/1300 + resp/2800
	respPk := calls + resp/1400
	req += reqPk * 52 // IP and TCP/UDP headers
	resp += respPk * 52
	cls := int8(cCrossZone)
	switch {
	case c.Node == s.Node:
		cls = cSameNode
	case c.Node.Zone == s.Node.Zone:
		cls = cSameZone
	}
	day := int16(f.day)
	f.add(truthKey{day, int16(c.W.idx), int16(s.W.idx), cls, 0}, req, reqPk)
	f.add(truthKey{day, int16(s.W.idx), int16(c.W.idx), cls, 0}, resp, respPk)
	if cls != cSameNode {
		loc := f.t.locality[f.day][:]
		if svc && c.W.NS == g.o.LocalityNamespace {
			loc[cls] += req + resp
		}
		if c.W.NS == g.o.LocalityNamespace {
			loc[2+cls] += req
		}
		if s.W.NS == g.o.LocalityNamespace {
			loc[2+cls] += resp
		}
	}
	if cls == cSameNode {
		return
	}
	var cport uint16
	if proto == 17 {
		cport = uint16(32768 + r.IntN(28232))
	} else {
		cport = ephemeral(c.IP, s.IP, m)
	}
	fq, fs := 0, 0
	if proto == 6 && fresh {
		fq, fs = flagSYN, flagSYNACK
		if r.chance(0.5) {
			fq, fs = fq|flagFIN, fs|flagFIN
		}
	}
	cn, sn := &c.Node.ENI, &s.Node.ENI
	f.emit(&rec{eni: cn, egress: true, src: cn.IP, dst: s.IP, sport: cport, dport: port, proto: proto, packets: reqPk, bytes: req, flags: fq, pktSrc: c.IP, pktDst: s.IP, path: pathInVPC}, m)
	f.emit(&rec{eni: sn, src: c.IP, dst: sn.IP, sport: cport, dport: port, proto: proto, packets: reqPk, bytes: req, flags: fq, pktSrc: c.IP, pktDst: s.IP}, m)
	f.emit(&rec{eni: sn, egress: true, src: sn.IP, dst: c.IP, sport: port, dport: cport, proto: proto, packets: respPk, bytes: resp, flags: fs, pktSrc: s.IP, pktDst: c.IP, path: pathInVPC}, m)
	f.emit(&rec{eni: cn, src: s.IP, dst: cn.IP, sport: port, dport: cport, proto: proto, packets: respPk, bytes: resp, flags: fs, pktSrc: s.IP, pktDst: c.IP}, m)
}

// external writes a pod's conversation with a peer outside the VPC: S3
// through the gateway endpoint (two records), the internet or the remote
// region through its zone's NAT gateway (six records).
func (f *fileGen) external(m int64, from *weighted, cls int8) {
	r := f.r
	w := from.ws[draw(r, from.cum)]
	pods := f.active[w.idx]
	if len(pods) == 0 {
		return
	}
	p := pods[r.pick(len(pods))]
	n := r.pareto(1, 1.3, 3000) * diurnal(m)
	var peer uint32
	var svc string
	var src int16
	var req, resp float64
	switch cls {
	case cAWSService:
		peer, svc, src = r.s3Addr(), "S3", peerS3
		req, resp = n*r.logNormal(900, 0.4), n*r.logNormal(40000, 1.4)
		if w.Name == "report-export" { // uploads its report
			req, resp = r.pareto(1.5e6, 1.3, 4e8), n*r.logNormal(600, 0.3)
		}
	case cCrossRegion:
		peer, svc, src = r.remoteAddr(), "EC2", peerRemote
		req, resp = n*r.logNormal(2500, 0.6), n*r.logNormal(900, 0.5)
		if w.Name == "prometheus" { // remote write to the central store
			req, resp = r.logNormal(1.2e6, 0.5), r.logNormal(9000, 0.3)
		}
	default:
		peer, src = r.internetAddr(), peerInternet
		req, resp = n*r.logNormal(1800, 0.9), n*r.logNormal(9000, 1.5)
		if w.Name == "argocd-repo-server" { // git fetches
			resp = r.pareto(2e5, 1.2, 5e8)
		}
	}
	calls := int64(math.Ceil(n))
	reqPk := calls + int64(req)/1300 + int64(resp)/2800
	respPk := calls + int64(resp)/1400
	rq, rs := int64(req)+reqPk*52, int64(resp)+respPk*52
	day := int16(f.day)
	nat := int8(0)
	var gw *natGW
	if cls != cAWSService {
		gw = &f.g.topo.NATs[f.g.topo.natFor[p.Node.Zone]]
		nat = 1
		if gw.Zone != p.Node.Zone {
			nat = 2
		}
	}
	f.add(truthKey{day, int16(w.idx), src, cls, nat}, rq, reqPk)
	f.add(truthKey{day, src, int16(w.idx), cls, nat}, rs, respPk)
	eni := &p.Node.ENI
	cport := ephemeral(p.IP, peer, m)
	var outSvc, inSvc string
	path := pathInVPC
	if cls == cAWSService {
		outSvc, inSvc, path = svc, svc, pathEndpoint
	} else if cls == cCrossRegion {
		outSvc, inSvc = svc, svc
	}
	f.emit(&rec{eni: eni, egress: true, src: eni.IP, dst: peer, sport: cport, dport: 443, proto: 6, packets: reqPk, bytes: rq, pktSrc: p.IP, pktDst: peer, dstSvc: outSvc, path: path}, m)
	if gw != nil {
		ne := &gw.ENI
		nport := uint16(1024 + (uint32(cport)*7+p.IP)%64000)
		f.emit(&rec{eni: ne, src: p.IP, dst: ne.IP, sport: cport, dport: 443, proto: 6, packets: reqPk, bytes: rq, pktSrc: p.IP, pktDst: peer, dstSvc: outSvc}, m)
		f.emit(&rec{eni: ne, egress: true, src: ne.IP, dst: peer, sport: nport, dport: 443, proto: 6, packets: reqPk, bytes: rq, pktSrc: ne.IP, pktDst: peer, dstSvc: outSvc, path: pathIGW}, m)
		f.emit(&rec{eni: ne, src: peer, dst: ne.IP, sport: 443, dport: nport, proto: 6, packets: respPk, bytes: rs, pktSrc: peer, pktDst: ne.IP, srcSvc: inSvc}, m)
		f.emit(&rec{eni: ne, egress: true, src: ne.IP, dst: p.IP, sport: 443, dport: cport, proto: 6, packets: respPk, bytes: rs, pktSrc: peer, pktDst: p.IP, srcSvc: inSvc, path: pathInVPC}, m)
	}
	f.emit(&rec{eni: eni, src: peer, dst: eni.IP, sport: 443, dport: cport, proto: 6, packets: respPk, bytes: rs, pktSrc: peer, pktDst: p.IP, srcSvc: inSvc}, m)
}

// probe is a rejected connection attempt from a scanner in a public subnet
// to a node's kubelet or SSH port.
func (f *fileGen) probe(m int64) {
	r := f.r
	n := f.g.topo.Nodes[r.pick(len(f.g.topo.Nodes))]
	z := f.g.topo.Zones[r.pick(3)]
	src := addr4(z.PubCIDR.Addr()) + 100 + uint32(r.IntN(50))
	port := []uint16{22, 10250, 2379}[r.pick(3)]
	f.emit(&rec{eni: &n.ENI, src: src, dst: n.ENI.IP, sport: uint16(32768 + r.IntN(28232)), dport: port, proto: 6, packets: 1, bytes: 60, flags: flagSYN, reject: true, pktSrc: src, pktDst: n.ENI.IP}, m)
}

// add counts a transfer in the ground truth, at the data set's volume.
func (f *fileGen) add(k truthKey, bytes, packets int64) {
	s := f.g.o.VolumeScale
	f.t.add(k, bytes*s, packets*s)
}

// emit stamps a record into the window (each ENI sees its own first and
// last packet) and formats it.
func (f *fileGen) emit(x *rec, m int64) {
	if f.limit > 0 && f.t.records >= f.limit {
		return
	}
	x.bytes *= f.g.o.VolumeScale
	x.packets *= f.g.o.VolumeScale
	x.start = m + int64(f.r.IntN(4))
	x.end = m + 56 + int64(f.r.IntN(5))
	f.buf = appendRec(f.buf, x, f.g.zoneIDs)
	f.t.records++
	f.t.recordBytes[f.day] += x.bytes
	f.flush(false)
}

// status writes a NODATA or SKIPDATA record.
func (f *fileGen) status(eni *iface, s string, m int64) {
	if f.limit > 0 && f.t.records >= f.limit {
		return
	}
	f.buf = appendStatus(f.buf, eni, s, m, m+60, f.g.zoneIDs)
	f.t.records++
	f.flush(false)
}

// flush passes the buffered text on once it is large (or always).
func (f *fileGen) flush(always bool) {
	if (always || len(f.buf) >= 1<<18) && f.err == nil {
		_, f.err = f.out.Write(f.buf)
		f.buf = f.buf[:0]
	}
}
