package pods

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Reasons an interval closes, as counted in intervals_closed_total.
const (
	closeDeleted    = "deleted"
	closeTerminated = "terminated"
	closeIPChanged  = "ip_changed"
	closeUpdated    = "updated"
	closeResized    = "resized"
)

// clusterWatcher follows one cluster. Its handlers run on the informers'
// goroutines; mu guards the open intervals.
type clusterWatcher struct {
	w       *Watcher
	name    string
	client  kubernetes.Interface
	factory informers.SharedInformerFactory

	nodeLister corelisters.NodeLister
	rsLister   appslisters.ReplicaSetLister
	jobLister  batchlisters.JobLister

	mu sync.Mutex
	// pods are the open intervals by pod UID and IP.
	pods map[types.UID]map[netip.Addr]PodIP
	// nodes are the open node intervals by node name.
	nodes map[string]NodeInfo
	// released is when each IP was last released in this cluster: a new
	// holder never starts before it, even when its second-precision start
	// time says so.
	released map[netip.Addr]time.Time
}

func newClusterWatcher(w *Watcher, name string, client kubernetes.Interface) *clusterWatcher {
	return &clusterWatcher{
		w: w, name: name, client: client,
		factory:  informers.NewSharedInformerFactory(client, w.cfg.ResyncPeriod),
		pods:     map[types.UID]map[netip.Addr]PodIP{},
		nodes:    map[string]NodeInfo{},
		released: map[netip.Addr]time.Time{},
	}
}

// start lists nodes, ReplicaSets and Jobs first, so the pods of the initial
// list resolve their zone and workload, then pods.
func (c *clusterWatcher) start(runCtx, syncCtx context.Context) error {
	nodes := c.factory.Core().V1().Nodes()
	rs := c.factory.Apps().V1().ReplicaSets()
	jobs := c.factory.Batch().V1().Jobs()
	c.nodeLister, c.rsLister, c.jobLister = nodes.Lister(), rs.Lister(), jobs.Lister()

	if _, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, initial bool) { c.onNode(obj, "add", initial) },
		UpdateFunc: func(_, obj any) { c.onNode(obj, "update", false) },
		DeleteFunc: func(obj any) { c.onNode(obj, "delete", false) },
	}); err != nil {
		return fmt.Errorf("node handler: %w", err)
	}
	if obs := c.w.deps.Namespaces; obs != nil {
		notify := func(obj any) {
			if ns, ok := obj.(*corev1.Namespace); ok {
				obs.ObserveNamespace(c.name, ns.Name, ns.Labels, ns.Annotations)
			}
		}
		if _, err := c.factory.Core().V1().Namespaces().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    notify,
			UpdateFunc: func(_, obj any) { notify(obj) },
		}); err != nil {
			return fmt.Errorf("namespace handler: %w", err)
		}
	}
	for kind, inf := range map[string]cache.SharedIndexInformer{"replicaset": rs.Informer(), "job": jobs.Informer()} {
		if _, err := inf.AddEventHandler(c.countingHandler(kind)); err != nil {
			return fmt.Errorf("%s handler: %w", kind, err)
		}
	}
	c.factory.Start(runCtx.Done())
	if err := c.waitSynced(syncCtx); err != nil {
		return err
	}

	pods := c.factory.Core().V1().Pods().Informer()
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, initial bool) { c.onPod(obj, "add", initial) },
		UpdateFunc: func(_, obj any) { c.onPod(obj, "update", false) },
		DeleteFunc: func(obj any) { c.onPod(obj, "delete", false) },
	}); err != nil {
		return fmt.Errorf("pod handler: %w", err)
	}
	c.factory.Start(runCtx.Done())
	return c.waitSynced(syncCtx)
}

func (c *clusterWatcher) waitSynced(ctx context.Context) error {
	for typ, ok := range c.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			c.w.metrics.errors.WithLabelValues(c.name, "sync").Inc()
			return fmt.Errorf("initial list of %v did not complete: %w (check the kubeconfig context and that the account may list and watch pods, nodes, replicasets and jobs)", typ, context.Cause(ctx))
		}
	}
	return nil
}

