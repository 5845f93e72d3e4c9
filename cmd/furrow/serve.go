package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/alerting"
	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/deployer"
	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/deployer/secrets"
	"github.com/furrowdev/furrow/ingest/billing"
	"github.com/furrowdev/furrow/ingest/flowlogs"
	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/ingest/usage"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/query/cost"
	"github.com/furrowdev/furrow/query/deploys"
	"github.com/furrowdev/furrow/query/traffic"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded"
)

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
	s := store.Instrument(raw, reg)
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
	read, ingest := srv.Group(api.ScopeRead), srv.Group(api.ScopeIngest)
	jobs.Routes(srv.Group(api.ScopeRead, api.ScopeIngest), ingest)

	// The operational store: the catalog's tables (SQLite in the data
	// directory, or PostgreSQL).
	st, err := state.Open(ctx, a.cfg.State, a.cfg.Data)
	if err != nil {
		return err
	}
	defer st.Close()

	// The components, built inert and wired by hand, in start order.
	cat, err := catalog.New(a.cfg.Catalog, catalog.Dependencies{State: st, Store: s, Registry: reg, Logger: a.logger})
	if err != nil {
		return err
	}
	cat.Routes(read, srv.Group(api.ScopeWrite))
	traffic.New(s).Routes(read)
	costs, err := cost.New(a.cfg.Cost, cost.Dependencies{Store: s, Registry: reg, Logger: a.logger})
	if err != nil {
		return err
	}
	costs.Routes(read, srv.Group(api.ScopeWrite))
	idx := pods.NewIndexCache(s, time.Minute, a.logger)
	src := source.New(a.cfg.S3, source.Dependencies{})
	ing, err := flowlogs.NewIngester(flowlogs.Dependencies{
		Store: s, Source: src, Index: idx.Index, Traffic: a.cfg.Traffic,
		Registry: reg, Logger: a.logger, Version: version,
	}, flowlogs.IngestOptions{})
	if err != nil {
		return err
	}
	ing.Routes(read)
	ing.HandOverRoutes(ingest, jobs)
	pods.Routes(ingest, s, jobs)
	use, err := usage.New(a.cfg.Usage, usage.Dependencies{Store: s, Registry: reg, Logger: a.logger})
	if err != nil {
		return err
	}
	use.Routes(ingest)
	// Alert delivery: the webhooks (a source with credentials of its own,
	// and Slack's signed interactions, outside the token check).
	var alerts *alerting.Component
	if a.cfg.Alerting.Enabled {
		alerts, err = alerting.New(a.cfg.Alerting, alerting.Dependencies{State: st, Owners: alertOwners(cat), Registry: reg, Logger: a.logger,
			History: alerting.NewHistory(s)})
		if err != nil {
			return err
		}
		alerts.Routes(ingest, srv.SelfAuthenticated())
		alerts.APIRoutes(read, srv.Group(api.ScopeWrite))
		// The /alerts page: a token as the basic password, CSRF-checked forms.
		alerts.PageRoutes(srv.Pages(api.ScopeRead), srv.Pages(api.ScopeWrite))
	}

	// Deploy events: the metrics (read scope) and the external deploy
	// webhooks (Argo CD with an ingest token, GitHub signed with
	// deployer.events.github_secret, outside the token check).
	deploys.New(s).Routes(read)
	depEvents, err := events.New(a.cfg.Deployer.Events, events.Dependencies{Sink: events.NewWriter(s), Directory: deployDirectory{cat},
		Registry: reg, Logger: a.logger})
	if err != nil {
		return err
	}
	depEvents.Routes(ingest, srv.SelfAuthenticated())
	// The deployer: deploys, rollbacks, restarts, scale, CronJob triggers.
	var deploy *deployer.Component
	if a.cfg.Deployer.Enabled {
		var resolver deployer.SecretResolver
		if sm := a.cfg.Deployer.SecretsManager; sm.Region != "" || sm.Endpoint != "" {
			r, err := secrets.Open(ctx, sm, secrets.WithLogger(a.logger), secrets.WithRegistry(reg))
			if err != nil {
				return err
			}
			resolver = r
		}
		deploy, err = deployer.New(a.cfg.Deployer, deployer.Dependencies{State: st, Catalog: cat, Secrets: resolver,
			Events: events.NewWriter(s), Registry: reg, Logger: a.logger})
		if err != nil {
			return err
		}
		deploy.Routes(read, srv.Group(api.ScopeWrite))
	}

	comps := &components{logger: a.logger}
	stopAll := func() {
		sctx, scancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
		defer scancel()
		comps.stopAll(sctx)
	}
	if err := comps.start(ctx, "catalog", cat); err != nil {
		stopAll()
		return err
	}
	if err := comps.start(ctx, "usage receiver", use); err != nil {
		stopAll()
		return err
	}
	if err := comps.start(ctx, "cost allocation", costs); err != nil {
		stopAll()
		return err
	}
	if deploy != nil {
		if err := comps.start(ctx, "deployer", deploy); err != nil {
			stopAll()
			return err
		}
	}
	if alerts != nil {
		if err := comps.start(ctx, "alert delivery", alerts); err != nil {
			stopAll()
			return err
		}
	}
	if len(a.cfg.Kubernetes.Clusters) > 0 {
		sink, err := pods.NewClickHouseSink(s, reg)
		if err != nil {
			return err
		}
		w, err := pods.New(a.cfg.Kubernetes, pods.Dependencies{Sink: sink, Registry: reg, Logger: a.logger, Namespaces: cat})
		if err != nil {
			return err
		}
		if err := comps.start(ctx, "pod watchers", w); err != nil {
			stopAll()
			return err
		}
	}
	if len(a.cfg.S3.Prefixes) > 0 {
		p, err := source.NewPoller(a.cfg.S3, source.PollerDependencies{
			Source: src, Ledger: ing.Ledger(), Failures: ing.Ledger(), Registry: reg, Logger: a.logger, Ingest: ing.Ingest,
		})
		if err != nil {
			stopAll()
			return err
		}
		if err := comps.start(ctx, "flow-log poller", p); err != nil {
			stopAll()
			return err
		}
	}
	if len(a.cfg.Billing.Prefixes) > 0 {
		bp, err := billing.New(a.cfg.Billing, billing.Dependencies{
			Store: s, S3: billing.NewS3(a.cfg.S3, a.cfg.Billing.TempDir), Registry: reg, Logger: a.logger, Version: version,
		})
		if err != nil {
			stopAll()
			return err
		}
		if err := comps.start(ctx, "billing poller", bp); err != nil {
			stopAll()
			return err
		}
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

// alertOwners adapts the catalog's owner lookup, with the project's links,
// to alerting's.
func alertOwners(cat *catalog.Catalog) func(cluster, namespace string) (alerting.Owner, bool) {
	return func(cluster, namespace string) (alerting.Owner, bool) {
		o, ok := cat.OwnerOf(cluster, namespace)
		if !ok {
			return alerting.Owner{}, false
		}
		out := alerting.Owner{Team: o.Team, TeamName: o.TeamName, Project: o.Project, SlackChannel: o.SlackChannel, Oncall: o.Oncall}
		if p, err := cat.Project(context.Background(), o.Project); err == nil {
			out.Links = p.Links
		}
		return out, true
	}
}
