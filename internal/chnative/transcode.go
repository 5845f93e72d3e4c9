// Package chnative rewrites the Native format the embedded engine writes
// into the Native format a ClickHouse server sends an HTTP client for its
// client_protocol_version.
//
// chDB writes Native blocks as for protocol revision 0: no BlockInfo, no
// serialization-kind byte. A server answering clickhouse-go (which sends
// client_protocol_version=54460 and decodes with it) writes, per block,
// the BlockInfo fields when the revision is above 0, and after each
// column's type a byte saying whether the column uses a custom (sparse)
// serialization from revision 54454 (DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION).
// Everything else is the same bytes. Inserting those bytes needs to know
// where each column's data ends, so the transcoder walks the data of every
// type it can store and copies it through unchanged.
//
// Written by hand because it is on the result path of every Native query:
// it copies bytes, never decodes values.
package chnative

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Protocol revisions that change a Native block (ClickHouse's
// ProtocolDefines.h).
const (
	// RevisionCustomSerialization adds the serialization-kind byte.
	RevisionCustomSerialization = 54454
)

// ErrUnsupportedType is wrapped by the error for a column whose type has a
// layout the transcoder does not walk (Variant, Dynamic, JSON,
// AggregateFunction states): ask for another format.
var ErrUnsupportedType = errors.New("type not supported in the Native format here; select it as String or use another format")

// Limits against hostile or corrupt input: a block cannot claim more
// columns, rows or bytes than this.
const (
	maxColumns   = 1 << 16
	maxRows      = 1 << 32
	maxStringLen = 1 << 30
	maxNameLen   = 1 << 20
)

// Transcode copies the Native stream src, written for revision 0, to dst
// as written for revision. It returns the number of rows copied.
func Transcode(dst io.Writer, src io.Reader, revision uint64) (int64, error) {
	bw := bufio.NewWriterSize(dst, 64<<10)
	e := &echo{r: bufio.NewReaderSize(src, 64<<10), w: bw}
	var rows int64
	for {
		if _, err := e.r.Peek(1); err == io.EOF {
			break
		} else if err != nil {
			return rows, err
		}
		n, err := e.block(revision)
		rows += n
		if err != nil {
			return rows, err
		}
	}
	return rows, bw.Flush()
}

// echo reads the input and writes what it reads to the output.
type echo struct {
	r *bufio.Reader
	w *bufio.Writer
}

var errTruncated = errors.New("truncated Native block")

func (e *echo) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(e.r)
	if err != nil {
		return 0, truncated(err)
	}
	var buf [binary.MaxVarintLen64]byte
	_, _ = e.w.Write(buf[:binary.PutUvarint(buf[:], v)])
	return v, nil
}

func (e *echo) uint64() (uint64, error) {
	var b [8]byte
	if _, err := io.ReadFull(e.r, b[:]); err != nil {
		return 0, truncated(err)
	}
	_, _ = e.w.Write(b[:])
	return binary.LittleEndian.Uint64(b[:]), nil
}

// copyN copies n bytes.
func (e *echo) copyN(n uint64) error {
	if n > math.MaxInt64 {
		return errTruncated
	}
	_, err := io.CopyN(e.w, e.r, int64(n))
	return truncated(err)
}

// offsets copies n little-endian UInt64s and returns the last one.
func (e *echo) offsets(n uint64) (uint64, error) {
	if n == 0 {
		return 0, nil
	}
	if err := e.copyN((n - 1) * 8); err != nil {
		return 0, err
	}
	return e.uint64()
}

