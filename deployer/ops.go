package deployer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/deployer/kube"
	"github.com/furrowdev/furrow/deployer/spec"
)

// RollbackRequest asks for a project's environment to go back to an
// earlier successful revision.
type RollbackRequest struct {
	Project, Environment string
	// To is the deploy id to restore; 0 means the successful deploy before
	// the current one.
	To    int64
	Actor Actor
}

// Rollback deploys again the spec, image and secret versions of an
// earlier successful deploy (re-rendered: secrets are read again at the
// versions it used), through the same lock and history.
func (c *Component) Rollback(ctx context.Context, req RollbackRequest) (Record, error) {
	current, err := c.store.LastGood(ctx, req.Project, req.Environment, 0)
	if err != nil {
		return Record{}, &RequestError{fmt.Errorf("%s/%s has no successful deploy to roll back from", req.Project, req.Environment)}
	}
	// After a failed deploy, the last good revision is the one to go back
	// to (the failed one's pods are what runs); else the one before it.
	if latest, err := c.store.LatestDeploy(ctx, req.Project, req.Environment); err == nil && latest.ID > current.ID && latest.State == StateFailed && req.To == 0 {
		req.To = current.ID
	}
	var to Record
	if req.To > 0 {
		to, err = c.store.Get(ctx, req.To)
		switch {
		case errors.Is(err, ErrNotFound):
			return Record{}, &RequestError{fmt.Errorf("no deploy %d", req.To)}
		case err != nil:
			return Record{}, err
		case to.Project != req.Project || to.Environment != req.Environment:
			return Record{}, &RequestError{fmt.Errorf("deploy %d is of %s/%s, not %s/%s", to.ID, to.Project, to.Environment, req.Project, req.Environment)}
		case to.State != StateSucceeded || (to.Action != ActionDeploy && to.Action != ActionRollback):
			return Record{}, &RequestError{fmt.Errorf("deploy %d is a %s that %s: only a successful deploy or rollback can be restored", to.ID, to.Action, to.State)}
		}
	} else if to, err = c.store.LastGood(ctx, req.Project, req.Environment, current.ID); err != nil {
		return Record{}, &RequestError{fmt.Errorf("%s/%s has no successful deploy before %d to roll back to", req.Project, req.Environment, current.ID)}
	}
	p, err := spec.Parse(to.SpecFile, []byte(to.Spec))
	if err != nil {
		return Record{}, fmt.Errorf("deployer: the spec of deploy %d no longer parses: %w", to.ID, err)
	}
	pl, err := c.planFor(p, req.Environment, to.SecretVersions)
	if err != nil {
		return Record{}, err
	}
	r := c.newRecord(ctx, ActionRollback, req.Project, req.Environment, req.Actor)
	r.Service, r.Image, r.Spec, r.SpecFile, r.RollbackOf = p.Service, p.Image, to.Spec, to.SpecFile, to.ID
	r.CommitSHA, r.CommitTime = to.CommitSHA, to.CommitTime
	return c.begin(ctx, r, func(ctx context.Context, r *Record) error {
		c.log(r.ID, "", "prepare", fmt.Sprintf("rolling back to deploy %d (%s, by %s)", to.ID, to.Image, to.Who()))
		return c.runDeploy(ctx, r, pl)
	})
}

// OpRequest asks for an operation on a deployed service: restart, scale
// or a CronJob's manual run.
type OpRequest struct {
	Project, Environment string
	// Replicas is the scale's replica count.
	Replicas int32
	// CronJob is the spec's name of the CronJob to run.
	CronJob string
	Actor   Actor
}

// deployed is what the latest successful deploy put in an environment.
func (c *Component) deployed(ctx context.Context, project, env string) (Record, *spec.Project, []spec.Target, error) {
	last, err := c.store.LastGood(ctx, project, env, 0)
	if err != nil {
		return last, nil, nil, &RequestError{fmt.Errorf("%s/%s has no successful deploy: deploy it first", project, env)}
	}
	p, err := spec.Parse(last.SpecFile, []byte(last.Spec))
	if err != nil {
		return last, nil, nil, fmt.Errorf("deployer: the spec of deploy %d no longer parses: %w", last.ID, err)
	}
	targets, err := p.Targets(env)
	if err != nil {
		return last, nil, nil, &RequestError{err}
	}
	for _, t := range targets {
		if _, ok := c.clusters[t.Cluster]; !ok {
			return last, nil, nil, &RequestError{fmt.Errorf("cluster %q of %s/%s is no longer configured", t.Cluster, project, env)}
		}
	}
	return last, p, targets, nil
}

