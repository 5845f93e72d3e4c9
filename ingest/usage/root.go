// Package usage receives pod CPU and memory usage from Prometheus through
// its remote-write protocol (1.0, and 2.0) and stores hourly rollups per
// pod in pod_usage_hourly, which cost allocation reads to split a node's
// cost by max(request, usage).
//
// Of what a Prometheus sends, only two cAdvisor metrics of real
// containers are kept: container_cpu_usage_seconds_total (a counter: the
// increases between consecutive samples are CPU seconds) and
// container_memory_working_set_bytes (a gauge: averaged per pod and hour).
// The last sample of every series is kept in memory, so a counter's first
// sample after furrow starts gives no increase.
//
// A request is stored before it is answered: its rollups are inserted in
// one block, and the in-memory state moves only when the insert succeeded,
// so a request answered 5xx and sent again computes the same block, whose
// deduplication token makes the engine keep one copy; a request stored but
// answered too late is sent again and finds its samples already seen.
package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/every"
	"github.com/furrowdev/furrow/store"
)

// Dependencies are the collaborators of the receiver.
type Dependencies struct {
	// Store receives the rollups; required.
	Store store.Store
	// Registry registers the metrics; required.
	Registry prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is furrow's clock (eviction, samples from the future); defaults
	// to time.Now.
	Now func() time.Time
}

// Component is the remote-write receiver.
type Component struct {
	cfg     Configuration
	deps    Dependencies
	metrics *metrics

	// sem is held while a request is folded into the state and stored:
	// requests touching the same series must see each other's effect, and
	// the state moves only with a stored insert. The embedded engine runs
	// one insert at a time anyway.
	sem chan struct{}
	st  state

	bufs sync.Pool // request body buffers

	logMu   sync.Mutex
	lastLog time.Time

	loop *every.Loop
}

// New returns an inert receiver; Start runs the eviction of idle series.
func New(cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Registry == nil {
		return nil, errors.New("usage: Dependencies.Store and Dependencies.Registry are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Component{
		cfg: cfg, deps: deps, metrics: newMetrics(deps.Registry),
		sem: make(chan struct{}, 1), st: newState(),
	}, nil
}

// Start evicts the series without a sample for series_ttl, every quarter
// of it (at most every minute), until Stop.
func (c *Component) Start(ctx context.Context) error {
	if c.loop != nil {
		return errors.New("usage: already started")
	}
	c.loop = every.Start(ctx, min(c.cfg.SeriesTTL/4, time.Minute), c.evict)
	return nil
}

// Stop ends the eviction loop, waiting until ctx ends at most, then waits
// for the request being stored. Nothing is buffered: every request is
// stored before it is answered, so there is nothing left to flush.
func (c *Component) Stop(ctx context.Context) error {
	if c.loop == nil {
		return nil
	}
	if err := c.loop.Stop(ctx); err != nil {
		return err
	}
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("usage: wait for the request in progress: %w", err)
	}
	c.unlock()
	return nil
}

func (c *Component) lock(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Component) unlock() { <-c.sem }

// evict forgets the series and pods unseen for series_ttl.
func (c *Component) evict(ctx context.Context) {
	if c.lock(ctx) != nil {
		return
	}
	defer c.unlock()
	n := c.evictLocked(c.deps.Now())
	if n > 0 {
		c.deps.Logger.Debug("usage: idle series evicted", "series", n, "tracked", len(c.st.series))
	}
}

func (c *Component) evictLocked(now time.Time) int {
	limit := now.Add(-c.cfg.SeriesTTL).UnixNano()
	n := 0
	for k, s := range c.st.series {
		if s.seen < limit {
			delete(c.st.series, k)
			n++
		}
	}
	for k, p := range c.st.pods {
		if p.seen < limit {
			delete(c.st.pods, k)
		}
	}
	c.metrics.seriesEvicted.Add(float64(n))
	c.metrics.seriesTracked.Set(float64(len(c.st.series)))
	return n
}

// Result is what one request did.
type Result struct {
	// Samples is the number of float samples in the request.
	Samples int
	// Kept is the number of samples that moved their series forward.
	Kept int
	// Rows is the number of rows inserted.
	Rows int
}

// errStore wraps a failed insert: the sender should retry (5xx).
var errStore = errors.New("store failed")

// ingest decodes an uncompressed body of protocol p and stores its
// rollups. Errors wrapping errNotProtobuf and errInvalid are the sender's
// (4xx); errStore and context errors are furrow's (5xx).
func (c *Component) ingest(ctx context.Context, p protocol, body []byte) (Result, error) {
	ss, err := decode(p, body)
	if err != nil {
		return Result{}, err
	}
	if err := c.lock(ctx); err != nil {
		return Result{}, err
	}
	defer c.unlock()
	b := newBatch(&c.cfg, &c.st, c.deps.Now())
	for i := range ss {
		b.add(&ss[i])
	}
	res := Result{Samples: b.received, Kept: b.keptCPU + b.keptMemory, Rows: len(b.rows)}
	c.metrics.samplesReceived.Add(float64(b.received))
	if len(b.rows) > 0 {
		blk, token := b.block(b.sortedRows())
		start := time.Now()
		err := c.deps.Store.Insert(ctx, Table, blk, token)
		c.metrics.insertSeconds.Observe(time.Since(start).Seconds())
		if err != nil {
			c.metrics.insertErrors.Inc()
			return res, fmt.Errorf("%w: insert %d rows into %s: %w", errStore, blk.Rows(), Table, err)
		}
		c.metrics.inserts.Inc()
	}
	b.commit()
	c.count(b)
	return res, nil
}

// count adds a stored batch to the counters.
func (c *Component) count(b *batch) {
	m := c.metrics
	m.samplesKept.WithLabelValues("cpu").Add(float64(b.keptCPU))
	m.samplesKept.WithLabelValues("memory").Add(float64(b.keptMemory))
	for r, n := range b.droppedSamples {
		m.samplesDropped.WithLabelValues(r).Add(float64(n))
	}
	for r, n := range b.droppedSeries {
		m.seriesDropped.WithLabelValues(r).Add(float64(n))
	}
	m.counterResets.Add(float64(b.resets))
	m.counterStarts.Add(float64(b.starts))
	m.seriesTracked.Set(float64(len(c.st.series)))
}
