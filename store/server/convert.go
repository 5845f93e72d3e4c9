package server

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// rowReader is the read side every ch-go column shares: Row has a value
// receiver on all of them, so both proto.ColUInt32{} and &proto.ColUInt32{}
// match.
type rowReader[T any] interface {
	Rows() int
	Row(i int) T
}

// converter turns one ch-go column into the slice clickhouse-go's
// batch.Column(i).Append accepts, or reports ok=false when the column is not
// of its type.
type converter func(c proto.ColInput) (v any, ok bool)

// converters lists the column types Insert can send. A ch-go column is
// matched by the Go type its Row method returns, so one entry covers several
// ClickHouse types (time.Time: Date, Date32, DateTime, DateTime64; string:
// String and LowCardinality(String)). Each scalar comes with its Nullable and
// Array forms.
var converters = concat(
	family(same[uint8]),
	family(same[uint16]),
	family(same[uint32]),
	family(same[uint64]),
	family(same[int8]),
	family(same[int16]),
	family(same[int32]),
	family(same[int64]),
	family(same[float32]),
	family(same[float64]),
	family(same[string]),
	family(same[bool]),
	family(same[time.Time]),
	// clickhouse-go's IPv4 column takes netip.Addr, not ch-go's uint32 form.
	family(func(v proto.IPv4) netip.Addr { return v.ToIP() }),
	// ch-go's IPv6 ([16]byte) is accepted as is.
	family(same[proto.IPv6]),
)

// same is the identity conversion, for types clickhouse-go takes as they are.
func same[T any](v T) T { return v }

// family returns the converters for a scalar column, its Nullable form (as
// []*U, nil for NULL) and its Array form (as [][]U).
func family[T, U any](conv func(T) U) []converter {
	return []converter{
		convertRows(conv),
		convertRows(func(v proto.Nullable[T]) *U {
			if !v.Set {
				return nil
			}
			u := conv(v.Value)
			return &u
		}),
		convertRows(func(v []T) []U {
			out := make([]U, len(v))
			for i := range v {
				out[i] = conv(v[i])
			}
			return out
		}),
	}
}

// convertRows builds a converter for columns whose rows are T.
func convertRows[T, U any](conv func(T) U) converter {
	return func(c proto.ColInput) (any, bool) {
		col, ok := c.(rowReader[T])
		if !ok {
			return nil, false
		}
		out := make([]U, col.Rows())
		for i := range out {
			out[i] = conv(col.Row(i))
		}
		return out, true
	}
}

func concat(groups ...[]converter) []converter {
	var all []converter
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// appendValue converts one ch-go column for clickhouse-go. Row methods of
// some columns panic on a malformed column (ColDateTime64 without a
// precision); that becomes an error rather than a crash of the caller.
func appendValue(c proto.ColInput) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read %s column: %v", c.Type(), r)
		}
	}()
	if d, ok := c.(*store.DefaultColumn); ok {
		// The native protocol of clickhouse-go takes rows: a default
		// column becomes an ordinary one here.
		if c, err = d.Materialize(); err != nil {
			return nil, err
		}
	}
	for _, conv := range converters {
		if v, ok := conv(c); ok {
			return v, nil
		}
	}
	return nil, fmt.Errorf("unsupported column %T (ClickHouse type %s): store/server converts integers, floats, String, LowCardinality(String), Bool, Date, DateTime, DateTime64, IPv4, IPv6, their Nullable and Array forms", c, c.Type())
}
