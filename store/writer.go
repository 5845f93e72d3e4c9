package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// WriterOptions tune a Writer. The zero value is usable.
type WriterOptions struct {
	// Queue is how many blocks may wait for their insert; Write blocks when
	// they are all taken (back-pressure). 0 means 2: one block inserting,
	// one being prepared, which is what keeps a parser and the engine busy
	// at once without holding more than a few blocks in memory.
	Queue int
	// Retry bounds the retries of a block whose insert failed transiently.
	Retry RetryOptions
	// OnResult, when set, is called from the insert goroutine after each
	// block, in write order, with the outcome of its last attempt.
	OnResult func(Result)
	// Metrics receives the writer's counters; nil counts nothing. Build it
	// once per process with NewWriterMetrics: every writer shares it,
	// labelled by table.
	Metrics *WriterMetrics
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// RetryOptions bound the exponential backoff of a failing insert. Zero
// fields take the defaults in parentheses.
type RetryOptions struct {
	// Initial is the first pause (200ms).
	Initial time.Duration
	// Max caps one pause (10s).
	Max time.Duration
	// MaxAttempts bounds the attempts of one block, the first included (8).
	MaxAttempts uint
	// MaxElapsed bounds the time spent on one block (2m).
	MaxElapsed time.Duration
}

// WithDefaults fills the zero fields with the defaults.
func (r RetryOptions) WithDefaults() RetryOptions {
	if r.Initial <= 0 {
		r.Initial = 200 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 8
	}
	if r.MaxElapsed <= 0 {
		r.MaxElapsed = 2 * time.Minute
	}
	return r
}

// Result is the outcome of one block.
type Result struct {
	Token    string
	Rows     int
	Attempts int
	// Tag is the value given to WriteTagged, for the caller to recognise
	// its block (and, for instance, recycle its columns).
	Tag any
	Err error
}

// Writer inserts blocks into one table from a goroutine of its own, in the
// order they were written, so that producing the next block overlaps
// inserting the previous one. A block that fails transiently is retried
// with the same token, so a retry that follows an insert which did commit
// is not stored twice. After a block fails for good, the writer refuses
// further blocks: the caller decides whether to start over.
//
// A Writer is safe for concurrent use; blocks of concurrent writers are
// inserted in the order Write accepted them.
type Writer struct {
	s     Store
	table string
	opts  WriterOptions
	ch    chan job
	wg    sync.WaitGroup // pending blocks
	done  chan struct{}

	closeCh sync.Once

	mu      sync.Mutex
	err     error // first permanent failure, reported by Flush and Write
	closed  bool
	pending int
}

type job struct {
	ctx   context.Context
	b     Block
	token string
	tag   any
}

// NewWriter starts a writer into table. Close it to stop its goroutine.
func NewWriter(s Store, table string, opts WriterOptions) *Writer {
	if opts.Queue <= 0 {
		opts.Queue = 2
	}
	opts.Retry = opts.Retry.WithDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Writer{s: s, table: table, opts: opts, ch: make(chan job, opts.Queue), done: make(chan struct{})}
	go w.run()
	return w
}

// Write enqueues b for insertion with token (see Store.Insert), waiting
// while the queue is full. The Writer owns b until its Result is reported
// (or Flush returns): do not modify its columns before. Write returns an
// error when ctx ends first, when the writer is closed or when an earlier
// block failed for good.
func (w *Writer) Write(ctx context.Context, b Block, token string) error {
	return w.WriteTagged(ctx, b, token, nil)
}

// WriteTagged is Write with a tag handed back in the block's Result.
func (w *Writer) WriteTagged(ctx context.Context, b Block, token string, tag any) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	w.pending++
	w.wg.Add(1)
	w.mu.Unlock()
	w.opts.Metrics.queue(w.table, 1)
	select {
	case w.ch <- job{ctx: ctx, b: b, token: token, tag: tag}:
		return nil
	case <-ctx.Done():
		w.opts.Metrics.queue(w.table, -1)
		w.finish()
		return ctx.Err()
	}
}

func (w *Writer) finish() {
	w.mu.Lock()
	w.pending--
	w.mu.Unlock()
	w.wg.Done()
}

