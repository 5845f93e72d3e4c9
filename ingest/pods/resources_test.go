package pods

import (
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// at returns the caller's file:line, so that a failing table case names
// its line.
func at() string {
	_, file, line, _ := runtime.Caller(1)
	return filepath.Base(file) + ":" + strconv.Itoa(line)
}

// rl builds a ResourceList from cpu and memory quantities ("" leaves one
// out).
func rl(cpu, mem string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		l[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return l
}

func ctr(name string, req, lim corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}
}

func sidecar(name string, req, lim corev1.ResourceList) corev1.Container {
	c := ctr(name, req, lim)
	c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	return c
}

const (
	mi = 1 << 20
	gi = 1 << 30
)

// TestPodResources checks the effective requests and limits against the
// rules Kubernetes documents for the scheduler ("Resource sharing within
// containers" in the init-containers page, the sidecar KEP 753 formula,
// "Pod overhead"): app containers add up; an init container runs alone,
// so the pod needs the largest of them if it exceeds the app sum; a
// restartable (sidecar) init container keeps running, so it adds to the
// app sum and to every init container started after it; overhead is
// added on top; limits follow the same arithmetic.
func TestPodResources(t *testing.T) {
	tests := []struct {
		pos  string
		name string
		spec corev1.PodSpec
		want Resources
	}{
		{at(), "no requests (BestEffort)", corev1.PodSpec{Containers: []corev1.Container{ctr("a", nil, nil)}}, Resources{}},
		{at(), "app containers add up", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", rl("250m", "64Mi"), rl("500m", "128Mi")),
			ctr("b", rl("1", "1Gi"), rl("2", "1Gi")),
		}}, Resources{1250, gi + 64*mi, 2500, gi + 128*mi}},
		{at(), "limit only: the request defaults to it in the API server, not here", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", nil, rl("1", "")),
		}}, Resources{0, 0, 1000, 0}},
		{at(), "the largest init container wins when above the app sum", corev1.PodSpec{
			InitContainers: []corev1.Container{ctr("migrate", rl("2", "256Mi"), rl("4", "")), ctr("small", rl("100m", "2Gi"), nil)},
			Containers:     []corev1.Container{ctr("a", rl("500m", "512Mi"), rl("1", "1Gi"))},
		}, Resources{2000, 2 * gi, 4000, gi}},
		{at(), "init containers below the app sum change nothing", corev1.PodSpec{
			InitContainers: []corev1.Container{ctr("i", rl("100m", "10Mi"), nil)},
			Containers:     []corev1.Container{ctr("a", rl("300m", "100Mi"), nil), ctr("b", rl("300m", "100Mi"), nil)},
		}, Resources{600, 200 * mi, 0, 0}},
		{at(), "a sidecar adds to the app sum", corev1.PodSpec{
			InitContainers: []corev1.Container{sidecar("proxy", rl("100m", "128Mi"), rl("200m", "128Mi"))},
			Containers:     []corev1.Container{ctr("a", rl("500m", "512Mi"), rl("1", "512Mi"))},
		}, Resources{600, 640 * mi, 1200, 640 * mi}},
		{at(), "an init container after a sidecar runs beside it", corev1.PodSpec{
			InitContainers: []corev1.Container{
				sidecar("proxy", rl("500m", "100Mi"), nil),
				ctr("migrate", rl("1", "1Gi"), nil),
			},
			Containers: []corev1.Container{ctr("a", rl("200m", "100Mi"), nil)},
		}, Resources{1500, gi + 100*mi, 0, 0}},
		{at(), "an init container before the sidecar runs alone", corev1.PodSpec{
			InitContainers: []corev1.Container{
				ctr("migrate", rl("1", "1Gi"), nil),
				sidecar("proxy", rl("500m", "100Mi"), nil),
			},
			Containers: []corev1.Container{ctr("a", rl("200m", "100Mi"), nil)},
		}, Resources{1000, gi, 0, 0}},
		{at(), "overhead (RuntimeClass) on requests, and on limits that are set", corev1.PodSpec{
			Overhead:   rl("250m", "120Mi"),
			Containers: []corev1.Container{ctr("a", rl("1", "1Gi"), rl("", "2Gi"))},
		}, Resources{1250, gi + 120*mi, 0, 2*gi + 120*mi}},
		{at(), "fractions of a millicore round up", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", rl("0.0001", "1"), nil),
		}}, Resources{1, 1, 0, 0}},
		{at(), "bytes in every suffix", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", rl("", "1G"), nil), ctr("b", rl("", "1Ki"), nil), ctr("c", rl("", "128974848"), nil),
		}}, Resources{0, 1e9 + 1024 + 128974848, 0, 0}},
		{at(), "negative quantities (hand-written dumps) are 0", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", rl("-1", "-5Mi"), nil),
		}}, Resources{}},
		{at(), "absurd quantities saturate", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", rl("1e30", "1e30"), nil),
		}}, Resources{math.MaxInt64, math.MaxInt64, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodResources(&corev1.Pod{Spec: tt.spec})
			require.Equal(t, tt.want, got, "case at %s", tt.pos)
		})
	}
}

