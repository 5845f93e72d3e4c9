package store

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/internal/posmemo"
)

// lcEncoder is the encoding side shared by the LowCardinality(String)
// columns: Prepare fills raw, and Native encoding writes it.
type lcEncoder struct {
	raw proto.ColLowCardinalityRaw
}

// Type implements proto.ColInput.
func (lcEncoder) Type() proto.ColumnType {
	return proto.ColumnTypeLowCardinality.Sub(proto.ColumnTypeString)
}

// EncodeState implements proto.StateEncoder.
func (e *lcEncoder) EncodeState(b *proto.Buffer) { e.raw.EncodeState(b) }

// EncodeColumn implements proto.ColInput; Prepare must have run first (the
// Native encoders of ch-go and store/embedded call it).
func (e *lcEncoder) EncodeColumn(b *proto.Buffer) { e.raw.EncodeColumn(b) }

// WriteColumn implements proto.ColInput for ch-go's streaming writer.
func (e *lcEncoder) WriteColumn(w *proto.Writer) { e.raw.WriteColumn(w) }

// narrowKeys sets raw to index and keys, in the narrowest key width that
// fits the dictionary.
func narrowKeys(raw *proto.ColLowCardinalityRaw, index *proto.ColStr, keys []uint32) {
	raw.Index = index
	n := index.Rows()
	raw.Keys8, raw.Keys16, raw.Keys32 = raw.Keys8[:0], raw.Keys16[:0], raw.Keys32[:0]
	switch {
	case n <= math.MaxUint8+1:
		raw.Key = proto.KeyUInt8
		for _, k := range keys {
			raw.Keys8 = append(raw.Keys8, uint8(k))
		}
	case n <= math.MaxUint16+1:
		raw.Key = proto.KeyUInt16
		for _, k := range keys {
			raw.Keys16 = append(raw.Keys16, uint16(k))
		}
	default:
		raw.Key = proto.KeyUInt32
		raw.Keys32 = append(raw.Keys32, keys...)
	}
}

// LowCardinalityStrings is a LowCardinality(String) column over a plain
// []string, like ch-go's ColLowCardinality[string] and a drop-in for it,
// whose dictionary is built faster at encode time. Writers that fill
// columns from interned strings (a parser's interner, an index's
// records) pass the same string again and again: a small cache keyed by
// the string's address answers those without hashing its bytes, which
// made ch-go's Prepare the largest single cost of the flow-log ingest.
type LowCardinalityStrings struct {
	// Values are the rows.
	Values []string

	dict  map[string]uint32
	cache [lcCacheSize]lcCacheEntry
	index proto.ColStr
	keys  []uint32
	lcEncoder
}

const lcCacheSize = 512

type lcCacheEntry struct {
	p   *byte // keeps the string alive while cached
	n   int
	key uint32
	set bool
}

// NewLowCardinalityStrings returns an empty column.
func NewLowCardinalityStrings() *LowCardinalityStrings {
	return &LowCardinalityStrings{dict: map[string]uint32{}}
}

// Append adds a value.
func (c *LowCardinalityStrings) Append(v string) { c.Values = append(c.Values, v) }

// Row returns the value of row i.
func (c *LowCardinalityStrings) Row(i int) string { return c.Values[i] }

// Rows implements proto.ColInput.
func (c *LowCardinalityStrings) Rows() int { return len(c.Values) }

// Reset empties the column, keeping its memory.
func (c *LowCardinalityStrings) Reset() { c.Values = c.Values[:0] }

// Prepare builds the dictionary (values in order of first appearance, as
// ch-go does) and the narrowest keys.
func (c *LowCardinalityStrings) Prepare() error {
	if c.dict == nil {
		c.dict = map[string]uint32{}
	}
	clear(c.dict)
	c.cache = [lcCacheSize]lcCacheEntry{}
	c.index.Reset()
	c.keys = c.keys[:0]
	for _, v := range c.Values {
		c.keys = append(c.keys, c.key(v))
	}
	narrowKeys(&c.raw, &c.index, c.keys)
	return nil
}

// key returns v's dictionary key, adding v when new. The same address and
// length mean the same bytes (strings are immutable, and the cache keeps
// the address alive), so a cache hit needs no hashing.
func (c *LowCardinalityStrings) key(v string) uint32 {
	p := unsafe.StringData(v)
	e := &c.cache[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(v)))&(lcCacheSize-1)]
	if e.set && e.p == p && e.n == len(v) {
		return e.key
	}
	k, ok := c.dict[v]
	if !ok {
		k = uint32(c.index.Rows())
		c.index.Append(v)
		c.dict[v] = k
	}
	*e = lcCacheEntry{p: p, n: len(v), key: k, set: true}
	return k
}

var _ proto.ColInput = (*LowCardinalityStrings)(nil)

