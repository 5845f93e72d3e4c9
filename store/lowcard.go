package store

import (
	"math"
	"unsafe"

	"github.com/ClickHouse/ch-go/proto"
)

// LowCardinality is a LowCardinality(String) column that builds its
// dictionary while rows are appended. ch-go's ColLowCardinality hashes every
// value again when the block is encoded; on the ingest hot path the
// producer already looks each value up (to avoid allocating a string per
// field), so doing it once here halves the work and leaves encoding a copy
// of small integer keys.
type LowCardinality struct {
	dict  map[string]uint32
	index proto.ColStr
	keys  []uint32
	raw   proto.ColLowCardinalityRaw

	lastKey uint32
	lastVal string
	hasLast bool
}

// NewLowCardinality returns an empty column.
func NewLowCardinality() *LowCardinality {
	return &LowCardinality{dict: map[string]uint32{}}
}

// Append adds a value.
func (c *LowCardinality) Append(v string) {
	if c.hasLast && v == c.lastVal {
		c.keys = append(c.keys, c.lastKey)
		return
	}
	k, ok := c.dict[v]
	if !ok {
		k = c.add(v)
	}
	c.remember(k, v)
}

// AppendBytes adds a value given as bytes; it allocates only for a value
// not yet in the dictionary.
func (c *LowCardinality) AppendBytes(v []byte) {
	if c.hasLast && string(v) == c.lastVal {
		c.keys = append(c.keys, c.lastKey)
		return
	}
	k, ok := c.dict[string(v)] // no allocation: the compiler special-cases this lookup
	var s string
	if !ok {
		s = string(v)
		k = c.add(s)
	} else {
		s = c.index.Row(int(k))
	}
	c.remember(k, s)
}

func (c *LowCardinality) add(v string) uint32 {
	if c.dict == nil {
		c.dict = map[string]uint32{}
	}
	k := uint32(c.index.Rows())
	c.index.Append(v)
	c.dict[v] = k
	return k
}

func (c *LowCardinality) remember(k uint32, v string) {
	c.keys = append(c.keys, k)
	c.lastKey, c.lastVal, c.hasLast = k, v, true
}

// Row returns the value of row i.
func (c *LowCardinality) Row(i int) string { return c.index.Row(int(c.keys[i])) }

// Rows implements proto.ColInput.
func (c *LowCardinality) Rows() int { return len(c.keys) }

// Type implements proto.ColInput.
func (c *LowCardinality) Type() proto.ColumnType {
	return proto.ColumnTypeLowCardinality.Sub(proto.ColumnTypeString)
}

// Reset empties the column, keeping its memory; the dictionary is reset too
// so a column does not grow without bound across batches.
func (c *LowCardinality) Reset() {
	c.keys = c.keys[:0]
	c.index.Reset()
	clear(c.dict)
	c.hasLast = false
}

// Prepare narrows the keys to the smallest width that fits the dictionary.
func (c *LowCardinality) Prepare() error {
	narrowKeys(&c.raw, &c.index, c.keys)
	return nil
}

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

// EncodeState implements proto.StateEncoder.
func (c *LowCardinality) EncodeState(b *proto.Buffer) { c.raw.EncodeState(b) }

// EncodeColumn implements proto.ColInput; Prepare must have run first (the
// Native encoders of ch-go and store/embedded call it).
func (c *LowCardinality) EncodeColumn(b *proto.Buffer) {
	c.raw.EncodeColumn(b)
}

// WriteColumn implements proto.ColInput for ch-go's streaming writer.
func (c *LowCardinality) WriteColumn(w *proto.Writer) {
	c.raw.WriteColumn(w)
}

var _ proto.ColInput = (*LowCardinality)(nil)

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
	raw   proto.ColLowCardinalityRaw
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

// Type implements proto.ColInput.
func (c *LowCardinalityStrings) Type() proto.ColumnType {
	return proto.ColumnTypeLowCardinality.Sub(proto.ColumnTypeString)
}

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

// EncodeState implements proto.StateEncoder.
func (c *LowCardinalityStrings) EncodeState(b *proto.Buffer) { c.raw.EncodeState(b) }

// EncodeColumn implements proto.ColInput; Prepare must have run first.
func (c *LowCardinalityStrings) EncodeColumn(b *proto.Buffer) { c.raw.EncodeColumn(b) }

// WriteColumn implements proto.ColInput for ch-go's streaming writer.
func (c *LowCardinalityStrings) WriteColumn(w *proto.Writer) { c.raw.WriteColumn(w) }

var _ proto.ColInput = (*LowCardinalityStrings)(nil)
