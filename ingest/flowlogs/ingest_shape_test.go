package flowlogs

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sources "github.com/furrowdev/furrow/ingest/source"
)

// shapeFile is a generated flow-log file and, computed while generating it
// (not from the parser), what storing it must give.
type shapeFile struct {
	text    []byte
	records int64
	bytes   uint64
	// set counts, per catalogue field, the records that carry a value
	// other than the column default.
	set []int64
}

// shapeGen writes flow-log files of random shape: fields chosen at
// random in random order, headers that change mid-file, sparse fields
// first set at a random record, IPv4 and IPv6 mixed, and runs of NODATA
// records.
type shapeGen struct {
	r *rand.Rand
	f shapeFile
	w bytes.Buffer
	// firstSet is, per field, the record from which it may carry a value
	// (before it, "-"); density is how often it does after that.
	firstSet []int64
	density  []float64
	total    int64
}

func newShapeGen(seed uint64, total int64) *shapeGen {
	g := &shapeGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), total: total,
		firstSet: make([]int64, numFields), density: make([]float64, numFields)}
	g.f.set = make([]int64, numFields)
	for i := range catalogue {
		switch g.r.IntN(4) {
		case 0: // set from the first record on
		case 1: // never set
			g.firstSet[i] = total
		default: // first set at a random record
			g.firstSet[i] = g.r.Int64N(total)
		}
		g.density[i] = []float64{1, 1, 0.5, 0.01}[g.r.IntN(4)]
	}
	return g
}

// layout picks the fields of a segment: a random subset in random order.
func (g *shapeGen) layout() []int {
	idx := g.r.Perm(numFields)
	return idx[:1+g.r.IntN(numFields)]
}

// value returns field f's text for the current record, counting what
// it stores.
func (g *shapeGen) value(f int, nodata bool) string {
	n := g.f.records
	name := catalogue[f].Name
	if name == "log-status" {
		g.f.set[f]++
		if nodata {
			return "NODATA"
		}
		return "OK"
	}
	keep := name == "version" || name == "account-id" || name == "interface-id" || name == "start" || name == "end"
	if (nodata && !keep) || n < g.firstSet[f] || g.r.Float64() >= g.density[f] {
		return "-"
	}
	g.f.set[f]++
	switch catalogue[f].kind {
	case kindU8:
		return strconv.Itoa(1 + g.r.IntN(255))
	case kindU16:
		return strconv.Itoa(1 + g.r.IntN(65535))
	case kindU64:
		v := 1 + g.r.Uint64N(1<<40)
		if f == idxBytes {
			g.f.bytes += v
		}
		return strconv.FormatUint(v, 10)
	case kindTime:
		// end is never before start: such a line is rejected (bounds).
		if f == idxEnd {
			return strconv.Itoa(1_700_000_060 + int(n)/7 + g.r.IntN(60))
		}
		return strconv.Itoa(1_700_000_000 + int(n)/7 + g.r.IntN(60))
	case kindIP:
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
		}
		return fmt.Sprintf("2600:1f18:%x::%x", g.r.IntN(1<<16), 1+g.r.IntN(1<<16-1))
	default:
		switch name {
		case "action":
			return []string{"ACCEPT", "REJECT"}[g.r.IntN(2)]
		case "flow-direction":
			return []string{"ingress", "egress"}[g.r.IntN(2)]
		}
		// Not a field name, so a record starting with it is no header.
		return "v" + strconv.Itoa(g.r.IntN(100))
	}
}

// record writes one record of the fields idx.
func (g *shapeGen) record(idx []int, nodata bool) {
	for i, f := range idx {
		if i > 0 {
			g.w.WriteByte(' ')
		}
		g.w.WriteString(g.value(f, nodata))
	}
	g.w.WriteByte('\n')
	g.f.records++
}

// header writes a header line naming the fields idx.
func (g *shapeGen) header(idx []int) {
	for i, f := range idx {
		if i > 0 {
			g.w.WriteByte(' ')
		}
		g.w.WriteString(catalogue[f].Name)
	}
	g.w.WriteByte('\n')
}

// file generates the whole file: segments of random length, each with a
// header of its own (the first, at times, headerless in a default
// version format), some holding a run of NODATA records.
func (g *shapeGen) file(maxSegment int) shapeFile {
	first := true
	for g.f.records < g.total {
		var idx []int
		if first && g.r.IntN(3) == 0 {
			idx = mustLayout(VersionFields(2 + g.r.IntN(4))) // 2..5: headerless
		} else {
			idx = g.layout()
			g.header(idx)
		}
		first = false
		n := min(int64(1+g.r.IntN(maxSegment)), g.total-g.f.records)
		nodataFrom, nodataTo := n, n
		if g.r.IntN(3) == 0 {
			nodataFrom = g.r.Int64N(n)
			nodataTo = nodataFrom + g.r.Int64N(n-nodataFrom+1)
		}
		for k := range n {
			g.record(idx, k >= nodataFrom && k < nodataTo)
		}
	}
	g.f.text = g.w.Bytes()
	return g.f
}

