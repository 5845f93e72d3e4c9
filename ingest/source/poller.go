package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// PollerDependencies are what a Poller works with.
type PollerDependencies struct {
	// Source lists and identifies objects.
	Source *Source
	// Ledger tells which objects are already ingested.
	Ledger Ledger
	// Failures, when set, tells which objects failed permanently: they are
	// not handed to the ingest again (an ingest that never heals would
	// otherwise be retried every round, for ever).
	Failures Failures
	// Registry receives the poller's metrics; nil leaves them unregistered.
	Registry prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now; tests fix it.
	Now func() time.Time
	// Ingest is what Start hands new objects to (Run and PollOnce take
	// theirs as an argument).
	Ingest Ingest
}

// Poller lists the configured prefixes over a moving window (the last
// Lookback of data time) every PollInterval and hands the objects the ledger
// does not know to the ingest, oldest first.
type Poller struct {
	cfg  Configuration
	deps PollerDependencies
	m    *metrics
	// seen holds IDs ingested by this process until they leave the window,
	// so that a ledger that commits asynchronously never gets an object
	// handed out twice.
	seen map[string]time.Time

	cancel context.CancelFunc
	done   chan struct{}
}

// NewPoller checks cfg and returns an idle Poller; Run starts it.
func NewPoller(cfg Configuration, deps PollerDependencies) (*Poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Source == nil || deps.Ledger == nil {
		return nil, errors.New("poller: Source and Ledger are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Poller{cfg: cfg, deps: deps, m: newMetrics(deps.Registry), seen: map[string]time.Time{}}, nil
}

// Start runs the poller in the background, handing objects to
// deps.Ingest, until Stop.
func (p *Poller) Start(ctx context.Context) error {
	if p.deps.Ingest == nil {
		return errors.New("poller: Start needs PollerDependencies.Ingest")
	}
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		if err := p.Run(ctx, p.deps.Ingest); err != nil && !errors.Is(err, context.Canceled) {
			p.deps.Logger.Error("flow-log poller stopped", "err", err)
		}
	}()
	return nil
}

// Stop ends the polling: the object being ingested is cancelled (it is
// left to the next start), and Stop waits for the poller until ctx ends.
func (p *Poller) Stop(ctx context.Context) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ingest reads one object into the store. It must record ID(obj) in the
// ledger together with the object's rows before returning nil; an error
// leaves the object to the next round.
type Ingest func(ctx context.Context, obj Object) error

// Run polls until ctx is done, then returns nil. A round that fails (listing,
// ledger or ingest) is retried with exponential backoff, from a few seconds
// up to five poll intervals, instead of after the regular interval.
func (p *Poller) Run(ctx context.Context, ingest Ingest) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = min(p.cfg.PollInterval, 5*time.Second)
	bo.MaxInterval = 5 * p.cfg.PollInterval
	for {
		wait := p.cfg.PollInterval
		if err := p.PollOnce(ctx, ingest); err != nil && ctx.Err() == nil {
			wait = bo.NextBackOff()
			p.deps.Logger.WarnContext(ctx, "flow-log polling round failed", "err", err, "retry_in", wait)
		} else {
			bo.Reset()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// PollOnce lists every prefix once and ingests its new objects. A prefix
// that fails does not stop the others; the errors are joined.
func (p *Poller) PollOnce(ctx context.Context, ingest Ingest) error {
	p.m.polls.Inc()
	now := p.deps.Now()
	w := Window{Since: now.Add(-p.cfg.Lookback)}
	for id, until := range p.seen {
		if now.After(until) {
			delete(p.seen, id)
		}
	}
	var errs []error
	for _, prefix := range p.cfg.Prefixes {
		if err := p.pollPrefix(ctx, prefix, w, now, ingest); err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

func (p *Poller) pollPrefix(ctx context.Context, prefix string, w Window, now time.Time, ingest Ingest) error {
	var listed []Object
	n := 0
	err := p.deps.Source.List(ctx, prefix, w, func(o Object) error {
		n++
		if _, ok := p.seen[ID(o)]; !ok {
			listed = append(listed, o)
		}
		return nil
	})
	p.m.listed.WithLabelValues(prefix).Add(float64(n))
	// Unreadable entries of a directory are reported, and the rest of it
	// is ingested; the round still counts as failed, so it is retried.
	var skipped *SkippedError
	var errs []error
	if errors.As(err, &skipped) {
		p.m.listErrors.WithLabelValues(prefix).Inc()
		errs = append(errs, fmt.Errorf("list %s: %w", prefix, err))
		err = nil
	}
	if err != nil {
		p.m.listErrors.WithLabelValues(prefix).Inc()
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	fresh, err := FilterNew(ctx, p.deps.Ledger, listed)
	if err != nil {
		p.m.ledgerErrors.Inc()
		return err
	}
	if p.deps.Failures != nil {
		var skipped int
		if fresh, skipped, err = FilterFailed(ctx, p.deps.Failures, fresh); err != nil {
			p.m.ledgerErrors.Inc()
			return err
		}
		p.m.skipFailed.WithLabelValues(prefix).Add(float64(skipped))
	}
	p.m.newObjects.WithLabelValues(prefix).Add(float64(len(fresh)))
	slices.SortStableFunc(fresh, func(a, b Object) int { return a.Time.Compare(b.Time) })
	for _, o := range fresh {
		if err := ingest(ctx, o); err != nil {
			p.m.emitErrors.Inc()
			errs = append(errs, fmt.Errorf("ingest %s: %w", o.URL, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		p.seen[ID(o)] = now.Add(2 * p.cfg.Lookback)
	}
	return errors.Join(errs...)
}
