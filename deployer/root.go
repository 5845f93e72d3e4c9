package deployer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/deployer/kube"
	"github.com/furrowdev/furrow/deployer/spec"
	"github.com/furrowdev/furrow/internal/promreg"
	fkube "github.com/furrowdev/furrow/kube"
	"github.com/furrowdev/furrow/state"
)

// Directory is what the deployer asks the catalog: a project's owner team
// and the employee behind a token's subject.
type Directory interface {
	Project(ctx context.Context, id string) (catalog.Project, error)
	People(ctx context.Context) ([]catalog.Person, error)
}

// SecretResolver reads a config's Secrets Manager secrets, all or none
// (deployer/secrets.Resolver).
type SecretResolver interface {
	Resolve(ctx context.Context, refs []spec.SecretRef) (map[string]spec.ResolvedSecret, error)
}

// Dependencies of the deployer.
type Dependencies struct {
	// State is the operational store: deploy ids, locks, history.
	State *state.Store
	// Catalog gives owners and employees; nil: none known.
	Catalog Directory
	// Secrets resolves specs' secrets; nil: a spec with secrets fails.
	Secrets SecretResolver
	// Events receives every action as deploy_events rows; nil: none.
	Events *events.Writer
	// Registry receives the metrics.
	Registry *prometheus.Registry
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Component deploys specs to clusters and runs the operations around
// them, one at a time per project and environment.
type Component struct {
	cfg      Configuration
	deps     Dependencies
	logger   *slog.Logger
	store    *Store
	rules    spec.Rules
	clusters map[string]*kube.Cluster
	regions  map[string]string // cluster → region

	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup

	m metrics
}

type metrics struct {
	actions  *prometheus.CounterVec   // by action and result
	duration *prometheus.HistogramVec // by action
	refused  prometheus.Counter
}

// New checks the configuration and builds the clients of the configured
// clusters; it makes no call.
func New(cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.State == nil {
		return nil, errors.New("deployer: the operational store is required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Component{cfg: cfg, deps: deps, logger: logger, store: NewStore(deps.State), rules: cfg.rules(),
		clusters: map[string]*kube.Cluster{}, regions: map[string]string{}}
	ws := kube.DefaultWatchSettings()
	ws.PollInterval, ws.NotReadyGrace = cfg.PollInterval, cfg.NotReadyGrace
	for _, cl := range cfg.Clusters {
		_, rc, err := fkube.RESTConfig(cl.Cluster)
		if err != nil {
			return nil, fmt.Errorf("deployer.clusters %s: %w", cl.Name, err)
		}
		rc.QPS, rc.Burst = cfg.KubeQPS, cfg.KubeBurst
		k, err := kube.NewCluster(cl.Name, rc, kube.WithWatchSettings(ws))
		if err != nil {
			return nil, fmt.Errorf("deployer.clusters %s: %w", cl.Name, err)
		}
		c.clusters[cl.Name], c.regions[cl.Name] = k, cl.Region
	}
	reg := deps.Registry
	c.m = metrics{
		actions: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "furrow", Subsystem: "deployer", Name: "actions_total",
			Help: "Deploys, rollbacks, restarts, scale changes and CronJob triggers finished, by action and result."}, []string{"action", "result"})),
		duration: promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "furrow", Subsystem: "deployer", Name: "action_seconds",
			Help: "How long actions took, by action.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}, []string{"action"})),
		refused: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: "furrow", Subsystem: "deployer", Name: "lock_conflicts_total",
			Help: "Requests refused because another deploy of the project and environment was running."})),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Store is the deployer's history, for the API and tests.
func (c *Component) Store() *Store { return c.store }

// Start does nothing: actions start with their requests.
func (c *Component) Start(context.Context) error { return nil }

