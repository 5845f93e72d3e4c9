package flowlogs

import (
	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/internal/flowclass"
)

// EndKind says what one end of a flow is.
type EndKind uint8

// The kinds of ends, stored as src_kind and dst_kind.
const (
	KindNone       EndKind = iota // no address (NODATA, SKIPDATA)
	KindPod                       // a pod of the pod index
	KindNode                      // a node, or a hostNetwork pod
	KindNATGateway                // a configured NAT gateway
	KindAWSService                // an AWS address outside the VPC
	KindVPC                       // inside the VPC, not known otherwise
	KindInternet                  // anything else
)

var kindNames = [...]string{"", "pod", "node", "nat-gateway", "aws-service", "vpc", "internet"}

// String is the kind as stored in flow_logs.
func (k EndKind) String() string { return kindNames[k] }

// Inside reports whether the end is in the VPC, where its ENI logs flows.
func (k EndKind) Inside() bool {
	return k == KindPod || k == KindNode || k == KindNATGateway || k == KindVPC
}

// End is one resolved end of a record. Ends are comparable: a block's
// distinct ends are numbered by value.
type End struct {
	Kind EndKind
	// Endpoint is the pod or node, for KindPod and KindNode: the pod
	// index's shared record, not to be modified.
	Endpoint *pods.Endpoint
	// Zone and Region locate the end when known.
	Zone, Region string
	// Service is the AWS service of a KindAWSService end.
	Service string
}

// NAT sides of a record: which of srcaddr and dstaddr is the NAT gateway
// whose ENI logged it.
const (
	natNone = iota
	natSrc
	natDst
)

// facts are what classification needs from a record besides its ends.
type facts struct {
	bytes     float64
	direction string // "egress", "ingress" or "" (before version 5)
	ok        bool   // log-status OK (or absent) with addresses
	reject    bool
	natSide   int
	natZone   string
}

// verdict is a record's class and what it carries of its transfer.
type verdict struct {
	class    string
	transfer float64
	cost     float64
}

// classify decides a record's class and cost; see docs/traffic.md for the
// rules and their reasons.
func (c *TrafficConfiguration) classify(f facts, src, dst *End) verdict {
	if !f.ok || src.Kind == KindNone || dst.Kind == KindNone {
		return verdict{class: flowclass.Unknown}
	}
	v := c.classifyAccepted(f, src, dst)
	if f.reject {
		// Dropped by a security group or network ACL: nothing was
		// delivered. When the sender is in the VPC, its own egress record
		// (accepted) carries the transfer.
		v.transfer, v.cost = 0, 0
	}
	return v
}

func (c *TrafficConfiguration) classifyAccepted(f facts, src, dst *End) verdict {
	p := &c.Prices
	if f.natSide != natNone {
		// Logged by a NAT gateway's ENI. The hop's other side is the
		// record's other end (the NAT translates the address on its side
		// only).
		other := src
		if f.natSide == natSrc {
			other = dst
		}
		if other.Kind.Inside() {
			// The pod↔NAT leg: only the NAT's record tells a NAT processed
			// it (the pod's ENI logs the internet address), so it carries
			// the processing charge, plus the zone crossing.
			price := p.NATGatewayPerGB
			if other.Zone != "" && f.natZone != "" && other.Zone != f.natZone {
				price += 2 * p.CrossZonePerGB
			}
			return verdict{flowclass.NATGateway, f.bytes, f.bytes / 1e9 * price}
		}
		// The NAT↔internet leg mirrors the record of the pod's ENI, which
		// carries the transfer with the pod's attribution.
		return verdict{class: c.outsideClass(other, f.natSide == natDst)}
	}
	switch in1, in2 := src.Kind.Inside(), dst.Kind.Inside(); {
	case in1 && in2:
		class, price := flowclass.Unknown, 0.0
		switch {
		case src.Kind == KindNATGateway || dst.Kind == KindNATGateway:
			class, price = flowclass.NATGateway, p.NATGatewayPerGB
		case c.region(src.Region) != c.region(dst.Region):
			class, price = flowclass.CrossRegion, p.CrossRegionPerGB
		case src.Zone == "" || dst.Zone == "":
		case src.Zone == dst.Zone:
			class, price = flowclass.SameZone, p.SameZonePerGB
		default:
			class, price = flowclass.CrossZone, 2*p.CrossZonePerGB
		}
		// Both ENIs log the transfer: the sender's egress record carries
		// it; without flow-direction each record carries half.
		share := 0.5
		switch f.direction {
		case "egress":
			share = 1
		case "ingress":
			share = 0
		}
		t := f.bytes * share
		return verdict{class, t, t / 1e9 * price}
	case in1 || in2:
		// One side is outside the VPC: only one ENI of the VPC logs it.
		outside, inbound := dst, false
		if in2 {
			outside, inbound = src, true
		}
		class := c.outsideClass(outside, inbound)
		var price float64
		switch class {
		case flowclass.InternetEgress:
			price = p.InternetEgressPerGB
		case flowclass.InternetIngress:
			price = p.InternetIngressPerGB
		case flowclass.AWSService:
			price = p.AWSServicePerGB
		case flowclass.CrossRegion:
			if !inbound { // the sending region pays
				price = p.CrossRegionPerGB
			}
		}
		return verdict{class, f.bytes, f.bytes / 1e9 * price}
	default:
		// Neither side in the VPC (transit, or vpc_cidrs incomplete).
		return verdict{flowclass.Unknown, f.bytes, 0}
	}
}

// outsideClass classifies traffic with an end outside the VPC.
func (c *TrafficConfiguration) outsideClass(outside *End, inbound bool) string {
	if outside.Region != "" && c.region(outside.Region) != c.region("") {
		return flowclass.CrossRegion
	}
	if outside.Kind == KindAWSService {
		return flowclass.AWSService
	}
	if inbound {
		return flowclass.InternetIngress
	}
	return flowclass.InternetEgress
}

// region normalizes a region: empty and GLOBAL mean the home region.
func (c *TrafficConfiguration) region(r string) string {
	if r == "" || r == "GLOBAL" {
		return c.Region
	}
	return r
}
