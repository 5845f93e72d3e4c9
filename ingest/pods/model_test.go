package pods

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ctrl(kind, name string) []metav1.OwnerReference {
	t := true
	return []metav1.OwnerReference{{Kind: kind, Name: name, Controller: &t}}
}

type fakeOwners map[string]*metav1.OwnerReference

func (f fakeOwners) ReplicaSetOwner(ns, name string) (*metav1.OwnerReference, bool) {
	o, ok := f["rs/"+ns+"/"+name]
	return o, ok
}

func (f fakeOwners) JobOwner(ns, name string) (*metav1.OwnerReference, bool) {
	o, ok := f["job/"+ns+"/"+name]
	return o, ok
}

func TestResolveWorkload(t *testing.T) {
	owners := fakeOwners{
		"rs/ns/api-abc":        &ctrl("Deployment", "api")[0],
		"rs/ns/orphan-rs":      nil,
		"rs/ns/renamed-7f9":    &ctrl("Deployment", "real-name")[0],
		"job/ns/backup-123":    &ctrl("CronJob", "backup")[0],
		"job/ns/manual-run-42": nil,
		"job/ns/argo-x":        &ctrl("Workflow", "wf")[0],
	}
	cases := []struct {
		name             string
		owners           []metav1.OwnerReference
		hash             string
		wantKind, wantWl string
	}{
		{"bare pod", nil, "", "Pod", "p"},
		{"rs known with deployment", ctrl("ReplicaSet", "api-abc"), "abc", "Deployment", "api"},
		{"rs known, owner not by name", ctrl("ReplicaSet", "renamed-7f9"), "7f9", "Deployment", "real-name"},
		{"rs known without owner", ctrl("ReplicaSet", "orphan-rs"), "", "ReplicaSet", "orphan-rs"},
		{"rs unknown, hash suffix", ctrl("ReplicaSet", "web-5d876b745"), "5d876b745", "Deployment", "web"},
		{"rs unknown, hash mismatch", ctrl("ReplicaSet", "web-5d876b745"), "other", "ReplicaSet", "web-5d876b745"},
		{"rs unknown, no hash label", ctrl("ReplicaSet", "web-5d876b745"), "", "ReplicaSet", "web-5d876b745"},
		{"job known with cronjob", ctrl("Job", "backup-123"), "", "CronJob", "backup"},
		{"job known without owner", ctrl("Job", "manual-run-42"), "", "Job", "manual-run-42"},
		{"job known with other owner", ctrl("Job", "argo-x"), "", "Workflow", "wf"},
		{"job unknown, numeric suffix", ctrl("Job", "report-28193040"), "", "CronJob", "report"},
		{"job unknown, no numeric suffix", ctrl("Job", "oom-kill-job3"), "", "Job", "oom-kill-job3"},
		{"statefulset", ctrl("StatefulSet", "db"), "", "StatefulSet", "db"},
		{"daemonset", ctrl("DaemonSet", "agent"), "", "DaemonSet", "agent"},
		{"static pod", ctrl("Node", "node-1"), "", "Node", "node-1"},
		{"non-controller owner", []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "x-1"}}, "1", "Deployment", "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", OwnerReferences: tc.owners}}
			if tc.hash != "" {
				pod.Labels = map[string]string{labelPodTemplateHash: tc.hash}
			}
			kind, name := ResolveWorkload(pod, owners)
			if kind != tc.wantKind || name != tc.wantWl {
				t.Errorf("ResolveWorkload() = %s/%s, want %s/%s", kind, name, tc.wantKind, tc.wantWl)
			}
		})
	}
}

func TestNodeTopology(t *testing.T) {
	cases := []struct {
		name               string
		labels             map[string]string
		zone, region, inst string
	}{
		{"none", nil, "", "", ""},
		{"topology", map[string]string{corev1.LabelTopologyZone: "eu-west-1a", corev1.LabelTopologyRegion: "eu-west-1", corev1.LabelInstanceTypeStable: "m5.large"}, "eu-west-1a", "eu-west-1", "m5.large"},
		{"legacy only", map[string]string{labelZoneLegacy: "us-east-1b", labelRegionLegacy: "us-east-1", labelInstanceTypeLegacy: "t3.small"}, "us-east-1b", "us-east-1", "t3.small"},
		{"both, topology wins", map[string]string{corev1.LabelTopologyZone: "a", labelZoneLegacy: "b"}, "a", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z, r, i := NodeTopology(tc.labels)
			if z != tc.zone || r != tc.region || i != tc.inst {
				t.Errorf("NodeTopology() = %q %q %q, want %q %q %q", z, r, i, tc.zone, tc.region, tc.inst)
			}
		})
	}
}