// LowCardinalityRefs is a LowCardinality(String) column given as a table of
// values and, per row, a position in that table (a ref). It suits writers
// that already keep their values in a table, such as a parser's interner or
// the distinct ends of a block of flows: a row costs a uint32 instead of a
// string, several columns can share one Refs slice over different tables,
// and Prepare turns refs into dictionary keys with an array lookup per row,
// hashing each distinct position once per block.
//
// The table may hold values no row uses and the same value at several
// positions; the dictionary sent has each used value once, in order of first
// appearance, as ch-go's own column does. Reset empties Refs and leaves the
// table to the writer.
type LowCardinalityRefs struct {
	// Table holds the values.
	Table []string
	// Refs are the rows: positions in Table.
	Refs []uint32
	// Dense says that the rows use every position of Table and use them
	// first in position order, as when a writer appends a value to the
	// table on its first use. Prepare then keys the table and maps the
	// rows in one pass, instead of checking each row for a new position.
	Dense bool

	dict  map[string]uint32
	key   posmemo.Memo[uint32] // per table position: its dictionary key
	keys  []uint32
	index proto.ColStr
	lcEncoder
}

// Row returns the value of row i.
func (c *LowCardinalityRefs) Row(i int) string { return c.Table[c.Refs[i]] }

// Rows implements proto.ColInput.
func (c *LowCardinalityRefs) Rows() int { return len(c.Refs) }

// Reset empties the rows, keeping the table and the memory.
func (c *LowCardinalityRefs) Reset() { c.Refs = c.Refs[:0] }

// Prepare builds the dictionary and the narrowest keys.
func (c *LowCardinalityRefs) Prepare() error {
	if c.dict == nil {
		c.dict = map[string]uint32{}
	}
	clear(c.dict)
	c.index.Reset()
	c.keys = c.keys[:0]
	if c.Dense {
		c.prepareDense()
		return nil
	}
	c.key.Begin(len(c.Table))
	for _, r := range c.Refs {
		k, ok := c.key.Get(r)
		if !ok {
			k = c.dictKey(c.Table[r])
			c.key.Set(r, k)
		}
		c.keys = append(c.keys, k)
	}
	narrowKeys(&c.raw, &c.index, c.keys)
	return nil
}

// prepareDense keys each table position (in c.keys, by position), then
// maps the rows straight to the narrowest keys.
func (c *LowCardinalityRefs) prepareDense() {
	for _, v := range c.Table {
		c.keys = append(c.keys, c.dictKey(v))
	}
	raw := &c.raw
	raw.Index = &c.index
	raw.Keys8, raw.Keys16, raw.Keys32 = raw.Keys8[:0], raw.Keys16[:0], raw.Keys32[:0]
	key := c.keys
	switch n := c.index.Rows(); {
	case n <= math.MaxUint8+1:
		raw.Key = proto.KeyUInt8
		for _, r := range c.Refs {
			raw.Keys8 = append(raw.Keys8, uint8(key[r]))
		}
	case n <= math.MaxUint16+1:
		raw.Key = proto.KeyUInt16
		for _, r := range c.Refs {
			raw.Keys16 = append(raw.Keys16, uint16(key[r]))
		}
	default:
		raw.Key = proto.KeyUInt32
		for _, r := range c.Refs {
			raw.Keys32 = append(raw.Keys32, key[r])
		}
	}
}

var _ proto.ColInput = (*LowCardinalityRefs)(nil)

// dictKey returns v's key in the dictionary, adding v when new.
func (c *LowCardinalityRefs) dictKey(v string) uint32 {
	k, ok := c.dict[v]
	if !ok {
		k = uint32(c.index.Rows())
		c.index.Append(v)
		c.dict[v] = k
	}
	return k
}

// StringRefs is a String column given, like LowCardinalityRefs, as a table
// of values and a position per row. Prepare encodes each used value once;
// encoding a row is then a copy of its encoded bytes.
type StringRefs struct {
	// Table holds the values.
	Table []string
	// Refs are the rows: positions in Table.
	Refs []uint32

	span posmemo.Memo[[2]uint32] // per table position: its encoding in enc
	enc  []byte
}

// Row returns the value of row i.
func (c *StringRefs) Row(i int) string { return c.Table[c.Refs[i]] }

// Rows implements proto.ColInput.
func (c *StringRefs) Rows() int { return len(c.Refs) }

// Reset empties the rows, keeping the table and the memory.
func (c *StringRefs) Reset() { c.Refs = c.Refs[:0] }

// Type implements proto.ColInput.
func (c *StringRefs) Type() proto.ColumnType { return proto.ColumnTypeString }

// Prepare encodes the values the rows use.
func (c *StringRefs) Prepare() error {
	c.enc = c.enc[:0]
	c.span.Begin(len(c.Table))
	for _, r := range c.Refs {
		if _, ok := c.span.Get(r); !ok {
			from := uint32(len(c.enc))
			v := c.Table[r]
			c.enc = binary.AppendUvarint(c.enc, uint64(len(v)))
			c.enc = append(c.enc, v...)
			c.span.Set(r, [2]uint32{from, uint32(len(c.enc))})
		}
	}
	return nil
}

// encoded returns the encoding of position r; Prepare must have run.
func (c *StringRefs) encoded(r uint32) []byte {
	sp, _ := c.span.Get(r)
	return c.enc[sp[0]:sp[1]]
}

// EncodeColumn implements proto.ColInput; Prepare must have run first.
func (c *StringRefs) EncodeColumn(b *proto.Buffer) {
	for _, r := range c.Refs {
		b.Buf = append(b.Buf, c.encoded(r)...)
	}
}

// WriteColumn implements proto.ColInput for ch-go's streaming writer.
func (c *StringRefs) WriteColumn(w *proto.Writer) { w.ChainBuffer(c.EncodeColumn) }

var _ proto.ColInput = (*StringRefs)(nil)
