package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Failure reasons of a Cause.
const (
	ReasonImagePull                = "ImagePullBackOff"
	ReasonCrashLoop                = "CrashLoopBackOff"
	ReasonContainerConfig          = "CreateContainerConfigError"
	ReasonUnschedulable            = "Unschedulable"
	ReasonProbeFailing             = "ProbeFailing"
	ReasonQuota                    = "Quota"
	ReasonReplicaFailure           = "ReplicaFailure"
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	ReasonTimeout                  = "Timeout"
)

// Event is one step of a rollout, for progress reports.
type Event struct {
	Cluster string
	// Object is the workload, as ObjectRef.String.
	Object  string
	Message string
	// Ready and Desired count the workload's up-to-date available replicas
	// and the replicas it wants.
	Ready   int
	Desired int
}

// Cause says why a rollout failed, from what the cluster reports.
type Cause struct {
	// Reason is one of the Reason constants.
	Reason  string
	Message string
	// Object is the workload, as ObjectRef.String.
	Object string
	// Pod is the pod the reason was read from, when it comes from a pod.
	Pod string
	// LogTail holds the last lines of a crashing container's previous run,
	// when the cluster serves them.
	LogTail []string
}

func (c *Cause) String() string {
	s := c.Reason + ": " + c.Object
	if c.Pod != "" {
		s += " (pod " + c.Pod + ")"
	}
	return s + ": " + c.Message
}

// Result is the outcome of Watch.
type Result struct {
	// OK is true when every workload rolled out.
	OK bool
	// Cause is set when OK is false.
	Cause *Cause
}

// status is what one poll learns about a workload.
type status struct {
	ready, desired int
	done           bool
	message        string
	cause          *Cause
}

