package k8senv_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

// TestControllersRollOutAndFaults runs the full control plane: a Deployment
// rolls out to kwok nodes through the controller-manager and the scheduler,
// and the embedded stages make annotated pods fail as a kubelet reports it.
func TestControllersRollOutAndFaults(t *testing.T) {
	env := k8senv.Start(t, k8senv.Options{Kwok: true, Controllers: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range []string{"ctl-a", "ctl-b"} {
		if _, err := env.AddNode(ctx, n, "eu-west-1a"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("deployment", func(t *testing.T) {
		labels := map[string]string{"app": "web"}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](3),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
				},
			},
		}
		if _, err := env.Client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, env, "deployment web available", func() (bool, string) {
			got, err := env.Client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return got.Status.AvailableReplicas == 3 && got.Status.UpdatedReplicas == 3, fmt.Sprintf("%+v", got.Status)
		})
		pods, err := env.Client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 3 {
			t.Fatalf("%d pods, want 3", len(pods.Items))
		}
		for _, p := range pods.Items {
			if !strings.HasPrefix(p.Spec.NodeName, "ctl-") || p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
				t.Errorf("pod %s: node %q ip %q phase %s, want Running on a kwok node with an IP", p.Name, p.Spec.NodeName, p.Status.PodIP, p.Status.Phase)
			}
		}
	})

	cases := []struct {
		fault k8senv.PodFault
		check func(p *corev1.Pod) (bool, string)
	}{
		{k8senv.FaultImagePull, func(p *corev1.Pod) (bool, string) {
			cs := containerStatus(p)
			return cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason == "ImagePullBackOff" &&
				strings.Contains(cs.State.Waiting.Message, `"registry.invalid/app:1"`) && p.Status.Phase == corev1.PodPending, fmt.Sprintf("%+v", p.Status)
		}},
		{k8senv.FaultCrashLoop, func(p *corev1.Pod) (bool, string) {
			cs := containerStatus(p)
			return cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" &&
				cs.RestartCount >= 2 && cs.LastTerminationState.Terminated != nil &&
				cs.LastTerminationState.Terminated.ExitCode == 1 && !podReady(p), fmt.Sprintf("%+v", p.Status)
		}},
		{k8senv.FaultNeverReady, func(p *corev1.Pod) (bool, string) {
			cs := containerStatus(p)
			return cs != nil && cs.State.Running != nil && !cs.Ready && p.Status.Phase == corev1.PodRunning &&
				condition(p, corev1.PodReady) == corev1.ConditionFalse, fmt.Sprintf("%+v", p.Status)
		}},
	}
	for _, tc := range cases {
		t.Run(string(tc.fault), func(t *testing.T) {
			name := "fault-" + string(tc.fault)
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: tc.fault.Annotations()},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			}
			if _, err := env.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, env, name, func() (bool, string) {
				p, err := env.Client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, err.Error()
				}
				return tc.check(p)
			})
		})
	}
}

func waitFor(t *testing.T, env *k8senv.Env, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in a minute; last: %s\n%s", what, last, env.Logs(20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func containerStatus(p *corev1.Pod) *corev1.ContainerStatus {
	if len(p.Status.ContainerStatuses) == 0 {
		return nil
	}
	return &p.Status.ContainerStatuses[0]
}

func podReady(p *corev1.Pod) bool { return condition(p, corev1.PodReady) == corev1.ConditionTrue }

func condition(p *corev1.Pod, typ corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}
