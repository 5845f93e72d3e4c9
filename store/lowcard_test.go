package store

import (
	"fmt"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"
)

// TestLowCardinalityEncodesLikeChGo checks the column encodes byte for byte
// like ch-go's own LowCardinality column, for each key width.
func TestLowCardinalityEncodesLikeChGo(t *testing.T) {
	for _, distinct := range []int{1, 200, 300, 70000} {
		t.Run(fmt.Sprint(distinct), func(t *testing.T) {
			ours := NewLowCardinality()
			ref := proto.NewLowCardinality[string](new(proto.ColStr))
			for i := 0; i < 3*distinct; i++ {
				v := fmt.Sprintf("v%d", (i*7)%distinct)
				if i%2 == 0 {
					ours.Append(v)
				} else {
					ours.AppendBytes([]byte(v))
				}
				ref.Append(v)
			}
			require.Equal(t, ref.Rows(), ours.Rows())
			for i := 0; i < ours.Rows(); i += 97 {
				require.Equal(t, ref.Row(i), ours.Row(i))
			}
			require.Equal(t, encodeLC(t, ref), encodeLC(t, ours))
			require.Equal(t, ref.Type(), ours.Type())
			ours.Reset()
			require.Zero(t, ours.Rows())
		})
	}
}

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
