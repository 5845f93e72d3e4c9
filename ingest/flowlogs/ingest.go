package flowlogs

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/ingest/pods"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// LedgerKind is the kind of the flow-log objects in ingested_objects.
const LedgerKind = "flowlogs"

// IngestBatchRows is the default number of records per block. Blocks are
// what the reader, the attribution and the pipe to the engine work on, and
// up to IngestQueue+1 are in flight, so they are kept small (about 4 MB
// each): the engine squashes them into parts of its own size (see
// StreamBlocks). Measured on 1M records (make bench): 65,536 per block
// used 3.5 times the Go memory of 16,384 for no gain in speed.
const IngestBatchRows = 16384

// Dependencies are what an Ingester works with.
type Dependencies struct {
	// Store receives the rows (flow_logs) and the ledger (ingested_objects).
	Store store.Store
	// Source lists and opens objects.
	Source *sources.Source
	// Index returns a pod index that answers for every time in [from, to]
	// (the start times of a block) as the whole stored history would
	// (pods.IndexCache.Index); nil, or a nil result, leaves pods
	// unattributed.
	Index func(ctx context.Context, from, to time.Time) *pods.Index
	// Traffic is the network layout and prices.
	Traffic TrafficConfiguration
	// Registry receives the metrics; nil leaves them unregistered.
	Registry prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// Version is the running binary's version (main.version). Permanent
	// failures are recorded under it, so that another binary tries those
	// objects again; "" means ledger.DefaultVersion.
	Version string
}

// IngestOptions tune an Ingester. The zero value is usable.
type IngestOptions struct {
	// BatchRows is the number of records per block (IngestBatchRows when 0).
	// It is part of the blocks' deduplication tokens: keep it between a
	// failed run and its re-run.
	BatchRows int
	// MaxErrorDetails is how many rejected lines each file reports
	// (DefaultMaxErrorDetails when 0, none when negative).
	MaxErrorDetails int
	// Strict makes rejected lines and files that are not flow logs fail
	// the run (Summary.Failed), not only files that could not be read or
	// stored.
	Strict bool
	// Fields is the field list of files without a header line (--fields);
	// empty means the AWS default order for the line's field count.
	Fields []string
	// StreamBlocks is how many blocks go through one INSERT stream
	// (StreamBlocks when 0). Like BatchRows, it is part of the streams'
	// deduplication tokens.
	StreamBlocks int
	// PartBytes caps the parts the engine squashes a stream into
	// (StreamPartBytes when 0); part of the tokens too, since it decides
	// which records each part holds.
	PartBytes int
	// Queue is how many parsed blocks may wait for their insert
	// (IngestQueue when 0).
	Queue int
	// NoGroups ingests small objects one by one instead of in groups of
	// one INSERT (groups.go); the benchmarks compare both.
	NoGroups bool
	// Retry bounds the retries of a failed insert.
	Retry RetryOptions
	// RetryFailed makes Run ingest again the objects that failed
	// permanently under this version (it skips them otherwise).
	RetryFailed bool
	// OnPlanned, when set, hears how many objects Run is about to ingest,
	// once per source listed (skipped objects left out); OnObject hears
	// each object's result as it ends. Hand-over jobs show them as
	// progress.
	OnPlanned func(n int)
	OnObject  func(ObjectResult)
}

// Ingester reads flow-log objects into flow_logs, each exactly once. It is
// safe for concurrent use; objects are ingested by the calling goroutine,
// with the inserts of its blocks overlapping the parsing of the next.
type Ingester struct {
	deps   Dependencies
	opts   IngestOptions
	attr   *Attributor
	ledger *ledger.Ledger
	m      *metrics
	wm     *insertMetrics
	pools  *pools // shared by the copies Routes makes
}

// pools keep blocks and attribution columns from object to object.
type pools struct {
	slots sync.Pool // of *slot
	attrs sync.Pool // of *Attribution
}

