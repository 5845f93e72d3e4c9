package usage

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds arbitrary bodies to the decoder and the rollup, in both
// protocols, compressed or not: no panic, only the decoding errors the
// handler maps to 4xx, and rows that stay finite and non-negative.
func FuzzDecode(f *testing.F) {
	series := []ts{
		cpu("c", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 50}, pt{at(11, 0, 30, 0), 80}),
		mem("c", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 1e6}, pt{at(10, 0, 30, 0), 2e6}),
		mem("c", "shop", "web-1", "POD", pt{at(10, 0, 0, 0), 1e6}),
	}
	v1, v2 := encodeV1(f, series), encodeV2(f, series)
	raw1, _ := snappy.Decode(nil, v1)
	raw2, _ := snappy.Decode(nil, v2)
	f.Add(v1, false, true)
	f.Add(v2, true, true)
	f.Add(raw1, false, false)
	f.Add(raw2, true, false)
	f.Add([]byte{0x2a, 0x04, 0x0a, 0x02, 0x08, 0x07}, true, false)
	f.Add([]byte("not snappy"), false, true)
	f.Fuzz(func(t *testing.T, body []byte, isV2, compressed bool) {
		p := protocol(1)
		if isV2 {
			p = 2
		}
		raw := body
		if compressed {
			var err error
			raw, err = decompress(body, nil, 1<<20)
			if err != nil {
				require.True(t, errors.Is(err, errNotSnappy) || errors.Is(err, errTooLarge), "%v", err)
				return
			}
		}
		ss, err := decode(p, raw)
		if err != nil {
			require.True(t, errors.Is(err, errNotProtobuf) || errors.Is(err, errInvalid), "%v", err)
			return
		}
		cfg := DefaultConfiguration()
		cfg.DefaultCluster = "fuzz"
		st := newState()
		clock := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		for round := 0; round < 2; round++ { // twice: the second sees the first's state
			b := newBatch(&cfg, &st, clock)
			for i := range ss {
				b.add(&ss[i])
			}
			require.LessOrEqual(t, b.keptCPU+b.keptMemory, b.received)
			for k, r := range b.rows {
				require.Zero(t, k.hour%hourMillis)
				for _, v := range []float64{r.cpu, r.memSum} {
					require.False(t, math.IsNaN(v) || math.IsInf(v, 0) || v < 0, "row %v: %v", k, r)
				}
			}
			_, token := b.block(b.sortedRows())
			require.NotEmpty(t, token)
			b.commit()
		}
	})
}
