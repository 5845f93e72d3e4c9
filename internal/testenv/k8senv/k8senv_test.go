package k8senv_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

func TestStartRunsPodsOnKwokNodes(t *testing.T) {
	start := time.Now()
	env := k8senv.Start(t, k8senv.Options{Kwok: true})
	t.Logf("control plane ready in %s", time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	v, err := env.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.GitVersion != "v1.34.3" {
		t.Errorf("server version = %q, want v1.34.3", v.GitVersion)
	}
	node, err := env.AddNode(ctx, "node-a", "eu-west-1a")
	if err != nil {
		t.Fatal(err)
	}
	if got := node.Labels[corev1.LabelTopologyZone]; got != "eu-west-1a" {
		t.Errorf("zone label = %q", got)
	}
	if len(node.Status.Addresses) == 0 || node.Status.Addresses[0].Address != "10.250.0.2" {
		t.Errorf("node addresses = %v, want InternalIP 10.250.0.2", node.Status.Addresses)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName:   "node-a",
			Containers: []corev1.Container{{Name: "c", Image: "example"}},
		},
	}
	if _, err := env.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := env.Client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
		if err == nil && got.Status.Phase == corev1.PodRunning && got.Status.PodIP != "" {
			t.Logf("pod running with IP %s after %s", got.Status.PodIP, time.Since(start))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod not running with an IP in 30s (last %v, err %v)\n%s", got.Status, err, env.Logs(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