// workload is a reference object Watch reads the live state of.
func workload(kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apps/v1")
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// Restart restarts a service's pods in every cluster of the environment
// (a rolling restart) and watches the rollout.
func (c *Component) Restart(ctx context.Context, req OpRequest) (Record, error) {
	return c.operate(ctx, ActionRestart, req, nil, func(ctx context.Context, r *Record, k *kube.Cluster, ns, name string) error {
		return k.Restart(ctx, ns, name)
	})
}

// Scale sets a service's replicas in every cluster of the environment and
// watches the rollout. A spec with autoscaling refuses it.
func (c *Component) Scale(ctx context.Context, req OpRequest) (Record, error) {
	if req.Replicas < 0 {
		return Record{}, &RequestError{errors.New("replicas: must not be negative")}
	}
	check := func(p *spec.Project) error {
		if p.Autoscaling != nil {
			return &RequestError{fmt.Errorf("%s is autoscaled (min %d, max %d): change the spec's autoscaling instead", p.Service, p.Autoscaling.Min, p.Autoscaling.Max)}
		}
		return nil
	}
	return c.operate(ctx, ActionScale, req, check, func(ctx context.Context, r *Record, k *kube.Cluster, ns, name string) error {
		return k.Scale(ctx, ns, name, req.Replicas)
	})
}

// operate runs a restart or scale under the lock, in every cluster in
// parallel, and watches the Deployment roll out.
func (c *Component) operate(ctx context.Context, action string, req OpRequest, check func(*spec.Project) error,
	op func(ctx context.Context, r *Record, k *kube.Cluster, ns, name string) error) (Record, error) {
	last, p, targets, err := c.deployed(ctx, req.Project, req.Environment)
	if err != nil {
		return Record{}, err
	}
	if check != nil {
		if err := check(p); err != nil {
			return Record{}, err
		}
	}
	r := c.newRecord(ctx, action, req.Project, req.Environment, req.Actor)
	r.Service, r.Image, r.Spec, r.SpecFile = p.Service, last.Image, last.Spec, last.SpecFile
	if action == ActionScale {
		r.Params = map[string]string{"replicas": strconv.Itoa(int(req.Replicas))}
	}
	ns := p.NamespaceFor(req.Environment)
	return c.begin(ctx, r, func(ctx context.Context, r *Record) error {
		errs := make(chan error, len(targets))
		for _, t := range targets {
			go func() {
				k := c.clusters[t.Cluster]
				c.event(*r, t, events.ResultStarted, "", "", r.StartedAt)
				res := TargetResult{Cluster: t.Cluster, Region: t.Region, State: StateRunning, StartedAt: c.deps.Now()}
				_ = c.store.SetTarget(ctx, r.ID, res)
				fail := func(cause, msg string) error {
					res.State, res.Cause, res.Message, res.FinishedAt = StateFailed, cause, msg, c.deps.Now()
					_ = c.store.SetTarget(context.WithoutCancel(ctx), r.ID, res)
					c.event(*r, t, events.ResultFailed, cause, msg, res.FinishedAt)
					return &failure{cause, t.Cluster + ": " + msg}
				}
				if err := op(ctx, r, k, ns, p.Service); err != nil {
					errs <- fail("OperationError", err.Error())
					return
				}
				c.log(r.ID, t.Cluster, action, fmt.Sprintf("%s %s/%s", action, ns, p.Service))
				result, err := k.Watch(ctx, []*unstructured.Unstructured{workload("Deployment", ns, p.Service)}, c.cfg.RolloutTimeout, func(e kube.Event) {
					c.log(r.ID, t.Cluster, "rollout", fmt.Sprintf("%s: %d/%d ready", e.Object, e.Ready, e.Desired))
				})
				switch {
				case err != nil:
					errs <- fail("WatchError", err.Error())
				case !result.OK && result.Cause != nil:
					errs <- fail(result.Cause.Reason, result.Cause.String())
				case !result.OK:
					errs <- fail("Unknown", "the rollout did not complete")
				default:
					res.State, res.FinishedAt = StateSucceeded, c.deps.Now()
					_ = c.store.SetTarget(ctx, r.ID, res)
					c.event(*r, t, events.ResultSucceeded, "", "", res.FinishedAt)
					errs <- nil
				}
			}()
		}
		var first error
		for range targets {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}

// jobWait bounds the wait for a triggered CronJob's Job.
const jobWait = 10 * time.Minute

// Trigger runs a CronJob of the service now, in every cluster of the
// environment (a Job from its template), waits for the Job and keeps its
// logs in the action's stream.
func (c *Component) Trigger(ctx context.Context, req OpRequest) (Record, error) {
	last, p, targets, err := c.deployed(ctx, req.Project, req.Environment)
	if err != nil {
		return Record{}, err
	}
	found := false
	var names []string
	for _, cj := range p.CronJobs {
		found = found || cj.Name == req.CronJob
		names = append(names, cj.Name)
	}
	if !found {
		return Record{}, &RequestError{fmt.Errorf("%s has no CronJob %q (it has: %s)", p.Service, req.CronJob, strings.Join(names, ", "))}
	}
	r := c.newRecord(ctx, ActionTrigger, req.Project, req.Environment, req.Actor)
	r.Service, r.Image, r.Spec, r.SpecFile = p.Service, last.Image, last.Spec, last.SpecFile
	r.Params = map[string]string{"cronjob": req.CronJob}
	ns, name := p.NamespaceFor(req.Environment), p.Service+"-"+req.CronJob
	return c.begin(ctx, r, func(ctx context.Context, r *Record) error {
		var first error
		for _, t := range targets {
			k := c.clusters[t.Cluster]
			c.event(*r, t, events.ResultStarted, "", "", r.StartedAt)
			res := TargetResult{Cluster: t.Cluster, Region: t.Region, State: StateRunning, StartedAt: c.deps.Now()}
			job, err := k.TriggerCronJob(ctx, ns, name)
			if err == nil {
				c.log(r.ID, t.Cluster, "trigger", fmt.Sprintf("job %s/%s created from CronJob %s", ns, job, name))
				err = c.waitJob(ctx, r, k, t, ns, job)
			}
			res.FinishedAt = c.deps.Now()
			if err != nil {
				var f *failure
				if !errors.As(err, &f) {
					f = &failure{"TriggerError", err.Error()}
				}
				res.State, res.Cause, res.Message = StateFailed, f.cause, f.msg
				c.event(*r, t, events.ResultFailed, f.cause, f.msg, res.FinishedAt)
				if first == nil {
					first = &failure{f.cause, t.Cluster + ": " + f.msg}
				}
			} else {
				res.State = StateSucceeded
				c.event(*r, t, events.ResultSucceeded, "", "", res.FinishedAt)
			}
			_ = c.store.SetTarget(context.WithoutCancel(ctx), r.ID, res)
		}
		return first
	})
}

// waitJob waits for a Job to finish and keeps its logs.
func (c *Component) waitJob(ctx context.Context, r *Record, k *kube.Cluster, t spec.Target, ns, job string) error {
	ctx, cancel := context.WithTimeout(ctx, jobWait)
	defer cancel()
	tick := time.NewTicker(c.cfg.PollInterval)
	defer tick.Stop()
	for {
		done, failed, err := k.JobStatus(ctx, ns, job)
		if err != nil {
			return err
		}
		if done || failed {
			logs, lerr := k.JobLogs(ctx, ns, job, 200)
			for _, l := range strings.Split(strings.TrimRight(logs, "\n"), "\n") {
				if l != "" {
					c.log(r.ID, t.Cluster, "logs", l)
				}
			}
			if lerr != nil {
				c.log(r.ID, t.Cluster, "logs", "logs unavailable: "+lerr.Error())
			}
			if failed {
				return &failure{"JobFailed", fmt.Sprintf("job %s/%s failed", ns, job)}
			}
			c.log(r.ID, t.Cluster, "trigger", fmt.Sprintf("job %s/%s succeeded", ns, job))
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &failure{"Timeout", fmt.Sprintf("job %s/%s did not finish within %s", ns, job, jobWait)}
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
