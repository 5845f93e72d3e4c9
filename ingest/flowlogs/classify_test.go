package flowlogs

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/internal/flowclass"
)

// testTraffic is a two-zone VPC with a NAT gateway in zone a.
func testTraffic() TrafficConfiguration {
	c := DefaultTrafficConfiguration()
	c.Region = "eu-west-1"
	c.VPCCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}
	c.Zones = []ZoneConfiguration{
		{CIDR: netip.MustParsePrefix("10.0.0.0/19"), Zone: "eu-west-1a", ZoneID: "euw1-az1"},
		{CIDR: netip.MustParsePrefix("10.0.32.0/19"), Zone: "eu-west-1b", ZoneID: "euw1-az2"},
		{CIDR: netip.MustParsePrefix("10.0.200.0/24"), Zone: "eu-west-1a", ZoneID: "euw1-az1"},
	}
	c.NATGateways = []NATGatewayConfiguration{{ENI: "eni-nat", IP: netip.MustParseAddr("10.0.200.10"), Zone: "eu-west-1a"}}
	c.AWSIPRanges = []AWSIPRange{
		{CIDR: netip.MustParsePrefix("52.218.0.0/17"), Service: "S3", Region: "eu-west-1"},
		{CIDR: netip.MustParsePrefix("3.120.0.0/14"), Service: "EC2", Region: "eu-central-1"},
	}
	return c
}

// Addresses of the test network.
const (
	podA, podA2, podB = "10.0.1.5", "10.0.2.6", "10.0.33.5"
	nodeA, nodeB      = "10.0.1.1", "10.0.33.1"
	natIP, peer       = "10.0.200.10", "151.101.1.1"
	s3, remote        = "52.218.1.1", "3.120.1.1"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func testIndex() *pods.Index {
	pod := func(ip, ns, node, zone string) pods.PodIP {
		return pods.PodIP{Cluster: "c", IP: netip.MustParseAddr(ip), Namespace: ns, Pod: ns + "-pod", PodUID: ip,
			WorkloadKind: "Deployment", Workload: ns + "-api", Node: node, Zone: zone, ValidFrom: t0}
	}
	return pods.NewIndex(
		[]pods.PodIP{pod(podA, "shop", "node-a", "eu-west-1a"), pod(podA2, "shop", "node-a2", "eu-west-1a"), pod(podB, "pay", "node-b", "eu-west-1b")},
		[]pods.NodeInfo{
			{Cluster: "c", Node: "node-a", IPs: []netip.Addr{netip.MustParseAddr(nodeA)}, Zone: "eu-west-1a"},
			{Cluster: "c", Node: "node-b", IPs: []netip.Addr{netip.MustParseAddr(nodeB)}, Zone: "eu-west-1b"},
		})
}

// rec is one v5 record of the test: hop addresses, packet addresses
// (empty: same as the hop), direction ("" for none), bytes.
type rec struct {
	eni, src, dst, pktSrc, pktDst  string
	dir                            string
	bytes                          int64
	action, status, srcSvc, dstSvc string
}

func (r rec) line() string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	if r.pktSrc == "" {
		r.pktSrc = r.src
	}
	if r.pktDst == "" {
		r.pktDst = r.dst
	}
	if r.action == "" {
		r.action = "ACCEPT"
	}
	if r.status == "" {
		r.status = "OK"
	}
	start := t0.Add(time.Hour).Unix()
	if r.status != "OK" {
		return fmt.Sprintf("5 111 %s - - - - - - - %d %d - %s vpc-1 subnet-1 - - - - - eu-west-1 euw1-az1 - - - - - -",
			r.eni, start, start+60, r.status)
	}
	return fmt.Sprintf("5 111 %s %s %s 40000 443 6 10 %d %d %d %s OK vpc-1 subnet-1 i-1 0 IPv4 %s %s eu-west-1 euw1-az1 - - %s %s %s -",
		r.eni, r.src, r.dst, r.bytes, start, start+60, r.action, r.pktSrc, r.pktDst, dash(r.srcSvc), dash(r.dstSvc), dash(r.dir))
}

// attributed is one record's attribution as stored.
type attributed struct {
	srcKind, dstKind, srcNS, dstNS, class string
	transfer, cost                        float64
}

