package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ErrNotFound is returned by the operations when no workload of a kind they
// handle has the name.
var ErrNotFound = errors.New("not found")

// RestartedAtAnnotation is the pod-template annotation `kubectl rollout
// restart` sets; changing it rolls every pod.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Restart rolls the pods of the Deployment, StatefulSet or DaemonSet name
// by stamping RestartedAtAnnotation on its pod template.
func (c *Cluster) Restart(ctx context.Context, ns, name string) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`,
		RestartedAtAnnotation, time.Now().UTC().Format(time.RFC3339Nano))
	po := metav1.PatchOptions{FieldManager: FieldManager + "-restart"}
	apps := c.client.AppsV1()
	_, err := apps.Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), po)
	if apierrors.IsNotFound(err) {
		_, err = apps.StatefulSets(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), po)
	}
	if apierrors.IsNotFound(err) {
		_, err = apps.DaemonSets(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), po)
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("restart %s/%s in cluster %s: no Deployment, StatefulSet or DaemonSet: %w", ns, name, c.name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("restart %s/%s in cluster %s: %w", ns, name, c.name, err)
	}
	return nil
}

// Scale sets the replicas of the Deployment or StatefulSet name through its
// scale subresource.
func (c *Cluster) Scale(ctx context.Context, ns, name string, replicas int32) error {
	if replicas < 0 {
		return fmt.Errorf("scale %s/%s: replicas %d cannot be negative", ns, name, replicas)
	}
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas))
	po := metav1.PatchOptions{FieldManager: FieldManager + "-scale"}
	apps := c.client.AppsV1()
	_, err := apps.Deployments(ns).Patch(ctx, name, types.MergePatchType, patch, po, "scale")
	if apierrors.IsNotFound(err) {
		_, err = apps.StatefulSets(ns).Patch(ctx, name, types.MergePatchType, patch, po, "scale")
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("scale %s/%s in cluster %s: no Deployment or StatefulSet: %w", ns, name, c.name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("scale %s/%s in cluster %s: %w", ns, name, c.name, err)
	}
	return nil
}

// TriggerCronJob creates a Job from the CronJob's jobTemplate now, as
// `kubectl create job --from=cronjob/…` does (annotation
// cronjob.kubernetes.io/instantiate=manual, owned by the CronJob), and
// returns its name.
func (c *Cluster) TriggerCronJob(ctx context.Context, ns, name string) (string, error) {
	cj, err := c.client.BatchV1().CronJobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("trigger cronjob %s/%s in cluster %s: %w", ns, name, c.name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("trigger cronjob %s/%s in cluster %s: %w", ns, name, c.name, err)
	}
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual"}
	for k, v := range cj.Spec.JobTemplate.Annotations {
		annotations[k] = v
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        manualJobName(name, time.Now()),
			Namespace:   ns,
			Labels:      cj.Spec.JobTemplate.Labels,
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj,
				batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: cj.Spec.JobTemplate.Spec,
	}
	created, err := c.client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil {
		return "", fmt.Errorf("create job for cronjob %s/%s in cluster %s: %w", ns, name, c.name, err)
	}
	return created.Name, nil
}

// manualJobName is <cronjob>-manual-<unix seconds>, the cronjob name cut so
// the result stays a valid 63-character label value (the job name becomes
// its pods' job-name label).
func manualJobName(cronJob string, now time.Time) string {
	suffix := fmt.Sprintf("-manual-%d", now.Unix())
	if limit := 63 - len(suffix); len(cronJob) > limit {
		cronJob = strings.TrimRight(cronJob[:limit], "-.")
	}
	return cronJob + suffix
}

// JobLogs returns the last tail lines of every container of the Job's pods,
// each block headed by "==> pod/container <==", pods in creation order.
func (c *Cluster) JobLogs(ctx context.Context, ns, job string, tail int) (string, error) {
	if _, err := c.client.BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return "", fmt.Errorf("logs of job %s/%s in cluster %s: %w", ns, job, c.name, ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("logs of job %s/%s in cluster %s: %w", ns, job, c.name, err)
	}
	pods, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		return "", fmt.Errorf("list pods of job %s/%s: %w", ns, job, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		a, b := pods.Items[i].CreationTimestamp, pods.Items[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return pods.Items[i].Name < pods.Items[j].Name
	})
	n := int64(tail)
	var sb strings.Builder
	var errs []error
	for _, p := range pods.Items {
		for _, ctr := range p.Spec.Containers {
			fmt.Fprintf(&sb, "==> %s/%s <==\n", p.Name, ctr.Name)
			opts := &corev1.PodLogOptions{Container: ctr.Name}
			if tail > 0 {
				opts.TailLines = &n
			}
			data, err := c.client.CoreV1().Pods(ns).GetLogs(p.Name, opts).DoRaw(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("logs of %s/%s: %w", p.Name, ctr.Name, err))
				sb.WriteString("(logs unavailable)\n")
				continue
			}
			sb.Write(data)
			if len(data) > 0 && data[len(data)-1] != '\n' {
				sb.WriteByte('\n')
			}
		}
	}
	return sb.String(), errors.Join(errs...)
}

// JobStatus reports whether a Job has finished: done when it completed,
// failed when it failed (the Complete and Failed conditions).
func (c *Cluster) JobStatus(ctx context.Context, ns, job string) (done, failed bool, err error) {
	j, err := c.client.BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, false, fmt.Errorf("job %s/%s in cluster %s: %w", ns, job, c.name, ErrNotFound)
	}
	if err != nil {
		return false, false, fmt.Errorf("job %s/%s in cluster %s: %w", ns, job, c.name, err)
	}
	for _, cond := range j.Status.Conditions {
		if cond.Status != "True" {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			done = true
		case batchv1.JobFailed:
			failed = true
		}
	}
	return done, failed, nil
}
