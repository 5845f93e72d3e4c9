// Package cost answers what the cloud costs and who spends it: it splits
// the bill (billing_costs) to owners (allocate.go: by tag, catalog
// resource, the namespaces that sent a data transfer, the pods on a
// Kubernetes node), reports the allocation (report.go), and finds
// unintended increases (anomaly.go). The component re-allocates the
// periods whose bill changed, and the open month, on a schedule.
package cost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/every"
	"github.com/furrowdev/furrow/internal/promreg"
	"github.com/furrowdev/furrow/store"
)

// Dependencies of the component.
type Dependencies struct {
	// Store is the ClickHouse store; required.
	Store store.Store
	// Registry registers the metrics; nil: a private one.
	Registry prometheus.Registerer
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Now is the clock; defaults to time.Now.
	Now func() time.Time
}

// Component allocates on a schedule and serves the reports.
type Component struct {
	cfg  Configuration
	deps Dependencies
	*Reports
	alloc *Allocator

	runs     *prometheus.CounterVec
	duration prometheus.Histogram
	findings prometheus.Gauge

	mu   sync.Mutex // one allocation at a time
	loop *every.Loop
}

// New builds the component; it does nothing until Start.
func New(cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("cost: the store is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	c := &Component{cfg: cfg, deps: deps, Reports: NewReports(deps.Store, cfg), alloc: NewAllocator(deps.Store, cfg)}
	c.Reports.now, c.alloc.now = deps.Now, deps.Now
	c.runs = promreg.Register(deps.Registry, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "furrow", Subsystem: "cost", Name: "allocation_runs_total", Help: "Allocation runs, by outcome."}, []string{"outcome"}))
	c.duration = promreg.Register(deps.Registry, prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "furrow", Subsystem: "cost", Name: "allocation_seconds", Help: "Duration of allocation runs.",
		Buckets: prometheus.ExponentialBuckets(0.1, 2, 12)}))
	c.findings = promreg.Register(deps.Registry, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "furrow", Subsystem: "cost", Name: "anomalies", Help: "Unintended increases found by the last detection."}))
	return c, nil
}

// Allocator is the component's allocator.
func (c *Component) Allocator() *Allocator { return c.alloc }

// Start runs the schedule: every Interval, the periods whose bill changed
// and the open month are allocated again, then anomalies are detected.
func (c *Component) Start(ctx context.Context) error {
	if c.cfg.Interval <= 0 {
		return nil
	}
	c.loop = every.Start(ctx, c.cfg.Interval, func(ctx context.Context) {
		if _, err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.deps.Logger.Warn("cost: allocation failed", "err", err)
		}
	})
	return nil
}

// Stop ends the schedule, waiting for a run in progress.
func (c *Component) Stop(ctx context.Context) error {
	return c.loop.Stop(ctx)
}

// Refresh allocates the stale periods (those whose bill changed, and the
// last two days' months) and detects anomalies.
func (c *Component) Refresh(ctx context.Context) (AllocationReport, error) {
	periods, err := c.alloc.Stale(ctx, 48*time.Hour)
	if err != nil {
		c.runs.WithLabelValues("error").Inc()
		return AllocationReport{}, err
	}
	if len(periods) == 0 {
		// Nothing changed: no run (Allocate's nil means every period).
		c.runs.WithLabelValues("nothing_stale").Inc()
		return AllocationReport{}, nil
	}
	return c.Allocate(ctx, periods)
}

// Allocate allocates periods (all of the bill's when empty) and detects
// anomalies, one run at a time.
func (c *Component) Allocate(ctx context.Context, periods []Period) (AllocationReport, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	if periods == nil {
		var err error
		if periods, err = c.alloc.Periods(ctx); err != nil {
			c.runs.WithLabelValues("error").Inc()
			return AllocationReport{}, err
		}
	}
	rep, err := c.alloc.Allocate(ctx, periods)
	if err != nil {
		c.runs.WithLabelValues("error").Inc()
		return rep, err
	}
	found, err := c.Detect(ctx, c.deps.Now())
	if err != nil {
		c.runs.WithLabelValues("error").Inc()
		return rep, fmt.Errorf("cost: %w", err)
	}
	c.findings.Set(float64(len(found)))
	c.runs.WithLabelValues("ok").Inc()
	c.duration.Observe(time.Since(start).Seconds())
	return rep, nil
}