func attribute(t *testing.T, recs []rec) []attributed {
	t.Helper()
	lines := []string{strings.Join(VersionFields(5), " ")}
	for _, r := range recs {
		lines = append(lines, r.line())
	}
	rd, err := NewReader("test", strings.NewReader(strings.Join(lines, "\n")+"\n"), Options{})
	require.NoError(t, err)
	b := NewBatch()
	n, err := rd.Next(b)
	require.True(t, err == nil || err == io.EOF, "%v", err)
	require.Equal(t, len(recs), n, "%+v", rd.Stats().Errors)
	a, err := NewAttributor(testTraffic())
	require.NoError(t, err)
	out := NewAttribution()
	blk := a.Attribute(b, "test", testIndex(), out)
	require.Equal(t, n, blk.Rows())
	res := make([]attributed, n)
	for i := range res {
		res[i] = attributed{out.src.cols.kind.Row(i), out.dst.cols.kind.Row(i), out.src.cols.namespace.Row(i), out.dst.cols.namespace.Row(i),
			out.class.Values[i], out.transfer[i], out.cost[i]}
	}
	return res
}

func TestClassify(t *testing.T) {
	const gb = 1_000_000_000
	for _, c := range []struct {
		name string
		rec  rec
		want attributed
	}{
		{"cross-zone egress carries the transfer, both directions charged",
			rec{eni: "eni-a", src: nodeA, dst: podB, pktSrc: podA, dir: "egress", bytes: gb},
			attributed{"pod", "pod", "shop", "pay", flowclass.CrossZone, gb, 0.02}},
		{"cross-zone ingress from inside the VPC carries nothing",
			rec{eni: "eni-b", src: podA, dst: nodeB, pktDst: podB, dir: "ingress", bytes: gb},
			attributed{"pod", "pod", "shop", "pay", flowclass.CrossZone, 0, 0}},
		{"without flow-direction each record carries half",
			rec{eni: "eni-a", src: podA, dst: podB, bytes: gb},
			attributed{"pod", "pod", "shop", "pay", flowclass.CrossZone, gb / 2, 0.01}},
		{"same zone",
			rec{eni: "eni-a", src: podA, dst: podA2, dir: "egress", bytes: gb},
			attributed{"pod", "pod", "shop", "shop", flowclass.SameZone, gb, 0}},
		{"to a node (hostNetwork pod)",
			rec{eni: "eni-a", src: podA, dst: nodeB, dir: "egress", bytes: gb},
			attributed{"pod", "node", "shop", "", flowclass.CrossZone, gb, 0.02}},
		{"to an unknown VPC address, zone from the CIDR map",
			rec{eni: "eni-a", src: podA, dst: "10.0.40.1", dir: "egress", bytes: gb},
			attributed{"pod", "vpc", "shop", "", flowclass.CrossZone, gb, 0.02}},
		{"S3 through the gateway endpoint",
			rec{eni: "eni-a", src: podA, dst: s3, dir: "egress", bytes: gb, dstSvc: "S3"},
			attributed{"pod", "aws-service", "shop", "", flowclass.AWSService, gb, 0}},
		{"S3 by address range alone",
			rec{eni: "eni-a", src: podA, dst: s3, bytes: gb},
			attributed{"pod", "aws-service", "shop", "", flowclass.AWSService, gb, 0}},
		{"cross-region out: the sender pays",
			rec{eni: "eni-a", src: podA, dst: remote, dir: "egress", bytes: gb},
			attributed{"pod", "aws-service", "shop", "", flowclass.CrossRegion, gb, 0.02}},
		{"cross-region in: free here",
			rec{eni: "eni-a", src: remote, dst: podA, dir: "ingress", bytes: gb},
			attributed{"aws-service", "pod", "", "shop", flowclass.CrossRegion, gb, 0}},
		{"internet ingress carries its own (zero) price",
			rec{eni: "eni-a", src: peer, dst: podA, dir: "ingress", bytes: gb},
			attributed{"internet", "pod", "", "shop", flowclass.InternetIngress, gb, 0}},
		{"rejected: nothing delivered",
			rec{eni: "eni-a", src: peer, dst: podA, dir: "ingress", bytes: gb, action: "REJECT"},
			attributed{"internet", "pod", "", "shop", flowclass.InternetIngress, 0, 0}},
		{"NODATA",
			rec{eni: "eni-a", status: "NODATA"},
			attributed{"", "", "", "", flowclass.Unknown, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := attribute(t, []rec{c.rec})[0]
			require.InDelta(t, c.want.cost, got.cost, 1e-12)
			got.cost = c.want.cost
			require.Equal(t, c.want, got)
		})
	}
}

