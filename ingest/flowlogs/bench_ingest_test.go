package flowlogs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/furrowdev/furrow/demo"
	"github.com/furrowdev/furrow/ingest/pods"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// benchRecords is the size of the benchmark's flow-log file.
const benchRecords = 1_000_000

// BenchmarkIngestEndToEnd ingests one 1M-record gzip v5 file from disk into
// the embedded engine (migrated schema, pod attribution on), and in the
// same process times the two baselines on the same file: (a) the engine's
// own text parser (INSERT … SELECT FROM file(…, CustomSeparatedWithNames))
// into 29 typed columns, (b) the storage limit: the ingest's own rows
// reloaded from a Native file into flow_logs. Timings are printed and
// reported, never asserted. The ingest and (b) then run again in
// alternation, each into a fresh database, for FURROW_BENCH_ROUNDS rounds
// in all (3 by default), and the best of each is compared as well: the
// machine's speed drifts between runs, and interleaving keeps the two
// sides under the same drift. FURROW_BENCH_BATCH_ROWS, _STREAM_BLOCKS,
// _PART_BYTES and _QUEUE try other block, stream and part sizes and queue
// depths.
func BenchmarkIngestEndToEnd(b *testing.B) {
	ctx := context.Background()
	fx := newBenchFile(b)
	path, obj := fx.path, fx.obj
	s := migrated(b)
	opts := IngestOptions{}
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_BATCH_ROWS")); err == nil {
		opts.BatchRows = v
	}
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_STREAM_BLOCKS")); err == nil {
		opts.StreamBlocks = v
	}
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_QUEUE")); err == nil {
		opts.Queue = v
	}
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_PART_BYTES")); err == nil {
		opts.PartBytes = v
	}
	in := newTestIngester(b, s, fx.deps, opts)

	runtime.GC()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	fmt.Printf("before the ingest: RSS %.0f MB, Go heap in use %.0f MB, Go runtime %.0f MB\n", rssMB("VmRSS:"),
		float64(ms0.HeapInuse)/(1<<20), float64(ms0.Sys-ms0.HeapReleased)/(1<<20))
	stopSampler := make(chan struct{})
	var goPeak, rssPeak float64
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stopSampler:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			goPeak = max(goPeak, float64(ms.Sys-ms.HeapReleased)/(1<<20))
			rssPeak = max(rssPeak, rssMB("VmRSS:"))
		}
	}()
	b.ResetTimer()
	if p := os.Getenv("FURROW_BENCH_INGEST_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer f.Close()
	}
	c0 := cpuSeconds()
	g0, e0 := threadCPU()
	t0 := time.Now()
	res, err := in.IngestObject(ctx, obj)
	pprof.StopCPUProfile()
	ingest := time.Since(t0)
	ingestCPU := cpuSeconds() - c0
	g1, e1 := threadCPU()
	close(stopSampler)
	fmt.Printf("sampled peaks during the ingest: Go runtime %.0f MB, process RSS %.0f MB\n", goPeak, rssPeak)
	b.StopTimer()
	// The ingest's own peak, before the baselines load the same rows again.
	ingestHWM := peakRSSMB()
	if err != nil || res.Stored != benchRecords {
		b.Fatalf("ingest: %v, stored %d of %d", err, res.Stored, benchRecords)
	}
	fmt.Printf("the ingest wrote %s parts of flow_logs\n",
		queryTSV(b, s, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'flow_logs' AND active"))

	// (a) the engine's text parser.
	cols := VersionFields(5)
	var structure, sel []string
	for _, name := range cols {
		fd, _ := LookupField(name)
		structure = append(structure, "`"+fd.Column+"` String")
		conv := map[string]string{"UInt8": "toUInt8OrZero", "UInt16": "toUInt16OrZero", "UInt64": "toUInt64OrZero",
			"DateTime": "toDateTimeOrZero", "IPv6": "toIPv6OrDefault"}[fd.Type]
		if conv == "" {
			sel = append(sel, "if(`"+fd.Column+"` = '-', '', `"+fd.Column+"`)")
		} else {
			sel = append(sel, conv+"(`"+fd.Column+"`)")
		}
	}
	ddl := strings.Split(strings.TrimSpace(ColumnsDDL()), "\n")
	var typed []string
	for _, l := range ddl {
		l = strings.TrimSuffix(strings.TrimSpace(l), ",")
		name := strings.Trim(strings.Fields(l)[0], "`")
		for _, c := range cols {
			if strings.ReplaceAll(c, "-", "_") == name {
				typed = append(typed, l)
			}
		}
	}
	mustExec(b, s, "CREATE TABLE flow_logs_raw_baseline ("+strings.Join(typed, ", ")+") ENGINE = MergeTree ORDER BY (start, srcaddr)")
	q := fmt.Sprintf("INSERT INTO flow_logs_raw_baseline SELECT %s FROM file('%s', 'CustomSeparatedWithNames', '%s') "+
		"SETTINGS format_custom_field_delimiter=' ', format_custom_escaping_rule='CSV', input_format_with_names_use_header=0",
		strings.Join(sel, ", "), path, strings.Join(structure, ", "))
	t0 = time.Now()
	mustExec(b, s, q)
	textParser := time.Since(t0)
	if got := queryTSV(b, s, "SELECT count() FROM flow_logs_raw_baseline"); got != strconv.Itoa(benchRecords) {
		b.Fatalf("baseline (a) stored %s rows", got)
	}
	// Same counts per column as the ingest (catches silent defaults).
	for _, c := range []string{"bytes > 0", "srcaddr != toIPv6('::')", "flow_direction != ''", "traffic_path > 0", "pkt_dst_aws_service != ''"} {
		a := queryTSV(b, s, "SELECT countIf("+c+") FROM flow_logs_raw_baseline")
		i := queryTSV(b, s, "SELECT countIf("+c+") FROM flow_logs")
		if a != i {
			b.Errorf("baseline (a) countIf(%s) = %s, ingest %s", c, a, i)
		}
	}

	// (b) the storage limit.
	native := filepath.Join(os.TempDir(), fmt.Sprintf("furrow-bench-%d.native", os.Getpid()))
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		native = filepath.Join("/dev/shm", filepath.Base(native))
	}
	defer os.Remove(native)
	mustExec(b, s, "SELECT * FROM flow_logs INTO OUTFILE '"+native+"' TRUNCATE FORMAT Native")
	// The same storage work as the ingest: into flow_logs itself (so the
	// rollup's materialized view runs too), with a deduplication token (the
	// ingest sends one per stream; without one the engine hashes the whole
	// block for deduplication, which the ingest never pays).
	storageOnce := func() (time.Duration, float64) {
		s := migrated(b)
		quiesce(b, s)
		c0 := cpuSeconds()
		t0 := time.Now()
		mustExec(b, s, "INSERT INTO flow_logs FROM INFILE '"+native+"' SETTINGS insert_deduplication_token = 'storage-limit', deduplicate_blocks_in_dependent_materialized_views = 1 FORMAT Native")
		d, cpu := time.Since(t0), cpuSeconds()-c0
		if got := queryTSV(b, s, "SELECT count() FROM flow_logs"); got != strconv.Itoa(benchRecords) {
			b.Fatalf("baseline (b) stored %s rows", got)
		}
		return d, cpu
	}
	storage, storageCPU := storageOnce()
	hwm := peakRSSMB()

	// More rounds, alternating, into fresh databases.
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_ROUNDS")); err == nil && v >= 1 {
		rounds = v
	}
	bestIngest, bestStorage := ingest, storage
	ratios := []string{fmt.Sprintf("%.2f", storage.Seconds()/ingest.Seconds())}
	for range rounds - 1 {
		s := migrated(b)
		in := newTestIngester(b, s, fx.deps, opts)
		quiesce(b, s)
		t0 := time.Now()
		res, err := in.IngestObject(ctx, obj)
		d := time.Since(t0)
		if err != nil || res.Stored != benchRecords {
			b.Fatalf("ingest: %v, stored %d of %d", err, res.Stored, benchRecords)
		}
		st, _ := storageOnce()
		bestIngest, bestStorage = min(bestIngest, d), min(bestStorage, st)
		ratios = append(ratios, fmt.Sprintf("%.2f", st.Seconds()/d.Seconds()))
	}

	rate := func(d time.Duration) float64 { return benchRecords / d.Seconds() }
	b.ReportMetric(rate(ingest), "records/s")
	b.ReportMetric(rate(textParser), "text-parser-records/s")
	b.ReportMetric(rate(storage), "storage-limit-records/s")
	b.ReportMetric(textParser.Seconds()/ingest.Seconds(), "x-text-parser")
	b.ReportMetric(storage.Seconds()/ingest.Seconds(), "x-storage-limit")
	b.ReportMetric(ingestHWM, "ingest-peak-RSS-MB")
	b.ReportMetric(hwm, "peak-RSS-MB")
	fmt.Printf("ingest end to end: %d records in %.2fs = %.0f records/s | (a) engine text parser %.2fs = %.0f/s, ingest/(a) = %.2fx (target >= 3x) | (b) storage limit %.2fs = %.0f/s, ingest/(b) = %.2fx (target >= 0.7x) | peak RSS after the ingest %.0f MB (target < 1024, engine included), after the baselines %.0f MB\n",
		benchRecords, ingest.Seconds(), rate(ingest), textParser.Seconds(), rate(textParser), textParser.Seconds()/ingest.Seconds(),
		storage.Seconds(), rate(storage), storage.Seconds()/ingest.Seconds(), ingestHWM, hwm)
	fmt.Printf("CPU time (user+sys, all threads): ingest %.2fs (Go threads %.2fs, engine threads %.2fs), (b) %.2fs\n",
		ingestCPU, g1-g0, e1-e0, storageCPU)
	fmt.Printf("%d interleaved rounds: ingest/(b) per round %s | best ingest %.2fs = %.0f records/s, best (b) %.2fs = %.0f/s, ratio of the bests %.2fx (target >= 0.7x)\n",
		rounds, strings.Join(ratios, " "), bestIngest.Seconds(), rate(bestIngest), bestStorage.Seconds(), rate(bestStorage),
		bestStorage.Seconds()/bestIngest.Seconds())
	b.ReportMetric(bestStorage.Seconds()/bestIngest.Seconds(), "x-storage-limit-best-of-rounds")
}

