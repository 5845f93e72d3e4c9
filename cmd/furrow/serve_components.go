package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/furrowdev/furrow/ingest/flowlogs"
	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/query/traffic"
)

func init() {
	serveHooks = append(serveHooks, serveTrafficReports, servePodWatchers)
}

// routesOnly is a component that only registers routes.
type routesOnly struct{}

func (routesOnly) Start(context.Context) error { return nil }
func (routesOnly) Stop(context.Context) error  { return nil }

// serveTrafficReports registers GET /api/v1/traffic/….
func serveTrafficReports(_ context.Context, env *serveEnv) (component, error) {
	traffic.New(env.store).Routes(env.routes)
	return routesOnly{}, nil
}

// podWatcher adapts the live pod/node watchers to a component.
type podWatcher struct{ w *pods.Watcher }

func (p podWatcher) Start(ctx context.Context) error { return p.w.Start(ctx) }
func (p podWatcher) Stop(context.Context) error {
	p.w.Stop()
	return nil
}

// servePodWatchers watches the configured clusters' pods and nodes and
// records their IP history.
func servePodWatchers(_ context.Context, env *serveEnv) (component, error) {
	cfg := env.app.cfg.Kubernetes
	if len(cfg.Clusters) == 0 {
		return nil, nil
	}
	sink, err := pods.NewClickHouseSink(env.store, env.registry)
	if err != nil {
		return nil, err
	}
	w, err := pods.New(cfg, pods.Dependencies{Sink: sink, Registry: env.registry, Logger: env.app.logger})
	if err != nil {
		return nil, err
	}
	return podWatcher{w}, nil
}

func init() { serveHooks = append(serveHooks, serveFlowLogs) }

// flowLogs is the flow-log side of `furrow serve`: the hand-over route for
// CLI ingests and, when s3.prefixes is set, the poller that ingests new
// objects as they arrive.
type flowLogs struct {
	poller *source.Poller
	ing    *flowlogs.Ingester
	cancel context.CancelFunc
	done   chan struct{}
	logger *slog.Logger
}

func (f *flowLogs) Start(ctx context.Context) error {
	if f.poller == nil {
		return nil
	}
	ctx, f.cancel = context.WithCancel(ctx)
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		if err := f.poller.Run(ctx, f.ing.Ingest); err != nil && !errors.Is(err, context.Canceled) {
			f.logger.Error("flow-log poller stopped", "err", err)
		}
	}()
	return nil
}

func (f *flowLogs) Stop(ctx context.Context) error {
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func serveFlowLogs(_ context.Context, env *serveEnv) (component, error) {
	a := env.app
	idx := pods.NewIndexCache(env.store, time.Minute, a.logger)
	src := source.New(a.cfg.S3, source.Dependencies{})
	ing, err := flowlogs.NewIngester(flowlogs.Dependencies{
		Store: env.store, Source: src, Index: idx.Index, Traffic: a.cfg.Traffic,
		Registry: env.registry, Logger: a.logger, Version: version,
	}, flowlogs.IngestOptions{})
	if err != nil {
		return nil, err
	}
	ing.Routes(env.routes)
	ing.HandOverRoutes(env.ingest, env.jobs)
	pods.Routes(env.ingest, env.store, env.jobs)
	f := &flowLogs{ing: ing, logger: a.logger}
	if len(a.cfg.S3.Prefixes) > 0 {
		p, err := source.NewPoller(a.cfg.S3, source.PollerDependencies{
			Source: src, Ledger: ing.Ledger(), Failures: ing.Ledger(), Registry: env.registry, Logger: a.logger,
		})
		if err != nil {
			return nil, err
		}
		f.poller = p
	}
	return f, nil
}