// TestCostOnce checks that a transfer logged on several ENIs sums to one
// transfer's cost.
func TestCostOnce(t *testing.T) {
	const gb = 1_000_000_000
	p := DefaultTrafficConfiguration().Prices
	for _, c := range []struct {
		name           string
		recs           []rec
		transfer, cost float64
		classes        map[string]float64 // transfer bytes per class
	}{
		{"cross-zone call: request and response, both ENIs (v5)", []rec{
			{eni: "eni-a", src: nodeA, dst: podB, pktSrc: podA, dir: "egress", bytes: gb},
			{eni: "eni-b", src: podA, dst: nodeB, pktDst: podB, dir: "ingress", bytes: gb},
			{eni: "eni-b", src: nodeB, dst: podA, pktSrc: podB, dir: "egress", bytes: 3 * gb},
			{eni: "eni-a", src: podB, dst: nodeA, pktDst: podA, dir: "ingress", bytes: 3 * gb},
		}, 4 * gb, 4 * 2 * p.CrossZonePerGB, map[string]float64{flowclass.CrossZone: 4 * gb}},
		{"cross-zone call without flow-direction (v2-v4)", []rec{
			{eni: "eni-a", src: podA, dst: podB, bytes: gb},
			{eni: "eni-b", src: podA, dst: podB, bytes: gb},
		}, gb, 2 * p.CrossZonePerGB, map[string]float64{flowclass.CrossZone: gb}},
		{"pod in zone b to the internet through the NAT gateway of zone a (six records)", []rec{
			{eni: "eni-b", src: nodeB, dst: peer, pktSrc: podB, dir: "egress", bytes: gb},
			{eni: "eni-nat", src: podB, dst: natIP, pktDst: peer, dir: "ingress", bytes: gb},
			{eni: "eni-nat", src: natIP, dst: peer, dir: "egress", bytes: gb},
			{eni: "eni-nat", src: peer, dst: natIP, dir: "ingress", bytes: 2 * gb},
			{eni: "eni-nat", src: natIP, dst: podB, pktSrc: peer, dir: "egress", bytes: 2 * gb},
			{eni: "eni-b", src: peer, dst: nodeB, pktDst: podB, dir: "ingress", bytes: 2 * gb},
		}, 6 * gb,
			3*p.NATGatewayPerGB + 3*2*p.CrossZonePerGB + 1*p.InternetEgressPerGB,
			map[string]float64{flowclass.InternetEgress: gb, flowclass.InternetIngress: 2 * gb, flowclass.NATGateway: 3 * gb}},
		{"the same NAT conversation in the default format (no packet addresses, no direction)", []rec{
			{eni: "eni-b", src: nodeB, dst: peer, bytes: gb},
			{eni: "eni-nat", src: podB, dst: natIP, bytes: gb},
			{eni: "eni-nat", src: natIP, dst: peer, bytes: gb},
			{eni: "eni-nat", src: peer, dst: natIP, bytes: 2 * gb},
			{eni: "eni-nat", src: natIP, dst: podB, bytes: 2 * gb},
			{eni: "eni-b", src: peer, dst: nodeB, bytes: 2 * gb},
		}, 6 * gb,
			3*p.NATGatewayPerGB + 3*2*p.CrossZonePerGB + 1*p.InternetEgressPerGB,
			map[string]float64{flowclass.InternetEgress: gb, flowclass.InternetIngress: 2 * gb, flowclass.NATGateway: 3 * gb}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var transfer, cost float64
			classes := map[string]float64{}
			for _, a := range attribute(t, c.recs) {
				transfer += a.transfer
				cost += a.cost
				classes[a.class] += a.transfer
			}
			for k, v := range classes {
				if v == 0 {
					delete(classes, k)
				}
			}
			require.InDelta(t, c.transfer, transfer, 1)
			require.InDelta(t, c.cost, cost, 1e-9)
			require.Equal(t, c.classes, classes)
		})
	}
}

// TestAttributionSidesAreDense checks what the Dense columns of each side
// rely on: every end of a side's tables is used by its rows, first in
// position order; and that each row reads back its own end.
func TestAttributionSidesAreDense(t *testing.T) {
	rd, err := NewReader("v5", bytes.NewReader(synthV5(5000, true)), Options{})
	require.NoError(t, err)
	b := NewBatch()
	_, err = rd.Next(b)
	require.True(t, err == nil || err == io.EOF, "%v", err)
	a, err := NewAttributor(testTraffic())
	require.NoError(t, err)
	out := NewAttribution()
	for range 2 { // the second block reuses the tables
		a.Attribute(b, "test", testIndex(), out)
		for name, sd := range map[string]*side{"src": &out.src, "dst": &out.dst} {
			next := uint32(0)
			for i, r := range sd.cols.refs {
				require.LessOrEqual(t, r, next, "%s row %d uses end %d before end %d", name, i, r, next)
				if r == next {
					next++
				}
				require.Equal(t, sd.list[r].Kind.String(), sd.cols.kind.Row(i))
				require.Equal(t, sd.list[r].Zone, sd.cols.zone.Row(i))
			}
			require.Equal(t, int(next), len(sd.list), "%s: unused ends", name)
			require.Equal(t, len(sd.list), len(sd.tables.kind))
		}
	}
}
