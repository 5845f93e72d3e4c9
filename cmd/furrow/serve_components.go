package main

import (
	"context"

	"github.com/furrowdev/furrow/ingest/pods"
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
