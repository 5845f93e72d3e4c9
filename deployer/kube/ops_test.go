package kube_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/furrowdev/furrow/deployer/kube"
)

func TestOrphansAndDelete(t *testing.T) {
	e := env(t)
	c := cluster(t, e)
	ctx := testCtx(t)
	objs := objects(t, `%s---
apiVersion: v1
kind: ConfigMap
metadata: {name: keep, namespace: orph, labels: {furrow.dev/project: orph}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stale, namespace: orph, labels: {furrow.dev/project: orph}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other-project, namespace: orph, labels: {furrow.dev/project: other}}
---
%s`, namespace("orph"), deployment("orph", "web", 1, "", ""))
	refs, err := c.Apply(ctx, objs, kube.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Watch(ctx, objs, time.Minute, nil); err != nil || !res.OK {
		t.Fatalf("rollout: %v %v", res.Cause, err)
	}
	var keep []kube.ObjectRef
	for _, r := range refs {
		if r.Name != "stale" {
			keep = append(keep, r)
		}
	}
	sel := map[string]string{"furrow.dev/project": "orph"}
	orphans, err := c.Orphans(ctx, sel, keep)
	if err != nil {
		t.Fatal(err)
	}
	want := []kube.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: "orph", Name: "stale"}}
	// The Deployment's ReplicaSet and pods carry the label too, but belong
	// to it: they are not orphans.
	if !slices.Equal(orphans, want) {
		t.Fatalf("orphans %v, want %v", orphans, want)
	}
	if err := c.Delete(ctx, orphans); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, orphans); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if orphans, err = c.Orphans(ctx, sel, keep); err != nil || len(orphans) != 0 {
		t.Fatalf("after delete: %v, %v", orphans, err)
	}
	if _, err := e.Client.CoreV1().ConfigMaps("orph").Get(ctx, "other-project", metav1.GetOptions{}); err != nil {
		t.Errorf("another project's object was touched: %v", err)
	}
	if _, err := c.Orphans(ctx, nil, nil); err == nil {
		t.Error("an empty selector was accepted")
	}
}

func TestDiff(t *testing.T) {
	e := env(t)
	c := cluster(t, e)
	ctx := testCtx(t)
	const base = `%s---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: diff}
data: {level: %s, region: eu}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: diff}
stringData: {password: %s, user: app}
`
	if _, err := c.Apply(ctx, objects(t, base, namespace("diff"), "info", "s3cr3t-old"), kube.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, level, password string
		extra                 string
		want                  map[string]string // object name → action
		contains, lacks       []string
	}{{
		name: "unchanged", level: "info", password: "s3cr3t-old",
		want:  map[string]string{"diff": kube.DiffUnchanged, "cfg": kube.DiffUnchanged, "creds": kube.DiffUnchanged},
		lacks: []string{"s3cr3t"},
	}, {
		name: "changed", level: "debug", password: "s3cr3t-new",
		extra:    "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: diff}\nspec: {ports: [{port: 80}]}\n",
		want:     map[string]string{"diff": kube.DiffUnchanged, "cfg": kube.DiffChanged, "creds": kube.DiffChanged, "web": kube.DiffCreated},
		contains: []string{"-  level: info", "+  level: debug", "(redacted, new value)", "+  ports:"},
		lacks:    []string{"s3cr3t", "managedFields", "resourceVersion"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			diffs, err := c.Diff(ctx, objects(t, base+tc.extra, namespace("diff"), tc.level, tc.password))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			var all strings.Builder
			for _, d := range diffs {
				got[d.Object.Name] = d.Action
				all.WriteString(d.Diff)
				if (d.Action == kube.DiffUnchanged) != (d.Diff == "") {
					t.Errorf("%s: action %s with diff %q", d.Object, d.Action, d.Diff)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("actions %v, want %v", got, tc.want)
			}
			for n, a := range tc.want {
				if got[n] != a {
					t.Errorf("%s: %s, want %s", n, got[n], a)
				}
			}
			for _, s := range tc.contains {
				if !strings.Contains(all.String(), s) {
					t.Errorf("diff lacks %q:\n%s", s, all.String())
				}
			}
			for _, s := range tc.lacks {
				if strings.Contains(all.String(), s) {
					t.Errorf("diff shows %q:\n%s", s, all.String())
				}
			}
		})
	}
	// Diff changes nothing.
	cm, err := e.Client.CoreV1().ConfigMaps("diff").Get(ctx, "cfg", metav1.GetOptions{})
	if err != nil || cm.Data["level"] != "info" {
		t.Fatalf("diff changed the live object: %v %v", cm.Data, err)
	}
	if _, err := e.Client.CoreV1().Services("diff").Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Fatal("diff created the Service")
	}
}

