package usage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/store"
)

// Table is the table the receiver writes (migration 0013); read it through
// the view pod_usage, or with sum() GROUP BY.
const Table = "pod_usage_hourly"

// row is one row of pod_usage_hourly.
type row struct {
	rowKey
	rollup
}

// sortedRows returns the batch's rows in key order: the same batch always
// gives the same block and token.
func (b *batch) sortedRows() []row {
	out := make([]row, 0, len(b.rows))
	for k, r := range b.rows {
		out = append(out, row{k, *r})
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i].rowKey, out[j].rowKey
		if x := strings.Compare(a.pod.cluster, c.pod.cluster); x != 0 {
			return x < 0
		}
		if x := strings.Compare(a.pod.namespace, c.pod.namespace); x != 0 {
			return x < 0
		}
		if x := strings.Compare(a.pod.pod, c.pod.pod); x != 0 {
			return x < 0
		}
		return a.hour < c.hour
	})
	return out
}

// block encodes rows as a pod_usage_hourly block, with the insert's
// deduplication token: a hash of the rows and of the series transitions
// that made them. A request re-sent after an insert that was stored but
// not acknowledged (a timeout on our side) gives the same rows from the
// same state, and the engine drops the second copy.
func (b *batch) block(rows []row) (store.Block, string) {
	var (
		cluster   = proto.NewLowCardinality[string](new(proto.ColStr))
		namespace = proto.NewLowCardinality[string](new(proto.ColStr))
		pod       = new(proto.ColStr)
		hour      = &proto.ColDateTime{Location: time.UTC}
		cpu       = new(proto.ColFloat64)
		memSum    = new(proto.ColFloat64)
		memN      = new(proto.ColUInt64)
	)
	h := sha256.New()
	var buf [8]byte
	putInt := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	putString := func(s string) {
		putInt(uint64(len(s)))
		h.Write([]byte(s))
	}
	putString(Table)
	for _, r := range rows {
		cluster.Append(r.pod.cluster)
		namespace.Append(r.pod.namespace)
		pod.Append(r.pod.pod)
		hour.Append(time.UnixMilli(r.hour).UTC())
		cpu.Append(r.cpu)
		memSum.Append(r.memSum)
		memN.Append(r.memSamples)
		putString(r.pod.cluster)
		putString(r.pod.namespace)
		putString(r.pod.pod)
		putInt(uint64(r.hour))
		putInt(math.Float64bits(r.cpu))
		putInt(math.Float64bits(r.memSum))
		putInt(r.memSamples)
	}
	tr := append([]transition(nil), b.transitions...)
	sort.Slice(tr, func(i, j int) bool { return tr[i].key < tr[j].key })
	for _, t := range tr {
		putInt(uint64(t.key))
		putInt(uint64(t.from))
		putInt(uint64(t.to))
	}
	return store.Block{Columns: proto.Input{
		{Name: "cluster", Data: cluster},
		{Name: "namespace", Data: namespace},
		{Name: "pod", Data: pod},
		{Name: "hour", Data: hour},
		{Name: "cpu_core_seconds", Data: cpu},
		{Name: "memory_bytes_sum", Data: memSum},
		{Name: "memory_samples", Data: memN},
	}}, "usage-" + hex.EncodeToString(h.Sum(nil)[:16])
}
