package kube_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/furrowdev/furrow/deployer/kube"
	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

func TestApplyAndWatchSucceeds(t *testing.T) {
	e := env(t)
	c := cluster(t, e)
	ctx := testCtx(t)
	const ns = "ok"
	// Out of order on purpose: Apply sorts by dependency.
	objs := objects(t, `%s
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ok}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
%s
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: ok}
data: {greeting: hello}
`, deployment(ns, "web", 3, "", ""), namespace(ns))

	dry, err := c.Apply(ctx, objs, kube.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if _, err := e.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
		t.Fatal("a dry run created the namespace")
	}
	refs, err := c.Apply(ctx, objs, kube.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range refs {
		kinds = append(kinds, r.Kind)
	}
	if want := []string{"Namespace", "ConfigMap", "Service", "Deployment"}; !slices.Equal(kinds, want) {
		t.Errorf("apply order %v, want %v", kinds, want)
	}
	if !slices.Equal(dry, refs) {
		t.Errorf("dry run refs %v, real %v", dry, refs)
	}

	var events []kube.Event
	res, err := c.Watch(ctx, objs, time.Minute, func(ev kube.Event) { events = append(events, ev) })
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("rollout failed: %v\n%s", res.Cause, e.Logs(10))
	}
	if len(events) == 0 {
		t.Fatal("no progress events")
	}
	last := events[len(events)-1]
	if last.Cluster != "test" || last.Object != "Deployment/ok/web" || last.Ready != 3 || last.Desired != 3 {
		t.Errorf("last event %+v, want 3/3 for Deployment/ok/web", last)
	}

	// A second apply of the same objects is a no-op rollout.
	if _, err := c.Apply(ctx, objs, kube.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Watch(ctx, objs, time.Minute, nil); err != nil || !res.OK {
		t.Fatalf("re-apply: %+v, %v", res.Cause, err)
	}
}

func TestWatchFailures(t *testing.T) {
	e := env(t)
	cases := []struct {
		name    string
		objs    func(ns string) string
		timeout time.Duration
		reason  string
		message []string
		pod     bool
	}{{
		name:    "image-pull",
		objs:    func(ns string) string { return deployment(ns, "app", 2, k8senv.FaultImagePull, "") },
		reason:  kube.ReasonImagePull,
		message: []string{`"registry.example/app:1"`, "ImagePullBackOff"},
		pod:     true,
	}, {
		name:    "crash-loop",
		objs:    func(ns string) string { return deployment(ns, "app", 2, k8senv.FaultCrashLoop, "") },
		reason:  kube.ReasonCrashLoop,
		message: []string{"container app restarted", "last exit code 1 (Error)"},
		pod:     true,
	}, {
		name: "unschedulable",
		objs: func(ns string) string {
			return deployment(ns, "app", 1, "", "      nodeSelector: {pool: gpu}\n")
		},
		reason:  kube.ReasonUnschedulable,
		message: []string{"0/2 nodes are available", "node affinity/selector"},
		pod:     true,
	}, {
		name:    "never-ready",
		objs:    func(ns string) string { return deployment(ns, "app", 1, k8senv.FaultNeverReady, "") },
		reason:  kube.ReasonProbeFailing,
		message: []string{"Readiness probe failed"},
		pod:     true,
	}, {
		name: "quota",
		objs: func(ns string) string {
			return `apiVersion: v1
kind: ResourceQuota
metadata: {name: pods, namespace: ` + ns + `}
spec: {hard: {pods: "1"}}
---
` + deployment(ns, "app", 3, "", "")
		},
		reason:  kube.ReasonQuota,
		message: []string{"exceeded quota: pods", "limited: pods=1"},
	}, {
		name: "progress-deadline",
		objs: func(ns string) string {
			return strings.Replace(deployment(ns, "app", 1, "", "      nodeSelector: {pool: gpu}\n"),
				"spec:\n  replicas", "spec:\n  progressDeadlineSeconds: 1\n  replicas", 1)
		},
		reason:  kube.ReasonProgressDeadlineExceeded,
		message: []string{`ReplicaSet "app-`, "has timed out progressing"},
	}, {
		name:    "timeout",
		objs:    func(ns string) string { return deployment(ns, "app", 2, k8senv.FaultNeverReady, "") },
		timeout: 3 * time.Second,
		reason:  kube.ReasonTimeout,
		message: []string{"not rolled out after 3s", "Deployment/fail-timeout/app: ", "of 2 updated replicas available"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t)
			ns := "fail-" + tc.name
			settings := testSettings()
			switch tc.name {
			case "timeout":
				settings.NotReadyGrace = time.Hour
			case "progress-deadline":
				settings.UnschedulableGrace = time.Hour
			}
			c, err := kube.NewCluster("test", e.RESTConfig, kube.WithWatchSettings(settings))
			if err != nil {
				t.Fatal(err)
			}
			objs := objects(t, "%s---\n%s", namespace(ns), tc.objs(ns))
			if _, err := c.Apply(ctx, objs, kube.ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			res, err := c.Watch(ctx, objs, timeout, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || res.Cause == nil {
				t.Fatalf("rollout succeeded, want %s", tc.reason)
			}
			got := res.Cause
			t.Logf("cause: %s", got)
			if got.Reason != tc.reason {
				t.Fatalf("reason %q (%s), want %q", got.Reason, got.Message, tc.reason)
			}
			if got.Object != "Deployment/"+ns+"/app" {
				t.Errorf("object %q", got.Object)
			}
			for _, m := range tc.message {
				if !strings.Contains(got.Message, m) {
					t.Errorf("message %q lacks %q", got.Message, m)
				}
			}
			if tc.pod != strings.HasPrefix(got.Pod, "app-") {
				t.Errorf("pod %q, want one of the deployment's pods: %v", got.Pod, tc.pod)
			}
			if tc.reason == kube.ReasonCrashLoop && len(got.LogTail) == 0 && !strings.Contains(got.Message, "logs unavailable") {
				t.Errorf("crash loop without logs and without saying why: %q", got.Message)
			}
		})
	}
}

func TestApplyUnknownKindChangesNothing(t *testing.T) {
	e := env(t)
	c := cluster(t, e)
	ctx := testCtx(t)
	objs := objects(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: before-istio, namespace: default}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec: {hosts: [web]}
`)
	_, err := c.Apply(ctx, objs, kube.ApplyOptions{})
	if !errors.Is(err, kube.ErrUnknownKind) {
		t.Fatalf("err = %v, want ErrUnknownKind", err)
	}
	if !strings.Contains(err.Error(), "VirtualService networking.istio.io/v1") {
		t.Errorf("error does not name the kind: %v", err)
	}
	if _, err := e.Client.CoreV1().ConfigMaps("default").Get(ctx, "before-istio", metav1.GetOptions{}); err == nil {
		t.Error("the ConfigMap was applied although the batch had an unknown kind")
	}
}