func TestRestartAndScale(t *testing.T) {
	e := env(t)
	c := cluster(t, e)
	ctx := testCtx(t)
	objs := objects(t, "%s---\n%s", namespace("ops"), deployment("ops", "web", 1, "", ""))
	if _, err := c.Apply(ctx, objs, kube.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Watch(ctx, objs, time.Minute, nil); err != nil || !res.OK {
		t.Fatalf("rollout: %v %v", res.Cause, err)
	}
	if err := c.Restart(ctx, "ops", "web"); err != nil {
		t.Fatal(err)
	}
	d, err := e.Client.AppsV1().Deployments("ops").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339Nano, d.Spec.Template.Annotations[kube.RestartedAtAnnotation]); err != nil {
		t.Fatalf("restartedAt annotation: %v (%v)", err, d.Spec.Template.Annotations)
	}
	if d.Generation < 2 {
		t.Errorf("generation %d, want a new rollout", d.Generation)
	}
	if res, err := c.Watch(ctx, objs, time.Minute, nil); err != nil || !res.OK {
		t.Fatalf("rollout after restart: %v %v", res.Cause, err)
	}
	if err := c.Scale(ctx, "ops", "web", 3); err != nil {
		t.Fatal(err)
	}
	var last kube.Event
	res, err := c.Watch(ctx, objs, time.Minute, func(ev kube.Event) { last = ev })
	if err != nil || !res.OK {
		t.Fatalf("rollout after scale: %v %v", res.Cause, err)
	}
	if last.Ready != 3 || last.Desired != 3 {
		t.Errorf("after scale: %+v, want 3/3", last)
	}
	for _, name := range []string{"missing"} {
		if err := c.Restart(ctx, "ops", name); !errors.Is(err, kube.ErrNotFound) {
			t.Errorf("restart %s: %v, want ErrNotFound", name, err)
		}
		if err := c.Scale(ctx, "ops", name, 1); !errors.Is(err, kube.ErrNotFound) {
			t.Errorf("scale %s: %v, want ErrNotFound", name, err)
		}
	}
	if err := c.Scale(ctx, "ops", "web", -1); err == nil {
		t.Error("negative replicas accepted")
	}
}

func TestTriggerCronJob(t *testing.T) {
	e := env(t)
	c := cluster(t, e)
	ctx := testCtx(t)
	objs := objects(t, `%s---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: cron}
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    metadata: {labels: {furrow.dev/project: cron}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: report, image: registry.example/report:1}]
`, namespace("cron"))
	if _, err := c.Apply(ctx, objs, kube.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Watch(ctx, objs, time.Minute, nil); err != nil || !res.OK {
		t.Fatalf("a CronJob is done once applied: %v %v", res.Cause, err)
	}
	name, err := c.TriggerCronJob(ctx, "cron", "report")
	if err != nil {
		t.Fatal(err)
	}
	job, err := e.Client.BatchV1().Jobs("cron").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" || job.Labels["furrow.dev/project"] != "cron" {
		t.Errorf("job metadata %v %v", job.Annotations, job.Labels)
	}
	if owner := metav1.GetControllerOf(job); owner == nil || owner.Kind != "CronJob" || owner.Name != "report" {
		t.Errorf("job owner %v", owner)
	}
	// The Job controller runs it; kwok completes the pod.
	deadline := time.Now().Add(time.Minute)
	for !jobComplete(job) {
		if time.Now().After(deadline) {
			t.Fatalf("job not complete: %+v\n%s", job.Status, e.Logs(10))
		}
		time.Sleep(200 * time.Millisecond)
		if job, err = e.Client.BatchV1().Jobs("cron").Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// kwok's nodes serve no kubelet API, so the logs themselves are
	// unavailable: JobLogs still names every container and says so.
	logs, err := c.JobLogs(ctx, "cron", name, 10)
	pods, perr := e.Client.CoreV1().Pods("cron").List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + name})
	if perr != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of the job: %v %v", pods, perr)
	}
	if !strings.Contains(logs, "==> "+pods.Items[0].Name+"/report <==") {
		t.Errorf("logs %q lack the pod header (err %v)", logs, err)
	}
	if _, err := c.JobLogs(ctx, "cron", "missing", 10); !errors.Is(err, kube.ErrNotFound) {
		t.Errorf("logs of a missing job: %v", err)
	}
	if _, err := c.TriggerCronJob(ctx, "cron", "missing"); !errors.Is(err, kube.ErrNotFound) {
		t.Errorf("trigger a missing cronjob: %v", err)
	}
}

func jobComplete(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
