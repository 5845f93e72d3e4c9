package store

import (
	"fmt"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"
)

// TestLowCardinalityStringsEncodesLikeChGo: same bytes as ch-go's column
// for each key width, with values shared (the address cache hits),
// copied (equal bytes at other addresses), empty, and a column reused.
func TestLowCardinalityStringsEncodesLikeChGo(t *testing.T) {
	for _, distinct := range []int{1, 200, 300, 70000} {
		t.Run(fmt.Sprint(distinct), func(t *testing.T) {
			shared := make([]string, distinct)
			for i := range shared {
				shared[i] = fmt.Sprintf("v%d", i)
			}
			ours := NewLowCardinalityStrings()
			for round := range 2 {
				ref := proto.NewLowCardinality[string](new(proto.ColStr))
				ours.Reset()
				for i := 0; i < 3*distinct; i++ {
					v := shared[(i*7+round)%distinct]
					switch i % 3 {
					case 1:
						v = string([]byte(v)) // same bytes, another address
					case 2:
						if i%5 == 0 {
							v = ""
						}
					}
					ours.Append(v)
					ref.Append(v)
				}
				require.Equal(t, ref.Rows(), ours.Rows())
				require.Equal(t, encodeLC(t, ref), encodeLC(t, ours), "round %d", round)
				require.Equal(t, ref.Type(), ours.Type())
			}
		})
	}
}

// encodeLC prepares and encodes a LowCardinality column as Native does.
func encodeLC(t *testing.T, col proto.ColInput) []byte {
	t.Helper()
	var b proto.Buffer
	require.NoError(t, col.(proto.Preparable).Prepare())
	col.(proto.StateEncoder).EncodeState(&b)
	col.EncodeColumn(&b)
	return b.Buf
}

// TestRefsColumnsEncodeLikeChGo: the ref columns give the same bytes as
// ch-go's LowCardinality and String columns for each key width, with a
// table that repeats values and holds unused ones, one Refs slice shared by
// two columns, and the columns reused over a changed table.
func TestRefsColumnsEncodeLikeChGo(t *testing.T) {
	for _, distinct := range []int{1, 200, 300, 70000} {
		t.Run(fmt.Sprint(distinct), func(t *testing.T) {
			lc, other, str := &LowCardinalityRefs{}, &LowCardinalityRefs{}, &StringRefs{}
			for round := range 3 {
				// Two positions per value (a repeat), then unused values.
				var table, upper []string
				for i := range 2*distinct + 5 {
					v := fmt.Sprintf("r%d-v%d", round, i%distinct)
					if i >= 2*distinct {
						v = fmt.Sprintf("unused%d", i)
					}
					table = append(table, v)
					upper = append(upper, "U"+v)
				}
				refs := make([]uint32, 0, 3*distinct)
				ref := proto.NewLowCardinality[string](new(proto.ColStr))
				refUpper := proto.NewLowCardinality[string](new(proto.ColStr))
				var refStr proto.ColStr
				for i := range 3 * distinct {
					r := uint32((i*7 + round) % (2 * distinct))
					refs = append(refs, r)
					ref.Append(table[r])
					refUpper.Append(upper[r])
					refStr.Append(table[r])
				}
				lc.Reset()
				other.Reset()
				str.Reset()
				lc.Table, lc.Refs = table, refs
				other.Table, other.Refs = upper, refs
				str.Table, str.Refs = table, refs
				require.Equal(t, ref.Rows(), lc.Rows())
				require.Equal(t, ref.Row(5%ref.Rows()), lc.Row(5%ref.Rows()))
				require.Equal(t, encodeLC(t, ref), encodeLC(t, lc), "round %d", round)
				require.Equal(t, encodeLC(t, refUpper), encodeLC(t, other), "round %d", round)
				require.Equal(t, ref.Type(), lc.Type())

				var want, got proto.Buffer
				refStr.EncodeColumn(&want)
				require.NoError(t, str.Prepare())
				str.EncodeColumn(&got)
				require.Equal(t, want.Buf, got.Buf, "round %d", round)
				require.Equal(t, refStr.Type(), str.Type())
				require.Equal(t, refStr.Row(3%refStr.Rows()), str.Row(3%refStr.Rows()))
			}
		})
	}
}

// TestLowCardinalityRefsDense: a dense table (each position used, first in
// position order) encodes like ch-go's column, with repeated values, for
// each key width, and the column goes back to the sparse path after.
func TestLowCardinalityRefsDense(t *testing.T) {
	for _, distinct := range []int{1, 200, 300, 70000} {
		t.Run(fmt.Sprint(distinct), func(t *testing.T) {
			c := &LowCardinalityRefs{}
			for round := range 2 {
				var table []string
				var refs []uint32
				ref := proto.NewLowCardinality[string](new(proto.ColStr))
				for i := range 3 * distinct {
					// Every third row takes a new position; values repeat
					// across positions (two positions per value).
					if i%3 == 0 {
						table = append(table, fmt.Sprintf("r%d-v%d", round, len(table)%distinct))
					}
					r := uint32(len(table) - 1 - (i%3)%len(table))
					if i%3 == 1 {
						r = uint32(len(table) - 1)
					}
					refs = append(refs, r)
					ref.Append(table[r])
				}
				c.Reset()
				c.Table, c.Refs, c.Dense = table, refs, true
				require.Equal(t, encodeLC(t, ref), encodeLC(t, c), "dense, round %d", round)
				c.Dense = false
				require.Equal(t, encodeLC(t, ref), encodeLC(t, c), "sparse, round %d", round)
			}
		})
	}
}