func (c *clusterWatcher) countingHandler(kind string) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.w.metrics.events.WithLabelValues(c.name, kind, "add").Inc() },
		UpdateFunc: func(_, _ any) { c.w.metrics.events.WithLabelValues(c.name, kind, "update").Inc() },
		DeleteFunc: func(any) { c.w.metrics.events.WithLabelValues(c.name, kind, "delete").Inc() },
	}
}

// ReplicaSetOwner implements Owners with the ReplicaSet informer cache.
func (c *clusterWatcher) ReplicaSetOwner(ns, name string) (*metav1.OwnerReference, bool) {
	rs, err := c.rsLister.ReplicaSets(ns).Get(name)
	if err != nil {
		c.countLookupError(err)
		return nil, false
	}
	return metav1.GetControllerOf(rs), true
}

// JobOwner implements Owners with the Job informer cache.
func (c *clusterWatcher) JobOwner(ns, name string) (*metav1.OwnerReference, bool) {
	job, err := c.jobLister.Jobs(ns).Get(name)
	if err != nil {
		c.countLookupError(err)
		return nil, false
	}
	return metav1.GetControllerOf(job), true
}

func (c *clusterWatcher) countLookupError(err error) {
	if !apierrors.IsNotFound(err) {
		c.w.metrics.errors.WithLabelValues(c.name, "lister").Inc()
	}
}

