package flowlogs

// The text parser is the hot path of flow log ingestion and is written by
// hand: a general CSV reader, strings.Fields or a regexp would allocate a
// string per field (30 to 40 per v5 line) and cap throughput well below the
// rate at which ClickHouse inserts the columns. Here a line is split on
// spaces into sub-slices of the read buffer, integers and IPv4 addresses are
// parsed by hand, and values are appended straight into the proto columns;
// strings of LowCardinality columns are interned, so a line allocates
// nothing once the batch's slices have grown.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// maxLineFields bounds the number of fields of a line; it is larger than
// the catalogue so that a line with too many fields is still split and
// reported as such.
const maxLineFields = 96

// layout is the field list of a format resolved to catalogue indices.
type layout struct {
	idx []int
}

func newLayout(idx []int) *layout { return &layout{idx: idx} }

// defaultLayoutInfo holds the layouts of defaultLayouts by field count.
var defaultLayoutInfo = func() map[int]*layout {
	m := make(map[int]*layout, len(defaultLayouts))
	for n, idx := range defaultLayouts {
		m[n] = newLayout(idx)
	}
	return m
}()

// splitFields splits line on runs of spaces into tok and returns the
// number of fields; it stops storing past len(tok) but keeps counting.
// Lines with tabs take the byte-at-a-time path, where tabs and other
// control bytes separate fields too.
func splitFields(line []byte, tok *[maxLineFields][]byte) int {
	if bytes.IndexByte(line, '\t') >= 0 {
		return splitFieldsSlow(line, tok)
	}
	// Look for spaces eight bytes at a time: lines are ~250 bytes of
	// ~8-byte fields, and this loop is the largest cost of parsing.
	const lo7, hi = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	n, start, i := 0, 0, 0
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ 0x2020202020202020
		// A byte of m is 0x80 where x has a zero byte (a space), exactly.
		m := ^(((x & lo7) + lo7) | x | lo7) & hi
		for m != 0 {
			j := i + bits.TrailingZeros64(m)>>3
			if j > start {
				if n < len(tok) {
					tok[n] = line[start:j:j]
				}
				n++
			}
			start = j + 1
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ' ' {
			if i > start {
				if n < len(tok) {
					tok[n] = line[start:i:i]
				}
				n++
			}
			start = i + 1
		}
	}
	if len(line) > start {
		if n < len(tok) {
			tok[n] = line[start:]
		}
		n++
	}
	return n
}