// NewIngester checks the configuration and returns an idle Ingester.
func NewIngester(deps Dependencies, opts IngestOptions) (*Ingester, error) {
	if deps.Store == nil || deps.Source == nil {
		return nil, errors.New("flow-log ingester: Store and Source are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Index == nil {
		deps.Index = func(context.Context, time.Time, time.Time) *pods.Index { return nil }
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = IngestBatchRows
	}
	if opts.MaxErrorDetails == 0 {
		opts.MaxErrorDetails = DefaultMaxErrorDetails
	}
	if opts.StreamBlocks <= 0 {
		opts.StreamBlocks = StreamBlocks
	}
	if opts.PartBytes <= 0 {
		opts.PartBytes = StreamPartBytes
	}
	if opts.Queue <= 0 {
		opts.Queue = IngestQueue
	}
	a, err := NewAttributor(deps.Traffic)
	if err != nil {
		return nil, err
	}
	return &Ingester{deps: deps, opts: opts, attr: a, ledger: ledger.New(deps.Store, LedgerKind, deps.Version), pools: &pools{},
		m: newMetrics(deps.Registry), wm: newInsertMetrics(deps.Registry)}, nil
}

// Ledger is the ingester's ledger, for a source.Poller.
func (i *Ingester) Ledger() *ledger.Ledger { return i.ledger }

// Ingest is IngestObject as a source.Ingest, for the poller: a file that is
// not a flow log is recorded and skipped, not retried; an object that
// failed permanently is recorded in the failures the poller skips.
func (i *Ingester) Ingest(ctx context.Context, obj sources.Object) error {
	_, err := i.IngestObject(ctx, obj)
	return err
}

// startAttempts returns the locations that earlier, interrupted runs read
// each of objs from, and marks objs as started in the ledger (see
// Ledger.MarkAttempts for why).
func (i *Ingester) startAttempts(ctx context.Context, objs []sources.Object) (map[string][]string, error) {
	out := map[string][]string{}
	for start := 0; start < len(objs); start += 1000 {
		batch := objs[start:min(start+1000, len(objs))]
		ids := make([]string, len(batch))
		as := make([]ledger.Attempt, len(batch))
		for k, o := range batch {
			ids[k] = sources.ID(o)
			as[k] = ledger.Attempt{ID: ids[k], Location: sources.Location(o)}
		}
		earlier, err := i.ledger.EarlierAttempts(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id, locs := range earlier {
			out[id] = locs
		}
		if err := i.ledger.MarkAttempts(ctx, as, i.deps.Now()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IngestObject reads one object into flow_logs and records it in the
// ledger. Records of a file that fails half way are stored with
// deduplication tokens, so ingesting it again stores each record once.
// The error concerns the whole object (unreadable, not stored); rejected
// lines and a file that is not a flow log are reported in the result only.
func (i *Ingester) IngestObject(ctx context.Context, obj sources.Object) (ObjectResult, error) {
	earlier, err := i.startAttempts(ctx, []sources.Object{obj})
	if err != nil {
		return ObjectResult{URL: obj.URL, ID: sources.ID(obj), Error: err.Error()}, err
	}
	return i.ingest(ctx, obj, sources.Window{}, earlier[sources.ID(obj)])
}

// slot is one block's worth of parsed records, recycled once inserted.
type slot struct {
	batch *Batch
}

// slot returns a block from the pool of the ingester: its columns and
// interned strings are kept from object to object.
func (i *Ingester) slot() *slot {
	if sl, ok := i.pools.slots.Get().(*slot); ok {
		return sl
	}
	return &slot{batch: NewBatch()}
}

// ingest reads obj into flow_logs. A transient store failure is retried by
// reading the object again: the streams it had committed carry the same
// tokens and are not stored twice. Read errors are not retried here (the
// object stays out of the ledger, so the next run or poll takes it again).
// earlier lists the locations that interrupted runs read obj from: their
// committed rows are counted before and after, so that Stored says what
// this run added and AlreadyStored what it found (see Ledger.MarkAttempts).
func (i *Ingester) ingest(ctx context.Context, obj sources.Object, w sources.Window, earlier []string) (ObjectResult, error) {
	started := i.deps.Now()
	locs := append([]string{sources.Location(obj)}, earlier...)
	var before int64
	if len(earlier) > 0 {
		var err error
		if before, err = storedRows(ctx, i.deps.Store, locs); err != nil {
			res := ObjectResult{URL: obj.URL, ID: sources.ID(obj)}
			return i.fail(ctx, &res, obj, started, err)
		}
	}
	r := i.opts.Retry.WithDefaults()
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = r.Initial, r.Max
	var res ObjectResult
	attempts := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		var err error
		attempts++
		res, err = i.ingestOnce(ctx, obj, w)
		var se *storeFailure
		if err != nil && errors.As(err, &se) && store.Transient(se.err) && ctx.Err() == nil {
			return struct{}{}, err
		}
		return struct{}{}, backoff.Permanent(err)
	},
		backoff.WithBackOff(bo),
		backoff.WithMaxTries(r.MaxAttempts),
		backoff.WithMaxElapsedTime(r.MaxElapsed),
		backoff.WithNotify(func(err error, wait time.Duration) {
			i.wm.Retried("flow_logs")
			i.deps.Logger.WarnContext(ctx, "flow-log object not stored, reading it again", "url", obj.URL, "err", err, "retry_in", wait)
		}),
	)
	res.Seconds = i.deps.Now().Sub(started).Seconds()
	res.Attempts = attempts
	if err != nil {
		res.Stored = 0
		return i.fail(ctx, &res, obj, started, err)
	}
	if len(earlier) > 0 || attempts > 1 {
		// Some rows sent may have been stored before: count what is new.
		after, err := storedRows(ctx, i.deps.Store, locs)
		if err != nil {
			return i.fail(ctx, &res, obj, started, err)
		}
		added := min(max(after-before, 0), res.Stored)
		res.AlreadyStored = res.Stored - added
		res.Stored = added
	}
	i.m.records(res)
	return res, i.record(ctx, &res, obj, started)
}

// storeFailure marks an error of the store (as opposed to the source).
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }
func (e *storeFailure) Unwrap() error { return e.err }

// ingestOnce reads obj once. The calling goroutine reads and parses
// blocks (decompression has a goroutine of its own); a second one
// attributes them and sends them to the engine, one INSERT stream per
// IngestOptions.StreamBlocks blocks. Parsing overlaps attribution and
// storing, and the engine pays its per-insert costs once per stream.
func (i *Ingester) ingestOnce(ctx context.Context, obj sources.Object, w sources.Window) (ObjectResult, error) {
	id, loc := sources.ID(obj), sources.Location(obj)
	res := ObjectResult{URL: obj.URL, ID: id}
	rd, closeObj, checked, err := i.open(ctx, obj)
	if err != nil {
		return res, classifyRead(err)
	}
	defer closeObj()
	defer rd.Close()
	res.Format = string(rd.Format())

	readErr, sinkErr := i.newPipeline(id, loc, w, checked).run(ctx, rd, &res)
	st := rd.Stats()
	res.Read, res.Rejected = st.Read, st.Rejected
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	if sinkErr != nil {
		return res, &storeFailure{sinkErr}
	}
	return res, classifyRead(readErr)
}

// classifyRead marks the read errors that are in the object's bytes as
// permanent: a corrupt or truncated compressed object (ErrCorrupt: bad
// header, checksum, deflate data, early end; a Parquet file that does not
// open) stays so for the same identity (S3 ETag, or size and sha256), and
// a changed object has a new identity. A source that fails while reading
// (a broken connection: S3 objects are downloaded whole before they are
// checked) is not ErrCorrupt, and is retried.
func classifyRead(err error) error {
	var corrupt flate.CorruptInputError
	if errors.Is(err, ErrCorrupt) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) {
		return store.MarkPermanent(err)
	}
	return err
}

// StreamBlocks is how many blocks (of IngestOptions.BatchRows records) go
// through one INSERT stream: 6 × 16,384 = 98,304 records. On the embedded
// engine an INSERT holds the engine from its start to its end, and a
// dashboard query waits for the one under way: 1M-record streams held it
// for about two seconds (p99 of a small SQL query during a 1M-record
// ingest: 2,001 ms). Smaller streams pay the engine's per-insert cost
// (parts, deduplication log, the rollup's part) more often. Measured in
// one session (make bench-latency, bench-ingest; p99 during the ingest,
// ingest / storage limit per round):
//
//	4 blocks: p99 112–118 ms, 0.67–0.95×
//	6 blocks: p99 133–187 ms, 0.64–0.86×
//	8 blocks: p99 136–308 ms, 0.74–0.95×
const StreamBlocks = 6

// startRange returns the earliest and latest start time of b's records,
// the times their ends are looked up at. Records without a start (0, "-")
// are left out: they are NODATA/SKIPDATA records, whose addresses are "-"
// too, so no pod is looked up for them; a block of only those needs no
// index (ok false). A pass over 16,384 values is a few microseconds, next
// to milliseconds of attribution per block.
func startRange(b *Batch) (from, to time.Time, ok bool) {
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for r := range b.Rows() {
		if s := b.Start(r); s != 0 {
			lo, hi = min(lo, s), max(hi, s)
		}
	}
	if hi == 0 {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(int64(lo), 0), time.Unix(int64(hi), 0), true
}

// streamSettings pin how the engine squashes a stream's blocks into parts,
// so that a re-run forms the same parts and their tokens match: one part
// per stream, unless it outgrows opts.PartBytes. (The engine measures the
// bytes; an engine upgrade between a failed run and its re-run could move
// part boundaries.)
func (i *Ingester) streamSettings() map[string]string {
	rows := strconv.Itoa(i.opts.StreamBlocks * i.opts.BatchRows)
	return map[string]string{
		"min_insert_block_size_rows":  rows,
		"max_insert_block_size":       rows,
		"min_insert_block_size_bytes": strconv.Itoa(i.opts.PartBytes),
	}
}

// StreamPartBytes caps the engine's squashing buffer, which is most of
// the ingest's memory: with the engine's default (256 MB) a 1M-record
// ingest peaked at 1.4 GB RSS, with 64 MB at 0.8–0.9 GB. It also sets how
// long the engine stops reading the stream to write a part; see
// IngestQueue.
const StreamPartBytes = 32 << 20

// IngestQueue is how many parsed blocks may wait for the engine by
// default. The engine reads a stream in bursts: while it writes a part it
// reads nothing, and without a queue the parser and the attribution would
// wait too. Eight blocks (about 30 MB) with 32 MB parts cover most of a
// part's write: best of three rounds, 0.84–0.93× the storage limit against
// 0.68–0.73× with two blocks and 64 MB parts (make bench).
const IngestQueue = 8

// fail reports an object that could not be ingested; a file that is not a
// flow log is recorded in the ledger instead, so that it is not read again.
func (i *Ingester) fail(ctx context.Context, res *ObjectResult, obj sources.Object, started time.Time, err error) (ObjectResult, error) {
	if errors.Is(err, ErrNotFlowLog) {
		res.NotFlowLog = true
		res.Errors = append(res.Errors, err.Error())
		i.m.objects.WithLabelValues("not_flow_log").Inc()
		return *res, i.record(ctx, res, obj, started)
	}
	res.Error = err.Error()
	i.m.objects.WithLabelValues("failed").Inc()
	if store.Permanent(err) && ctx.Err() == nil {
		// Reading it again fails again: record it, so that a poller skips
		// it until the object or the binary changes.
		res.Permanent = true
		res.Error = fmt.Sprintf("%s (permanent: not retried until the object or furrow changes; --retry-failed forces it)", err)
		i.m.permanent.Inc()
		if rerr := i.ledger.RecordFailure(ctx, ledger.FailureEntry{ID: res.ID, URL: obj.URL, Reason: err.Error(), Read: res.Read, FailedAt: i.deps.Now()}); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	i.deps.Logger.WarnContext(ctx, "flow-log object not ingested", "url", obj.URL, "err", err, "permanent", res.Permanent, "attempts", res.Attempts)
	return *res, fmt.Errorf("ingest %s: %w", obj.URL, err)
}

func (i *Ingester) record(ctx context.Context, res *ObjectResult, obj sources.Object, started time.Time) error {
	err := i.ledger.Record(ctx, ledger.Entry{
		ID: res.ID, URL: obj.URL, Size: obj.Size, Read: res.Read, Stored: res.Stored, Rejected: res.Rejected,
		FirstErrors: res.Errors, StartedAt: started, FinishedAt: i.deps.Now(),
	})
	if err != nil {
		res.Error = err.Error()
		i.m.objects.WithLabelValues("failed").Inc()
		return err
	}
	if !res.NotFlowLog {
		i.m.objects.WithLabelValues("ingested").Inc()
	}
	return nil
}

// token names stream k of an object for insert deduplication (the engine
// numbers the parts of a stream after it). The block, stream and part
// sizes and the time window decide which records stream k and its parts
// hold, so they are part of the token (the part size when it is not the
// default).
func (i *Ingester) token(id string, k int, w sources.Window) string {
	// The geometry is always named: a token names the records of one
	// stream, and a default that changes between a run and its re-run
	// (StreamBlocks went from 64 to 4) must not make two different sets
	// of records share a token (the engine would drop the second).
	t := id + "#" + strconv.Itoa(k) + ";rows=" + strconv.Itoa(i.opts.BatchRows) +
		";blocks=" + strconv.Itoa(i.opts.StreamBlocks)
	if i.opts.PartBytes != StreamPartBytes {
		t += ";part=" + strconv.Itoa(i.opts.PartBytes)
	}
	if !w.Since.IsZero() {
		t += ";since=" + strconv.FormatInt(w.Since.Unix(), 10)
	}
	if !w.Until.IsZero() {
		t += ";until=" + strconv.FormatInt(w.Until.Unix(), 10)
	}
	return t
}

// open returns a Reader of obj (Parquet objects through random access,
// everything else as a stream), the function that closes it, and a channel
// that delivers the check of the whole compressed object.
func (i *Ingester) open(ctx context.Context, obj sources.Object) (*Reader, func(), <-chan error, error) {
	ropts := Options{MaxErrorDetails: i.opts.MaxErrorDetails, BatchRows: i.opts.BatchRows, Fields: i.opts.Fields}
	checked := make(chan error, 1)
	if strings.HasSuffix(strings.ToLower(obj.Key), ".parquet") || strings.HasSuffix(strings.ToLower(obj.URL), ".parquet") {
		ra, size, cleanup, err := i.deps.Source.OpenReaderAt(ctx, obj)
		if err != nil {
			return nil, nil, nil, err
		}
		rd, err := OpenParquet(obj.URL, ra, size, ropts)
		if err != nil {
			cleanup()
			return nil, nil, nil, err
		}
		checked <- nil // a Parquet file that opens has its footer and checksums
		return rd, func() { cleanup() }, checked, nil
	}
	// The compressed stream is checked whole (CheckCompressed) in a pass of
	// its own, next to the ingest read: the pipeline commits no stream
	// before the check has passed, so that nothing of a truncated or
	// corrupt object is stored, while parsing and staging the first
	// streams need not wait for the check.
	if obj.IsS3() {
		// One pinned GET into a temporary file serves both the check and
		// the ingest read.
		ra, size, cleanup, err := i.deps.Source.OpenReaderAt(ctx, obj)
		if err != nil {
			return nil, nil, nil, err
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			checked <- CheckCompressed(obj.URL, io.NewSectionReader(ra, 0, size))
		}()
		rd, err := NewReader(obj.URL, io.NewSectionReader(ra, 0, size), ropts)
		if err != nil {
			<-done
			cleanup()
			return nil, nil, nil, err
		}
		return rd, func() { <-done; cleanup() }, checked, nil
	}
	// A file is read twice, each time checked against its listed hash: a
	// file that changes in between fails the ingest read at its end.
	check, err := i.deps.Source.Open(ctx, obj)
	if err != nil {
		return nil, nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer check.Close()
		checked <- CheckCompressed(obj.URL, check)
	}()
	rc, err := i.deps.Source.Open(ctx, obj)
	if err != nil {
		<-done
		return nil, nil, nil, err
	}
	rd, err := NewReader(obj.URL, rc, ropts)
	if err != nil {
		rc.Close()
		<-done
		return nil, nil, nil, err
	}
	return rd, func() { rc.Close(); <-done }, checked, nil
}

// runUnits ingests units in order: a group of small objects in one INSERT
// (groups.go), the others one by one (one). The next group is read and
// staged while the engine stores the previous one.
func (i *Ingester) runUnits(ctx context.Context, units []unit, w sources.Window, one func(sources.Object) error, sum *Summary) error {
	type item struct {
		unit unit
		prep *preparedGroup
		err  error
	}
	items := make(chan item, 1)
	producer, pctx := errgroup.WithContext(ctx)
	producer.Go(func() error {
		defer close(items)
		for _, u := range units {
			it := item{unit: u}
			if u.again != "" || len(u.objs) > 1 && !i.opts.NoGroups {
				it.prep, it.err = i.prepareGroup(pctx, u.objs, w)
			}
			select {
			case items <- it:
			case <-pctx.Done():
				it.prep.abort()
				return pctx.Err()
			}
		}
		return nil
	})
	var runErr error
	for it := range items {
		if runErr != nil {
			it.prep.abort() // drained: the run is over
			continue
		}
		alone := it.unit.objs
		if again := it.unit.again; again != "" && (it.err != nil || it.prep.st == nil || it.prep.g.ID != again) {
			// The committed group cannot be formed again as it was (a
			// member unreadable now): its rows are stored; record its
			// members, and never insert them under another token.
			it.prep.abort()
			if err := i.recordStoredByGroup(ctx, it.unit.objs, again, sum); err != nil {
				runErr = err
			}
			continue
		}
		if it.prep != nil || it.err != nil {
			var results []ObjectResult
			var rest []sources.Object
			err := it.err
			if err == nil {
				results, rest, err = i.commitGroup(ctx, it.prep)
			}
			if err != nil {
				if ctx.Err() != nil {
					runErr = ctx.Err()
					continue
				}
				// Nothing of the group was inserted: its objects go one by
				// one.
				i.deps.Logger.WarnContext(ctx, "small objects not grouped", "objects", len(it.unit.objs), "err", err)
				results, rest = nil, it.unit.objs
			}
			for _, res := range results {
				sum.add(res)
				if i.opts.OnObject != nil {
					i.opts.OnObject(res)
				}
			}
			alone = rest
		}
		for _, o := range alone {
			if err := one(o); err != nil {
				runErr = err
				break
			}
		}
	}
	perr := producer.Wait()
	if runErr != nil {
		return runErr
	}
	if perr != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// Run lists srcs (files, directories, s3:// prefixes) within w, skips the
// objects the ledger knows, and ingests the others one after the other.
// Records whose start falls outside w are dropped and counted (listing
// windows are coarse: a partition or a file covers an hour or more).
// Failures of single objects are in the Summary; the error is for what
// stops the run (the ledger unreachable, ctx done).
func (i *Ingester) Run(ctx context.Context, srcs []string, w sources.Window) (sum Summary, err error) {
	sum = Summary{Strict: i.opts.Strict}
	if !w.Since.IsZero() {
		sum.Since = w.Since.UTC().Format(time.RFC3339)
	}
	if !w.Until.IsZero() {
		sum.Until = w.Until.UTC().Format(time.RFC3339)
	}
	start := i.deps.Now()
	// sum is a named result so the duration lands in what is returned.
	defer func() { sum.Seconds = i.deps.Now().Sub(start).Seconds() }()
	for _, src := range srcs {
		var objs []sources.Object
		err := i.deps.Source.List(ctx, src, w, func(o sources.Object) error {
			objs = append(objs, o)
			return nil
		})
		// Entries of a directory that cannot be read are reported one by
		// one and do not hold back the rest.
		var skipped *sources.SkippedError
		if errors.As(err, &skipped) {
			for _, e := range skipped.Entries {
				sum.add(ObjectResult{URL: e.URL, Error: fmt.Sprintf("%v; skipped, the rest of %s is ingested: fix or remove it and run again", e.Err, src)})
			}
			err = nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return sum.finish(), ctx.Err()
			}
			sum.add(ObjectResult{URL: src, Error: fmt.Sprintf("list %s: %v", src, err)})
			continue
		}
		fresh, err := sources.FilterNew(ctx, i.ledger, objs)
		if err != nil {
			return sum.finish(), err
		}
		sum.Listed += len(objs)
		sum.Skipped += len(objs) - len(fresh)
		i.m.skipped.Add(float64(len(objs) - len(fresh)))
		if !i.opts.RetryFailed {
			var failed int
			if fresh, failed, err = sources.FilterFailed(ctx, i.ledger, fresh); err != nil {
				return sum.finish(), err
			}
			sum.SkippedFailed += failed
		}
		if i.opts.OnPlanned != nil {
			i.opts.OnPlanned(len(fresh))
		}
		// Objects whose group was stored by a run that ended before
		// recording them are recorded now, without being read (groups.go).
		fresh, again, err := i.recoverGroups(ctx, fresh, &sum)
		if err != nil {
			return sum.finish(), err
		}
		earlier, err := i.startAttempts(ctx, fresh)
		if err != nil {
			return sum.finish(), err
		}
		one := func(o sources.Object) error {
			res, err := i.ingest(ctx, o, w, earlier[sources.ID(o)])
			sum.add(res)
			if i.opts.OnObject != nil {
				i.opts.OnObject(res)
			}
			if err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		if err := i.runUnits(ctx, append(again, planGroups(fresh, earlier)...), w, one, &sum); err != nil {
			return sum.finish(), err
		}
	}
	return sum.finish(), nil
}
