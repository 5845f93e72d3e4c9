// Package pods tracks which pod or node held each IP over time, so that
// flows are attributed to the workload that owned an address at the flow's
// time even though pod IPs are reused.
//
// Records come from two sources: kubectl dumps read as snapshots
// (snapshot.go) and live informers on one or more clusters (watch.go). Both
// produce PodIP and NodeInfo intervals, handed to a Sink; the Index answers
// "who had this IP at that time" on the ingest hot path.
package pods

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"

	"github.com/furrowdev/furrow/kube"
)

// Sink receives opened and closed intervals. A closed record repeats the
// key of the opened one (see PodIP and NodeInfo) with ValidTo set; records
// of one key arrive in order. Calls come from one goroutine; a failed call
// is retried with the same records (and newer ones) at the next flush.
type Sink interface {
	PodIPs(ctx context.Context, records []PodIP) error
	Nodes(ctx context.Context, records []NodeInfo) error
}

// Dependencies are the collaborators of a Watcher.
type Dependencies struct {
	// Sink receives the records; required.
	Sink Sink
	// Registry registers the metrics; required.
	Registry prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Clients, keyed by cluster name, replace the clients built from
	// kubeconfig contexts (tests); a configured cluster without an entry is
	// reached through its kubeconfig.
	Clients map[string]kubernetes.Interface
	// Now is the clock stamping live events; defaults to time.Now.
	Now func() time.Time
	// Namespaces, when set, is told every namespace seen and its labels
	// and annotations (the ownership catalog reads a project from them).
	Namespaces NamespaceObserver
}

// NamespaceObserver is told about the namespaces of the watched clusters.
// It is called from the informers' goroutines and must not block long.
type NamespaceObserver interface {
	ObserveNamespace(cluster, name string, labels, annotations map[string]string)
}

// Watcher follows pods, nodes, ReplicaSets and Jobs of several clusters and
// emits PodIP and NodeInfo intervals to a Sink.
type Watcher struct {
	cfg     Configuration
	deps    Dependencies
	metrics *metrics

	mu           sync.Mutex
	pendingPods  []PodIP
	pendingNodes []NodeInfo
	flushMu      sync.Mutex

	clusters []*clusterWatcher
	cancel   context.CancelFunc
	done     chan struct{}
}

// New returns an inert Watcher; Start connects to the clusters.
func New(cfg Configuration, deps Dependencies) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Sink == nil || deps.Registry == nil {
		return nil, errors.New("pods: Dependencies.Sink and Dependencies.Registry are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Watcher{cfg: cfg, deps: deps, metrics: newMetrics(deps.Registry)}, nil
}

// Start builds a client per cluster, starts the informers, waits for their
// initial lists (bounded by SyncTimeout), emits the state found and keeps
// following changes until Stop or ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	clusters := w.cfg.Clusters
	if len(clusters) == 0 {
		clusters = []ClusterConfiguration{{}}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	w.done = make(chan struct{})
	for _, cc := range clusters {
		name, client, err := w.client(cc)
		if err != nil {
			cancel()
			return err
		}
		cw := newClusterWatcher(w, name, client)
		w.clusters = append(w.clusters, cw)
		syncCtx, syncCancel := context.WithTimeout(ctx, w.cfg.SyncTimeout)
		err = cw.start(runCtx, syncCtx)
		syncCancel()
		if err != nil {
			cancel()
			return fmt.Errorf("watch cluster %s: %w", name, err)
		}
	}
	go w.flushLoop(runCtx)
	return nil
}

// Stop stops the informers and hands the last records to the sink, waiting
// until ctx ends at most.
func (w *Watcher) Stop(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	select {
	case <-w.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, cw := range w.clusters {
		cw.factory.Shutdown()
	}
	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("pods: last flush: %w", err)
	}
	return nil
}

// client returns the cluster name and its clientset (a test's fake client
// when Dependencies.Clients has one for the name).
func (w *Watcher) client(cc ClusterConfiguration) (string, kubernetes.Interface, error) {
	name := cc.Name
	if name == "" {
		name = cc.Context
	}
	if c, ok := w.deps.Clients[name]; ok && name != "" {
		return name, c, nil
	}
	return kube.Client(kube.Cluster(cc))
}

// emit queues records for the sink; beyond MaxPending the oldest go.
func (w *Watcher) emit(pods []PodIP, nodes []NodeInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pendingPods = append(w.pendingPods, pods...)
	w.pendingNodes = append(w.pendingNodes, nodes...)
	if over := len(w.pendingPods) - w.cfg.MaxPending; over > 0 {
		w.pendingPods = append([]PodIP(nil), w.pendingPods[over:]...)
		w.metrics.dropped.Add(float64(over))
	}
	if over := len(w.pendingNodes) - w.cfg.MaxPending; over > 0 {
		w.pendingNodes = append([]NodeInfo(nil), w.pendingNodes[over:]...)
		w.metrics.dropped.Add(float64(over))
	}
}

// Flush hands the queued records to the sink now. On error the records stay
// queued for the next flush.
func (w *Watcher) Flush(ctx context.Context) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	nodes, pods := w.pendingNodes, w.pendingPods
	w.pendingNodes, w.pendingPods = nil, nil
	w.mu.Unlock()
	requeue := func(p []PodIP, n []NodeInfo) {
		w.mu.Lock()
		w.pendingPods = append(p, w.pendingPods...)
		w.pendingNodes = append(n, w.pendingNodes...)
		w.mu.Unlock()
	}
	// Nodes first: a reader of the sink finds the node of a new pod.
	if len(nodes) > 0 {
		if err := w.deps.Sink.Nodes(ctx, nodes); err != nil {
			w.metrics.errors.WithLabelValues("", "sink").Inc()
			requeue(pods, nodes)
			return fmt.Errorf("sink nodes: %w", err)
		}
		w.metrics.sinkRecords.WithLabelValues("node").Add(float64(len(nodes)))
	}
	if len(pods) > 0 {
		if err := w.deps.Sink.PodIPs(ctx, pods); err != nil {
			w.metrics.errors.WithLabelValues("", "sink").Inc()
			requeue(pods, nil)
			return fmt.Errorf("sink pod IPs: %w", err)
		}
		w.metrics.sinkRecords.WithLabelValues("pod").Add(float64(len(pods)))
	}
	return nil
}

func (w *Watcher) flushLoop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.cfg.FlushInterval)
	defer t.Stop()
	var lastLog time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.Flush(ctx); err != nil && time.Since(lastLog) > time.Minute {
				lastLog = time.Now()
				w.deps.Logger.Warn("pods: sink failed, records kept for the next flush", "err", err)
			}
		}
	}
}
