package pods

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"sync"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
	"github.com/furrowdev/furrow/store"
)

// Tables written by ClickHouseSink and read by LoadIndex (migration 0002;
// requests, limits, provider ids and node sizes: 0012).
const (
	PodIPsTable = "pod_ips"
	NodesTable  = "k8s_nodes"
)

// maxBlockRows bounds the rows of one INSERT: a snapshot ingest of a month
// of a large cluster holds millions of intervals, and one block of them
// would be encoded in memory at once.
const maxBlockRows = 200_000

// ClickHouseSink is a Sink writing to the pod_ips and k8s_nodes tables of a
// store.Store. Rows are upserts: the tables are ReplacingMergeTree on the
// record key, versioned by updated_at, so the closed version of an
// interval replaces its open one (readers use FINAL). Every block carries a
// deduplication token derived from its content (updated_at excluded), so a
// flush retried after a failure, or a snapshot ingest run twice, is stored
// once.
type ClickHouseSink struct {
	s       store.Store
	now     func() time.Time
	metrics *sinkMetrics

	mu sync.Mutex
	// last is the last updated_at written, in milliseconds: versions only
	// grow, even when two flushes fall in the same millisecond, so a close
	// always replaces the open record it follows.
	last int64
}

// NewClickHouseSink returns a sink writing to s. Its metrics are registered
// on reg (nil: not registered); a second sink on the same registry shares
// the first one's counters. It does not fail today; the error is kept for
// the component contract's New.
func NewClickHouseSink(s store.Store, reg prometheus.Registerer) (*ClickHouseSink, error) {
	return &ClickHouseSink{s: s, now: time.Now, metrics: newSinkMetrics(reg)}, nil
}

// PodIPs implements Sink: records of one key collapse to the last one (a
// close following its open in the same flush), then they are inserted into
// pod_ips.
func (c *ClickHouseSink) PodIPs(ctx context.Context, records []PodIP) error {
	return insertChunks(ctx, c, PodIPsTable, lastPodIPs(records), podIPsBlock)
}

// Nodes implements Sink like PodIPs, into k8s_nodes.
func (c *ClickHouseSink) Nodes(ctx context.Context, records []NodeInfo) error {
	return insertChunks(ctx, c, NodesTable, lastNodes(records), nodesBlock)
}

// insertChunks inserts records into table in blocks of at most
// maxBlockRows, each built by block with the sink's next version.
func insertChunks[T any](ctx context.Context, c *ClickHouseSink, table string, records []T, block func([]T, time.Time) (store.Block, string)) error {
	for len(records) > 0 {
		n := min(len(records), maxBlockRows)
		b, token := block(records[:n], c.version())
		if err := c.insert(ctx, table, b, token); err != nil {
			return err
		}
		records = records[n:]
	}
	return nil
}

func (c *ClickHouseSink) insert(ctx context.Context, table string, b store.Block, token string) error {
	start := time.Now()
	err := c.s.Insert(ctx, table, b, token)
	c.metrics.insertSeconds.WithLabelValues(table).Observe(time.Since(start).Seconds())
	if err != nil {
		c.metrics.errors.WithLabelValues(table).Inc()
		return fmt.Errorf("insert %d rows into %s: %w", b.Rows(), table, err)
	}
	c.metrics.inserts.WithLabelValues(table).Inc()
	return nil
}

// version returns the updated_at of the next block: now, in milliseconds,
// and later than every earlier block of this sink.
func (c *ClickHouseSink) version() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ms := c.now().UnixMilli()
	if ms <= c.last {
		ms = c.last + 1
	}
	c.last = ms
	return time.UnixMilli(ms).UTC()
}

// lastPodIPs keeps the last record of every key, in key order (stable
// input, stable blocks, stable tokens).
func lastPodIPs(records []PodIP) []PodIP {
	type key struct {
		cluster, uid string
		ip           [16]byte
		from         int64
	}
	pos := make(map[key]int, len(records))
	out := make([]PodIP, 0, len(records))
	for _, r := range records {
		k := key{r.Cluster, r.PodUID, r.IP.Unmap().As16(), dbMillis(r.ValidFrom)}
		if i, ok := pos[k]; ok {
			out[i] = r
			continue
		}
		pos[k] = len(out)
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if c := a.IP.Unmap().Compare(b.IP.Unmap()); c != 0 {
			return c < 0
		}
		if a.PodUID != b.PodUID {
			return a.PodUID < b.PodUID
		}
		return dbMillis(a.ValidFrom) < dbMillis(b.ValidFrom)
	})
	return out
}

