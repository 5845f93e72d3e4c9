package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded"
)

// serveEnv is what a component of `furrow serve` gets to wire itself.
type serveEnv struct {
	app      *app
	store    store.Store
	registry *prometheus.Registry
	routes   *gin.RouterGroup // /api/v1 for tokens with the read scope
	ingest   *gin.RouterGroup // /api/v1 for tokens with the ingest scope
	jobs     *api.Jobs        // runs the hand-overs of POST /api/v1/ingest/…
}

// component is a part of `furrow serve` with a lifecycle. Components start
// in registration order and stop in reverse.
type component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// serveHooks build the components of `furrow serve` (ingest pollers, pod
// watchers, report routes); each domain registers its hook from its file.
// A hook returns a nil component when it is not configured.
var serveHooks []func(ctx context.Context, env *serveEnv) (component, error)

func newServeCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the furrow server: HTTP API, SQL for analysts, metrics, ingest pollers and watchers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			return a.serve(ctx, cmd)
		},
	}
}

func (a *app) serve(ctx context.Context, cmd *cobra.Command) error {
	raw, err := a.openStore(ctx, "furrow serve", true)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := api.InstrumentStore(raw, reg)
	defer raw.Close()

	ready := func(ctx context.Context) error {
		if err := s.Ping(ctx); err != nil {
			return fmt.Errorf("store unreachable: %w", err)
		}
		st, err := migrations.New(s, a.migrationOptions(s)).Status(ctx)
		if err != nil {
			return err
		}
		if st.Pending() {
			return fmt.Errorf("schema at version %d, %d expected", st.Current, st.Latest)
		}
		return nil
	}
	srv, err := api.New(a.cfg.HTTP, api.Dependencies{Store: s, Registry: reg, Logger: a.logger, Ready: ready})
	if err != nil {
		return err
	}
	jobs, err := api.NewJobs(a.cfg.Ingest, reg, a.logger)
	if err != nil {
		return err
	}
	// A job's owner follows it with the token that started it, which may
	// have the ingest scope only.
	jobs.Routes(srv.Group(api.ScopeRead, api.ScopeIngest), srv.Group(api.ScopeIngest))
	env := &serveEnv{app: a, store: s, registry: reg, routes: srv.Group(api.ScopeRead), ingest: srv.Group(api.ScopeIngest), jobs: jobs}
	var comps []component
	stopAll := func() {
		sctx, scancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
		defer scancel()
		for i := len(comps) - 1; i >= 0; i-- {
			if err := comps[i].Stop(sctx); err != nil {
				a.logger.Error("stop component", "err", err)
			}
		}
	}
	for _, hook := range serveHooks {
		c, err := hook(ctx, env)
		if err != nil {
			stopAll()
			return err
		}
		if c == nil {
			continue
		}
		if err := c.Start(ctx); err != nil {
			stopAll()
			return err
		}
		comps = append(comps, c)
	}
	if err := srv.Start(ctx); err != nil {
		stopAll()
		return err
	}
	if es, ok := raw.(*embedded.Store); ok {
		if err := es.SetAddress(srv.Addr()); err != nil {
			a.logger.Warn("cannot record the server address in the lock file", "err", err)
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "furrow %s serving on http://%s (store: %s, database %s)\n", version, srv.Addr(), s.Info().Kind, s.Info().Database)
	<-ctx.Done()
	a.logger.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout+5*time.Second)
	defer scancel()
	if err := srv.Stop(sctx); err != nil && !errors.Is(err, context.Canceled) {
		a.logger.Error("http shutdown", "err", err)
	}
	// Jobs use the store and the components: they stop first. A cancelled
	// flow-log job records nothing of the object it was reading.
	if err := jobs.Stop(sctx); err != nil {
		a.logger.Error("stop ingest jobs", "err", err)
	}
	stopAll()
	return nil
}
