package pods

import (
	"math"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Resources are a pod's effective CPU and memory requests and limits: what
// the scheduler reserves for it on its node, and the ceiling it may use.
// Cost allocation splits a node's cost by max(request, usage).
type Resources struct {
	// CPURequestMillis and MemoryRequestBytes are the effective requests:
	// max(sum of the app and restartable (sidecar) init containers, the
	// largest init container with the sidecars started before it), plus
	// the pod overhead, or the pod-level requests when the spec sets them.
	CPURequestMillis, MemoryRequestBytes uint64
	// CPULimitMillis and MemoryLimitBytes are the limits summed the same
	// way (plus overhead when not zero); 0 when no container sets one. A
	// pod where only some containers set a limit is unbounded in fact; the
	// sum is what kubectl describe node shows for it too.
	CPULimitMillis, MemoryLimitBytes uint64
}

// PodResources returns the effective requests and limits of a pod, as the
// scheduler computes them (k8s.io/component-helpers/resource, the code the
// scheduler and kubelet use). Resources reported in the status count: an
// in-place resize in progress reserves the larger of the old and new values
// until the kubelet has applied it, as the scheduler does.
func PodResources(pod *corev1.Pod) Resources {
	opts := resourcehelper.PodResourcesOptions{UseStatusResources: true}
	req := resourcehelper.PodRequests(pod, opts)
	lim := resourcehelper.PodLimits(pod, opts)
	return Resources{
		CPURequestMillis:   milliValue(req, corev1.ResourceCPU),
		MemoryRequestBytes: value(req, corev1.ResourceMemory),
		CPULimitMillis:     milliValue(lim, corev1.ResourceCPU),
		MemoryLimitBytes:   value(lim, corev1.ResourceMemory),
	}
}

// milliValue is list[name] in thousandths, rounded up as the scheduler
// rounds CPU; 0 when absent or negative (the API server rejects negative
// quantities, a hand-written dump may not), saturated when it overflows.
func milliValue(list corev1.ResourceList, name corev1.ResourceName) uint64 {
	q, ok := list[name]
	if !ok || q.Sign() <= 0 {
		return 0
	}
	if q.Cmp(maxMilli) >= 0 {
		return math.MaxInt64
	}
	return uint64(q.MilliValue())
}

// value is list[name] in units, rounded up; 0 when absent or negative.
func value(list corev1.ResourceList, name corev1.ResourceName) uint64 {
	q, ok := list[name]
	if !ok || q.Sign() <= 0 {
		return 0
	}
	if q.Cmp(maxUnit) >= 0 {
		return math.MaxInt64
	}
	return uint64(q.Value())
}

// Bounds past which a quantity's int64 value would overflow.
var (
	maxMilli = *resource.NewMilliQuantity(math.MaxInt64, resource.DecimalSI)
	maxUnit  = *resource.NewQuantity(math.MaxInt64, resource.DecimalSI)
)

// NodeSize is a node's allocatable and capacity CPU and memory.
type NodeSize struct {
	// CPUAllocatableMillis and MemoryAllocatableBytes are what pods may
	// request (capacity minus the system and kubelet reservations).
	CPUAllocatableMillis, MemoryAllocatableBytes uint64
	// CPUCapacityMillis and MemoryCapacityBytes are the machine's.
	CPUCapacityMillis, MemoryCapacityBytes uint64
}

// nodeSize reads a node's status.allocatable and status.capacity.
func nodeSize(node *corev1.Node) NodeSize {
	return NodeSize{
		CPUAllocatableMillis:   milliValue(node.Status.Allocatable, corev1.ResourceCPU),
		MemoryAllocatableBytes: value(node.Status.Allocatable, corev1.ResourceMemory),
		CPUCapacityMillis:      milliValue(node.Status.Capacity, corev1.ResourceCPU),
		MemoryCapacityBytes:    value(node.Status.Capacity, corev1.ResourceMemory),
	}
}

// ec2InstanceID is an EC2 instance id: i- and 8 (older instances) or 17
// lowercase hex digits.
var ec2InstanceID = regexp.MustCompile(`^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)

// InstanceID returns the EC2 instance id of a node's spec.providerID, as
// the AWS cloud provider and Karpenter write it: aws:///<zone>/<id> (also
// aws://<zone>/<id> and aws:///<id> from older providers). Anything else —
// another provider, an EKS Fargate node (whose last part is not an
// instance), a malformed value — gives "": the node's cost is then not
// matched to a bill's EC2 line, and says so by its empty instance_id.
func InstanceID(providerID string) string {
	rest, ok := strings.CutPrefix(providerID, "aws://")
	if !ok || len(rest) > 256 {
		return ""
	}
	id := rest[strings.LastIndexByte(rest, '/')+1:]
	if !ec2InstanceID.MatchString(id) {
		return ""
	}
	return id
}
