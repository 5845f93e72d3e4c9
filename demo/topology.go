package demo

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Fixed identifiers of the demo account and cluster.
const (
	Account     = "123456789012"
	Region      = "eu-west-1"
	ClusterName = "demo-eu"
	VPCID       = "vpc-0a1b2c3d4e5f60718"
	FlowLogID   = "fl-0123456789abcdef0"
	VPCCIDR     = "10.0.0.0/16"
	// S3CIDR is the S3 address range of eu-west-1 the pods talk to.
	S3CIDR = "52.218.0.0/17"
	// RemoteRegion and RemoteCIDR are the cross-region peer (EC2 addresses
	// of eu-central-1, reached through the NAT gateways).
	RemoteRegion = "eu-central-1"
	RemoteCIDR   = "3.120.0.0/14"
)

// ipPool is the number of secondary IPs the VPC CNI keeps on each node.
const ipPool = 29

// zone is one availability zone with its subnets.
type zone struct {
	Name, ID           string
	PodCIDR, PubCIDR   netip.Prefix
	PodSubnet, PubSubn string
}

// iface is an elastic network interface that logs flows.
type iface struct {
	ID, Subnet, Instance string // Instance is "-" for a NAT gateway
	Zone                 int
	IP                   uint32
}

// node is a worker node: an EC2 instance whose primary ENI carries the
// traffic of all its pods.
type node struct {
	Name, InstanceID, InstanceType, UID string
	Zone                                int
	ENI                                 iface
	pool                                []uint32 // secondary IPs for pods
	pods                                int      // pods currently placed
}

// natGW is a NAT gateway in a zone's public subnet.
type natGW struct {
	ID   string
	Zone int
	ENI  iface
}

// topology is the static network layout of the demo cluster.
type topology struct {
	Zones []zone
	Nodes []*node
	NATs  []natGW
	// natFor maps a pod zone to the NAT gateway its route table uses. Zone c
	// routes through the gateway in zone a (a classic misconfiguration that
	// makes its internet traffic cross zones); the gateway in zone c idles.
	natFor []int
}

var instanceTypes = []string{"m6i.2xlarge", "m6i.2xlarge", "m6i.4xlarge", "c6i.2xlarge", "r6i.2xlarge"}

// newTopology lays out zones, subnets, nodes and NAT gateways.
func newTopology(seed int64, nodes int) *topology {
	r := newRNG(seed, 1)
	t := &topology{natFor: []int{0, 1, 0}}
	for i, l := range []string{"a", "b", "c"} {
		t.Zones = append(t.Zones, zone{
			Name:      Region + l,
			ID:        "euw1-az" + strconv.Itoa(i+1),
			PodCIDR:   netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(32 * i), 0}), 19),
			PubCIDR:   netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(200 + i), 0}), 24),
			PodSubnet: "subnet-0" + r.hex(16),
			PubSubn:   "subnet-0" + r.hex(16),
		})
	}
	for i := range nodes {
		z := i % 3
		base := addr4(t.Zones[z].PodCIDR.Addr())
		// Nodes sit at scattered offsets of their zone's /19; each keeps a
		// warm pool of secondary IPs close to its primary address.
		off := uint32(256 + (i/3)*97 + r.IntN(40))
		n := &node{
			InstanceID:   "i-0" + r.hex(16),
			InstanceType: instanceTypes[r.IntN(len(instanceTypes))],
			UID:          r.uuid(),
			Zone:         z,
		}
		ip := base + off
		n.Name = "ip-" + dashed(ip) + "." + Region + ".compute.internal"
		n.ENI = iface{ID: "eni-0" + r.hex(16), Subnet: t.Zones[z].PodSubnet, Instance: n.InstanceID, Zone: z, IP: ip}
		for k := range ipPool {
			n.pool = append(n.pool, ip+1+uint32(k)+uint32(k/7)*3)
		}
		r.Shuffle(len(n.pool), func(a, b int) { n.pool[a], n.pool[b] = n.pool[b], n.pool[a] })
		t.Nodes = append(t.Nodes, n)
	}
	for z := range t.Zones {
		ip := addr4(t.Zones[z].PubCIDR.Addr()) + 10
		t.NATs = append(t.NATs, natGW{
			ID:   "nat-0" + r.hex(16),
			Zone: z,
			ENI:  iface{ID: "eni-0" + r.hex(16), Subnet: t.Zones[z].PubSubn, Instance: "-", Zone: z, IP: ip},
		})
	}
	return t
}

// addr4 converts an IPv4 address to its integer form.
func addr4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// appendIP appends the dotted form of ip.
func appendIP(b []byte, ip uint32) []byte {
	b = strconv.AppendUint(b, uint64(ip>>24), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(ip>>16&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(ip>>8&0xff), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(ip&0xff), 10)
}

// ipString is the dotted form of ip.
func ipString(ip uint32) string { return string(appendIP(nil, ip)) }

// dashed is the dashed form of ip used in EC2 host names.
func dashed(ip uint32) string {
	return fmt.Sprintf("%d-%d-%d-%d", ip>>24, ip>>16&0xff, ip>>8&0xff, ip&0xff)
}

// External address ranges the pods talk to. Internet ranges are outside
// every AWS range furrow.yaml declares.
var (
	s3Base       = addr4(netip.MustParsePrefix(S3CIDR).Addr())
	remoteBase   = addr4(netip.MustParsePrefix(RemoteCIDR).Addr())
	internetNets = []struct {
		base uint32
		size uint32
	}{
		{addr4(netip.MustParseAddr("140.82.112.0")), 1 << 12},  // code hosting
		{addr4(netip.MustParseAddr("151.101.0.0")), 1 << 16},   // CDN
		{addr4(netip.MustParseAddr("104.16.0.0")), 1 << 19},    // CDN / APIs
		{addr4(netip.MustParseAddr("185.199.108.0")), 1 << 10}, // static content
	}
)

// s3Addr returns an address of the S3 range (S3 spreads over many).
func (r rng) s3Addr() uint32 { return s3Base + uint32(r.IntN(1<<15)) }

// remoteAddr returns one of the few endpoints in the remote region.
func (r rng) remoteAddr() uint32 { return remoteBase + 0x10200 + uint32(r.IntN(6))*17 }

// internetAddr returns a public address outside AWS.
func (r rng) internetAddr() uint32 {
	n := internetNets[r.IntN(len(internetNets))]
	return n.base + uint32(r.IntN(int(n.size)))
}