// Watch follows the rollout of the workloads among objs (Deployments,
// StatefulSets, DaemonSets; other kinds, CronJobs included, are done once
// applied) until all are available, one fails, or timeout passes. progress,
// if not nil, is called whenever a workload's state changes. A failed
// rollout is a Result with OK false and its Cause, not an error; errors are
// for a cancelled ctx or an API that cannot be read.
func (c *Cluster) Watch(ctx context.Context, objs []*unstructured.Unstructured, timeout time.Duration, progress func(Event)) (Result, error) {
	var refs []ObjectRef
	for _, o := range objs {
		ref := RefOf(o)
		if ref.Group != "apps" {
			continue
		}
		switch ref.Kind {
		case "Deployment", "StatefulSet", "DaemonSet":
			if ref.Namespace == "" {
				ref.Namespace = "default"
			}
			refs = append(refs, ref)
		}
	}
	deadline := time.Now().Add(timeout)
	last := map[ObjectRef]string{}
	tick := time.NewTicker(c.watch.PollInterval)
	defer tick.Stop()
	for {
		var pending []string
		for _, ref := range refs {
			st, err := c.workloadStatus(ctx, ref)
			if err != nil {
				if ctx.Err() != nil {
					return Result{}, ctx.Err()
				}
				return Result{}, err
			}
			key := fmt.Sprintf("%d/%d %s", st.ready, st.desired, st.message)
			if progress != nil && last[ref] != key {
				progress(Event{Cluster: c.name, Object: ref.String(), Message: st.message, Ready: st.ready, Desired: st.desired})
			}
			last[ref] = key
			if st.cause != nil {
				st.cause.Object = ref.String()
				return Result{Cause: st.cause}, nil
			}
			if !st.done {
				pending = append(pending, ref.String()+": "+st.message)
			}
		}
		if len(pending) == 0 {
			return Result{OK: true}, nil
		}
		if time.Now().After(deadline) {
			return Result{Cause: &Cause{
				Reason:  ReasonTimeout,
				Object:  strings.SplitN(pending[0], ":", 2)[0],
				Message: fmt.Sprintf("not rolled out after %s: %s", timeout, strings.Join(pending, "; ")),
			}}, nil
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *Cluster) workloadStatus(ctx context.Context, ref ObjectRef) (status, error) {
	switch ref.Kind {
	case "Deployment":
		return c.deploymentStatus(ctx, ref)
	case "StatefulSet":
		return c.statefulSetStatus(ctx, ref)
	default:
		return c.daemonSetStatus(ctx, ref)
	}
}

func (c *Cluster) deploymentStatus(ctx context.Context, ref ObjectRef) (status, error) {
	d, err := c.client.AppsV1().Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return status{message: "not found yet"}, nil
	}
	if err != nil {
		return status{}, fmt.Errorf("get %s: %w", ref, err)
	}
	st := status{desired: 1}
	if d.Spec.Replicas != nil {
		st.desired = int(*d.Spec.Replicas)
	}
	st.ready = int(min(d.Status.UpdatedReplicas, d.Status.AvailableReplicas))
	if d.Status.ObservedGeneration < d.Generation {
		st.message = fmt.Sprintf("waiting for the controller to see generation %d", d.Generation)
		return st, nil
	}
	rs, err := c.newReplicaSet(ctx, d)
	if err != nil {
		return status{}, err
	}
	if rs != nil {
		if st.cause = quotaCause(rs.Status.Conditions); st.cause != nil {
			return st, nil
		}
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil {
			return status{}, fmt.Errorf("selector of %s: %w", rs.Name, err)
		}
		if st.cause, err = c.podCause(ctx, ref.Namespace, sel, rs.UID); err != nil || st.cause != nil {
			return st, err
		}
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentReplicaFailure && cond.Status == corev1.ConditionTrue {
			if st.cause = quotaCause([]appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: cond.Status, Reason: cond.Reason, Message: cond.Message}}); st.cause != nil {
				return st, nil
			}
		}
		if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
			st.cause = &Cause{Reason: ReasonProgressDeadlineExceeded, Message: cond.Message}
			return st, nil
		}
	}
	switch {
	case d.Status.UpdatedReplicas < int32(st.desired):
		st.message = fmt.Sprintf("%d of %d replicas updated", d.Status.UpdatedReplicas, st.desired)
	case d.Status.Replicas > d.Status.UpdatedReplicas:
		st.message = fmt.Sprintf("%d old replicas pending termination", d.Status.Replicas-d.Status.UpdatedReplicas)
	case d.Status.AvailableReplicas < int32(st.desired):
		st.message = fmt.Sprintf("%d of %d updated replicas available", d.Status.AvailableReplicas, st.desired)
	default:
		st.done = true
		st.message = fmt.Sprintf("%d of %d replicas available", st.ready, st.desired)
	}
	return st, nil
}

// newReplicaSet finds the ReplicaSet of the Deployment's current revision.
func (c *Cluster) newReplicaSet(ctx context.Context, d *appsv1.Deployment) (*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s: %w", d.Name, err)
	}
	list, err := c.client.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list replica sets of %s: %w", d.Name, err)
	}
	rev := d.Annotations["deployment.kubernetes.io/revision"]
	for i := range list.Items {
		rs := &list.Items[i]
		owner := metav1.GetControllerOf(rs)
		if owner == nil || owner.UID != d.UID {
			continue
		}
		if rev != "" && rs.Annotations["deployment.kubernetes.io/revision"] == rev {
			return rs, nil
		}
	}
	return nil, nil
}

func quotaCause(conds []appsv1.ReplicaSetCondition) *Cause {
	for _, cond := range conds {
		if cond.Type != appsv1.ReplicaSetReplicaFailure || cond.Status != corev1.ConditionTrue {
			continue
		}
		if strings.Contains(cond.Message, "exceeded quota") {
			return &Cause{Reason: ReasonQuota, Message: cond.Message}
		}
		return &Cause{Reason: ReasonReplicaFailure, Message: cond.Message}
	}
	return nil
}