// Stop interrupts the running actions (each is recorded failed,
// Interrupted, and its lock released) and waits for them.
func (c *Component) Stop(ctx context.Context) error {
	c.cancel()
	done := make(chan struct{})
	go func() { c.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Actor is who asks: the API token's subject.
type Actor struct {
	Subject string
}

// RequestError is a request that cannot be carried out as asked: a spec
// that does not parse or breaks the rules, an unknown environment or
// cluster. Nothing was recorded.
type RequestError struct{ Err error }

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// DeployRequest asks for a spec to be deployed to an environment.
type DeployRequest struct {
	// Spec is the project spec (YAML) and SpecFile its name, for errors.
	Spec     []byte
	SpecFile string
	// Environment is the spec's environment to deploy.
	Environment string
	// Prune names the regions, removed from the spec, whose workloads are
	// to be deleted; without it, a removed region stops the deploy.
	Prune []string
	// CommitSHA and CommitTime describe the deployed commit, when known
	// (for lead time).
	CommitSHA  string
	CommitTime time.Time
	Actor      Actor
}

// plan is what an action deploys.
type plan struct {
	project  *spec.Project
	targets  []spec.Target
	versions map[string]string // pinned secret versions (rollback)
	prune    []string
}

// Deploy checks the spec, takes the lock and starts the deploy in the
// background: its record (with its id) is returned at once, and its
// progress is in the store's log until it finishes. A *RequestError means
// nothing was recorded; a *LockError that another deploy runs.
func (c *Component) Deploy(ctx context.Context, req DeployRequest) (Record, error) {
	p, err := spec.Parse(req.SpecFile, req.Spec)
	if err != nil {
		return Record{}, &RequestError{err}
	}
	pl, err := c.planFor(p, req.Environment, nil)
	if err != nil {
		return Record{}, err
	}
	pl.prune = req.Prune
	r := c.newRecord(ctx, ActionDeploy, p.Project, req.Environment, req.Actor)
	r.Service, r.Image, r.Spec, r.SpecFile = p.Service, p.Image, string(req.Spec), req.SpecFile
	r.CommitSHA, r.CommitTime = req.CommitSHA, req.CommitTime
	if len(req.Prune) > 0 {
		r.Params = map[string]string{"prune": strings.Join(req.Prune, ",")}
	}
	return c.begin(ctx, r, func(ctx context.Context, r *Record) error { return c.runDeploy(ctx, r, pl) })
}

// planFor validates p for env against the company rules and the
// configured clusters.
func (c *Component) planFor(p *spec.Project, env string, versions map[string]string) (plan, error) {
	if err := p.Validate(c.rules); err != nil {
		return plan{}, &RequestError{err}
	}
	targets, err := p.Targets(env)
	if err != nil {
		return plan{}, &RequestError{err}
	}
	for _, t := range targets {
		if _, ok := c.clusters[t.Cluster]; !ok {
			return plan{}, &RequestError{fmt.Errorf("%s: environment %s: cluster %q is not one furrow deploys to (deployer.clusters: %s)",
				p.File(), env, t.Cluster, strings.Join(c.clusterNames(), ", "))}
		}
	}
	return plan{project: p, targets: targets, versions: versions}, nil
}

func (c *Component) clusterNames() []string {
	names := make([]string, 0, len(c.clusters))
	for n := range c.clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newRecord starts a record for actor, with the employee the catalog
// knows by the token's subject (its email or employee id).
func (c *Component) newRecord(ctx context.Context, action, project, env string, a Actor) Record {
	r := Record{Project: project, Environment: env, Action: action, Actor: a.Subject}
	if c.deps.Catalog != nil && a.Subject != "" {
		if people, err := c.deps.Catalog.People(ctx); err == nil {
			for _, p := range people {
				if strings.EqualFold(p.Email, a.Subject) || p.EmployeeID == a.Subject {
					r.ActorID, r.ActorName = p.EmployeeID, p.Name
					break
				}
			}
		}
	}
	if c.deps.Catalog != nil {
		if p, err := c.deps.Catalog.Project(ctx, project); err == nil {
			r.Team = p.OwnerTeam
		}
	}
	return r
}

// begin takes the lock for r and runs work in the background; it returns
// r with its id.
func (c *Component) begin(_ context.Context, r Record, work func(context.Context, *Record) error) (Record, error) {
	now := c.deps.Now()
	r, err := c.store.Begin(c.ctx, r, now, c.cfg.LockLease)
	var le *LockError
	if errors.As(err, &le) {
		c.m.refused.Inc()
		c.event(r, spec.Target{}, events.ResultCancelled, "", le.Error(), now)
		return r, err
	}
	if err != nil {
		return r, err
	}
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		c.run(r, work)
	}()
	return r, nil
}

// run carries out an action under its lock, renewing it, and records its
// end.
func (c *Component) run(r Record, work func(context.Context, *Record) error) {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(c.cfg.LockLease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ok, err := c.store.Renew(ctx, r, c.deps.Now(), c.cfg.LockLease)
				if err == nil && !ok {
					c.logger.Error("deployer: lost the lock (its lease expired); stopping", "deploy", r.ID)
					cancel()
					return
				}
			}
		}
	}()
	c.log(r.ID, "", "start", fmt.Sprintf("%s of %s to %s by %s", r.Action, r.Project, r.Environment, r.Who()))
	err := work(ctx, &r)
	cancel()
	<-renewed
	now := c.deps.Now()
	r.State = StateSucceeded
	var fe *failure
	switch {
	case errors.As(err, &fe):
		r.State, r.Cause, r.Message = StateFailed, fe.cause, fe.msg
	case err != nil && c.ctx.Err() != nil:
		r.State, r.Cause, r.Message = StateFailed, "Interrupted", "furrow stopped during the "+r.Action
	case err != nil:
		r.State, r.Cause, r.Message = StateFailed, "Error", err.Error()
	}
	if r.State == StateSucceeded {
		c.log(r.ID, "", "done", fmt.Sprintf("%s %d succeeded in %s", r.Action, r.ID, now.Sub(r.StartedAt).Round(time.Millisecond)))
	} else {
		c.log(r.ID, "", "done", fmt.Sprintf("%s %d failed: %s: %s", r.Action, r.ID, r.Cause, r.Message))
	}
	// The end is recorded even when furrow is stopping.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer fcancel()
	if err := c.store.Finish(fctx, r, now); err != nil {
		c.logger.Error("deployer: record the end of an action", "deploy", r.ID, "err", err)
	}
	r.FinishedAt = now
	c.m.actions.WithLabelValues(r.Action, r.State).Inc()
	c.m.duration.WithLabelValues(r.Action).Observe(now.Sub(r.StartedAt).Seconds())
	c.logger.Info("deployer: action finished", "deploy", r.ID, "action", r.Action, "project", r.Project, "environment", r.Environment,
		"state", r.State, "cause", r.Cause, "by", r.Actor)
}

