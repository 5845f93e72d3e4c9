package pods

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// Objects are the Kubernetes objects read from `kubectl get … -o json|yaml`
// output. Only the kinds that matter for attribution are kept.
type Objects struct {
	Pods        []corev1.Pod
	Nodes       []corev1.Node
	ReplicaSets []appsv1.ReplicaSet
	Jobs        []batchv1.Job
	// Ignored counts the objects of other kinds, by kind.
	Ignored map[string]int
}

// DecodeObjects reads a stream of JSON or YAML documents (several YAML
// documents separated by ---, or concatenated JSON values). A document is a
// single object, a typed list (PodList, NodeList, …) or a `kind: List`
// mixing kinds; list items without a kind, as kubectl sometimes writes
// them, get one inferred from their fields.
func DecodeObjects(r io.Reader) (*Objects, error) {
	objs := &Objects{Ignored: map[string]int{}}
	dec := yaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 0; ; doc++ {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode document %d: %w", doc, err)
		}
		if len(raw.Raw) == 0 || string(raw.Raw) == "null" {
			continue
		}
		var m map[string]any
		if err := utiljson.Unmarshal(raw.Raw, &m); err != nil {
			return nil, fmt.Errorf("decode document %d: %w", doc, err)
		}
		if err := objs.add(m, ""); err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
	}
}

// add converts one object (or the items of a list) into its typed form;
// defaultKind is the item kind of the enclosing typed list.
func (o *Objects) add(m map[string]any, defaultKind string) error {
	kind, _ := m["kind"].(string)
	if kind == "" {
		kind = defaultKind
	}
	if kind == "" {
		kind = inferKind(m)
	}
	if kind == "List" || strings.HasSuffix(kind, "List") {
		items, _ := m["items"].([]any)
		itemKind := strings.TrimSuffix(kind, "List")
		for i, it := range items {
			im, ok := it.(map[string]any)
			if !ok {
				return fmt.Errorf("%s item %d is not an object", kind, i)
			}
			if err := o.add(im, itemKind); err != nil {
				return fmt.Errorf("%s item %d: %w", kind, i, err)
			}
		}
		return nil
	}
	var target any
	switch kind {
	case "Pod":
		o.Pods = append(o.Pods, corev1.Pod{})
		target = &o.Pods[len(o.Pods)-1]
	case "Node":
		o.Nodes = append(o.Nodes, corev1.Node{})
		target = &o.Nodes[len(o.Nodes)-1]
	case "ReplicaSet":
		o.ReplicaSets = append(o.ReplicaSets, appsv1.ReplicaSet{})
		target = &o.ReplicaSets[len(o.ReplicaSets)-1]
	case "Job":
		o.Jobs = append(o.Jobs, batchv1.Job{})
		target = &o.Jobs[len(o.Jobs)-1]
	default:
		if kind == "" {
			kind = "unknown"
		}
		o.Ignored[kind]++
		return nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, target); err != nil {
		return fmt.Errorf("convert %s: %w", kind, err)
	}
	return nil
}

// inferKind guesses the kind of an object that lacks one from the fields
// only that kind has.
func inferKind(m map[string]any) string {
	spec, _ := m["spec"].(map[string]any)
	status, _ := m["status"].(map[string]any)
	has := func(obj map[string]any, keys ...string) bool {
		for _, k := range keys {
			if _, ok := obj[k]; ok {
				return true
			}
		}
		return false
	}
	switch {
	case has(m, "items"):
		return "List"
	case has(spec, "containers") || has(status, "podIP", "podIPs"):
		return "Pod"
	case has(status, "nodeInfo", "addresses", "daemonEndpoints") || has(spec, "podCIDR", "providerID"):
		return "Node"
	case has(spec, "template") && has(spec, "completions", "parallelism", "backoffLimit"):
		return "Job"
	case has(spec, "template") && has(spec, "replicas") && has(status, "fullyLabeledReplicas"):
		return "ReplicaSet"
	}
	return ""
}