// cpuSeconds is the CPU time the process used so far, every thread (the
// engine's included).
// quiesce waits for the engine's background merges (of earlier rounds) to
// end, so that a timed run does not share the CPU with them.
func quiesce(b *testing.B, s store.Store) {
	for range 600 {
		if queryTSV(b, s, "SELECT count() FROM system.merges") == "0" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("merges still running after 60 s")
}

// threadCPU splits the process's CPU seconds between the engine's threads
// (named by ClickHouse) and the others (Go's, which keep the process
// name), from /proc/self/task. Threads that exited are not counted.
func threadCPU() (goSide, engine float64) {
	self, _ := os.ReadFile("/proc/self/comm")
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		stat, err := os.ReadFile("/proc/self/task/" + t.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open {
			continue
		}
		comm := stat[open+1 : end]
		f := strings.Fields(string(stat[end+1:]))
		if len(f) < 13 {
			continue
		}
		// Fields 14 and 15 of stat (utime, stime) in clock ticks (100/s).
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		if string(comm) == strings.TrimSpace(string(self)) {
			goSide += (ut + st) / 100
		} else {
			engine += (ut + st) / 100
		}
	}
	return goSide, engine
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// benchFile is the benchmarks' 1M-record gzip v5 file, made from the demo
// cluster (same seed, one day), with what ingesting it needs: the demo's
// pod index and network layout, and a file source.
type benchFile struct {
	path string
	obj  sources.Object
	deps Dependencies
}

func newBenchFile(b *testing.B) benchFile {
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := demo.Generate(ctx, dir, demo.Options{Days: 1, FlowsPerHour: 60}); err != nil {
		b.Fatal(err)
	}
	idx, _ := demoIndex(b, dir)
	fx := benchFile{path: filepath.Join(dir, "flows.log.gz")}
	f, err := os.Create(fx.path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := demo.WriteFlowFile(bw, benchRecords, 0); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	src := sources.New(sources.DefaultConfiguration(), sources.Dependencies{})
	if err := src.List(ctx, fx.path, sources.Window{}, func(o sources.Object) error { fx.obj = o; return nil }); err != nil {
		b.Fatal(err)
	}
	fx.deps = Dependencies{Source: src, Traffic: demoTraffic(b, dir), Index: func(context.Context, time.Time, time.Time) *pods.Index { return idx }}
	return fx
}

func mustExec(b testing.TB, s store.Store, q string) {
	b.Helper()
	if err := s.Exec(context.Background(), q); err != nil {
		b.Fatalf("%s: %v", q, err)
	}
}

// peakRSSMB reads the process's peak resident set (VmHWM) in MB.
func peakRSSMB() float64 { return rssMB("VmHWM:") }

// rssMB reads a field of /proc/self/status in MB.
func rssMB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, field) {
			f := strings.Fields(l)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