func (c *Cluster) statefulSetStatus(ctx context.Context, ref ObjectRef) (status, error) {
	s, err := c.client.AppsV1().StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return status{message: "not found yet"}, nil
	}
	if err != nil {
		return status{}, fmt.Errorf("get %s: %w", ref, err)
	}
	st := status{desired: 1}
	if s.Spec.Replicas != nil {
		st.desired = int(*s.Spec.Replicas)
	}
	st.ready = int(min(s.Status.UpdatedReplicas, s.Status.AvailableReplicas))
	if s.Status.ObservedGeneration < s.Generation {
		st.message = fmt.Sprintf("waiting for the controller to see generation %d", s.Generation)
		return st, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
	if err != nil {
		return status{}, fmt.Errorf("selector of %s: %w", ref, err)
	}
	if s.Status.UpdateRevision != "" {
		req, err := labels.NewRequirement(appsv1.ControllerRevisionHashLabelKey, "=", []string{s.Status.UpdateRevision})
		if err == nil {
			sel = sel.Add(*req)
		}
	}
	if st.cause, err = c.podCause(ctx, ref.Namespace, sel, s.UID); err != nil || st.cause != nil {
		return st, err
	}
	if st.cause, err = c.failedCreateEvent(ctx, ref, s.UID); err != nil || st.cause != nil {
		return st, err
	}
	updated := s.Status.UpdatedReplicas
	if s.Status.UpdateRevision == s.Status.CurrentRevision {
		updated = s.Status.CurrentReplicas
	}
	switch {
	case updated < int32(st.desired):
		st.message = fmt.Sprintf("%d of %d replicas updated", updated, st.desired)
	case s.Status.AvailableReplicas < int32(st.desired) || s.Status.Replicas > int32(st.desired):
		st.message = fmt.Sprintf("%d of %d replicas available", s.Status.AvailableReplicas, st.desired)
	default:
		st.done = true
		st.ready = st.desired
		st.message = fmt.Sprintf("%d of %d replicas available", st.desired, st.desired)
	}
	return st, nil
}

func (c *Cluster) daemonSetStatus(ctx context.Context, ref ObjectRef) (status, error) {
	d, err := c.client.AppsV1().DaemonSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return status{message: "not found yet"}, nil
	}
	if err != nil {
		return status{}, fmt.Errorf("get %s: %w", ref, err)
	}
	st := status{desired: int(d.Status.DesiredNumberScheduled)}
	st.ready = int(min(d.Status.UpdatedNumberScheduled, d.Status.NumberAvailable))
	if d.Status.ObservedGeneration < d.Generation {
		st.message = fmt.Sprintf("waiting for the controller to see generation %d", d.Generation)
		return st, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return status{}, fmt.Errorf("selector of %s: %w", ref, err)
	}
	if st.cause, err = c.podCause(ctx, ref.Namespace, sel, d.UID); err != nil || st.cause != nil {
		return st, err
	}
	if d.Status.UpdatedNumberScheduled < d.Status.DesiredNumberScheduled || d.Status.NumberAvailable < d.Status.DesiredNumberScheduled {
		st.message = fmt.Sprintf("%d of %d pods updated and available", st.ready, st.desired)
		return st, nil
	}
	st.done = true
	st.message = fmt.Sprintf("%d of %d pods available", st.ready, st.desired)
	return st, nil
}

// failedCreateEvent reads the FailedCreate events of a controller that has
// no ReplicaFailure condition (StatefulSet): a quota refusal shows there.
func (c *Cluster) failedCreateEvent(ctx context.Context, ref ObjectRef, uid types.UID) (*Cause, error) {
	evs, err := c.client.CoreV1().Events(ref.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.uid=" + string(uid) + ",reason=FailedCreate",
	})
	if err != nil {
		return nil, fmt.Errorf("list events of %s: %w", ref, err)
	}
	for _, e := range evs.Items {
		if strings.Contains(e.Message, "exceeded quota") {
			return &Cause{Reason: ReasonQuota, Message: e.Message}, nil
		}
	}
	return nil, nil
}

