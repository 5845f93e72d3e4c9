package demo

import (
	"container/heap"
	"math"
	"sort"
	"strconv"
)

// ipCooldown is how long a released pod IP rests before the CNI hands it to
// another pod. The VPC CNI's own cooldown is 30 s; ten minutes keeps every
// reuse separable by ten-minute pod snapshots (there is always one snapshot
// in which neither the old nor the new owner holds the address).
const ipCooldown = 600

// forever marks a pod still alive after the data set ends.
const forever = math.MaxInt64

// pod is one pod's life: its identity, placement and IP interval.
type pod struct {
	W                   *workload
	Name, UID           string
	Hash                string // pod-template-hash or controller-revision-hash
	Owner, OwnerUID     string // ReplicaSet, StatefulSet, DaemonSet or Job
	Node                *node
	IP                  uint32
	Created             int64 // creationTimestamp (unix seconds)
	Start               int64 // IP assigned, pod running
	Done                int64 // Job pods: completion (IP released); 0 otherwise
	End                 int64 // deleted (forever if still there)
	Ordinal             int   // StatefulSet ordinal
	Reused, ReusedOther bool  // IP held by another (other-workload) pod before
	// Listed reports whether some pod snapshot shows the pod. Pods that
	// live less than ten minutes between two snapshots send no traffic:
	// no reader could attribute it.
	Listed bool
}

// ipEnd is when the pod stops holding its IP.
func (p *pod) ipEnd() int64 {
	if p.Done != 0 {
		return p.Done
	}
	return p.End
}

// activeFor reports whether the pod holds its IP for all of [from, to).
func (p *pod) activeFor(from, to int64) bool {
	return p.Listed && p.Start <= from && to <= p.ipEnd()
}

// freedIP is an address back in a node's warm pool.
type freedIP struct {
	ip    uint32
	freed int64
}

// cluster is the simulated pod timeline.
type cluster struct {
	topo      *topology
	ws        []*workload
	byKey     map[string]*workload
	pods      []*pod
	byW       [][]*pod // every pod of each workload, in creation order
	alive     [][]*pod // simulation state: current pods per workload
	free      map[*node][]freedIP
	lastOwner map[uint32]*pod
	fallback  []uint32
	rsUID     map[string]string
	hash      []string // current template hash per workload
	r         rng
	start     int64
	end       int64
}