// lastNodes is lastPodIPs for node records.
func lastNodes(records []NodeInfo) []NodeInfo {
	type key struct {
		cluster, node string
		from          int64
	}
	pos := make(map[key]int, len(records))
	out := make([]NodeInfo, 0, len(records))
	for _, r := range records {
		k := key{r.Cluster, r.Node, dbMillis(r.ValidFrom)}
		if i, ok := pos[k]; ok {
			out[i] = r
			continue
		}
		pos[k] = len(out)
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return dbMillis(a.ValidFrom) < dbMillis(b.ValidFrom)
	})
	return out
}

// dbMillis is a time as stored in a DateTime64(3) column: milliseconds since
// the epoch, zero for the zero time (an open interval).
func dbMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// dbTime is the time.Time form of dbMillis.
func dbTime(t time.Time) time.Time {
	return time.UnixMilli(dbMillis(t)).UTC()
}

func newDateTime64() *proto.ColDateTime64 {
	return new(proto.ColDateTime64).WithPrecision(proto.PrecisionMilli).WithLocation(time.UTC)
}

func newLowCardinality() *proto.ColLowCardinality[string] {
	return proto.NewLowCardinality[string](new(proto.ColStr))
}

// podIPsBlock encodes records as a pod_ips block with the given updated_at,
// and the block's deduplication token.
func podIPsBlock(records []PodIP, updated time.Time) (store.Block, string) {
	var (
		cluster, namespace, workloadKind = newLowCardinality(), newLowCardinality(), newLowCardinality()
		workload, node, zone             = newLowCardinality(), newLowCardinality(), newLowCardinality()
		pod, podUID                      = new(proto.ColStr), new(proto.ColStr)
		ip                               = new(proto.ColIPv6)
		hostNetwork                      = new(proto.ColBool)
		cpuRequest, memoryRequest        = new(proto.ColUInt64), new(proto.ColUInt64)
		cpuLimit, memoryLimit            = new(proto.ColUInt64), new(proto.ColUInt64)
		validFrom, validTo, updatedAt    = newDateTime64(), newDateTime64(), newDateTime64()
	)
	h := newTokenHash(PodIPsTable)
	for _, r := range records {
		a16 := r.IP.Unmap().As16() // an IPv4 address becomes ::ffff:a.b.c.d
		cluster.Append(r.Cluster)
		ip.Append(proto.IPv6(a16))
		namespace.Append(r.Namespace)
		pod.Append(r.Pod)
		podUID.Append(r.PodUID)
		workloadKind.Append(r.WorkloadKind)
		workload.Append(r.Workload)
		node.Append(r.Node)
		zone.Append(r.Zone)
		hostNetwork.Append(r.HostNetwork)
		cpuRequest.Append(r.CPURequestMillis)
		memoryRequest.Append(r.MemoryRequestBytes)
		cpuLimit.Append(r.CPULimitMillis)
		memoryLimit.Append(r.MemoryLimitBytes)
		validFrom.Append(dbTime(r.ValidFrom))
		validTo.Append(dbTime(r.ValidTo))
		updatedAt.Append(updated)

		h.strings(r.Cluster, r.Namespace, r.Pod, r.PodUID, r.WorkloadKind, r.Workload, r.Node, r.Zone)
		h.bytes(a16[:])
		h.bool(r.HostNetwork)
		h.uint(r.CPURequestMillis, r.MemoryRequestBytes, r.CPULimitMillis, r.MemoryLimitBytes)
		h.int(dbMillis(r.ValidFrom), dbMillis(r.ValidTo))
	}
	return store.Block{Columns: proto.Input{
		{Name: "cluster", Data: cluster},
		{Name: "ip", Data: ip},
		{Name: "namespace", Data: namespace},
		{Name: "pod", Data: pod},
		{Name: "pod_uid", Data: podUID},
		{Name: "workload_kind", Data: workloadKind},
		{Name: "workload", Data: workload},
		{Name: "node", Data: node},
		{Name: "zone", Data: zone},
		{Name: "host_network", Data: hostNetwork},
		{Name: "cpu_request_millis", Data: cpuRequest},
		{Name: "memory_request_bytes", Data: memoryRequest},
		{Name: "cpu_limit_millis", Data: cpuLimit},
		{Name: "memory_limit_bytes", Data: memoryLimit},
		{Name: "valid_from", Data: validFrom},
		{Name: "valid_to", Data: validTo},
		{Name: "updated_at", Data: updatedAt},
	}}, h.token()
}