// Flush waits until every block written so far is inserted (or failed) and
// returns the first permanent failure, if any, which stays reported until
// Reset.
func (w *Writer) Flush(ctx context.Context) error {
	waited := make(chan struct{})
	go func() { w.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Reset forgets the failure that stopped the writer, so that it accepts
// blocks again (for instance for the next object of an ingest run).
func (w *Writer) Reset() {
	w.mu.Lock()
	w.err = nil
	w.mu.Unlock()
}

// Close flushes and stops the writer; later writes fail with ErrClosed.
// When ctx ends first, the blocks still queued are inserted in the
// background and Close returns ctx's error.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	err := w.Flush(ctx)
	stop := func() { w.closeCh.Do(func() { close(w.ch) }) }
	if ctx.Err() != nil {
		go func() { w.wg.Wait(); stop() }()
		return err
	}
	stop() // no Write can be sending any more: all were flushed
	<-w.done
	return err
}

func (w *Writer) run() {
	defer close(w.done)
	for j := range w.ch {
		w.opts.Metrics.queue(w.table, -1)
		res := Result{Token: j.token, Rows: j.b.Rows(), Tag: j.tag}
		w.mu.Lock()
		failed := w.err
		w.mu.Unlock()
		if failed != nil {
			res.Err = fmt.Errorf("not inserted after an earlier failure: %w", failed)
		} else {
			res.Attempts, res.Err = w.insert(j)
		}
		if res.Err != nil {
			w.opts.Metrics.errors(w.table)
			w.mu.Lock()
			if w.err == nil {
				w.err = res.Err
			}
			w.mu.Unlock()
		} else {
			w.opts.Metrics.written(w.table, res.Rows)
		}
		if w.opts.OnResult != nil {
			w.opts.OnResult(res)
		}
		w.finish()
	}
}

// insert runs one block through the retry policy.
func (w *Writer) insert(j job) (int, error) {
	r := w.opts.Retry
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = r.Initial, r.Max
	attempts := 0
	_, err := backoff.Retry(j.ctx, func() (struct{}, error) {
		attempts++
		err := w.s.Insert(j.ctx, w.table, j.b, j.token)
		if err == nil {
			return struct{}{}, nil
		}
		if !Transient(err) || j.ctx.Err() != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(bo),
		backoff.WithMaxTries(r.MaxAttempts),
		backoff.WithMaxElapsedTime(r.MaxElapsed),
		backoff.WithNotify(func(err error, wait time.Duration) {
			w.opts.Metrics.retried(w.table)
			w.opts.Logger.Warn("insert failed, retrying", "table", w.table, "token", j.token, "err", err, "retry_in", wait)
		}),
	)
	if err != nil {
		return attempts, fmt.Errorf("insert %d rows into %s (token %q, %d attempts): %w", j.b.Rows(), w.table, j.token, attempts, err)
	}
	return attempts, nil
}

// WriterMetrics are the counters of every Writer of a process, by table.
type WriterMetrics struct {
	rows, blocks, retries, errs *prometheus.CounterVec
	depth                       *prometheus.GaugeVec
}

// NewWriterMetrics registers the writer metrics on reg (nil: unregistered).
func NewWriterMetrics(reg prometheus.Registerer) *WriterMetrics {
	m := &WriterMetrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_writer_rows_total", Help: "Rows inserted by store writers.",
		}, []string{"table"}),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_writer_blocks_total", Help: "Blocks inserted by store writers.",
		}, []string{"table"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_writer_retries_total", Help: "Insert attempts retried after a transient error.",
		}, []string{"table"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_writer_errors_total", Help: "Blocks that could not be inserted.",
		}, []string{"table"}),
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "furrow_store_writer_queue_blocks", Help: "Blocks waiting for their insert.",
		}, []string{"table"}),
	}
	if reg != nil {
		reg.MustRegister(m.rows, m.blocks, m.retries, m.errs, m.depth)
	}
	return m
}

func (m *WriterMetrics) queue(table string, d float64) {
	if m != nil {
		m.depth.WithLabelValues(table).Add(d)
	}
}

func (m *WriterMetrics) written(table string, rows int) {
	if m != nil {
		m.rows.WithLabelValues(table).Add(float64(rows))
		m.blocks.WithLabelValues(table).Inc()
	}
}

func (m *WriterMetrics) retried(table string) {
	if m != nil {
		m.retries.WithLabelValues(table).Inc()
	}
}

func (m *WriterMetrics) errors(table string) {
	if m != nil {
		m.errs.WithLabelValues(table).Inc()
	}
}

// Inserted counts rows that an insert stream stored in blocks blocks.
func (m *WriterMetrics) Inserted(table string, blocks, rows int) {
	if m != nil {
		m.rows.WithLabelValues(table).Add(float64(rows))
		m.blocks.WithLabelValues(table).Add(float64(blocks))
	}
}

// Retried counts an insert retried after a transient error.
func (m *WriterMetrics) Retried(table string) { m.retried(table) }

// Failed counts an insert that failed for good.
func (m *WriterMetrics) Failed(table string) { m.errors(table) }

// Rows returns the rows counter of table, for tests and dashboards.
func (m *WriterMetrics) Rows(table string) prometheus.Counter { return m.rows.WithLabelValues(table) }

// Retries returns the retries counter of table.
func (m *WriterMetrics) Retries(table string) prometheus.Counter {
	return m.retries.WithLabelValues(table)
}
