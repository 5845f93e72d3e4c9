package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// HandOverConfiguration bounds what clients may hand to the server
// (POST /api/v1/ingest/…) and how the resulting jobs run.
type HandOverConfiguration struct {
	// Roots are the local directories the server reads handed-over paths
	// from; a path outside them (after resolving symlinks and "..") is
	// refused before anything is read. Empty refuses every local path.
	Roots []string `yaml:"roots"`
	// S3Prefixes are the s3://bucket/prefix URLs handed-over S3 sources
	// must start with (a plain string prefix, as S3's: end it with / to
	// stop at a "directory"). Empty refuses every S3 source.
	S3Prefixes []string `yaml:"s3_prefixes"`
	// MaxRunningJobs is how many hand-over jobs run at once; the others
	// wait in order. Two ingests compete for the same engine, so one more
	// mostly adds waiting.
	MaxRunningJobs int `yaml:"max_running_jobs"`
	// KeepJobs is how many finished jobs GET /api/v1/ingest/jobs still
	// shows; the oldest are forgotten first. Jobs live in memory only.
	KeepJobs int `yaml:"keep_jobs"`
}

// DefaultHandOverConfiguration refuses every hand-over until roots or
// prefixes are set, and runs one job at a time.
func DefaultHandOverConfiguration() HandOverConfiguration {
	return HandOverConfiguration{MaxRunningJobs: 1, KeepJobs: 100}
}

// Validate checks the bounds and the shape of roots and prefixes.
func (c HandOverConfiguration) Validate() error {
	var errs []error
	if c.MaxRunningJobs < 1 {
		errs = append(errs, errors.New("max_running_jobs must be at least 1"))
	}
	if c.KeepJobs < 0 {
		errs = append(errs, errors.New("keep_jobs must not be negative"))
	}
	for i, r := range c.Roots {
		if !filepath.IsAbs(r) {
			errs = append(errs, fmt.Errorf("roots[%d]: %q is not an absolute directory", i, r))
		}
	}
	for i, p := range c.S3Prefixes {
		if len(p) <= len("s3://") || p[:5] != "s3://" {
			errs = append(errs, fmt.Errorf("s3_prefixes[%d]: %q is not an s3://bucket/prefix URL", i, p))
		}
	}
	return errors.Join(errs...)
}

// JobState is where a job is in its life.
type JobState string

// The states of a job; done, failed and cancelled are final.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobDone      JobState = "done"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Final reports whether the job will not change any more.
func (s JobState) Final() bool { return s == JobDone || s == JobFailed || s == JobCancelled }

// Progress is what a running job has done so far; its methods are safe
// to call from the job while clients read it.
type Progress struct {
	objectsTotal, objectsDone, read, stored, rejected atomic.Int64
}

// AddObjects adds n to the objects the job will handle (a source listed).
func (p *Progress) AddObjects(n int) { p.objectsTotal.Add(int64(n)) }

// Done counts handled objects and their records.
func (p *Progress) Done(objects int, read, stored, rejected int64) {
	p.objectsDone.Add(int64(objects))
	p.read.Add(read)
	p.stored.Add(stored)
	p.rejected.Add(rejected)
}

// ProgressSnapshot is Progress at one instant, as the API shows it.
type ProgressSnapshot struct {
	ObjectsTotal    int64 `json:"objects_total"`
	ObjectsDone     int64 `json:"objects_done"`
	RecordsRead     int64 `json:"records_read"`
	RecordsStored   int64 `json:"records_stored"`
	RecordsRejected int64 `json:"records_rejected"`
}

func (p *Progress) snapshot() ProgressSnapshot {
	return ProgressSnapshot{
		ObjectsTotal: p.objectsTotal.Load(), ObjectsDone: p.objectsDone.Load(),
		RecordsRead: p.read.Load(), RecordsStored: p.stored.Load(), RecordsRejected: p.rejected.Load(),
	}
}

// Job is a hand-over job as the API shows it.
type Job struct {
	ID string `json:"id"`
	// Kind is what runs: flowlogs or pods.
	Kind string `json:"kind"`
	// Subject is the token's subject that started the job: its owner.
	Subject  string           `json:"subject"`
	Sources  []string         `json:"sources"`
	State    JobState         `json:"state"`
	Progress ProgressSnapshot `json:"progress"`
	Created  time.Time        `json:"created"`
	Started  *time.Time       `json:"started,omitempty"`
	Ended    *time.Time       `json:"ended,omitempty"`
	// Error is why the job failed or was cancelled.
	Error string `json:"error,omitempty"`
	// Result is the ingest's own report (a flow-log Summary, a pods
	// Result), once it ended; a failed run has one too when it got far
	// enough to make it.
	Result json.RawMessage `json:"result,omitempty"`
}

