package demo

import "strconv"

// Header is the first line of every flow-log object: the custom v5 format
// the demo flow log is created with.
const Header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"

// Values of the traffic-path field (egress records only).
const (
	pathInVPC    = 1 // through another resource in the VPC (pod, NAT gateway)
	pathEndpoint = 7 // through a gateway VPC endpoint (S3)
	pathIGW      = 8 // through an internet gateway
)

// TCP flag values as flow logs report them (OR-ed over the window).
const (
	flagSYN    = 2
	flagSYNACK = 18
	flagFIN    = 1
)

// rec is one flow-log record before formatting.
type rec struct {
	eni            *iface
	egress         bool
	src, dst       uint32
	sport, dport   uint16
	proto          uint8
	packets, bytes int64
	start, end     int64
	reject         bool
	flags          int
	pktSrc, pktDst uint32
	srcSvc, dstSvc string
	path           int
}

// appendRec formats r as one v5 line in Header order.
func appendRec(b []byte, r *rec, zoneIDs []string) []byte {
	b = append(b, "5 "+Account+" "...)
	b = append(b, r.eni.ID...)
	b = append(b, ' ')
	b = appendIP(b, r.src)
	b = append(b, ' ')
	b = appendIP(b, r.dst)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.sport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.dport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(r.proto), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.packets, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.end, 10)
	if r.reject {
		b = append(b, " REJECT OK "+VPCID+" "...)
	} else {
		b = append(b, " ACCEPT OK "+VPCID+" "...)
	}
	b = append(b, r.eni.Subnet...)
	b = append(b, ' ')
	b = append(b, r.eni.Instance...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.flags), 10)
	b = append(b, " IPv4 "...)
	b = appendIP(b, r.pktSrc)
	b = append(b, ' ')
	b = appendIP(b, r.pktDst)
	b = append(b, " "+Region+" "...)
	b = append(b, zoneIDs[r.eni.Zone]...)
	b = append(b, " - - "...)
	b = appendDash(b, r.srcSvc)
	b = append(b, ' ')
	b = appendDash(b, r.dstSvc)
	if r.egress {
		b = append(b, " egress "...)
		b = strconv.AppendInt(b, int64(r.path), 10)
	} else {
		b = append(b, " ingress -"...)
	}
	return append(b, '\n')
}

// appendStatus formats a NODATA or SKIPDATA record of eni for a window:
// every flow field is absent, the interface's own fields are present.
func appendStatus(b []byte, eni *iface, status string, start, end int64, zoneIDs []string) []byte {
	b = append(b, "5 "+Account+" "...)
	b = append(b, eni.ID...)
	b = append(b, " - - - - - - - "...)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, end, 10)
	b = append(b, " - "...)
	b = append(b, status...)
	b = append(b, " "+VPCID+" "...)
	b = append(b, eni.Subnet...)
	b = append(b, ' ')
	b = append(b, eni.Instance...)
	b = append(b, " - - - - "+Region+" "...)
	b = append(b, zoneIDs[eni.Zone]...)
	return append(b, " - - - - - -\n"...)
}

// appendDash appends s, or "-" when s is empty.
func appendDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return append(b, s...)
}
