package kube

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager of every apply.
const FieldManager = "furrow"

// ErrUnknownKind is returned when an object's kind is not served by the
// cluster, typically a CRD (Istio's VirtualService, …) that is not installed.
var ErrUnknownKind = errors.New("kind not served by the cluster")

// ObjectRef names one object in a cluster.
type ObjectRef struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// String is Kind/namespace/name, or Kind/name for cluster-scoped objects.
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// GroupVersionKind returns the reference's GVK.
func (r ObjectRef) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// RefOf returns the reference of an object.
func RefOf(obj *unstructured.Unstructured) ObjectRef {
	gvk := obj.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// WatchSettings tunes how Watch judges a rollout.
type WatchSettings struct {
	// PollInterval is how often the workloads and their pods are read.
	PollInterval time.Duration
	// NotReadyGrace is how long a pod may run with its containers started
	// but not Ready before its readiness probe is declared failing.
	NotReadyGrace time.Duration
	// UnschedulableGrace is how long a pod may stay unschedulable before the
	// rollout fails (a cluster autoscaler may add a node meanwhile).
	UnschedulableGrace time.Duration
	// LogLines is how many lines of a crashing container's previous run are
	// attached to the cause.
	LogLines int
}

// DefaultWatchSettings returns the settings NewCluster uses.
func DefaultWatchSettings() WatchSettings {
	return WatchSettings{
		PollInterval:       time.Second,
		NotReadyGrace:      2 * time.Minute,
		UnschedulableGrace: 0,
		LogLines:           20,
	}
}

// Validate checks the settings.
func (s WatchSettings) Validate() error {
	var errs []error
	if s.PollInterval <= 0 {
		errs = append(errs, errors.New("PollInterval must be positive"))
	}
	if s.NotReadyGrace < 0 || s.UnschedulableGrace < 0 {
		errs = append(errs, errors.New("grace periods cannot be negative"))
	}
	if s.LogLines < 0 {
		errs = append(errs, errors.New("LogLines cannot be negative"))
	}
	return errors.Join(errs...)
}

// Option configures a Cluster.
type Option func(*Cluster)

// WithWatchSettings replaces DefaultWatchSettings.
func WithWatchSettings(s WatchSettings) Option {
	return func(c *Cluster) { c.watch = s }
}

// Cluster is one Kubernetes cluster the deployer talks to. It is safe for
// concurrent use.
type Cluster struct {
	name   string
	client kubernetes.Interface
	dyn    dynamic.Interface
	disc   discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	watch  WatchSettings
}

// NewCluster builds the clients of the cluster called name. It does not
// contact the cluster.
func NewCluster(name string, cfg *rest.Config, opts ...Option) (*Cluster, error) {
	c := &Cluster{name: name, watch: DefaultWatchSettings()}
	for _, o := range opts {
		o(c)
	}
	if err := c.watch.Validate(); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	var err error
	if c.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("cluster %s: clientset: %w", name, err)
	}
	if c.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("cluster %s: dynamic client: %w", name, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: discovery client: %w", name, err)
	}
	c.disc = memory.NewMemCacheClient(dc)
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(c.disc)
	return c, nil
}

// Name is the cluster's name, as given to NewCluster.
func (c *Cluster) Name() string { return c.name }

// mapping maps a kind to its resource, refreshing discovery once when the
// kind is unknown.
func (c *Cluster) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if meta.IsNoMatchError(err) {
		return nil, fmt.Errorf("%w: %s %s in cluster %s (install its CustomResourceDefinition, or remove the object)", ErrUnknownKind, gvk.Kind, gvk.GroupVersion(), c.name)
	}
	if err != nil {
		return nil, fmt.Errorf("map %s in cluster %s: %w", gvk, c.name, err)
	}
	return m, nil
}

// resourceFor returns the dynamic client of ref's resource, with the
// namespace defaulted to "default" for namespaced kinds.
func (c *Cluster) resourceFor(ref ObjectRef) (dynamic.ResourceInterface, *meta.RESTMapping, string, error) {
	m, err := c.mapping(ref.GroupVersionKind())
	if err != nil {
		return nil, nil, "", err
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		return c.dyn.Resource(m.Resource), m, "", nil
	}
	ns := ref.Namespace
	if ns == "" {
		ns = "default"
	}
	return c.dyn.Resource(m.Resource).Namespace(ns), m, ns, nil
}

// applyOrder ranks kinds: what others depend on first.
var applyOrder = map[string]int{
	"Namespace":                1,
	"CustomResourceDefinition": 2,
	"ServiceAccount":           3,
	"ClusterRole":              4,
	"Role":                     4,
	"ClusterRoleBinding":       5,
	"RoleBinding":              5,
	"ConfigMap":                6,
	"Secret":                   7,
	"PersistentVolumeClaim":    8,
	"Service":                  9,
	"Deployment":               10,
	"StatefulSet":              10,
	"DaemonSet":                10,
	"Job":                      10,
	"CronJob":                  10,
}

func rank(kind string) int {
	if r, ok := applyOrder[kind]; ok {
		return r
	}
	return 100
}

// sortForApply orders objects for apply (stable within a rank); the input is
// not modified.
func sortForApply(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := append([]*unstructured.Unstructured(nil), objs...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].GetKind()) < rank(out[j].GetKind()) })
	return out
}

// sortRefsForDelete orders references for deletion: workloads before what
// they use, namespaces last.
func sortRefsForDelete(refs []ObjectRef) []ObjectRef {
	out := append([]ObjectRef(nil), refs...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i].Kind), rank(out[j].Kind)
		if ri != rj {
			return ri > rj
		}
		return strings.Compare(out[i].String(), out[j].String()) < 0
	})
	return out
}