// nodesBlock encodes records as a k8s_nodes block, like podIPsBlock.
func nodesBlock(records []NodeInfo, updated time.Time) (store.Block, string) {
	var (
		cluster, zone, region, instanceType = newLowCardinality(), newLowCardinality(), newLowCardinality(), newLowCardinality()
		node, providerID, instanceID        = new(proto.ColStr), new(proto.ColStr), new(proto.ColStr)
		cpuAlloc, memoryAlloc               = new(proto.ColUInt64), new(proto.ColUInt64)
		cpuCap, memoryCap                   = new(proto.ColUInt64), new(proto.ColUInt64)
		ips                                 = proto.NewArray[proto.IPv6](new(proto.ColIPv6))
		validFrom, validTo, updatedAt       = newDateTime64(), newDateTime64(), newDateTime64()
	)
	h := newTokenHash(NodesTable)
	for _, r := range records {
		h.int(int64(len(r.IPs)))
		addrs := make([]proto.IPv6, len(r.IPs))
		for i, a := range r.IPs {
			a16 := a.Unmap().As16()
			addrs[i] = proto.IPv6(a16)
			h.bytes(a16[:])
		}
		cluster.Append(r.Cluster)
		node.Append(r.Node)
		ips.Append(addrs)
		zone.Append(r.Zone)
		region.Append(r.Region)
		instanceType.Append(r.InstanceType)
		providerID.Append(r.ProviderID)
		instanceID.Append(r.InstanceID)
		cpuAlloc.Append(r.CPUAllocatableMillis)
		memoryAlloc.Append(r.MemoryAllocatableBytes)
		cpuCap.Append(r.CPUCapacityMillis)
		memoryCap.Append(r.MemoryCapacityBytes)
		validFrom.Append(dbTime(r.ValidFrom))
		validTo.Append(dbTime(r.ValidTo))
		updatedAt.Append(updated)

		h.strings(r.Cluster, r.Node, r.Zone, r.Region, r.InstanceType, r.ProviderID, r.InstanceID)
		h.uint(r.CPUAllocatableMillis, r.MemoryAllocatableBytes, r.CPUCapacityMillis, r.MemoryCapacityBytes)
		h.int(dbMillis(r.ValidFrom), dbMillis(r.ValidTo))
	}
	return store.Block{Columns: proto.Input{
		{Name: "cluster", Data: cluster},
		{Name: "node", Data: node},
		{Name: "ips", Data: ips},
		{Name: "zone", Data: zone},
		{Name: "region", Data: region},
		{Name: "instance_type", Data: instanceType},
		{Name: "provider_id", Data: providerID},
		{Name: "instance_id", Data: instanceID},
		{Name: "cpu_allocatable_millis", Data: cpuAlloc},
		{Name: "memory_allocatable_bytes", Data: memoryAlloc},
		{Name: "cpu_capacity_millis", Data: cpuCap},
		{Name: "memory_capacity_bytes", Data: memoryCap},
		{Name: "valid_from", Data: validFrom},
		{Name: "valid_to", Data: validTo},
		{Name: "updated_at", Data: updatedAt},
	}}, h.token()
}

// tokenHash hashes a block's content into its deduplication token. Strings
// are length-prefixed so that field boundaries cannot shift.
type tokenHash struct {
	table string
	h     hash.Hash
	buf   [8]byte
}

func newTokenHash(table string) *tokenHash {
	t := &tokenHash{table: table, h: sha256.New()}
	t.strings(table)
	return t
}

func (t *tokenHash) strings(ss ...string) {
	for _, s := range ss {
		t.int(int64(len(s)))
		t.h.Write([]byte(s))
	}
}

func (t *tokenHash) bytes(b []byte) { t.h.Write(b) }

func (t *tokenHash) bool(b bool) {
	if b {
		t.h.Write([]byte{1})
	} else {
		t.h.Write([]byte{0})
	}
}

func (t *tokenHash) int(vs ...int64) {
	for _, v := range vs {
		binary.LittleEndian.PutUint64(t.buf[:], uint64(v))
		t.h.Write(t.buf[:])
	}
}

func (t *tokenHash) uint(vs ...uint64) {
	for _, v := range vs {
		binary.LittleEndian.PutUint64(t.buf[:], v)
		t.h.Write(t.buf[:])
	}
}

func (t *tokenHash) token() string {
	return "pods-" + t.table + "-" + hex.EncodeToString(t.h.Sum(nil)[:16])
}

// sinkMetrics are the ClickHouseSink's counters. The rows it stores are
// counted by the store's instrumentation
// (furrow_store_inserted_rows_total{table}), which every insert goes
// through.
type sinkMetrics struct {
	inserts       *prometheus.CounterVec
	errors        *prometheus.CounterVec
	insertSeconds *prometheus.HistogramVec
}

func newSinkMetrics(reg prometheus.Registerer) *sinkMetrics {
	return &sinkMetrics{
		inserts: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "store_inserts_total",
			Help: "Blocks inserted into ClickHouse by the pods sink, by table.",
		}, []string{"table"})),
		errors: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "store_errors_total",
			Help: "Failed inserts of the pods sink, by table (the records are retried at the next flush).",
		}, []string{"table"})),
		insertSeconds: promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "furrow", Subsystem: "pods", Name: "store_insert_seconds",
			Help:    "Duration of the pods sink's inserts, by table.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"table"})),
	}
}

// compile-time check.
var _ Sink = (*ClickHouseSink)(nil)