// Snapshot is the state of one cluster at one time, as dumped by kubectl.
type Snapshot struct {
	// Cluster is the cluster the objects come from.
	Cluster string
	// Time is when the dump was taken: pods missing from a later snapshot
	// are taken to have released their IP at that later snapshot's Time.
	Time time.Time
	Objects
}

// ReadSnapshot decodes files (pods, nodes, ReplicaSets and Jobs may be in
// one file or several) into a snapshot taken at at; a zero at means the
// newest modification time of the files.
func ReadSnapshot(cluster string, at time.Time, paths ...string) (*Snapshot, error) {
	s := &Snapshot{Cluster: cluster, Time: at, Objects: Objects{Ignored: map[string]int{}}}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("read snapshot: %w", err)
		}
		st, err := f.Stat()
		if err == nil && at.IsZero() && st.ModTime().After(s.Time) {
			s.Time = st.ModTime()
		}
		objs, err := DecodeObjects(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read snapshot %s: %w", p, err)
		}
		s.Pods = append(s.Pods, objs.Pods...)
		s.Nodes = append(s.Nodes, objs.Nodes...)
		s.ReplicaSets = append(s.ReplicaSets, objs.ReplicaSets...)
		s.Jobs = append(s.Jobs, objs.Jobs...)
		for k, n := range objs.Ignored {
			s.Ignored[k] += n
		}
	}
	s.Time = s.Time.UTC()
	return s, nil
}

// Reasons a pod or node of a snapshot yields no record.
const (
	SkipNoIP       = "pod without IP"
	SkipTerminated = "pod terminated, no finish time"
	SkipInvalidIP  = "unparsable pod IP"
	SkipNodeNoIP   = "node without parsable IP"
)

// Records turns the snapshot into intervals: every pod holding an IP is
// valid from its start time, every node from its creation. A terminated
// pod (Succeeded, Failed: a finished Job's pod stays listed) held its IP
// until its containers finished, so its interval is closed then; without
// a finish time it is skipped. skipped counts
// the pods without a record by reason (see the Skip constants); nodes
// without an IP still get a record (their zone serves the pods).
func (s *Snapshot) Records() (pods []PodIP, nodes []NodeInfo, skipped map[string]int) {
	skipped = map[string]int{}
	zones := make(map[string]string, len(s.Nodes))
	for i := range s.Nodes {
		n := &s.Nodes[i]
		info := newNodeInfo(s.Cluster, n, n.CreationTimestamp.Time)
		if len(info.IPs) == 0 {
			skipped[SkipNodeNoIP]++
		}
		zones[n.Name] = info.Zone
		nodes = append(nodes, info)
	}
	owners := newMapOwners(s.ReplicaSets, s.Jobs)
	for i := range s.Pods {
		p := &s.Pods[i]
		var finished time.Time
		if podTerminated(p) {
			end, ok := podFinished(p)
			if !ok || !end.After(podStart(p)) {
				skipped[SkipTerminated]++
				continue
			}
			finished = end.UTC()
		}
		ips, invalid := PodIPs(p)
		if invalid > 0 {
			skipped[SkipInvalidIP] += invalid
		}
		if len(ips) == 0 {
			if invalid == 0 {
				skipped[SkipNoIP]++
			}
			continue
		}
		res := PodResources(p)
		for _, ip := range ips {
			rec := newPodIP(s.Cluster, p, ip, zones[p.Spec.NodeName], res, owners, podStart(p))
			rec.ValidTo = finished
			pods = append(pods, rec)
		}
	}
	sortPodIPs(pods)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Cluster+"/"+nodes[i].Node < nodes[j].Cluster+"/"+nodes[j].Node })
	return pods, nodes, skipped
}

// History merges successive snapshots into intervals: an interval opens
// when a pod IP (or node) first appears and closes when the pod is seen
// terminated (at its finish time) or at the Time of the first later
// snapshot of the same cluster that lacks it. A running pod whose
// resources changed (an in-place resize), or a node whose state changed,
// has its interval closed and a new one opened at that snapshot's Time.
type History struct {
	pods  map[podKey]PodIP
	nodes map[string]NodeInfo
	// closed are the terminated pods still listed, whose closed interval
	// was emitted already.
	closed map[podKey]bool
}