// TestPodResourcesResize: during an in-place resize the scheduler reserves
// the larger of the spec and what the kubelet allocated, until the kubelet
// reports the new values; an infeasible resize keeps the allocated ones.
func TestPodResourcesResize(t *testing.T) {
	pod := func(spec, status corev1.ResourceList, cond string) *corev1.Pod {
		p := &corev1.Pod{
			Spec: corev1.PodSpec{Containers: []corev1.Container{ctr("a", spec, nil)}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
				Name: "a", AllocatedResources: status, Resources: &corev1.ResourceRequirements{Requests: status},
			}}},
		}
		if cond != "" {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodResizePending, Status: corev1.ConditionTrue, Reason: cond}}
		}
		return p
	}
	tests := []struct {
		pos                 string
		name                string
		pod                 *corev1.Pod
		wantCPU, wantMemory uint64
	}{
		{at(), "grown in the spec, not applied yet", pod(rl("2", "2Gi"), rl("1", "1Gi"), ""), 2000, 2 * gi},
		{at(), "shrunk in the spec, not applied yet", pod(rl("500m", "512Mi"), rl("1", "1Gi"), ""), 1000, gi},
		{at(), "applied", pod(rl("500m", "512Mi"), rl("500m", "512Mi"), ""), 500, 512 * mi},
		{at(), "infeasible: the allocated values stay", pod(rl("64", "512Gi"), rl("1", "1Gi"), corev1.PodReasonInfeasible), 1000, gi},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodResources(tt.pod)
			require.Equal(t, tt.wantCPU, got.CPURequestMillis, "case at %s", tt.pos)
			require.Equal(t, tt.wantMemory, got.MemoryRequestBytes, "case at %s", tt.pos)
		})
	}
}

// TestPodResourcesSharedSamples reads real pods of ../shared/testdata and
// checks their requests by hand from the files.
func TestPodResourcesSharedSamples(t *testing.T) {
	dir := sharedTestdata(t)
	read := func(pattern string) []corev1.Pod {
		s, err := ReadSnapshot("c", time.Unix(0, 0), glob(t, dir, pattern)...)
		require.NoError(t, err)
		return s.Pods
	}
	tests := []struct {
		pos, file, pod string
		want           Resources
	}{
		// 7 containers: 70m + 6×1m; 1Gi + 100Mi + 3×20Mi (two set no memory).
		{at(), "insights-operator/pods/prometheus-k8s-0.json", "prometheus-k8s-0", Resources{76, gi + 160*mi, 0, 0}},
		// hostNetwork static pod: 80m+10m+5m+5m, 200Mi+200Mi+50Mi+50Mi.
		{at(), "insights-operator/pods/kube-controller-manager-*.json", "kube-controller-manager-ci-ln-d53y532-f76d1-2btqq-master-0", Resources{100, 500 * mi, 0, 0}},
		// Guaranteed: requests = limits.
		{at(), "k9s/p1.json", "nginx-7fb78fb6d8-2w75j", Resources{200, 20 * mi, 200, 20 * mi}},
		// Four init containers (max 100m/100Mi, limits 1/2Gi) and an app
		// container of 100m/100Mi, limits 1/2Gi.
		{at(), "troubleshoot/pods_message-pending-node-affinity.json", "kotsadm-b6cb54c8f-zgzrn", Resources{100, 100 * mi, 1000, 2 * gi}},
		// Memory only.
		{at(), "troubleshoot/pods_message-oomkill-pod.json", "oom-kill-job3-gbb89", Resources{0, 100 * mi, 0, 100 * mi}},
		// No resources at all.
		{at(), "kubectl-neat/pod1-raw.json", "myapp", Resources{}},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			pods := read(tt.file)
			require.Len(t, pods, 1, "case at %s", tt.pos)
			require.Equal(t, tt.pod, pods[0].Name, "case at %s", tt.pos)
			require.Equal(t, tt.want, PodResources(&pods[0]), "case at %s", tt.pos)
		})
	}
}