// podCause looks at the pods that sel selects and owner controls, and
// returns the first failure they show, pods sorted by name for stable
// reports.
func (c *Cluster) podCause(ctx context.Context, ns string, sel labels.Selector, owner types.UID) (*Cause, error) {
	pods, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	now := time.Now()
	for i := range pods.Items {
		p := &pods.Items[i]
		if ctl := metav1.GetControllerOf(p); ctl == nil || ctl.UID != owner || p.DeletionTimestamp != nil {
			continue
		}
		if cause := c.diagnosePod(ctx, p, now); cause != nil {
			cause.Pod = p.Name
			return cause, nil
		}
	}
	return nil, nil
}

// diagnosePod reads one pod's conditions and container states.
func (c *Cluster) diagnosePod(ctx context.Context, p *corev1.Pod, now time.Time) *Cause {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable &&
			now.Sub(cond.LastTransitionTime.Time) >= c.watch.UnschedulableGrace {
			return &Cause{Reason: ReasonUnschedulable, Message: cond.Message}
		}
	}
	statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		switch w.Reason {
		case "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
			return &Cause{Reason: ReasonImagePull, Message: fmt.Sprintf("container %s: image %q: %s: %s", cs.Name, cs.Image, w.Reason, w.Message)}
		case "CreateContainerConfigError":
			return &Cause{Reason: ReasonContainerConfig, Message: fmt.Sprintf("container %s: %s", cs.Name, w.Message)}
		case "CrashLoopBackOff":
			msg := fmt.Sprintf("container %s restarted %d times", cs.Name, cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf("; last exit code %d (%s)", t.ExitCode, t.Reason)
				if t.Message != "" {
					msg += ": " + t.Message
				}
			}
			tail, err := c.previousLogs(ctx, p, cs.Name)
			if err != nil {
				msg += "; logs unavailable: " + err.Error()
			}
			return &Cause{Reason: ReasonCrashLoop, Message: msg, LogTail: tail}
		}
	}
	if p.Status.Phase == corev1.PodRunning && c.notReadyTooLong(p, now) {
		msg := "containers running but not Ready"
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Message != "" {
				msg = cond.Message
			}
		}
		if ev := c.lastUnhealthyEvent(ctx, p); ev != "" {
			msg = ev
		}
		return &Cause{Reason: ReasonProbeFailing, Message: msg}
	}
	return nil
}

// notReadyTooLong is true when every container runs, the pod is not Ready,
// and has been so for longer than NotReadyGrace.
func (c *Cluster) notReadyTooLong(p *corev1.Pod, now time.Time) bool {
	if len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	var started time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
		if t := cs.State.Running.StartedAt.Time; t.After(started) {
			started = t
		}
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			if cond.Status == corev1.ConditionTrue {
				return false
			}
			if t := cond.LastTransitionTime.Time; t.After(started) {
				started = t
			}
		}
	}
	return now.Sub(started) >= c.watch.NotReadyGrace
}

// lastUnhealthyEvent returns the newest probe failure recorded for the pod.
func (c *Cluster) lastUnhealthyEvent(ctx context.Context, p *corev1.Pod) string {
	evs, err := c.client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + p.Name + ",reason=Unhealthy",
	})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	last := evs.Items[0]
	for _, e := range evs.Items[1:] {
		if eventTime(e).After(eventTime(last)) {
			last = e
		}
	}
	return last.Message
}

func eventTime(e corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// previousLogs reads the tail of the previous run of a container.
func (c *Cluster) previousLogs(ctx context.Context, p *corev1.Pod, container string) ([]string, error) {
	if c.watch.LogLines == 0 {
		return nil, nil
	}
	n := int64(c.watch.LogLines)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := c.client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{
		Container: container, Previous: true, TailLines: &n,
	}).DoRaw(ctx)
	if err != nil {
		var st apierrors.APIStatus
		if errors.As(err, &st) {
			return nil, errors.New(st.Status().Message)
		}
		return nil, err
	}
	text := strings.TrimRight(string(data), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}
