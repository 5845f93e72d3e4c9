package pods

import (
	"net/netip"
	"regexp"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodIP says that a pod held an IP during [ValidFrom, ValidTo). Records are
// keyed by (Cluster, IP, PodUID, ValidFrom): a record emitted again with
// ValidTo set closes the interval it was opened with, so a store keeps the
// latest version per key.
type PodIP struct {
	// Cluster is the configured cluster name (kubeconfig context by default).
	Cluster string
	// IP is one of the pod's IPs (status.podIPs).
	IP netip.Addr
	// Namespace and Pod name the pod; PodUID tells apart pods recreated under
	// the same name (StatefulSets).
	Namespace, Pod, PodUID string
	// WorkloadKind is Deployment, ReplicaSet, StatefulSet, DaemonSet, CronJob,
	// Job, Node (static pods), another owner kind, or Pod for a bare pod;
	// Workload is the owner's name (the pod's own name for a bare pod).
	WorkloadKind, Workload string
	// Node is spec.nodeName and Zone the node's topology zone, when known.
	Node, Zone string
	// HostNetwork pods share their node's IP: the record is kept for
	// reference, but the IP is attributed to the node, not to the pod.
	HostNetwork bool
	// Resources are the pod's effective requests and limits during the
	// interval: a change (an in-place resize) closes the pod's intervals
	// and opens new ones. Host-network pods carry theirs too.
	Resources
	// ValidFrom is when the pod got the IP; ValidTo when it released it,
	// zero while it still holds it.
	ValidFrom, ValidTo time.Time
}

// NodeInfo describes a node during [ValidFrom, ValidTo), keyed like PodIP by
// (Cluster, Node, ValidFrom). A change of IPs, topology, provider id or
// size closes the interval and opens a new one.
type NodeInfo struct {
	// Cluster is the configured cluster name.
	Cluster string
	// Node is the node name.
	Node string
	// IPs are the node's InternalIP and ExternalIP addresses that parse.
	IPs []netip.Addr
	// Zone, Region and InstanceType come from the well-known labels, falling
	// back to the legacy failure-domain and beta labels.
	Zone, Region, InstanceType string
	// ProviderID is spec.providerID (aws:///us-east-1a/i-0abc…,
	// gce://project/zone/name, …); InstanceID the EC2 instance id parsed
	// from it, empty for other providers (see InstanceID).
	ProviderID, InstanceID string
	// NodeSize is the node's allocatable and capacity CPU and memory.
	NodeSize
	// ValidFrom and ValidTo bound the interval; ValidTo is zero while open.
	ValidFrom, ValidTo time.Time
}

// Well-known labels read by this package. The legacy ones are still set by
// older clusters and some providers instead of the topology ones.
const (
	labelZoneLegacy         = "failure-domain.beta.kubernetes.io/zone"
	labelRegionLegacy       = "failure-domain.beta.kubernetes.io/region"
	labelInstanceTypeLegacy = "beta.kubernetes.io/instance-type"
	labelPodTemplateHash    = appsv1.DefaultDeploymentUniqueLabelKey
)

// Owners answers what owns a ReplicaSet or a Job, when the object is known
// (from a live informer or a snapshot). known=false makes the resolver fall
// back to naming conventions.
type Owners interface {
	// ReplicaSetOwner returns the controller of ReplicaSet namespace/name.
	ReplicaSetOwner(namespace, name string) (owner *metav1.OwnerReference, known bool)
	// JobOwner returns the controller of Job namespace/name.
	JobOwner(namespace, name string) (owner *metav1.OwnerReference, known bool)
}

// noOwners knows no ReplicaSet or Job.
type noOwners struct{}

func (noOwners) ReplicaSetOwner(string, string) (*metav1.OwnerReference, bool) { return nil, false }
func (noOwners) JobOwner(string, string) (*metav1.OwnerReference, bool)        { return nil, false }

// mapOwners are the ReplicaSets and Jobs of a snapshot, by namespace/name.
type mapOwners struct {
	replicaSets map[string]*metav1.OwnerReference
	jobs        map[string]*metav1.OwnerReference
}

func newMapOwners(rs []appsv1.ReplicaSet, jobs []batchv1.Job) *mapOwners {
	m := &mapOwners{replicaSets: map[string]*metav1.OwnerReference{}, jobs: map[string]*metav1.OwnerReference{}}
	for i := range rs {
		m.replicaSets[rs[i].Namespace+"/"+rs[i].Name] = metav1.GetControllerOfNoCopy(&rs[i])
	}
	for i := range jobs {
		m.jobs[jobs[i].Namespace+"/"+jobs[i].Name] = metav1.GetControllerOfNoCopy(&jobs[i])
	}
	return m
}

func (m *mapOwners) ReplicaSetOwner(ns, name string) (*metav1.OwnerReference, bool) {
	o, ok := m.replicaSets[ns+"/"+name]
	return o, ok
}

func (m *mapOwners) JobOwner(ns, name string) (*metav1.OwnerReference, bool) {
	o, ok := m.jobs[ns+"/"+name]
	return o, ok
}

// cronJobSuffix is the suffix the CronJob controller appends to the Jobs it
// creates: the scheduled time in minutes since the epoch.
var cronJobSuffix = regexp.MustCompile(`^(.+)-[0-9]+$`)

// ResolveWorkload returns the workload a pod belongs to, following its
// controller owner reference one level further for ReplicaSets (to their
// Deployment) and Jobs (to their CronJob). When the ReplicaSet or Job object
// is unknown, naming conventions decide: a ReplicaSet named
// <deployment>-<pod-template-hash> belongs to <deployment>, and a Job named
// <cronjob>-<digits> is taken as created by <cronjob>.
func ResolveWorkload(pod *corev1.Pod, owners Owners) (kind, name string) {
	if owners == nil {
		owners = noOwners{}
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil && len(pod.OwnerReferences) > 0 {
		ref = &pod.OwnerReferences[0]
	}
	if ref == nil {
		return "Pod", pod.Name
	}
	switch ref.Kind {
	case "ReplicaSet":
		if owner, known := owners.ReplicaSetOwner(pod.Namespace, ref.Name); known {
			if owner != nil {
				return owner.Kind, owner.Name
			}
			return "ReplicaSet", ref.Name
		}
		if hash := pod.Labels[labelPodTemplateHash]; hash != "" {
			if d, ok := strings.CutSuffix(ref.Name, "-"+hash); ok && d != "" {
				return "Deployment", d
			}
		}
		return "ReplicaSet", ref.Name
	case "Job":
		if owner, known := owners.JobOwner(pod.Namespace, ref.Name); known {
			if owner != nil {
				return owner.Kind, owner.Name
			}
			return "Job", ref.Name
		}
		if m := cronJobSuffix.FindStringSubmatch(ref.Name); m != nil {
			return "CronJob", m[1]
		}
		return "Job", ref.Name
	default:
		return ref.Kind, ref.Name
	}
}

// NodeTopology returns a node's zone, region and instance type from its
// labels, preferring the topology.kubernetes.io ones.
func NodeTopology(labels map[string]string) (zone, region, instanceType string) {
	pick := func(keys ...string) string {
		for _, k := range keys {
			if v := labels[k]; v != "" {
				return v
			}
		}
		return ""
	}
	return pick(corev1.LabelTopologyZone, labelZoneLegacy),
		pick(corev1.LabelTopologyRegion, labelRegionLegacy),
		pick(corev1.LabelInstanceTypeStable, labelInstanceTypeLegacy)
}

// PodIPs returns the parsed IPs of a pod (status.podIPs, else status.podIP),
// and how many did not parse (obfuscated or empty values).
func PodIPs(pod *corev1.Pod) (ips []netip.Addr, invalid int) {
	raw := make([]string, 0, 2)
	for _, p := range pod.Status.PodIPs {
		raw = append(raw, p.IP)
	}
	if len(raw) == 0 && pod.Status.PodIP != "" {
		raw = append(raw, pod.Status.PodIP)
	}
	for _, s := range raw {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			invalid++
			continue
		}
		ips = append(ips, ip.Unmap())
	}
	return ips, invalid
}

// NodeIPs returns a node's InternalIP and ExternalIP addresses that parse.
func NodeIPs(node *corev1.Node) []netip.Addr {
	var ips []netip.Addr
	for _, a := range node.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	return ips
}

// podStart is when a pod is taken to have got its IP: status.startTime,
// else its creation time.
func podStart(pod *corev1.Pod) time.Time {
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return pod.CreationTimestamp.Time
}

// podTerminated reports whether the pod released its IP for good.
func podTerminated(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// podFinished is when a terminated pod released its IP: the latest
// finishedAt of its containers' terminated states; false when none says.
func podFinished(pod *corev1.Pod) (time.Time, bool) {
	var end time.Time
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.FinishedAt.After(end) {
			end = t.FinishedAt.Time
		}
	}
	return end, !end.IsZero()
}

// newPodIP builds the record of one pod IP; zone is the zone of its node
// and res the pod's PodResources (computed once for all its IPs).
func newPodIP(cluster string, pod *corev1.Pod, ip netip.Addr, zone string, res Resources, owners Owners, from time.Time) PodIP {
	kind, name := ResolveWorkload(pod, owners)
	return PodIP{
		Cluster:      cluster,
		IP:           ip,
		Namespace:    pod.Namespace,
		Pod:          pod.Name,
		PodUID:       string(pod.UID),
		WorkloadKind: kind,
		Workload:     name,
		Node:         pod.Spec.NodeName,
		Zone:         zone,
		HostNetwork:  pod.Spec.HostNetwork,
		Resources:    res,
		ValidFrom:    from.UTC(),
	}
}

// newNodeInfo builds the record of a node.
func newNodeInfo(cluster string, node *corev1.Node, from time.Time) NodeInfo {
	zone, region, it := NodeTopology(node.Labels)
	return NodeInfo{
		Cluster:      cluster,
		Node:         node.Name,
		IPs:          NodeIPs(node),
		Zone:         zone,
		Region:       region,
		InstanceType: it,
		ProviderID:   node.Spec.ProviderID,
		InstanceID:   InstanceID(node.Spec.ProviderID),
		NodeSize:     nodeSize(node),
		ValidFrom:    from.UTC(),
	}
}

// sameNode reports whether two node records describe the same state.
func sameNode(a, b NodeInfo) bool {
	if a.Zone != b.Zone || a.Region != b.Region || a.InstanceType != b.InstanceType || len(a.IPs) != len(b.IPs) ||
		a.ProviderID != b.ProviderID || a.NodeSize != b.NodeSize {
		return false
	}
	for i := range a.IPs {
		if a.IPs[i] != b.IPs[i] {
			return false
		}
	}
	return true
}