// event is a scheduled change of the pod population.
type event struct {
	t   int64
	seq int
	fn  func(t int64)
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].t != q[j].t {
		return q[i].t < q[j].t
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// diurnal is the daily traffic curve at unix time t: 1 on average, 0.4 at
// 07:00 UTC and 1.6 at 19:00 UTC.
func diurnal(t int64) float64 {
	h := float64(t%86400) / 3600
	return 1 + 0.6*math.Sin((h-13)/24*2*math.Pi)
}

// simulate builds the pod timeline of [start, end).
func simulate(seed int64, topo *topology, start, end int64) *cluster {
	ws := workloads()
	c := &cluster{
		topo: topo, ws: ws, byKey: map[string]*workload{},
		byW: make([][]*pod, len(ws)), alive: make([][]*pod, len(ws)),
		free: map[*node][]freedIP{}, lastOwner: map[uint32]*pod{},
		rsUID: map[string]string{}, hash: make([]string, len(ws)),
		r: newRNG(seed, 2), start: start, end: end,
	}
	for z := range topo.Zones {
		c.fallback = append(c.fallback, addr4(topo.Zones[z].PodCIDR.Addr())+7936)
	}
	for _, w := range ws {
		c.byKey[w.key()] = w
	}
	q := &eventQueue{}
	seq := 0
	at := func(t int64, fn func(int64)) {
		if t < end {
			seq++
			heap.Push(q, event{t, seq, fn})
		}
	}
	r := c.r
	// Initial population, created before the data set starts.
	for _, w := range ws {
		c.hash[w.idx] = r.suffix(9 + r.IntN(2))
		switch w.Kind {
		case daemonSet:
			for _, n := range topo.Nodes {
				c.create(w, start-int64(86400*(3+r.IntN(20))), n, 0)
			}
		case cronJob:
			// Jobs of the last hour: completed ones are still listed.
			period := int64(900)
			for t := start - 3*period; t < end; t += period {
				if t < start {
					c.job(w, t)
				} else {
					at(t, func(t int64) { c.job(w, t) })
				}
			}
		default:
			for k := range c.desired(w, start) {
				c.create(w, start-int64(3600+r.IntN(5*86400)), nil, k)
			}
		}
	}
	// Rolling deploys during working hours, autoscaling, evictions.
	for day := start - start%86400; day < end; day += 86400 {
		for _, w := range ws {
			if w.Rollouts == 0 {
				continue
			}
			n := poisson(r, w.Rollouts)
			for range n {
				t := day + int64(7*3600+r.IntN(12*3600))
				if t >= start {
					at(t, func(t int64) { c.rollout(w, t, at) })
				}
			}
		}
	}
	for t := start + 900; t < end; t += 900 {
		at(t, func(t int64) { c.autoscale(t) })
	}
	for t := start + int64(r.IntN(3600)); t < end; t += int64(1800 + r.IntN(3600)) {
		at(t, func(t int64) { c.evict(t, at) })
	}
	for q.Len() > 0 {
		e := heap.Pop(q).(event)
		e.fn(e.t)
	}
	for _, p := range c.pods {
		next := start // first snapshot at or after the pod's start
		if p.Start > start {
			next = start + (p.Start-start+fileInterval-1)/fileInterval*fileInterval
		}
		p.Listed = next < p.End && next <= end
	}
	return c
}

// poisson draws a Poisson-distributed count with mean m.
func poisson(r rng, m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// desired is the replica count of w at t: autoscaled workloads follow the
// traffic curve between Replicas and Max.
func (c *cluster) desired(w *workload, t int64) int {
	if w.Max == w.Replicas {
		return w.Replicas
	}
	f := (diurnal(t) - 0.4) / 1.2
	return w.Replicas + int(math.Round(f*float64(w.Max-w.Replicas)))
}

// autoscale moves every autoscaled workload toward its desired count,
// adding pods in the emptiest zone and removing the newest first.
func (c *cluster) autoscale(t int64) {
	for _, w := range c.ws {
		if w.Max == w.Replicas || w.Kind != deployment {
			continue
		}
		want := c.desired(w, t)
		for i := 0; len(c.alive[w.idx]) < want; i++ {
			c.create(w, t+int64(i)*3, nil, 0)
		}
		for len(c.alive[w.idx]) > want {
			a := c.alive[w.idx]
			c.remove(a[len(a)-1], t)
		}
	}
}

// rollout replaces every pod of w with one of a new template, one at a time
// (maxSurge 1, maxUnavailable 0), each old pod going 20 s after its
// replacement started.
func (c *cluster) rollout(w *workload, t int64, at func(int64, func(int64))) {
	n := len(c.alive[w.idx])
	if w.Kind == statefulSet {
		// Ordinals restart from the highest; the name is kept, the IP not.
		old := append([]*pod(nil), c.alive[w.idx]...)
		sort.Slice(old, func(i, j int) bool { return old[i].Ordinal > old[j].Ordinal })
		c.hash[w.idx] = c.r.suffix(10)
		for i, p := range old {
			ts := t + int64(i)*45
			at(ts, func(ts int64) {
				if p.End == forever {
					c.remove(p, ts)
					c.create(w, ts+5, nil, p.Ordinal)
				}
			})
		}
		return
	}
	h := c.r.suffix(9 + c.r.IntN(2))
	c.hash[w.idx] = h
	for i := range n {
		ts := t + int64(i)*25
		at(ts, func(ts int64) {
			if c.hash[w.idx] == h {
				c.create(w, ts, nil, 0)
			}
		})
		at(ts+20, func(ts int64) {
			for _, p := range c.alive[w.idx] {
				if p.Hash != h {
					c.remove(p, ts)
					return
				}
			}
		})
	}
}

// evict deletes one random service pod (node drain, OOM, manual delete);
// its ReplicaSet replaces it a few seconds later.
func (c *cluster) evict(t int64, at func(int64, func(int64))) {
	for range 10 {
		w := c.ws[c.r.IntN(len(c.ws))]
		if w.Kind != deployment || len(c.alive[w.idx]) == 0 {
			continue
		}
		a := c.alive[w.idx]
		c.remove(a[c.r.IntN(len(a))], t)
		at(t+3, func(ts int64) { c.create(w, ts, nil, 0) })
		return
	}
}

// job runs one CronJob execution scheduled at t: the pod runs a few minutes,
// stays listed as Succeeded, and is deleted with its Job when the history
// limit (3) is exceeded.
func (c *cluster) job(w *workload, t int64) {
	r := c.r
	p := c.newPod(w, t+1, nil, 0)
	p.Owner = w.Name + "-" + strconv.FormatInt(t/60, 10)
	p.OwnerUID = r.uuid()
	p.Name = p.Owner + "-" + r.suffix(5)
	p.Done = t + int64(100+r.IntN(180))
	p.End = t + 3*900 + 2
	c.allocate(p, p.Start)
	if p.End <= c.start {
		return
	}
	c.release(p, p.Done)
	if p.End >= c.end {
		p.End = forever
	}
	c.record(p)
}

// newPod makes a pod of w starting at t on node n (nil: scheduler's choice).
func (c *cluster) newPod(w *workload, t int64, n *node, ordinal int) *pod {
	r := c.r
	p := &pod{W: w, UID: r.uuid(), Created: t - 2 - int64(r.IntN(3)), Start: t, End: forever, Node: n, Ordinal: ordinal}
	if p.Node == nil {
		p.Node = c.schedule(w, ordinal)
	}
	return p
}

// create starts a pod of w at t with the workload's current template.
func (c *cluster) create(w *workload, t int64, n *node, ordinal int) *pod {
	p := c.newPod(w, t, n, ordinal)
	r := c.r
	switch w.Kind {
	case deployment:
		p.Hash = c.hash[w.idx]
		p.Owner = w.Name + "-" + p.Hash
		p.Name = p.Owner + "-" + r.suffix(5)
	case statefulSet:
		p.Hash = w.Name + "-" + c.hash[w.idx]
		p.Owner = w.Name
		p.Name = w.Name + "-" + strconv.Itoa(ordinal)
	case daemonSet:
		p.Hash = c.hash[w.idx]
		p.Owner = w.Name
		p.Name = w.Name + "-" + r.suffix(5)
	}
	if p.OwnerUID = c.rsUID[p.Owner]; p.OwnerUID == "" {
		p.OwnerUID = r.uuid()
		c.rsUID[p.Owner] = p.OwnerUID
	}
	if w.HostNetwork {
		p.IP = p.Node.ENI.IP
	} else {
		c.allocate(p, t)
	}
	c.place(p)
	c.record(p)
	return p
}

// record adds p to the timeline.
func (c *cluster) record(p *pod) {
	c.pods = append(c.pods, p)
	c.byW[p.W.idx] = append(c.byW[p.W.idx], p)
}

// place adds p to the live population.
func (c *cluster) place(p *pod) {
	c.alive[p.W.idx] = append(c.alive[p.W.idx], p)
	p.Node.pods++
}

// remove deletes p at t and releases its IP.
func (c *cluster) remove(p *pod, t int64) {
	a := c.alive[p.W.idx]
	for i, q := range a {
		if q == p {
			c.alive[p.W.idx] = append(a[:i], a[i+1:]...)
			break
		}
	}
	p.Node.pods--
	p.End = t
	if !p.W.HostNetwork {
		c.release(p, t)
	}
}

// release puts p's IP back into its node's warm pool at t.
func (c *cluster) release(p *pod, t int64) {
	if p.Done != 0 && p.Done != t {
		return // a Job pod released its IP when it completed
	}
	c.free[p.Node] = append(c.free[p.Node], freedIP{p.IP, t})
}

// allocate gives p an IP from its node's warm pool: the most recently
// released address past its cooldown, else a never-used one. This is how
// one address serves many pods of different workloads over a day.
func (c *cluster) allocate(p *pod, t int64) {
	n := p.Node
	f := c.free[n]
	for i := len(f) - 1; i >= 0; i-- {
		if f[i].freed+ipCooldown <= t {
			p.IP = f[i].ip
			c.free[n] = append(f[:i], f[i+1:]...)
			if prev := c.lastOwner[p.IP]; prev != nil {
				p.Reused = t >= c.start
				p.ReusedOther = p.Reused && prev.W != p.W
			}
			c.lastOwner[p.IP] = p
			return
		}
	}
	if len(n.pool) > 0 {
		p.IP = n.pool[0]
		n.pool = n.pool[1:]
	} else {
		p.IP = c.fallback[n.Zone]
		c.fallback[n.Zone]++
	}
	c.lastOwner[p.IP] = p
}

// schedule picks a node: the zone with the fewest pods of w (StatefulSets:
// ordinal modulo three), then the least loaded node of that zone.
func (c *cluster) schedule(w *workload, ordinal int) *node {
	var perZone [3]int
	for _, p := range c.alive[w.idx] {
		perZone[p.Node.Zone]++
	}
	z := 0
	if w.Kind == statefulSet {
		z = ordinal % 3
	} else {
		off := c.r.IntN(3)
		z = off
		for i := range 3 {
			if k := (off + i) % 3; perZone[k] < perZone[z] {
				z = k
			}
		}
	}
	var best *node
	ties := 0
	for _, n := range c.topo.Nodes {
		if n.Zone != z {
			continue
		}
		switch {
		case best == nil || n.pods < best.pods:
			best, ties = n, 1
		case n.pods == best.pods:
			ties++
			if c.r.IntN(ties) == 0 {
				best = n
			}
		}
	}
	return best
}
