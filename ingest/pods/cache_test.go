package pods

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// writeHistory stores pods and nodes as the watchers do: every interval
// first open, then, in a later write (a newer version), closed.
func writeHistory(t testing.TB, s store.Store, pods []PodIP, nodes []NodeInfo) {
	t.Helper()
	ctx := context.Background()
	sink, err := NewClickHouseSink(s, nil)
	require.NoError(t, err)
	open := make([]PodIP, len(pods))
	for i, p := range pods {
		p.ValidTo = time.Time{}
		open[i] = p
	}
	require.NoError(t, sink.PodIPs(ctx, open))
	require.NoError(t, sink.PodIPs(ctx, pods))
	require.NoError(t, sink.Nodes(ctx, nodes))
}

// describe names what Find answered, for comparisons and messages.
func describe(ep *Endpoint) string {
	if ep == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%s/%s/%s/%s", ep.Kind, ep.Cluster, ep.Namespace, ep.Pod, ep.Node)
}

func TestIndexCacheWindowEdges(t *testing.T) {
	s := migratedStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	h := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Hour))) }
	pod := func(ip, name string, from, to time.Time) PodIP {
		return PodIP{Cluster: "c1", IP: mustAddr(ip), Namespace: "ns", Pod: name, PodUID: "uid-" + name,
			WorkloadKind: "Deployment", Workload: name, Node: "n1", Zone: "z1", ValidFrom: from, ValidTo: to}
	}
	pods := []PodIP{
		pod("10.0.0.1", "started-before", h(-10), h(1)),
		pod("10.0.0.2", "open", h(-20), time.Time{}),
		pod("10.0.0.3", "ends-inside", h(-5), h(0.1)),
		pod("10.0.0.3", "reuses", h(0.1), time.Time{}),
		pod("10.0.0.4", "closed-before", h(-10), h(-3)),
		pod("10.0.0.5", "starts-later", h(5), time.Time{}),
		pod("10.0.0.6", "ends-at-window-start", h(-2), h(-0.5)),
	}
	// A hostNetwork pod whose IP a node had long before the window:
	// the whole history says the node record wins (none covers now), a
	// window alone would attribute the IP to the pod's node.
	hostNet := pod("10.0.9.1", "agent", h(-30), time.Time{})
	hostNet.HostNetwork, hostNet.Node = true, "n-new"
	// A hostNetwork pod at an IP nothing else ever had: its node.
	lone := pod("10.0.9.2", "agent2", h(-30), time.Time{})
	lone.HostNetwork, lone.Node = true, "n-lone"
	pods = append(pods, hostNet, lone)
	nodes := []NodeInfo{{Cluster: "c1", Node: "n-old", IPs: []netip.Addr{mustAddr("10.0.9.1")}, Zone: "z1", ValidFrom: h(-24 * 30), ValidTo: h(-24 * 20)}}
	writeHistory(t, s, pods, nodes)
	full, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)

	c := NewIndexCache(s, time.Hour, nil)
	c.SetWindow(30*time.Minute, 2*time.Hour)
	// The request [0, 0.25h] (0.25h included): the window is
	// [-0.5h, 0.75h + 1ms).
	idx := c.Index(ctx, h(0), h(0.25))
	require.NotNil(t, idx)
	st := c.Stats()
	require.Equal(t, h(-0.5), st.From)
	require.Equal(t, h(0.75).Add(time.Millisecond), st.To)

	cases := []struct {
		ip   string
		at   float64
		want string // pod name, "node:<name>" or ""
	}{
		{"10.0.0.1", 0, "started-before"},
		{"10.0.0.2", 0.2, "open"},
		{"10.0.0.3", 0, "ends-inside"},
		{"10.0.0.3", 0.1, "reuses"},
		{"10.0.0.3", 0.25, "reuses"},
		{"10.0.0.4", 0, ""},
		{"10.0.0.5", 0.25, ""},
		{"10.0.0.6", 0, ""},
		{"10.0.9.1", 0, ""},
		{"10.0.9.2", 0, "node:n-lone"},
		// Later requests: extension backward (a record that ended
		// exactly at the window's start is loaded now), forward (within
		// the span), then a window far away, then back.
		{"10.0.0.6", -0.6, "ends-at-window-start"},
		{"10.0.0.1", 0.9, "started-before"},
		{"10.0.0.1", 1, ""},
		{"10.0.0.5", 5, "starts-later"},
		{"10.0.0.4", -4, "closed-before"},
		{"10.0.0.6", -0.5, ""},
		{"10.0.0.3", -4.9, "ends-inside"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s@%gh", tc.ip, tc.at), func(t *testing.T) {
			at := h(tc.at)
			idx := c.Index(ctx, at, at)
			require.NotNil(t, idx)
			ep, _ := idx.Find(mustAddr(tc.ip).As16(), at.UnixNano())
			got := ""
			if ep != nil {
				got = ep.Pod
				if ep.Kind == EndpointNode {
					got = "node:" + ep.Node
				}
			}
			require.Equal(t, tc.want, got)
			want, _ := full.Find(mustAddr(tc.ip).As16(), at.UnixNano())
			require.Equal(t, describe(want), describe(ep), "the full index answers otherwise")
		})
	}
	st = c.Stats()
	require.Positive(t, st.Extensions, "%+v", st)
	require.Greater(t, st.WindowLoads, 1, "%+v", st)
}

