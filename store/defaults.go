package store

import (
	"fmt"
	"slices"

	"github.com/ClickHouse/ch-go/proto"
)

// DefaultColumn is a column of N rows that all hold the default value of
// Type (0, "", "::", 1970-01-01). It encodes in Native format without a
// per-row value in memory: a stream whose blocks must all carry the same
// columns sends it for a column no record of a block sets, where the
// parser keeps nothing. Types: integers, floats, Date, DateTime, IPv4,
// IPv6, String and LowCardinality(String).
type DefaultColumn struct {
	// Typ is the ClickHouse type of the column.
	Typ proto.ColumnType
	// N is the number of rows.
	N int
	// keys are the N zero keys of a LowCardinality column (1 byte a row),
	// kept from block to block.
	keys  []uint8
	index proto.ColStr
	raw   proto.ColLowCardinalityRaw
}

// defaultWidths are the Native widths of the fixed-size types whose
// default is all zero bytes.
var defaultWidths = map[proto.ColumnType]int{
	proto.ColumnTypeUInt8: 1, proto.ColumnTypeInt8: 1, proto.ColumnTypeBool: 1,
	proto.ColumnTypeUInt16: 2, proto.ColumnTypeInt16: 2, proto.ColumnTypeDate: 2,
	proto.ColumnTypeUInt32: 4, proto.ColumnTypeInt32: 4, proto.ColumnTypeFloat32: 4,
	proto.ColumnTypeDateTime: 4, proto.ColumnTypeIPv4: 4, proto.ColumnTypeDate32: 4,
	proto.ColumnTypeUInt64: 8, proto.ColumnTypeInt64: 8, proto.ColumnTypeFloat64: 8,
	proto.ColumnTypeIPv6: 16,
}

var lcString = proto.ColumnTypeLowCardinality.Sub(proto.ColumnTypeString)

// DefaultSupported reports whether DefaultColumn can encode typ.
func DefaultSupported(typ proto.ColumnType) bool {
	_, fixed := defaultWidths[typ.Base()]
	return fixed || typ == proto.ColumnTypeString || typ == lcString
}

// Type implements proto.ColInput.
func (c *DefaultColumn) Type() proto.ColumnType { return c.Typ }

// Rows implements proto.ColInput.
func (c *DefaultColumn) Rows() int { return c.N }

// Prepare implements proto.Preparable: a LowCardinality column gets its
// one-entry dictionary ("") and its zero keys.
func (c *DefaultColumn) Prepare() error {
	if c.Typ != lcString {
		if !DefaultSupported(c.Typ) {
			return fmt.Errorf("no default column of type %s", c.Typ)
		}
		return nil
	}
	if cap(c.keys) < c.N {
		c.keys = make([]uint8, c.N)
	}
	c.keys = c.keys[:c.N]
	c.index.Reset()
	if c.N > 0 {
		c.index.Append("")
	}
	c.raw = proto.ColLowCardinalityRaw{Index: &c.index, Key: proto.KeyUInt8, Keys8: c.keys}
	return nil
}

// EncodeState implements proto.StateEncoder (LowCardinality only).
func (c *DefaultColumn) EncodeState(b *proto.Buffer) {
	if c.Typ == lcString {
		c.raw.EncodeState(b)
	}
}

// EncodeColumn implements proto.ColInput; Prepare must have run first.
func (c *DefaultColumn) EncodeColumn(b *proto.Buffer) {
	switch {
	case c.Typ == lcString:
		c.raw.EncodeColumn(b)
	case c.Typ == proto.ColumnTypeString:
		zeros(b, c.N) // each row an empty string: a zero length
	default:
		zeros(b, c.N*defaultWidths[c.Typ.Base()])
	}
}

// WriteColumn implements proto.ColInput for ch-go's streaming writer.
func (c *DefaultColumn) WriteColumn(w *proto.Writer) { w.ChainBuffer(c.EncodeColumn) }

// zeros appends n zero bytes to b.
func zeros(b *proto.Buffer, n int) {
	l := len(b.Buf)
	b.Buf = slices.Grow(b.Buf, n)[:l+n]
	clear(b.Buf[l:])
}

