package flowlogs

import (
	"net/netip"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// column holds one catalogue field's values; exactly one of the typed
// columns is used, chosen by kind.
type column struct {
	kind kind
	// present: a record of the batch has the field, and the column has a
	// row per record. Columns of fields no record has stay empty (a v5
	// file leaves 37 of the 66 fields out), which halves a batch.
	present bool
	u8      proto.ColUInt8
	u16     proto.ColUInt16
	u64     proto.ColUInt64
	dt      proto.ColDateTime
	ip      proto.ColIPv6
	lc      *store.LowCardinalityRefs // Table is the interner's: position 0 is ""
	str     interner
}

// resettable is a column that can be emptied for the next block.
type resettable interface {
	proto.ColInput
	Reset()
}

func (c *column) data() resettable {
	switch c.kind {
	case kindU8:
		return &c.u8
	case kindU16:
		return &c.u16
	case kindU64:
		return &c.u64
	case kindTime:
		return &c.dt
	case kindIP:
		return &c.ip
	default:
		return c.lc
	}
}

// truncate drops the rows from n on, to undo a partly appended line.
func (c *column) truncate(n int) {
	switch c.kind {
	case kindU8:
		if len(c.u8) > n {
			c.u8 = c.u8[:n]
		}
	case kindU16:
		if len(c.u16) > n {
			c.u16 = c.u16[:n]
		}
	case kindU64:
		if len(c.u64) > n {
			c.u64 = c.u64[:n]
		}
	case kindTime:
		if len(c.dt.Data) > n {
			c.dt.Data = c.dt.Data[:n]
		}
	case kindIP:
		if len(c.ip) > n {
			c.ip = c.ip[:n]
		}
	default:
		if len(c.lc.Refs) > n {
			c.lc.Refs = c.lc.Refs[:n]
		}
	}
}

// appendDefault appends the column default, stored for absent fields.
func (c *column) appendDefault() {
	switch c.kind {
	case kindU8:
		c.u8 = append(c.u8, 0)
	case kindU16:
		c.u16 = append(c.u16, 0)
	case kindU64:
		c.u64 = append(c.u64, 0)
	case kindTime:
		c.dt.Data = append(c.dt.Data, 0)
	case kindIP:
		c.ip = append(c.ip, proto.IPv6{})
	default:
		c.lc.Refs = append(c.lc.Refs, 0)
	}
}

// pad appends defaults up to n rows.
func (c *column) pad(n int) {
	switch c.kind {
	case kindU8:
		c.u8 = append(c.u8, make([]uint8, n-len(c.u8))...)
	case kindU16:
		c.u16 = append(c.u16, make([]uint16, n-len(c.u16))...)
	case kindU64:
		c.u64 = append(c.u64, make([]uint64, n-len(c.u64))...)
	case kindTime:
		c.dt.Data = append(c.dt.Data, make([]proto.DateTime, n-len(c.dt.Data))...)
	case kindIP:
		c.ip = append(c.ip, make([]proto.IPv6, n-len(c.ip))...)
	default:
		c.lc.Refs = append(c.lc.Refs, make([]uint32, n-len(c.lc.Refs))...)
	}
}

// Batch holds parsed records as ClickHouse columns, one per catalogue
// Field. A Batch is reused across Reader.Next calls: values read from it are
// valid until the next call. It is not safe for concurrent use.
type Batch struct {
	cols   []column
	rows   int
	layout *layout // the layout last applied, see use
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	b := &Batch{cols: make([]column, numFields)}
	for i, f := range catalogue {
		c := &b.cols[i]
		c.kind = f.kind
		if f.kind == kindLC {
			c.lc = &store.LowCardinalityRefs{}
			c.str.reset(c.lc)
		}
	}
	return b
}

func (b *Batch) init() {
	if b.cols == nil {
		*b = *NewBatch()
	}
}

// pad fills the present columns that the current layout lacks with
// defaults up to the batch's row count. Parsers append only the fields a
// record has.
func (b *Batch) pad() {
	for i := range b.cols {
		if c := &b.cols[i]; c.present && c.data().Rows() < b.rows {
			c.pad(b.rows)
		}
	}
}

// use prepares the batch for records of layout l: the columns the
// previous layout had and l lacks are padded, and l's columns that were
// absent become present, with defaults for the records before.
func (b *Batch) use(l *layout) {
	if l == b.layout {
		return
	}
	b.pad()
	for _, fi := range l.idx {
		if c := &b.cols[fi]; !c.present {
			c.present = true
			c.pad(b.rows)
		}
	}
	b.layout = l
}

// Rows returns the number of records in the batch.
func (b *Batch) Rows() int { return b.rows }

// Reset empties the batch, keeping its memory for the next records.
func (b *Batch) Reset() {
	b.init()
	for i := range b.cols {
		c := &b.cols[i]
		c.data().Reset()
		c.present = false
		if c.kind == kindLC && len(c.lc.Table) > maxInterned {
			c.str.reset(c.lc)
		}
	}
	b.rows, b.layout = 0, nil
}

// Input returns the columns of the fields the batch's records have, named
// as in flow_logs and in catalogue order (the order of ColumnsDDL), for a
// Native-format INSERT; the table fills the others with their defaults.
// The columns alias the batch: insert before the next Reset or
// Reader.Next.
func (b *Batch) Input() proto.Input {
	b.init()
	in := make(proto.Input, 0, len(b.cols))
	for i := range b.cols {
		if b.cols[i].present {
			in = append(in, proto.InputColumn{Name: catalogue[i].Column, Data: b.cols[i].data()})
		}
	}
	return in
}

// The accessors below answer the default for a field no record has (its
// column is empty).

func (b *Batch) addr(f, i int) netip.Addr {
	return netip.AddrFrom16(b.ip16(f, i)).Unmap()
}

// at returns c[i], or the zero value past the end of c.
func at[T any](c []T, i int) T {
	if i < len(c) {
		return c[i]
	}
	var zero T
	return zero
}

// ip16 returns row i's address field f as stored: 16 bytes, IPv4 mapped.
func (b *Batch) ip16(f, i int) proto.IPv6 { return at(b.cols[f].ip, i) }

// ref returns the position of row i's string field f in its column's
// table (0 is "").
func (b *Batch) ref(f, i int) uint32 { return at(b.cols[f].lc.Refs, i) }

func (b *Batch) str(f, i int) string { return b.cols[f].lc.Table[b.ref(f, i)] }

// SrcAddr returns row i's srcaddr; IPv4 addresses come back as IPv4 (not
// IPv4-mapped) and an absent address as the zero-filled IPv6 "::".
func (b *Batch) SrcAddr(i int) netip.Addr { return b.addr(idxSrcAddr, i) }

// DstAddr returns row i's dstaddr, as SrcAddr does.
func (b *Batch) DstAddr(i int) netip.Addr { return b.addr(idxDstAddr, i) }

// PktSrcAddr returns row i's pkt-srcaddr, as SrcAddr does.
func (b *Batch) PktSrcAddr(i int) netip.Addr { return b.addr(idxPktSrcAddr, i) }

// PktDstAddr returns row i's pkt-dstaddr, as SrcAddr does.
func (b *Batch) PktDstAddr(i int) netip.Addr { return b.addr(idxPktDstAddr, i) }

// Start returns row i's start as unix seconds (0 when absent).
func (b *Batch) Start(i int) uint32 { return uint32(at(b.cols[idxStart].dt.Data, i)) }

// End returns row i's end as unix seconds (0 when absent).
func (b *Batch) End(i int) uint32 { return uint32(at(b.cols[idxEnd].dt.Data, i)) }

// StartTime returns row i's start as a UTC time.
func (b *Batch) StartTime(i int) time.Time { return time.Unix(int64(b.Start(i)), 0).UTC() }

// Bytes returns row i's byte count.
func (b *Batch) Bytes(i int) uint64 { return at(b.cols[idxBytes].u64, i) }

// Packets returns row i's packet count.
func (b *Batch) Packets(i int) uint64 { return at(b.cols[idxPackets].u64, i) }

// Protocol returns row i's IANA protocol number.
func (b *Batch) Protocol(i int) uint8 { return at(b.cols[idxProtocol].u8, i) }

// SrcPort returns row i's source port.
func (b *Batch) SrcPort(i int) uint16 { return at(b.cols[idxSrcPort].u16, i) }

// DstPort returns row i's destination port.
func (b *Batch) DstPort(i int) uint16 { return at(b.cols[idxDstPort].u16, i) }

// AccountID returns row i's account-id ("" when absent).
func (b *Batch) AccountID(i int) string { return b.str(idxAccountID, i) }

// InterfaceID returns row i's interface-id.
func (b *Batch) InterfaceID(i int) string { return b.str(idxInterfaceID, i) }

// Action returns row i's action (ACCEPT, REJECT or "").
func (b *Batch) Action(i int) string { return b.str(idxAction, i) }

// LogStatus returns row i's log-status (OK, NODATA, SKIPDATA).
func (b *Batch) LogStatus(i int) string { return b.str(idxLogStatus, i) }

// VPCID returns row i's vpc-id.
func (b *Batch) VPCID(i int) string { return b.str(idxVPCID, i) }

// SubnetID returns row i's subnet-id.
func (b *Batch) SubnetID(i int) string { return b.str(idxSubnetID, i) }

// InstanceID returns row i's instance-id.
func (b *Batch) InstanceID(i int) string { return b.str(idxInstanceID, i) }

// Region returns row i's region.
func (b *Batch) Region(i int) string { return b.str(idxRegion, i) }

// AZID returns row i's az-id.
func (b *Batch) AZID(i int) string { return b.str(idxAZID, i) }

// FlowDirection returns row i's flow-direction (ingress, egress or "").
func (b *Batch) FlowDirection(i int) string { return b.str(idxFlowDirection, i) }

// TrafficPath returns row i's traffic-path (0 when absent).
func (b *Batch) TrafficPath(i int) uint8 { return at(b.cols[idxTrafficPath].u8, i) }

// PktSrcAWSService returns row i's pkt-src-aws-service.
func (b *Batch) PktSrcAWSService(i int) string { return b.str(idxPktSrcAWSService, i) }

// PktDstAWSService returns row i's pkt-dst-aws-service.
func (b *Batch) PktDstAWSService(i int) string { return b.str(idxPktDstAWSService, i) }

// Column returns the column named name (a flow_logs column or AWS field
// name) for reading fields without a dedicated accessor, or nil. Its
// concrete type follows Field.Type: *proto.ColUInt8, *proto.ColUInt16,
// *proto.ColUInt64, *proto.ColDateTime, *proto.ColIPv6 or
// *store.LowCardinalityRefs.
func (b *Batch) Column(name string) proto.ColInput {
	i, ok := lookup(name)
	if !ok {
		return nil
	}
	b.init()
	return b.cols[i].data()
}