// randomHistory returns the intervals of ips IPs reused over days, with
// gaps, open last holders, two clusters, a few overlapping holders and
// hostNetwork pods, and nodes whose IPs some pods had before or after.
func randomHistory(r *rand.Rand, t0 time.Time, ips, days int) ([]PodIP, []NodeInfo) {
	var pods []PodIP
	var nodes []NodeInfo
	end := t0.Add(time.Duration(days) * 24 * time.Hour)
	n := 0
	for i := range ips {
		ip := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		at := t0.Add(-time.Duration(r.IntN(48)) * time.Hour)
		for at.Before(end) {
			n++
			// Times in whole seconds plus some milliseconds: the flows'
			// starts are seconds, the history's bounds are not.
			d := time.Duration(r.IntN(20*3600))*time.Second + time.Duration(r.IntN(1000))*time.Millisecond
			p := PodIP{Cluster: fmt.Sprintf("c%d", r.IntN(2)), IP: ip, Namespace: fmt.Sprintf("ns%d", r.IntN(5)),
				Pod: fmt.Sprintf("p%d", n), PodUID: fmt.Sprintf("u%d", n), WorkloadKind: "Deployment",
				Workload: fmt.Sprintf("w%d", r.IntN(9)), Node: fmt.Sprintf("node%d", r.IntN(6)), Zone: fmt.Sprintf("z%d", r.IntN(3)),
				HostNetwork: i%17 == 0, ValidFrom: at, ValidTo: at.Add(d)}
			if p.ValidTo.After(end) && r.IntN(2) == 0 {
				p.ValidTo = time.Time{}
			}
			pods = append(pods, p)
			if r.IntN(10) == 0 { // an inconsistent overlapping holder
				q := p
				n++
				q.Pod, q.PodUID = fmt.Sprintf("p%d", n), fmt.Sprintf("u%d", n)
				q.ValidFrom = at.Add(d / 3)
				q.ValidTo = q.ValidFrom.Add(d / 3)
				pods = append(pods, q)
			}
			at = at.Add(d + time.Duration(r.IntN(3))*time.Duration(r.IntN(7200))*time.Second)
		}
		if i%17 == 0 && i%34 == 0 { // half the hostNetwork IPs had a node record, some time
			from := t0.Add(time.Duration(r.IntN(days*24)) * time.Hour)
			nodes = append(nodes, NodeInfo{Cluster: "c0", Node: fmt.Sprintf("node-ip%d", i), IPs: []netip.Addr{ip},
				Zone: "z0", Region: "r", InstanceType: "m5", ValidFrom: from, ValidTo: from.Add(time.Duration(1+r.IntN(30)) * time.Hour)})
		}
	}
	return pods, nodes
}