func (e *echo) str() (string, error) {
	n, err := e.uvarint()
	if err != nil {
		return "", err
	}
	if n > maxNameLen {
		return "", fmt.Errorf("a column name or type of %d bytes in a Native block: corrupt", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(e.r, b); err != nil {
		return "", truncated(err)
	}
	_, _ = e.w.Write(b)
	return string(b), nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTruncated
	}
	return err
}

// blockInfo is BlockInfo as a server writes it for a result block: field
// 1 is_overflows = false, field 2 bucket_num = -1, then the end mark.
var blockInfo = []byte{1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0}

func (e *echo) block(revision uint64) (int64, error) {
	if revision > 0 {
		_, _ = e.w.Write(blockInfo)
	}
	cols, err := e.uvarint()
	if err != nil {
		return 0, err
	}
	rows, err := e.uvarint()
	if err != nil {
		return 0, err
	}
	if cols > maxColumns || rows > maxRows {
		return 0, fmt.Errorf("a Native block of %d columns and %d rows: corrupt", cols, rows)
	}
	for c := uint64(0); c < cols; c++ {
		if _, err := e.str(); err != nil { // name
			return 0, err
		}
		name, err := e.str()
		if err != nil {
			return 0, err
		}
		t, err := parseType(name)
		if err != nil {
			return 0, err
		}
		if revision >= RevisionCustomSerialization {
			_ = e.w.WriteByte(0) // default serialization: chDB writes sparse columns in full
		}
		if rows == 0 {
			continue
		}
		if err := e.prefix(t); err != nil {
			return 0, err
		}
		if err := e.data(t, rows); err != nil {
			return 0, fmt.Errorf("column %d (%s): %w", c+1, name, err)
		}
	}
	return int64(rows), nil
}

// prefix copies the serialization state prefixes of t, which come before
// any data of the column: only LowCardinality has one (its key version).
func (e *echo) prefix(t *typ) error {
	if t.name == "LowCardinality" {
		v, err := e.uint64()
		if err != nil {
			return err
		}
		if v != 1 { // SharedDictionariesWithAdditionalKeys
			return fmt.Errorf("LowCardinality key version %d: corrupt", v)
		}
		return nil
	}
	for _, s := range t.sub {
		if err := e.prefix(s); err != nil {
			return err
		}
	}
	return nil
}

// data copies rows values of t.
func (e *echo) data(t *typ, rows uint64) error {
	if t.size > 0 {
		if rows > math.MaxInt64/uint64(t.size) {
			return errTruncated
		}
		return e.copyN(rows * uint64(t.size))
	}
	switch t.name {
	case "String":
		for i := uint64(0); i < rows; i++ {
			n, err := e.uvarint()
			if err != nil {
				return err
			}
			if n > maxStringLen {
				return fmt.Errorf("string of %d bytes: corrupt", n)
			}
			if err := e.copyN(n); err != nil {
				return err
			}
		}
		return nil
	case "Nothing":
		return e.copyN(rows)
	case "Nullable":
		if err := e.copyN(rows); err != nil { // null map
			return err
		}
		return e.data(t.sub[0], rows)
	case "Array":
		total, err := e.offsets(rows)
		if err != nil {
			return err
		}
		if total > maxRows*16 {
			return fmt.Errorf("array of %d elements: corrupt", total)
		}
		return e.data(t.sub[0], total)
	case "Tuple":
		for _, s := range t.sub {
			if err := e.data(s, rows); err != nil {
				return err
			}
		}
		return nil
	case "LowCardinality":
		return e.lowCardinality(t, rows)
	}
	return fmt.Errorf("%w: %s", ErrUnsupportedType, t.name)
}

// LowCardinality index flags (SerializationLowCardinality.cpp).
const (
	lcKeyTypeMask      = 0xff
	lcNeedGlobalDict   = 1 << 8
	lcHasAdditionalKey = 1 << 9
)

// lowCardinality copies portions until rows indexes are copied: each has
// its index type, its own keys, and its indexes.
func (e *echo) lowCardinality(t *typ, rows uint64) error {
	dict := t.sub[0]
	if dict.name == "Nullable" {
		dict = dict.sub[0] // the dictionary holds the null as its first key
	}
	for rows > 0 {
		flags, err := e.uint64()
		if err != nil {
			return err
		}
		if flags&lcNeedGlobalDict != 0 {
			return fmt.Errorf("%w: LowCardinality with a global dictionary", ErrUnsupportedType)
		}
		keyType := flags & lcKeyTypeMask
		if keyType > 3 {
			return fmt.Errorf("LowCardinality index type %d: corrupt", keyType)
		}
		if flags&lcHasAdditionalKey != 0 {
			keys, err := e.uint64()
			if err != nil {
				return err
			}
			if keys > maxRows {
				return fmt.Errorf("LowCardinality dictionary of %d keys: corrupt", keys)
			}
			if err := e.data(dict, keys); err != nil {
				return err
			}
		}
		n, err := e.uint64()
		if err != nil {
			return err
		}
		if n == 0 || n > rows {
			return fmt.Errorf("LowCardinality portion of %d rows where %d remain: corrupt", n, rows)
		}
		if err := e.copyN(n << keyType); err != nil {
			return err
		}
		rows -= n
	}
	return nil
}