// checkStored compares what the store holds for source id with f.
func checkStored(t *testing.T, in *Ingester, name string, f shapeFile) {
	t.Helper()
	s := in.deps.Store
	var q strings.Builder
	q.WriteString("SELECT count(), sum(bytes)")
	for _, fd := range catalogue {
		switch fd.kind {
		case kindLC:
			fmt.Fprintf(&q, ", countIf(%s != '')", fd.Column)
		case kindIP:
			fmt.Fprintf(&q, ", countIf(%s != toIPv6('::'))", fd.Column)
		case kindTime:
			fmt.Fprintf(&q, ", countIf(toUInt32(%s) != 0)", fd.Column)
		default:
			fmt.Fprintf(&q, ", countIf(%s != 0)", fd.Column)
		}
	}
	// source holds where the rows were read (the file's real path), not
	// the content identity.
	q.WriteString(" FROM flow_logs WHERE position(source, '/" + name + "') > 0")
	got := strings.Fields(queryTSV(t, s, q.String()))
	require.Equal(t, itoa(f.records), got[0], "count")
	require.Equal(t, strconv.FormatUint(f.bytes, 10), got[1], "sum(bytes)")
	for i, fd := range catalogue {
		require.Equal(t, itoa(f.set[i]), got[2+i], "records with a value in %s", fd.Column)
	}
}

// ingestFile writes data to a file of dir and ingests it; the result
// must be a stored object without rejected lines.
func ingestFile(t *testing.T, in *Ingester, dir, name string, data []byte) ObjectResult {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	var obj sources.Object
	require.NoError(t, in.deps.Source.List(context.Background(), path, sources.Window{}, func(o sources.Object) error { obj = o; return nil }))
	res, err := in.IngestObject(context.Background(), obj)
	require.NoError(t, err)
	require.Zero(t, res.Rejected, "rejected lines: %v", res.Errors)
	require.False(t, res.NotFlowLog)
	return res
}

// shapeSeed is the property test's seed: FURROW_TEST_SHAPE_SEED varies it (a
// failure prints the seed that found it).
func shapeSeed(t *testing.T) uint64 {
	if v := os.Getenv("FURROW_TEST_SHAPE_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "FURROW_TEST_SHAPE_SEED")
		return seed
	}
	return 20261107
}

// TestIngestAnyShape is a property test: files of random shape (see
// shapeGen), in blocks of 1,000 records and streams of 3 blocks, store
// every record, with the count, sum(bytes) and the number of values of
// every column that the generator counted.
func TestIngestAnyShape(t *testing.T) {
	seed := shapeSeed(t)
	s := migrated(t)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{BatchRows: 1000, StreamBlocks: 3})
	dir := t.TempDir()
	for k := range uint64(4) {
		seed := seed + k
		t.Run(fmt.Sprintf("seed_%d", seed), func(t *testing.T) {
			f := newShapeGen(seed, 12000).file(5000)
			data, name := f.text, fmt.Sprintf("shape-%d.log", seed)
			if seed%2 == 1 {
				data, name = gzipBytes(t, data), name+".gz"
			}
			res := ingestFile(t, in, dir, name, data)
			require.Equal(t, f.records, res.Stored, "seed %d", seed)
			checkStored(t, in, name, f)
		})
	}
	// The rollup saw every record once.
	total := queryTSV(t, s, "SELECT count(), sum(bytes) FROM flow_logs")
	require.Equal(t, total, queryTSV(t, s, "SELECT sum(records), sum(bytes) FROM flow_traffic_hourly"))
}

// writeLines writes a header naming fields, then n records whose field
// values value returns.
func writeLines(w *bytes.Buffer, fields []string, n int, value func(i int, field string) string) {
	w.WriteString(strings.Join(fields, " ") + "\n")
	for i := range n {
		for k, f := range fields {
			if k > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(value(i, f))
		}
		w.WriteByte('\n')
	}
}