// TestIndexCacheMatchesFull: over random histories and random sequences
// of requests (a backlog moving forward, jumps back and far, stored
// history changing between them), every lookup inside the times asked for
// answers as an index of the whole history.
func TestIndexCacheMatchesFull(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	s := migratedStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	const days = 10
	pods, nodes := randomHistory(r, t0, 150, days)
	writeHistory(t, s, pods, nodes)
	full, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)

	c := NewIndexCache(s, 0, nil) // checks the history on every call
	c.SetWindow(time.Duration(1+r.IntN(120))*time.Minute, time.Duration(1+r.IntN(24))*time.Hour)
	at := t0
	checked := 0
	for step := range 60 {
		switch x := r.IntN(10); {
		case x < 7: // the backlog moves on
			at = at.Add(time.Duration(r.IntN(3*3600)) * time.Second)
		case x < 8: // back a little
			at = at.Add(-time.Duration(r.IntN(12*3600)) * time.Second)
		default: // anywhere
			at = t0.Add(time.Duration(r.IntN(days*24*3600)) * time.Second)
		}
		from, to := at, at.Add(time.Duration(r.IntN(1800))*time.Second)
		if step%15 == 14 {
			// The history changes: new holders, closes of open ones.
			more, moreNodes := randomHistory(r, t0.Add(time.Duration(r.IntN(days*24))*time.Hour), 20, 1)
			for i := range more {
				more[i].PodUID += fmt.Sprintf("-s%d", step)
			}
			for i := range pods {
				if pods[i].ValidTo.IsZero() && r.IntN(3) == 0 {
					pods[i].ValidTo = pods[i].ValidFrom.Add(time.Duration(1+r.IntN(40)) * time.Hour)
					more = append(more, pods[i])
				}
			}
			writeHistory(t, s, more, moreNodes)
			full, err = LoadIndex(ctx, s, time.Time{}, time.Time{})
			require.NoError(t, err)
		}
		idx := c.Index(ctx, from, to)
		require.NotNil(t, idx)
		for range 200 {
			ip := netip.AddrFrom4([4]byte{10, 1, 0, byte(r.IntN(170))}).As16()
			ts := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)) + 1))).Truncate(time.Second)
			if ts.Before(from) {
				ts = from
			}
			want, _ := full.Find(ip, ts.UnixNano())
			got, _ := idx.Find(ip, ts.UnixNano())
			require.Equal(t, describe(want), describe(got), "step %d, %v at %s, window %+v", step, netip.AddrFrom16(ip), ts, c.Stats())
			if want != nil {
				checked++
			}
		}
	}
	st := c.Stats()
	t.Logf("%d answers checked; %+v", checked, st)
	require.Positive(t, checked)
	require.Positive(t, st.Extensions)
	require.Positive(t, st.Refreshes)
}

// TestIndexCacheBounded: a backlog moving over the whole history keeps
// the window to its span (records evicted), loads each range once, and
// still answers as the whole history inside the window.
func TestIndexCacheBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := migratedStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	const days = 8
	pods, nodes := randomHistory(r, t0, 150, days)
	writeHistory(t, s, pods, nodes)
	full, err := LoadIndex(ctx, s, time.Time{}, time.Time{})
	require.NoError(t, err)

	c := NewIndexCache(s, time.Hour, nil)
	c.SetWindow(30*time.Minute, 6*time.Hour)
	maxRecords := 0
	for at := t0; at.Before(t0.Add(days * 24 * time.Hour)); at = at.Add(10 * time.Minute) {
		idx := c.Index(ctx, at, at.Add(5*time.Minute))
		st := c.Stats()
		maxRecords = max(maxRecords, st.Records)
		require.LessOrEqual(t, st.To.Sub(st.From), 6*time.Hour+time.Minute, "%+v", st)
		for ip := range 170 {
			k := netip.AddrFrom4([4]byte{10, 1, 0, byte(ip)}).As16()
			want, _ := full.Find(k, at.UnixNano())
			got, _ := idx.Find(k, at.UnixNano())
			require.Equal(t, describe(want), describe(got), "%v at %s", netip.AddrFrom16(k), at)
		}
	}
	st := c.Stats()
	t.Logf("%d records at most of %d; %+v", maxRecords, len(pods), st)
	require.Positive(t, st.Evicted)
	require.Equal(t, 1, st.WindowLoads, "a backlog moving forward extends its window")
	// Each record is loaded once by the extensions, plus those of the
	// first window: well under twice the history.
	require.Less(t, st.PodRowsLoaded, 2*len(pods))
	require.Less(t, maxRecords, len(pods)/4)
}