func splitFieldsSlow(line []byte, tok *[maxLineFields][]byte) int {
	n := 0
	start := -1
	for i, c := range line {
		if c <= ' ' {
			if start >= 0 {
				if n < len(tok) {
					tok[n] = line[start:i:i]
				}
				n++
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		if n < len(tok) {
			tok[n] = line[start:]
		}
		n++
	}
	return n
}

// parseRecord appends one record, whose fields are tok[:len(l.idx)], to b.
// On a bad value it appends nothing and returns the reason.
func parseRecord(b *Batch, tok *[maxLineFields][]byte, l *layout) string {
	n := b.rows
	for j, fi := range l.idx {
		c := &b.cols[fi]
		t := tok[j]
		if len(t) == 1 && t[0] == '-' {
			c.appendDefault()
			continue
		}
		ok := true
		switch c.kind {
		case kindLC:
			c.lc.Refs = append(c.lc.Refs, c.str.intern(c.lc, t))
		case kindU8:
			var v uint64
			v, ok = parseUint(t, 0xff)
			c.u8 = append(c.u8, uint8(v))
		case kindU16:
			var v uint64
			v, ok = parseUint(t, 0xffff)
			c.u16 = append(c.u16, uint16(v))
		case kindU64:
			var v uint64
			v, ok = parseUint(t, 1<<64-1)
			c.u64 = append(c.u64, v)
		case kindTime:
			var v uint64
			v, ok = parseUint(t, 1<<32-1)
			c.dt.Data = append(c.dt.Data, proto.DateTime(v))
		case kindIP:
			c.ip = append(c.ip, proto.IPv6{})
			ok = parseIP(t, &c.ip[len(c.ip)-1])
		}
		if !ok {
			for _, fj := range l.idx[:j+1] {
				b.cols[fj].truncate(n)
			}
			return badValue(catalogue[fi], t)
		}
	}
	if reason := checkBounds(b, n); reason != "" {
		for _, fj := range l.idx {
			b.cols[fj].truncate(n)
		}
		return reason
	}
	// The fields the layout lacks are padded with defaults in bulk, by
	// Batch.pad, before the batch is handed out or the layout changes.
	b.rows++
	return ""
}

func badValue(f Field, t []byte) string {
	const maxShown = 64
	shown := t
	if len(shown) > maxShown {
		shown = shown[:maxShown]
	}
	what := "value"
	switch f.kind {
	case kindIP:
		what = "address"
	case kindTime:
		what = "unix time"
	case kindU8, kindU16, kindU64:
		what = "number"
	}
	return fmt.Sprintf("bad %s %s %s", f.Name, what, strconv.Quote(string(shown)))
}

// parseUint parses a decimal unsigned integer no larger than max.
func parseUint(t []byte, max uint64) (uint64, bool) {
	if len(t) == 0 || len(t) > 20 {
		return 0, false
	}
	var v uint64
	for _, ch := range t {
		d := uint64(ch - '0')
		if d > 9 {
			return 0, false
		}
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseIP parses an IPv4 address (stored IPv4-mapped) or an IPv6 address
// into dst.
func parseIP(t []byte, dst *proto.IPv6) bool {
	for _, ch := range t {
		if ch == ':' {
			return parseIPv6(t, dst)
		}
	}
	dst[10], dst[11] = 0xff, 0xff
	return parseIPv4(t, dst[12:16])
}

// parseIPv4 parses a dotted quad into dst[0:4].
func parseIPv4(t []byte, dst []byte) bool {
	part := 0
	i := 0
	for part < 4 {
		if i >= len(t) {
			return false
		}
		v, digits := 0, 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			v = v*10 + int(t[i]-'0')
			digits++
			i++
			if digits > 3 {
				return false
			}
		}
		if digits == 0 || v > 255 {
			return false
		}
		dst[part] = byte(v)
		part++
		if part < 4 {
			if i >= len(t) || t[i] != '.' {
				return false
			}
			i++
		}
	}
	return i == len(t)
}

// parseIPv6 parses an IPv6 address, with "::" compression and an optional
// trailing dotted quad, into dst. Zones are rejected.
func parseIPv6(t []byte, dst *proto.IPv6) bool {
	var out [16]byte
	ellipsis := -1 // index in out where "::" was
	i := 0
	if len(t) >= 2 && t[0] == ':' && t[1] == ':' {
		ellipsis = 0
		i = 2
		if i == len(t) {
			*dst = out
			return true
		}
	}
	k := 0 // bytes written
	for k < 16 {
		// A group or an embedded IPv4 address.
		v, digits := 0, 0
		j := i
		for j < len(t) && digits < 5 {
			c := t[j]
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			v = v<<4 | d
			digits++
			j++
		}
		if j < len(t) && t[j] == '.' {
			if k > 12 || !parseIPv4(t[i:], out[k:k+4]) {
				return false
			}
			k += 4
			i = len(t)
			break
		}
		if digits == 0 || digits > 4 {
			return false
		}
		out[k], out[k+1] = byte(v>>8), byte(v)
		k += 2
		i = j
		if i == len(t) {
			break
		}
		if t[i] != ':' {
			return false
		}
		i++
		if i < len(t) && t[i] == ':' {
			if ellipsis >= 0 {
				return false
			}
			ellipsis = k
			i++
			if i == len(t) {
				break
			}
		} else if i == len(t) {
			return false // trailing single colon
		}
	}
	if i != len(t) {
		return false
	}
	if k < 16 {
		if ellipsis < 0 {
			return false
		}
		n := 16 - k
		copy(out[ellipsis+n:], out[ellipsis:k])
		clear(out[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		// "::" must stand for at least one group.
		return false
	}
	*dst = out
	return true
}

// interner numbers the distinct values of a LowCardinality column in the
// column's table, so that appending a repeated value costs a lookup and a
// uint32, and allocates nothing. Flow log strings (accounts, ENIs, subnets,
// AZs, services) repeat heavily. Position 0 is "", the column default.
//
// A value is checked against the column's previous value, then against a
// small direct-mapped cache hashed from its last eight bytes (where ids
// differ), and only then looked up in the map: most lookups are of the
// few ENIs, subnets and instances of a file, and the cache answers them
// for a fraction of the cost of hashing the whole string.
type interner struct {
	last    uint32
	lastVal string
	slots   *[internSlots]uint32 // position + 1; 0 is empty
	m       map[string]uint32
}

const internSlots = 4096

// maxInterned bounds an interner's memory on high-cardinality columns
// (ECS container ids, say): past it the table starts over, between blocks
// (Batch.Reset), as rows of the current block refer to it.
const maxInterned = 1 << 16

// reset starts the table of c over.
func (in *interner) reset(c *store.LowCardinalityRefs) {
	c.Table = append(c.Table[:0], "")
	if in.m == nil {
		in.m = make(map[string]uint32, 256)
	}
	clear(in.m)
	in.m[""] = 0
	in.last, in.lastVal = 0, ""
	if in.slots != nil {
		clear(in.slots[:])
	}
}

// intern returns the position of t in c's table, adding it when new.
func (in *interner) intern(c *store.LowCardinalityRefs, t []byte) uint32 {
	if string(t) == in.lastVal {
		return in.last
	}
	if in.slots == nil { // columns that only ever see one value skip it
		in.slots = new([internSlots]uint32)
	}
	slot := &in.slots[internHash(t)]
	if k := *slot; k != 0 && string(t) == c.Table[k-1] {
		in.last, in.lastVal = k-1, c.Table[k-1]
		return k - 1
	}
	k, ok := in.m[string(t)] // no allocation: the compiler special-cases this lookup
	if !ok {
		s := string(t)
		k = uint32(len(c.Table))
		c.Table = append(c.Table, s)
		in.m[s] = k
	}
	*slot = k + 1
	in.last, in.lastVal = k, c.Table[k]
	return k
}

// internHash hashes the last eight bytes of t (fewer if shorter) and its
// length to a slot.
func internHash(t []byte) uint16 {
	var x uint64
	if n := len(t); n >= 8 {
		x = binary.LittleEndian.Uint64(t[n-8:])
	} else {
		for _, c := range t {
			x = x<<8 | uint64(c)
		}
	}
	return uint16((x ^ uint64(len(t))) * 0x9e3779b97f4a7c15 >> 52)
}