// failure is an action that failed for a reason with a name (a rollout's
// cause, a missing --prune…).
type failure struct{ cause, msg string }

func (f *failure) Error() string { return f.cause + ": " + f.msg }

// log appends a line to an action's stream.
func (c *Component) log(id int64, cluster, stage, msg string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 10*time.Second)
	defer cancel()
	if _, err := c.store.AppendLog(ctx, id, LogLine{At: c.deps.Now(), Cluster: cluster, Stage: stage, Message: msg}); err != nil {
		c.logger.Warn("deployer: stream line", "deploy", id, "err", err)
	}
}

// event writes a deploy_events row; its failures are logged: the store's
// record is the one that matters.
func (c *Component) event(r Record, t spec.Target, result, cause, msg string, at time.Time) {
	if c.deps.Events == nil {
		return
	}
	e := events.Event{At: at, DeployID: r.ID, Source: "furrow", Project: r.Project, Service: r.Service, Team: r.Team,
		Environment: r.Environment, Region: t.Region, Cluster: t.Cluster, Action: r.Action, Result: result, Message: msg,
		Revision: strconv.FormatInt(r.ID, 10), Image: r.Image, Actor: r.ActorID, ActorName: r.Who(), StartedAt: r.StartedAt,
		CommitSHA: r.CommitSHA, CommitTime: r.CommitTime}
	if result != events.ResultStarted {
		e.FinishedAt = at
	}
	if result == events.ResultFailed {
		e.FailureCause = cause
	}
	if r.Params["previous_image"] != "" {
		e.PreviousImage = r.Params["previous_image"]
	}
	if v, err := strconv.ParseInt(r.Params["replicas"], 10, 32); err == nil {
		to := int32(v)
		e.ReplicasTo = &to
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 30*time.Second)
	defer cancel()
	if err := c.deps.Events.Write(ctx, e); err != nil {
		c.logger.Warn("deployer: deploy event", "deploy", r.ID, "err", err)
	}
}

// targetSelector selects a service's objects in an environment.
func targetSelector(p *spec.Project, env string) map[string]string {
	return map[string]string{spec.LabelProject: p.Project, spec.LabelEnvironment: env, spec.LabelName: p.Service}
}