// Materialize returns the column as an ordinary ch-go column of N default
// values, for a backend that sends rows rather than Native bytes.
func (c *DefaultColumn) Materialize() (proto.ColInput, error) {
	n := c.N
	switch c.Typ.Base() {
	case proto.ColumnTypeUInt8:
		return ptr(proto.ColUInt8(make([]uint8, n))), nil
	case proto.ColumnTypeUInt16:
		return ptr(proto.ColUInt16(make([]uint16, n))), nil
	case proto.ColumnTypeUInt32:
		return ptr(proto.ColUInt32(make([]uint32, n))), nil
	case proto.ColumnTypeUInt64:
		return ptr(proto.ColUInt64(make([]uint64, n))), nil
	case proto.ColumnTypeInt8:
		return ptr(proto.ColInt8(make([]int8, n))), nil
	case proto.ColumnTypeInt16:
		return ptr(proto.ColInt16(make([]int16, n))), nil
	case proto.ColumnTypeInt32:
		return ptr(proto.ColInt32(make([]int32, n))), nil
	case proto.ColumnTypeInt64:
		return ptr(proto.ColInt64(make([]int64, n))), nil
	case proto.ColumnTypeFloat32:
		return ptr(proto.ColFloat32(make([]float32, n))), nil
	case proto.ColumnTypeFloat64:
		return ptr(proto.ColFloat64(make([]float64, n))), nil
	case proto.ColumnTypeBool:
		return ptr(proto.ColBool(make([]bool, n))), nil
	case proto.ColumnTypeDate:
		return ptr(proto.ColDate(make([]proto.Date, n))), nil
	case proto.ColumnTypeDate32:
		return ptr(proto.ColDate32(make([]proto.Date32, n))), nil
	case proto.ColumnTypeDateTime:
		return &proto.ColDateTime{Data: make([]proto.DateTime, n)}, nil
	case proto.ColumnTypeIPv4:
		return ptr(proto.ColIPv4(make([]proto.IPv4, n))), nil
	case proto.ColumnTypeIPv6:
		return ptr(proto.ColIPv6(make([]proto.IPv6, n))), nil
	case proto.ColumnTypeString:
		var s proto.ColStr
		for range n {
			s.Append("")
		}
		return &s, nil
	}
	if c.Typ == lcString {
		return &LowCardinalityRefs{Table: []string{""}, Refs: make([]uint32, n)}, nil
	}
	return nil, fmt.Errorf("no default column of type %s", c.Typ)
}

func ptr[T any](v T) *T { return &v }

var _ proto.ColInput = (*DefaultColumn)(nil)

// StreamColumns is the column set of an INSERT stream, fixed by its first
// block: the engine reads every block of one INSERT with the same header.
type StreamColumns struct {
	names []string
	types []proto.ColumnType
	pos   map[string]int
	// fill holds the default columns Conform sends for the columns a block
	// lacks, reused from block to block.
	fill []DefaultColumn
	out  proto.Input
}

// NewStreamColumns fixes the stream's columns to those of b.
func NewStreamColumns(b Block) *StreamColumns {
	s := &StreamColumns{pos: make(map[string]int, len(b.Columns)), fill: make([]DefaultColumn, len(b.Columns))}
	for i, c := range b.Columns {
		s.names = append(s.names, c.Name)
		s.types = append(s.types, c.Data.Type())
		s.pos[c.Name] = i
	}
	return s
}

// Names are the stream's column names, in order.
func (s *StreamColumns) Names() []string { return s.names }

// Conform returns b with the stream's columns in the stream's order: a
// column b lacks is sent as its default (as the table would fill a column
// an INSERT omits), so that which columns a block carries need not depend
// on which records it holds. A column the stream does not have, or of
// another type, is a permanent error: the stream's header cannot change
// after its first block. The result aliases b and s until the next call.
func (s *StreamColumns) Conform(b Block) (Block, error) {
	if s.same(b) {
		return b, nil
	}
	s.out = s.out[:0]
	for range s.names {
		s.out = append(s.out, proto.InputColumn{})
	}
	set := make([]bool, len(s.names))
	rows := b.Rows()
	for _, c := range b.Columns {
		i, ok := s.pos[c.Name]
		if !ok {
			return Block{}, MarkPermanent(fmt.Errorf("block has column %q, which the stream's first block did not declare: a stream's columns are fixed at its start, so send every column from the first block on (a default column costs no memory, see store.DefaultColumn)", c.Name))
		}
		if t := c.Data.Type(); t != s.types[i] {
			return Block{}, MarkPermanent(fmt.Errorf("column %q is %s in this block, %s in the stream", c.Name, t, s.types[i]))
		}
		s.out[i], set[i] = c, true
	}
	for i, ok := range set {
		if ok {
			continue
		}
		if !DefaultSupported(s.types[i]) {
			return Block{}, MarkPermanent(fmt.Errorf("block lacks column %q (%s), which has no default encoding: send it in every block of the stream", s.names[i], s.types[i]))
		}
		d := &s.fill[i]
		d.Typ, d.N = s.types[i], rows
		s.out[i] = proto.InputColumn{Name: s.names[i], Data: d}
	}
	return Block{Columns: s.out}, nil
}

// same reports whether b has exactly the stream's columns, in order.
func (s *StreamColumns) same(b Block) bool {
	if len(b.Columns) != len(s.names) {
		return false
	}
	for i, c := range b.Columns {
		if c.Name != s.names[i] {
			return false
		}
	}
	return true
}