// RunFunc is a job's work. It must stop when ctx is done and report
// progress to p. A non-nil result is kept even with an error.
type RunFunc func(ctx context.Context, p *Progress) (result any, err error)

// job is a Job with what runs it.
type job struct {
	Job
	run       RunFunc
	progress  Progress
	cancel    context.CancelFunc
	cancelled bool // asked to stop (DELETE or shutdown)
}

// Jobs runs hand-over jobs in the background, under the server's lifetime
// and not the request's: a job outlives the request that started it (and
// the HTTP write timeout) and stops on DELETE or when the server stops.
type Jobs struct {
	cfg    HandOverConfiguration
	logger *slog.Logger
	m      *jobMetrics

	ctx    context.Context // the server's lifetime
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	jobs   map[string]*job
	order  []*job // by creation
	queue  []*job
	active int
	closed bool
}

// NewJobs returns an idle registry; jobs run as they are submitted, until
// Stop.
func NewJobs(cfg HandOverConfiguration, reg prometheus.Registerer, logger *slog.Logger) (*Jobs, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Jobs{cfg: cfg, logger: logger, m: newJobMetrics(reg), ctx: ctx, stop: stop, jobs: map[string]*job{}}, nil
}

// CheckSources resolves each source against the roots and prefixes; the
// first refused one is the error (wrapping ErrOutsideRoots, or
// fs.ErrNotExist for a path inside a root that is not there).
func (j *Jobs) CheckSources(srcs []string) ([]string, error) {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		r, err := checkSource(s, j.cfg.Roots, j.cfg.S3Prefixes)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// ErrStopping refuses a job submitted while the server stops.
var ErrStopping = errors.New("the server is stopping; submit the job again once it is back")

// Submit queues a job and starts it when a slot is free.
func (j *Jobs) Submit(kind, subject string, srcs []string, run RunFunc) (Job, error) {
	id, err := newJobID()
	if err != nil {
		return Job{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return Job{}, ErrStopping
	}
	jb := &job{Job: Job{ID: id, Kind: kind, Subject: subject, Sources: srcs, State: JobQueued, Created: time.Now().UTC()}, run: run}
	j.jobs[id] = jb
	j.order = append(j.order, jb)
	j.queue = append(j.queue, jb)
	j.m.queued.Inc()
	j.logger.Info("ingest job queued", "job", id, "kind", kind, "subject", subject, "sources", len(srcs))
	j.dispatchLocked()
	return j.viewLocked(jb), nil
}

// dispatchLocked starts queued jobs while slots are free.
func (j *Jobs) dispatchLocked() {
	for j.active < j.cfg.MaxRunningJobs && len(j.queue) > 0 && !j.closed {
		jb := j.queue[0]
		j.queue = j.queue[1:]
		j.m.queued.Dec()
		j.active++
		j.m.running.Inc()
		ctx, cancel := context.WithCancel(j.ctx)
		jb.cancel = cancel
		now := time.Now().UTC()
		jb.State, jb.Started = JobRunning, &now
		j.m.started.WithLabelValues(jb.Kind).Inc()
		j.wg.Add(1)
		go j.execute(ctx, jb)
	}
}

func (j *Jobs) execute(ctx context.Context, jb *job) {
	defer j.wg.Done()
	j.logger.Info("ingest job started", "job", jb.ID, "kind", jb.Kind, "subject", jb.Subject)
	res, err := jb.run(ctx, &jb.progress)
	var raw json.RawMessage
	if res != nil {
		if b, merr := json.Marshal(res); merr == nil {
			raw = b
		} else {
			err = errors.Join(err, fmt.Errorf("encode the job's result: %w", merr))
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	jb.cancel()
	now := time.Now().UTC()
	jb.Ended, jb.Result = &now, raw
	switch {
	case err == nil:
		jb.State = JobDone
	case jb.cancelled && ctx.Err() != nil:
		// The run stopped because it was told to; its error is how it
		// noticed (context canceled), not a failure of the ingest.
		jb.State, jb.Error = JobCancelled, "cancelled"
	default:
		jb.State, jb.Error = JobFailed, err.Error()
	}
	j.m.finished.WithLabelValues(jb.Kind, string(jb.State)).Inc()
	j.active--
	j.m.running.Dec()
	j.logger.Info("ingest job ended", "job", jb.ID, "kind", jb.Kind, "subject", jb.Subject, "state", jb.State,
		"objects", jb.progress.objectsDone.Load(), "stored", jb.progress.stored.Load(), "error", jb.Error)
	j.forgetLocked()
	j.dispatchLocked()
}

// forgetLocked drops the oldest finished jobs beyond KeepJobs.
func (j *Jobs) forgetLocked() {
	finished := 0
	for _, jb := range j.order {
		if jb.State.Final() {
			finished++
		}
	}
	kept := j.order[:0]
	for _, jb := range j.order {
		if finished > j.cfg.KeepJobs && jb.State.Final() {
			finished--
			delete(j.jobs, jb.ID)
			continue
		}
		kept = append(kept, jb)
	}
	clear(j.order[len(kept):])
	j.order = kept
}

// ErrNoJob is an unknown (or forgotten) job id.
var ErrNoJob = errors.New("no such job (finished jobs are kept up to ingest.keep_jobs, and none survives a restart)")

// Get returns one job.
func (j *Jobs) Get(id string) (Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	jb, ok := j.jobs[id]
	if !ok {
		return Job{}, ErrNoJob
	}
	return j.viewLocked(jb), nil
}

// List returns every job kept, newest first, without their results.
func (j *Jobs) List() []Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Job, 0, len(j.order))
	for i := len(j.order) - 1; i >= 0; i-- {
		v := j.viewLocked(j.order[i])
		v.Result = nil
		out = append(out, v)
	}
	return out
}

// Cancel stops a job: a queued one at once, a running one through its
// context (it ends as cancelled once its run returns). Cancelling a
// finished job changes nothing.
func (j *Jobs) Cancel(id string) (Job, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	jb, ok := j.jobs[id]
	if !ok {
		return Job{}, ErrNoJob
	}
	j.cancelLocked(jb)
	return j.viewLocked(jb), nil
}

func (j *Jobs) cancelLocked(jb *job) {
	switch jb.State {
	case JobQueued:
		for i, q := range j.queue {
			if q == jb {
				j.queue = append(j.queue[:i], j.queue[i+1:]...)
				break
			}
		}
		j.m.queued.Dec()
		now := time.Now().UTC()
		jb.State, jb.Ended, jb.Error, jb.cancelled = JobCancelled, &now, "cancelled before it started", true
		j.m.finished.WithLabelValues(jb.Kind, string(JobCancelled)).Inc()
		j.forgetLocked()
	case JobRunning:
		jb.cancelled = true
		jb.cancel()
	}
}

func (j *Jobs) viewLocked(jb *job) Job {
	v := jb.Job
	v.Sources = append([]string(nil), jb.Sources...)
	v.Progress = jb.progress.snapshot()
	return v
}

// Stop cancels every job, queued or running, and waits for the running
// ones to return, at most until ctx is done. Jobs submitted afterwards are
// refused with ErrStopping.
func (j *Jobs) Stop(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	for _, jb := range append([]*job(nil), j.order...) {
		j.cancelLocked(jb)
	}
	j.mu.Unlock()
	j.stop()
	done := make(chan struct{})
	go func() { j.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ingest jobs still running at shutdown: %w", ctx.Err())
	}
}

func newJobID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("job id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// jobMetrics count jobs by kind and final state.
type jobMetrics struct {
	started         *prometheus.CounterVec
	finished        *prometheus.CounterVec
	queued, running prometheus.Gauge
}

func newJobMetrics(reg prometheus.Registerer) *jobMetrics {
	return &jobMetrics{
		started: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_ingest_jobs_started_total",
			Help: "Hand-over ingest jobs that started running, by kind.",
		}, []string{"kind"})),
		finished: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_ingest_jobs_finished_total",
			Help: "Hand-over ingest jobs that ended, by kind and state (done, failed, cancelled).",
		}, []string{"kind", "state"})),
		queued: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "furrow_ingest_jobs_queued",
			Help: "Hand-over ingest jobs waiting for a slot (ingest.max_running_jobs).",
		})),
		running: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "furrow_ingest_jobs_running",
			Help: "Hand-over ingest jobs running.",
		})),
	}
}