// runDeploy: prepare (owner, secrets), plan (regions removed), render,
// apply and watch each cluster in parallel, prune.
func (c *Component) runDeploy(ctx context.Context, r *Record, pl plan) error {
	p := pl.project
	// The previous good deploy: the image it replaces, and the clusters it
	// ran in.
	prev, prevErr := c.store.LastGood(ctx, r.Project, r.Environment, r.ID)
	if prevErr == nil {
		if r.Params == nil {
			r.Params = map[string]string{}
		}
		r.Params["previous_image"] = prev.Image
	}

	// Secrets: all or none, pinned to versions.
	refs := spec.SecretRefs(p, r.Environment)
	if len(pl.versions) > 0 {
		for i := range refs {
			if v := pl.versions[refs[i].Name]; v != "" {
				refs[i].VersionID, refs[i].VersionStage = v, ""
			}
		}
	}
	var resolved map[string]spec.ResolvedSecret
	if len(refs) > 0 {
		if c.deps.Secrets == nil {
			return &failure{"SecretsUnavailable", "the spec has secrets and no Secrets Manager is configured (deployer.secrets_manager)"}
		}
		c.log(r.ID, "", "prepare", fmt.Sprintf("resolving %d secrets from Secrets Manager", len(refs)))
		var err error
		if resolved, err = c.deps.Secrets.Resolve(ctx, refs); err != nil {
			return &failure{"SecretsError", err.Error()}
		}
		r.SecretVersions = map[string]string{}
		for name, s := range resolved {
			r.SecretVersions[name] = s.VersionID
		}
	}
	if err := c.store.Update(ctx, *r); err != nil {
		return err
	}

	// Regions removed from the spec: their workloads stay unless pruned.
	orphaned, err := c.orphans(ctx, r, pl, prev, prevErr == nil)
	if err != nil {
		return err
	}

	// Render every target first: nothing is applied unless all render.
	objs := map[string][]*unstructured.Unstructured{}
	for _, t := range pl.targets {
		in := spec.RenderInput{Team: r.Team, ProjectID: r.Project, DeployID: r.ID, Secrets: resolved, Rules: &c.rules}
		o, err := spec.Render(p, t, in)
		if err != nil {
			return &failure{"RenderError", err.Error()}
		}
		objs[t.Cluster] = o
		c.log(r.ID, t.Cluster, "render", fmt.Sprintf("%d objects for %s", len(o), t))
	}
	for _, t := range pl.targets {
		c.event(*r, t, events.ResultStarted, "", "", r.StartedAt)
	}

	// Apply and watch each cluster, in parallel.
	type outcome struct {
		t   spec.Target
		err error
	}
	results := make(chan outcome, len(pl.targets))
	for _, t := range pl.targets {
		go func() { results <- outcome{t, c.rollout(ctx, r, t, objs[t.Cluster])} }()
	}
	var first error
	for range pl.targets {
		o := <-results
		if o.err != nil && first == nil {
			first = o.err
		}
	}
	if first != nil {
		return first
	}

	// Prune what the user asked for, once the rest rolled out.
	for region, refs := range orphaned {
		for cluster, rs := range refs {
			c.log(r.ID, cluster, "prune", fmt.Sprintf("deleting %d objects in %s (region %s removed from the spec)", len(rs), cluster, region))
			if err := c.clusters[cluster].Delete(ctx, rs); err != nil {
				return &failure{"PruneError", fmt.Sprintf("%s: %v", cluster, err)}
			}
			c.event(Record{ID: r.ID, Project: r.Project, Environment: r.Environment, Action: ActionPrune, Service: r.Service, Team: r.Team,
				Actor: r.Actor, ActorID: r.ActorID, ActorName: r.ActorName, StartedAt: r.StartedAt, Image: prev.Image},
				spec.Target{Environment: r.Environment, Region: region, Cluster: cluster}, events.ResultSucceeded, "", fmt.Sprintf("%d objects deleted", len(rs)), c.deps.Now())
		}
	}
	return nil
}