type podKey struct {
	cluster, uid string
	ip           [16]byte
}

// NewHistory returns an empty history.
func NewHistory() *History {
	return &History{pods: map[podKey]PodIP{}, nodes: map[string]NodeInfo{}, closed: map[podKey]bool{}}
}

// Apply merges the next snapshot of a cluster (snapshots of one cluster must
// come in time order) and returns the records that changed: newly opened
// ones and closed ones, for a Sink. A snapshot without nodes leaves the node
// intervals open.
func (h *History) Apply(s *Snapshot) (pods []PodIP, nodes []NodeInfo, skipped map[string]int) {
	cur, curNodes, skipped := s.Records()
	seen := map[podKey]bool{}
	for _, p := range cur {
		k := podKey{p.Cluster, p.PodUID, p.IP.As16()}
		seen[k] = true
		open, isOpen := h.pods[k]
		switch {
		case p.ValidTo.IsZero():
			switch {
			case !isOpen:
				h.pods[k] = p
				pods = append(pods, p)
			case open.Resources != p.Resources && s.Time.After(open.ValidFrom):
				// Resized in place since the last snapshot: the old
				// values held until this one (all the pod's IPs are
				// split at the same time).
				open.ValidTo = s.Time
				p.ValidFrom = s.Time
				h.pods[k] = p
				pods = append(pods, open, p)
			case open.Resources != p.Resources:
				// A snapshot not after the interval's start: correct
				// the interval in place (same key, new version).
				open.Resources = p.Resources
				h.pods[k] = open
				pods = append(pods, open)
			}
		case isOpen:
			// Seen running before, terminated now: close the interval it
			// was opened with at the finish time.
			open.ValidTo = p.ValidTo
			if open.ValidTo.Before(open.ValidFrom) {
				open.ValidTo = open.ValidFrom
			}
			pods = append(pods, open)
			delete(h.pods, k)
			h.closed[k] = true
		case !h.closed[k]:
			pods = append(pods, p)
			h.closed[k] = true
		}
	}
	for k := range h.closed {
		if k.cluster == s.Cluster && !seen[k] {
			delete(h.closed, k)
		}
	}
	for k, p := range h.pods {
		if k.cluster == s.Cluster && !seen[k] {
			p.ValidTo = s.Time
			pods = append(pods, p)
			delete(h.pods, k)
		}
	}
	// A dump of pods alone says nothing about nodes: their intervals are
	// left as they are.
	if len(s.Nodes) == 0 {
		sortPodIPs(pods)
		return pods, nil, skipped
	}
	seenNodes := map[string]bool{}
	for _, n := range curNodes {
		k := n.Cluster + "/" + n.Node
		seenNodes[k] = true
		old, ok := h.nodes[k]
		switch {
		case !ok:
			h.nodes[k] = n
			nodes = append(nodes, n)
		case !sameNode(old, n):
			old.ValidTo = s.Time
			n.ValidFrom = s.Time
			h.nodes[k] = n
			nodes = append(nodes, old, n)
		}
	}
	for k, n := range h.nodes {
		if n.Cluster == s.Cluster && !seenNodes[k] {
			n.ValidTo = s.Time
			nodes = append(nodes, n)
			delete(h.nodes, k)
		}
	}
	sortPodIPs(pods)
	return pods, nodes, skipped
}

// sortPodIPs orders records by cluster, IP, start and pod, for stable output.
func sortPodIPs(p []PodIP) {
	sort.Slice(p, func(i, j int) bool {
		a, b := p[i], p[j]
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		if c := a.IP.Compare(b.IP); c != 0 {
			return c < 0
		}
		if !a.ValidFrom.Equal(b.ValidFrom) {
			return a.ValidFrom.Before(b.ValidFrom)
		}
		return a.Namespace+"/"+a.Pod < b.Namespace+"/"+b.Pod
	})
}