func TestInstanceID(t *testing.T) {
	tests := []struct {
		pos, providerID, want string
	}{
		{at(), "aws:///us-east-1a/i-0abc123def4567890", "i-0abc123def4567890"},
		{at(), "aws:///eu-west-1b/i-1a2b3c4d", "i-1a2b3c4d"},                  // 8-digit (pre-2016) id
		{at(), "aws://us-east-1a/i-0abc123def4567890", "i-0abc123def4567890"}, // older provider
		{at(), "aws:///i-0abc123def4567890", "i-0abc123def4567890"},
		{at(), "aws:///us-east-1a/fargate-ip-192-168-1-1.ec2.internal", ""}, // EKS Fargate
		{at(), "aws:///us-east-1a/i-0ABC123DEF4567890", ""},                 // ids are lowercase
		{at(), "aws:///us-east-1a/i-0abc123def456789", ""},                  // 16 digits
		{at(), "aws:///us-east-1a/i-0abc123def4567890/", ""},
		{at(), "aws:///us-east-1a/i-", ""},
		{at(), "gce://openshift-gce-devel-ci/us-east1-b/ci-ln-d53y532-f76d1-2btqq-master-0", ""},
		{at(), "digitalocean://219734582", ""},
		{at(), "azure:///subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/i-0abc123def4567890", ""},
		{at(), "kwok://i-0abc123def4567890", ""},
		{at(), "AWS:///us-east-1a/i-0abc123def4567890", ""},
		{at(), "", ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, InstanceID(tt.providerID), "case at %s", tt.pos)
	}
}

// FuzzInstanceID: any input gives "" or a well-formed instance id that is
// the input's last path segment, and never panics.
func FuzzInstanceID(f *testing.F) {
	for _, s := range []string{"aws:///us-east-1a/i-0abc123def4567890", "aws://x/i-1a2b3c4d", "gce://p/z/n", "", "aws://", "aws:////", "aws:///\x00/i-0abc123def4567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id := InstanceID(s)
		if id == "" {
			return
		}
		if !strings.HasPrefix(s, "aws://") || !strings.HasSuffix(s, "/"+id) {
			t.Fatalf("InstanceID(%q) = %q: not the last segment of an aws:// id", s, id)
		}
		if !ec2InstanceID.MatchString(id) {
			t.Fatalf("InstanceID(%q) = %q: not an instance id", s, id)
		}
	})
}

// TestNodeRecordProviderAndSize: a node record carries the provider id,
// the instance id parsed from it and the node's size, and a change of any
// of them is a node change.
func TestNodeRecordProviderAndSize(t *testing.T) {
	node := &corev1.Node{
		Spec: corev1.NodeSpec{ProviderID: "aws:///eu-west-1a/i-0123456789abcdef0"},
		Status: corev1.NodeStatus{
			Capacity:    rl("4", "16Gi"),
			Allocatable: rl("3920m", "15140Mi"),
			Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.1.5"}},
		},
	}
	node.Name = "ip-10-0-1-5"
	rec := newNodeInfo("c", node, time.Unix(0, 0))
	require.Equal(t, "i-0123456789abcdef0", rec.InstanceID)
	require.Equal(t, node.Spec.ProviderID, rec.ProviderID)
	require.Equal(t, NodeSize{3920, 15140 * mi, 4000, 16 * gi}, rec.NodeSize)

	resized := node.DeepCopy()
	resized.Status.Allocatable = rl("3900m", "15140Mi")
	require.False(t, sameNode(rec, newNodeInfo("c", resized, time.Unix(0, 0))), "allocatable changed")
	replaced := node.DeepCopy()
	replaced.Spec.ProviderID = "aws:///eu-west-1a/i-0fedcba9876543210"
	require.False(t, sameNode(rec, newNodeInfo("c", replaced, time.Unix(0, 0))), "provider id changed")
	require.True(t, sameNode(rec, newNodeInfo("c", node.DeepCopy(), time.Unix(0, 0))))
}
