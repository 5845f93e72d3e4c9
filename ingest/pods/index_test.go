package pods

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestIndexLookup(t *testing.T) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	pods := []PodIP{
		// 10.0.0.1 reused: a (0-10), gap, b (20-30), c (30-open).
		{Cluster: "c1", IP: mustAddr("10.0.0.1"), Namespace: "n", Pod: "a", WorkloadKind: "Deployment", Workload: "web", Node: "n1", Zone: "z1", ValidFrom: at(0), ValidTo: at(10)},
		{Cluster: "c1", IP: mustAddr("10.0.0.1"), Namespace: "n", Pod: "c", WorkloadKind: "StatefulSet", Workload: "db", Node: "n1", Zone: "z1", ValidFrom: at(30)},
		{Cluster: "c1", IP: mustAddr("10.0.0.1"), Namespace: "n", Pod: "b", WorkloadKind: "Job", Workload: "j", Node: "n1", Zone: "z1", ValidFrom: at(20), ValidTo: at(30)},
		// A long-lived pod overlapping a short one (inconsistent input).
		{Cluster: "c1", IP: mustAddr("10.0.0.2"), Pod: "long", ValidFrom: at(0)},
		{Cluster: "c1", IP: mustAddr("10.0.0.2"), Pod: "short", ValidFrom: at(5), ValidTo: at(6)},
		// hostNetwork pod on a node with a known IP: the node answers.
		{Cluster: "c1", IP: mustAddr("192.168.1.10"), Pod: "agent", HostNetwork: true, Node: "n1", Zone: "z1", ValidFrom: at(0)},
		// hostNetwork pod on a node without a known IP: still the node.
		{Cluster: "c1", IP: mustAddr("192.168.1.99"), Pod: "agent2", HostNetwork: true, Node: "n9", Zone: "z9", ValidFrom: at(0)},
		// Same IP in a second cluster (overlapping VPCs), later start.
		{Cluster: "c2", IP: mustAddr("10.0.0.3"), Pod: "other", ValidFrom: at(1)},
		{Cluster: "c1", IP: mustAddr("10.0.0.3"), Pod: "mine", ValidFrom: at(0)},
		{Cluster: "c1", IP: mustAddr("2001:db8::1"), Pod: "v6", ValidFrom: at(0)},
	}
	nodes := []NodeInfo{{Cluster: "c1", Node: "n1", Zone: "z1", IPs: []netip.Addr{mustAddr("192.168.1.10")}, ValidFrom: at(-60)}}
	idx := NewIndex(pods, nodes)

	cases := []struct {
		ip      string
		min     int
		cluster string
		want    string // pod name, "node:<name>" or "" for none
	}{
		{"10.0.0.1", -1, "", ""},
		{"10.0.0.1", 0, "", "a"},
		{"10.0.0.1", 9, "", "a"},
		{"10.0.0.1", 10, "", ""}, // half-open
		{"10.0.0.1", 15, "", ""}, // gap between holders
		{"10.0.0.1", 20, "", "b"},
		{"10.0.0.1", 30, "", "c"},
		{"10.0.0.1", 1000, "", "c"},
		{"10.0.0.2", 5, "", "short"},
		{"10.0.0.2", 7, "", "long"},
		{"192.168.1.10", 5, "", "node:n1"},
		{"192.168.1.99", 5, "", "node:n9"},
		{"10.0.0.3", 5, "", "other"},
		{"10.0.0.3", 5, "c1", "mine"},
		{"10.0.0.3", 5, "c3", ""},
		{"::ffff:10.0.0.1", 0, "", "a"},
		{"2001:db8::1", 0, "", "v6"},
		{"10.9.9.9", 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s@%d/%s", tc.ip, tc.min, tc.cluster), func(t *testing.T) {
			var ep Endpoint
			var ok bool
			if tc.cluster == "" {
				ep, ok = idx.Lookup(mustAddr(tc.ip), at(tc.min))
				// Find answers the same from the 16-byte form, with
				// the index's own record.
				found, iv := idx.Find(mustAddr(tc.ip).As16(), at(tc.min).UnixNano())
				require.Equal(t, ok, found != nil)
				if ok {
					require.Equal(t, ep, *found)
					require.True(t, iv >= 0 && iv < idx.Intervals(), "interval %d", iv)
				} else {
					require.Equal(t, -1, iv)
				}
			} else {
				ep, ok = idx.LookupCluster(tc.cluster, mustAddr(tc.ip), at(tc.min))
			}
			got := ""
			if ok {
				got = ep.Pod
				if ep.Kind == EndpointNode {
					got = "node:" + ep.Node
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
	ep, _ := idx.Lookup(mustAddr("10.0.0.1"), at(20))
	require.Equal(t, Endpoint{Kind: EndpointPod, Cluster: "c1", Namespace: "n", Pod: "b", WorkloadKind: "Job", Workload: "j", Node: "n1", Zone: "z1"}, ep)
}

func BenchmarkIndexLookup(b *testing.B) {
	// 100k IPs, each reused by 4 pods over a day.
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var pods []PodIP
	ips := make([]netip.Addr, 0, 100_000)
	for i := range 100_000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		ips = append(ips, ip)
		for j := range 4 {
			pods = append(pods, PodIP{Cluster: "c", IP: ip, Pod: fmt.Sprintf("p-%d-%d", i, j),
				ValidFrom: base.Add(time.Duration(j) * 6 * time.Hour), ValidTo: base.Add(time.Duration(j+1)*6*time.Hour - time.Minute)})
		}
	}
	idx := NewIndex(pods, nil)
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	for i := 0; b.Loop(); i++ {
		if _, ok := idx.Lookup(ips[i%len(ips)], base.Add(time.Duration(i%86400)*time.Second)); ok {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no hit")
	}
}
