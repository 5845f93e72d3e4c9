package billing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/every"
	"github.com/furrowdev/furrow/store"
)

// Dependencies are what the poller works with.
type Dependencies struct {
	// Store receives the bills.
	Store store.Store
	// S3 reads s3:// prefixes; nil refuses them.
	S3 *S3
	// Registry receives the metrics; nil leaves them unregistered.
	Registry prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Version is furrow's, recorded in the ledger.
	Version string
	// Now defaults to time.Now.
	Now func() time.Time
}

// Component polls report folders and loads the deliveries it has not
// loaded yet: a manifest seen again with the same assembly changes nothing
// (and its files are not fetched again).
type Component struct {
	cfg  Configuration
	deps Dependencies
	m    *metrics
	mc   manifestCache

	loop *every.Loop
}

// New checks cfg and returns an idle Component.
func New(cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("billing: Store is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Component{cfg: cfg, deps: deps, m: newMetrics(deps.Registry)}, nil
}

// Start polls in the background, at once and then every PollInterval,
// until Stop.
func (c *Component) Start(ctx context.Context) error {
	c.loop = every.Start(ctx, c.cfg.PollInterval, func(ctx context.Context) { c.PollOnce(ctx) })
	return nil
}

// Stop ends polling and waits for a delivery being loaded (a delivery cut
// short records nothing and is loaded again from the start next time).
func (c *Component) Stop(ctx context.Context) error {
	return c.loop.Stop(ctx)
}

// PollOnce lists every prefix once and loads what is new; errors are
// logged and counted, and the other prefixes go on.
func (c *Component) PollOnce(ctx context.Context) []Report {
	var all []Report
	for _, p := range c.cfg.Prefixes {
		reps, err := IngestSources(ctx, c.deps.Store, []string{p}, Options{Version: c.deps.Version, Now: c.deps.Now(), S3: c.deps.S3, cache: &c.mc})
		if err != nil && ctx.Err() == nil {
			c.m.polls.WithLabelValues("error").Inc()
			c.deps.Logger.Error("billing poll", "prefix", p, "err", err)
		} else {
			c.m.polls.WithLabelValues("ok").Inc()
		}
		for _, r := range reps {
			if r.Skipped {
				c.m.deliveries.WithLabelValues("skipped").Inc()
				continue
			}
			c.m.deliveries.WithLabelValues("loaded").Inc()
			for _, f := range r.Files {
				c.m.rows.Add(float64(f.Rows))
				c.m.rejected.Add(float64(f.Rejected))
			}
			c.deps.Logger.Info("billing delivery loaded", "delivery", r.Delivery, "source", r.Source, "periods", r.Periods, "kept", r.Kept)
		}
		all = append(all, reps...)
	}
	return all
}