// orphans finds the workloads of regions the previous good deploy ran in
// and the spec no longer lists: a region not in pl.prune fails the deploy
// (never a silent teardown, never a silent leftover); those in it are
// returned, by region and cluster, to delete once the rest rolled out.
func (c *Component) orphans(ctx context.Context, r *Record, pl plan, prev Record, hasPrev bool) (map[string]map[string][]kube.ObjectRef, error) {
	current := map[string]bool{}
	for _, t := range pl.targets {
		current[t.Cluster] = true
	}
	var gone []spec.Target
	if hasPrev {
		for _, t := range prev.Targets {
			if !current[t.Cluster] {
				gone = append(gone, spec.Target{Environment: r.Environment, Region: t.Region, Cluster: t.Cluster})
			}
		}
	}
	for _, region := range pl.prune {
		found := false
		for _, t := range gone {
			found = found || t.Region == region
		}
		if !found {
			return nil, &failure{"PruneError", fmt.Sprintf("--prune %s: the previous deploy ran nothing in that region outside the spec's", region)}
		}
	}
	out := map[string]map[string][]kube.ObjectRef{}
	var refused []string
	for _, t := range gone {
		k, ok := c.clusters[t.Cluster]
		if !ok {
			continue // no longer configured: nothing furrow can reach
		}
		all, err := k.Orphans(ctx, targetSelector(pl.project, r.Environment), nil)
		if err != nil {
			return nil, fmt.Errorf("orphans in %s: %w", t.Cluster, err)
		}
		// A namespace is shared by a project's services: never pruned.
		var refs []kube.ObjectRef
		for _, ref := range all {
			if !(ref.Group == "" && ref.Kind == "Namespace") {
				refs = append(refs, ref)
			}
		}
		if len(refs) == 0 {
			continue
		}
		names := make([]string, 0, len(refs))
		for _, ref := range refs {
			names = append(names, ref.String())
		}
		c.log(r.ID, t.Cluster, "plan", fmt.Sprintf("region %s was removed from the spec; still running in %s: %s", t.Region, t.Cluster, strings.Join(names, ", ")))
		if !slices.Contains(pl.prune, t.Region) {
			refused = append(refused, fmt.Sprintf("%s (%s: %s)", t.Region, t.Cluster, strings.Join(names, ", ")))
			continue
		}
		if out[t.Region] == nil {
			out[t.Region] = map[string][]kube.ObjectRef{}
		}
		out[t.Region][t.Cluster] = refs
	}
	if len(refused) > 0 {
		return nil, &failure{"PruneRequired", "regions removed from the spec still run the service: " + strings.Join(refused, "; ") +
			"; deploy with --prune REGION to delete them, or put the region back"}
	}
	return out, nil
}

// rollout applies a target's objects and watches them, recording the
// target's outcome.
func (c *Component) rollout(ctx context.Context, r *Record, t spec.Target, objs []*unstructured.Unstructured) error {
	k := c.clusters[t.Cluster]
	res := TargetResult{Cluster: t.Cluster, Region: t.Region, State: StateRunning, StartedAt: c.deps.Now()}
	_ = c.store.SetTarget(ctx, r.ID, res)
	finish := func(state, cause, msg string, tail []string) error {
		res.State, res.Cause, res.Message, res.LogTail, res.FinishedAt = state, cause, msg, tail, c.deps.Now()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := c.store.SetTarget(sctx, r.ID, res); err != nil {
			c.logger.Warn("deployer: record a target", "deploy", r.ID, "cluster", t.Cluster, "err", err)
		}
		result := events.ResultSucceeded
		if state != StateSucceeded {
			result = events.ResultFailed
		}
		c.event(*r, t, result, cause, msg, res.FinishedAt)
		if state != StateSucceeded {
			return &failure{cause, fmt.Sprintf("%s: %s", t.Cluster, msg)}
		}
		return nil
	}
	// The spec is the source of truth: a field another manager took (a
	// scale by hand, kubectl edit) is taken back, as
	// `kubectl apply --server-side --force-conflicts` does.
	refs, err := k.Apply(ctx, objs, kube.ApplyOptions{Force: true})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return finish(StateFailed, "ApplyError", err.Error(), nil)
	}
	c.log(r.ID, t.Cluster, "apply", fmt.Sprintf("%d objects applied (server-side, field manager furrow)", len(refs)))
	last := ""
	result, err := k.Watch(ctx, objs, c.cfg.RolloutTimeout, func(e kube.Event) {
		msg := fmt.Sprintf("%s: %d/%d ready", e.Object, e.Ready, e.Desired)
		if e.Message != "" {
			msg += ": " + e.Message
		}
		if msg != last {
			last = msg
			c.log(r.ID, t.Cluster, "rollout", msg)
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return finish(StateFailed, "WatchError", err.Error(), nil)
	}
	if !result.OK {
		cause := result.Cause
		if cause == nil {
			cause = &kube.Cause{Reason: "Unknown", Message: "the rollout did not complete"}
		}
		c.log(r.ID, t.Cluster, "rollout", "failed: "+cause.String())
		for _, l := range cause.LogTail {
			c.log(r.ID, t.Cluster, "logs", l)
		}
		return finish(StateFailed, cause.Reason, cause.String(), cause.LogTail)
	}
	c.log(r.ID, t.Cluster, "rollout", "rolled out")
	return finish(StateSucceeded, "", "", nil)
}