// v5Value is a plausible value of a version 5 field for record i.
func v5Value(i int, field string) string {
	switch field {
	case "version":
		return "5"
	case "account-id":
		return "123456789012"
	case "interface-id":
		return fmt.Sprintf("eni-%017x", i%300)
	case "srcaddr", "pkt-srcaddr":
		return fmt.Sprintf("10.1.%d.%d", i/250%250, 1+i%250)
	case "dstaddr", "pkt-dstaddr":
		return fmt.Sprintf("10.2.%d.%d", i/250%250, 1+i%250)
	case "srcport", "dstport", "tcp-flags":
		return strconv.Itoa(1 + i%60000)
	case "protocol":
		return "6"
	case "packets", "traffic-path":
		return strconv.Itoa(1 + i%7)
	case "bytes":
		return strconv.Itoa(100 + i)
	case "start", "end":
		return strconv.Itoa(1_700_000_000 + i/100)
	case "action":
		return "ACCEPT"
	case "log-status":
		return "OK"
	case "flow-direction":
		return "egress"
	case "type":
		return "IPv4"
	default:
		return "-"
	}
}

// sumBytes is the sum of v5Value's bytes over records [from, to).
func sumBytes(from, to int) int64 {
	var s int64
	for i := from; i < to; i++ {
		s += int64(100 + i)
	}
	return s
}

// TestIngestFieldFirstSetLate is the reproduction: 40,000 v5
// records (three blocks of the default size, one stream) whose
// pkt-dst-aws-service is "-" for the first 20,000 and set afterwards.
// They were stored as 0 rows ("block has 50 columns, the stream 49").
func TestIngestFieldFirstSetLate(t *testing.T) {
	s := migrated(t)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	var w bytes.Buffer
	writeLines(&w, VersionFields(5), 40000, func(i int, f string) string {
		if f == "pkt-dst-aws-service" && i >= 20000 {
			return "S3"
		}
		return v5Value(i, f)
	})
	res := ingestFile(t, in, t.TempDir(), "late.log", w.Bytes())
	require.EqualValues(t, 40000, res.Stored)
	require.Equal(t, "40000\t"+itoa(sumBytes(0, 40000))+"\t20000",
		queryTSV(t, s, "SELECT count(), sum(bytes), countIf(pkt_dst_aws_service = 'S3') FROM flow_logs"))
}

// TestIngestHeaderChangesMidFile: a header repeated mid-file with other
// fields (Transit Gateway and ECS ones the first part lacks, and without
// some it had) loads whole.
func TestIngestHeaderChangesMidFile(t *testing.T) {
	s := migrated(t)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	var w bytes.Buffer
	writeLines(&w, VersionFields(5), 20000, v5Value)
	second := []string{"version", "srcaddr", "dstaddr", "bytes", "start", "end", "log-status", "tgw-id", "ecs-cluster-name", "reject-reason"}
	writeLines(&w, second, 20000, func(i int, f string) string {
		switch f {
		case "tgw-id":
			return "tgw-0123"
		case "ecs-cluster-name":
			return "prod"
		case "reject-reason":
			return "BPA"
		}
		return v5Value(20000+i, f)
	})
	res := ingestFile(t, in, t.TempDir(), "headers.log", w.Bytes())
	require.EqualValues(t, 40000, res.Stored)
	require.Equal(t, "40000\t"+itoa(sumBytes(0, 40000))+"\t20000\t20000\t20000\t20000",
		queryTSV(t, s, `SELECT count(), sum(bytes), countIf(tgw_id != ''), countIf(ecs_cluster_name != ''),
			countIf(reject_reason = 'BPA'), countIf(flow_direction = 'egress') FROM flow_logs`))
}

// TestIngestLongNODATARun: a run of NODATA records longer than a block
// (every field but the times "-"), between ordinary records, loads whole.
func TestIngestLongNODATARun(t *testing.T) {
	s := migrated(t)
	in := newTestIngester(t, s, Dependencies{}, IngestOptions{})
	const before, nodata, after = 10000, 40000, 10000
	var w bytes.Buffer
	writeLines(&w, VersionFields(5), before+nodata+after, func(i int, f string) string {
		if i < before || i >= before+nodata {
			return v5Value(i, f)
		}
		switch f {
		case "version", "account-id", "interface-id", "start", "end":
			return v5Value(i, f)
		case "log-status":
			return "NODATA"
		}
		return "-"
	})
	res := ingestFile(t, in, t.TempDir(), "nodata.log", w.Bytes())
	require.EqualValues(t, before+nodata+after, res.Stored)
	require.Equal(t, fmt.Sprintf("%d\t%d\t%d", before+nodata+after, sumBytes(0, before)+sumBytes(before+nodata, before+nodata+after), nodata),
		queryTSV(t, s, "SELECT count(), sum(bytes), countIf(log_status = 'NODATA') FROM flow_logs"))
}