// deletedObject unwraps the tombstone of an object deleted while the watch
// was down.
func deletedObject(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

// onPod opens an interval per IP of a running pod and closes those of IPs
// the pod no longer has, of terminated pods and of deleted pods. A running
// pod whose resources changed (an in-place resize) has all its intervals
// closed and reopened now, without releasing its IPs. Pods of the initial
// list are valid from their start time; later changes from now.
func (c *clusterWatcher) onPod(obj any, event string, initial bool) {
	c.w.metrics.events.WithLabelValues(c.name, "pod", event).Inc()
	pod, ok := deletedObject(obj).(*corev1.Pod)
	if !ok {
		c.w.metrics.errors.WithLabelValues(c.name, "decode").Inc()
		return
	}
	now := c.w.deps.Now().UTC()
	want := map[netip.Addr]bool{}
	reason := closeDeleted
	end := now
	res := PodResources(pod)
	switch {
	case event == "delete":
	case podTerminated(pod):
		reason = closeTerminated
		// The IP was released when the containers finished, which may
		// be before this event (a resync, a restarted watch).
		if fin, ok := podFinished(pod); ok && fin.Before(now) {
			end = fin.UTC()
		}
	default:
		reason = closeIPChanged
		ips, invalid := PodIPs(pod)
		if invalid > 0 {
			c.w.metrics.errors.WithLabelValues(c.name, "pod_ip").Inc()
		}
		for _, ip := range ips {
			want[ip] = true
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var out []PodIP
	open := c.pods[pod.UID]
	if initial && reason == closeTerminated && open == nil && end.Before(now) {
		// A finished pod found by the first list (a completed Job's pod
		// stays listed): its whole interval is in the past.
		ips, _ := PodIPs(pod)
		for _, ip := range ips {
			if rec := newPodIP(c.name, pod, ip, c.zoneOf(pod.Spec.NodeName), res, c, podStart(pod)); end.After(rec.ValidFrom) {
				rec.ValidTo = end
				out = append(out, rec)
			}
		}
	}
	resized := false
	for ip, rec := range open {
		closeReason := reason
		if want[ip] {
			if rec.Resources == res {
				continue
			}
			if !end.After(rec.ValidFrom) {
				// Resized within the millisecond it opened: the same
				// interval with the new values (same key, new version).
				rec.Resources = res
				open[ip] = rec
				out = append(out, rec)
				continue
			}
			// Resized in place: the pod keeps its IP, the interval
			// of the old values ends now and a new one opens below.
			closeReason, resized = closeResized, true
		}
		rec.ValidTo = end
		if rec.ValidTo.Before(rec.ValidFrom) {
			rec.ValidTo = rec.ValidFrom
		}
		out = append(out, rec)
		delete(open, ip)
		if !rec.HostNetwork && closeReason != closeResized {
			c.released[ip] = rec.ValidTo
		}
		c.w.metrics.intervalsClosed.WithLabelValues(c.name, podKind(rec.HostNetwork), closeReason).Inc()
	}
	if len(want) > 0 && open == nil {
		open = map[netip.Addr]PodIP{}
		c.pods[pod.UID] = open
	}
	if len(open) == 0 && len(want) == 0 {
		delete(c.pods, pod.UID)
	}
	// The IPs to open start together, so that a dual-stack pod's rows of
	// one interval share their start (the pod_resources view collapses
	// them on it): at the latest release of any of them.
	from := now
	if initial && !resized && pod.Generation <= 1 {
		// Unchanged since its creation: the same interval as before a
		// restart (same key). A pod whose spec changed (generation > 1:
		// a resize, perhaps while furrow was down) opens now, so that a
		// restart never rewrites the interval of its old requests; the
		// pod_resources view ends the interval still open from before
		// the restart where this one starts.
		from = podStart(pod)
	}
	var opening []netip.Addr
	for ip := range want {
		if _, ok := open[ip]; ok {
			continue
		}
		opening = append(opening, ip)
		if r, ok := c.released[ip]; ok && !pod.Spec.HostNetwork && from.Before(r) {
			from = r
		}
	}
	for _, ip := range opening {
		rec := newPodIP(c.name, pod, ip, c.zoneOf(pod.Spec.NodeName), res, c, from)
		open[ip] = rec
		out = append(out, rec)
		c.w.metrics.intervalsOpened.WithLabelValues(c.name, podKind(rec.HostNetwork)).Inc()
	}
	if len(out) > 0 {
		sortPodIPs(out)
		c.w.emit(out, nil)
	}
}

func podKind(hostNetwork bool) string {
	if hostNetwork {
		return "hostnetwork_pod"
	}
	return "pod"
}

// zoneOf returns the zone of a node from the node cache.
func (c *clusterWatcher) zoneOf(node string) string {
	if node == "" {
		return ""
	}
	n, err := c.nodeLister.Get(node)
	if err != nil {
		c.countLookupError(err)
		return ""
	}
	zone, _, _ := NodeTopology(n.Labels)
	return zone
}

// onNode opens a node interval, replaces it when the node's IPs, topology,
// provider id or size change and closes it when the node is deleted.
func (c *clusterWatcher) onNode(obj any, event string, initial bool) {
	c.w.metrics.events.WithLabelValues(c.name, "node", event).Inc()
	node, ok := deletedObject(obj).(*corev1.Node)
	if !ok {
		c.w.metrics.errors.WithLabelValues(c.name, "decode").Inc()
		return
	}
	now := c.w.deps.Now().UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	old, had := c.nodes[node.Name]
	var out []NodeInfo
	if event == "delete" {
		if had {
			old.ValidTo = now
			out = append(out, old)
			delete(c.nodes, node.Name)
			c.w.metrics.intervalsClosed.WithLabelValues(c.name, "node", closeDeleted).Inc()
		}
	} else {
		from := now
		if initial {
			from = node.CreationTimestamp.Time
		}
		rec := newNodeInfo(c.name, node, from)
		switch {
		case !had:
			out = append(out, rec)
			c.w.metrics.intervalsOpened.WithLabelValues(c.name, "node").Inc()
		case !sameNode(old, rec):
			old.ValidTo = now
			rec.ValidFrom = now
			out = append(out, old, rec)
			c.w.metrics.intervalsClosed.WithLabelValues(c.name, "node", closeUpdated).Inc()
			c.w.metrics.intervalsOpened.WithLabelValues(c.name, "node").Inc()
		default:
			return
		}
		c.nodes[node.Name] = rec
	}
	if len(out) > 0 {
		c.w.emit(nil, out)
	}
}
