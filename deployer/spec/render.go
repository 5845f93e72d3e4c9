package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// Labels and annotations furrow puts on what it renders.
const (
	LabelName        = "app.kubernetes.io/name"
	LabelComponent   = "app.kubernetes.io/component"
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	LabelProject     = "furrow.dev/project"
	LabelTeam        = "furrow.dev/team"
	LabelEnvironment = "furrow.dev/environment"
	LabelCronJob     = "furrow.dev/cronjob"
	AnnotationDeploy = "furrow.dev/deploy-id"
	// AnnotationTopologyMode turns on Topology Aware Routing for a Service.
	AnnotationTopologyMode = "service.kubernetes.io/topology-mode"
	ManagedBy              = "furrow"
)

// RenderInput is what Render needs besides the spec: facts from the catalog
// and the deploy, and the resolved secrets.
type RenderInput struct {
	// Team is the owner team's code from the catalog.
	Team string
	// ProjectID is the catalog project id (the spec's project when empty).
	ProjectID string
	// DeployID is the deploy's id; 0 leaves the annotation out (a preview).
	DeployID int64
	// Secrets are the resolved secrets by the spec's secret name.
	Secrets map[string]ResolvedSecret
	// UnresolvedSecrets renders without secret values (a preview, e.g.
	// `furrow deploy render` in CI): the Secret object is left out and its
	// name is computed from the spec's version selectors.
	UnresolvedSecrets bool
	// Rules are the company rules; the zero value means DefaultRules().
	Rules *Rules
}

// Render turns the spec into the Kubernetes objects of one target, in a
// fixed order (by kind as they must be applied, then by name). It checks
// the spec against the rules first and renders nothing when it fails.
func Render(p *Project, t Target, in RenderInput) ([]*unstructured.Unstructured, error) {
	rules := DefaultRules()
	if in.Rules != nil {
		rules = *in.Rules
	}
	if err := p.Validate(rules); err != nil {
		return nil, err
	}
	targets, err := p.Targets(t.Environment)
	if err != nil {
		return nil, err
	}
	found := false
	for _, x := range targets {
		found = found || x == t
	}
	if !found {
		return nil, fmt.Errorf("%s: %s is not a target of the spec", p.file, t)
	}
	if in.ProjectID == "" {
		in.ProjectID = p.Project
	}
	for name, v := range map[string]string{"team": in.Team, "project id": in.ProjectID} {
		if v == "" {
			return nil, fmt.Errorf("render %s: the %s is unknown: it comes from the catalog", t, name)
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			return nil, fmt.Errorf("render %s: %s %q is not a label value: %s", t, name, v, msgs[0])
		}
	}
	r := &renderer{p: p, t: t, in: in, rules: rules, ns: p.NamespaceFor(t.Environment), eff: p.effective(t.Environment)}
	objs, err := r.render()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t, err)
	}
	return objs, nil
}

type renderer struct {
	p     *Project
	t     Target
	in    RenderInput
	rules Rules
	ns    string
	eff   effective

	configMap, secret string
}

func (r *renderer) labels() map[string]string {
	return map[string]string{
		LabelName:        r.p.Service,
		LabelManagedBy:   ManagedBy,
		LabelProject:     r.in.ProjectID,
		LabelTeam:        r.in.Team,
		LabelEnvironment: r.t.Environment,
	}
}

// selector picks the service's server pods (not its CronJobs' pods, which
// carry the same name label but must never receive traffic).
func (r *renderer) selector() map[string]string {
	return map[string]string{LabelName: r.p.Service, LabelComponent: "server"}
}

func (r *renderer) meta(name string, namespaced bool) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Labels: r.labels()}
	if namespaced {
		m.Namespace = r.ns
	}
	if r.in.DeployID != 0 {
		m.Annotations = map[string]string{AnnotationDeploy: strconv.FormatInt(r.in.DeployID, 10)}
	}
	return m
}

func (r *renderer) mesh() bool { return r.p.Traffic != nil && r.p.Traffic.Mesh == "istio" }

func (r *renderer) render() ([]*unstructured.Unstructured, error) {
	var objs []runtime.Object
	ns := &corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: r.meta(r.ns, false)}
	if r.mesh() {
		ns.Labels["istio-injection"] = "enabled"
	}
	objs = append(objs, ns)
	objs = append(objs, &corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: r.meta(r.p.Service, true)})
	if cm := r.renderConfigMap(); cm != nil {
		objs = append(objs, cm)
	}
	sec, err := r.renderSecret()
	if err != nil {
		return nil, err
	}
	if sec != nil {
		objs = append(objs, sec)
	}
	if svc := r.renderService(); svc != nil {
		objs = append(objs, svc)
	}
	dep, err := r.renderDeployment()
	if err != nil {
		return nil, err
	}
	objs = append(objs, dep)
	if a := r.eff.autoscaling; a != nil {
		objs = append(objs, r.renderHPA(a))
	}
	if pdb := r.renderPDB(); pdb != nil {
		objs = append(objs, pdb)
	}
	for _, c := range r.p.CronJobs {
		cj, err := r.renderCronJob(c)
		if err != nil {
			return nil, err
		}
		objs = append(objs, cj)
	}
	out := make([]*unstructured.Unstructured, 0, len(objs)+4)
	for _, o := range objs {
		u, err := toUnstructured(o)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if len(r.eff.routes) > 0 {
		if r.mesh() {
			out = append(out, r.renderVirtualServices()...)
		} else {
			u, err := toUnstructured(r.renderIngress())
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
	}
	if r.mesh() {
		out = append(out, r.renderDestinationRule())
	}
	SortObjects(out)
	return out, nil
}

// kindOrder is the order objects are applied in: what others refer to first.
var kindOrder = map[string]int{
	"Namespace": 0, "ServiceAccount": 1, "ConfigMap": 2, "Secret": 3, "Service": 4,
	"Deployment": 5, "HorizontalPodAutoscaler": 6, "PodDisruptionBudget": 7, "CronJob": 8,
	"Ingress": 9, "DestinationRule": 10, "VirtualService": 11,
}

// SortObjects orders objects for applying: by kind (namespaces first,
// routes last), then namespace and name.
func SortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		ka, oka := kindOrder[a.GetKind()]
		kb, okb := kindOrder[b.GetKind()]
		if !oka {
			ka = len(kindOrder)
		}
		if !okb {
			kb = len(kindOrder)
		}
		if ka != kb {
			return ka < kb
		}
		if a.GetKind() != b.GetKind() {
			return a.GetKind() < b.GetKind()
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", o, err)
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec")
	}
	dropNullTimestamps(m)
	return &unstructured.Unstructured{Object: m}, nil
}

// dropNullTimestamps removes the creationTimestamp: null that typed
// objects carry, so manifests show only what was set.
func dropNullTimestamps(v any) {
	switch x := v.(type) {
	case map[string]any:
		if ts, ok := x["creationTimestamp"]; ok && ts == nil {
			delete(x, "creationTimestamp")
		}
		for _, c := range x {
			dropNullTimestamps(c)
		}
	case []any:
		for _, c := range x {
			dropNullTimestamps(c)
		}
	}
}

// contentHash is a short hash of parts, for object names that change
// exactly when their content does.
func contentHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *renderer) renderConfigMap() *corev1.ConfigMap {
	c := r.p.Config
	if c == nil || len(c.Files) == 0 {
		return nil
	}
	var parts []string
	for _, k := range sortedKeys(c.Files) {
		parts = append(parts, k, c.Files[k])
	}
	r.configMap = r.p.Service + "-config-" + contentHash(parts...)
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: r.meta(r.configMap, true),
		Immutable:  ptr.To(true),
		Data:       c.Files,
	}
}

// renderSecret puts every resolved secret into one Secret whose name
// hashes the versions: a deploy switches all secrets at once by pointing
// the pods at the new object, and a rollback points back at the old one.
func (r *renderer) renderSecret() (*corev1.Secret, error) {
	if len(r.p.Secrets) == 0 {
		return nil, nil
	}
	data := map[string][]byte{}
	var parts []string
	var missing []error
	for _, s := range r.p.Secrets {
		version := s.VersionID
		if version == "" {
			version = s.VersionStage
		}
		if version == "" {
			version = "AWSCURRENT"
		}
		if !r.in.UnresolvedSecrets {
			res, ok := r.in.Secrets[s.Name]
			if !ok {
				missing = append(missing, fmt.Errorf("secret %s (%s) was not resolved", s.Name, s.SecretID))
				continue
			}
			val, ok := res.Values[s.Key]
			if !ok {
				what := "its value"
				if s.Key != "" {
					what = "key " + strconv.Quote(s.Key)
				}
				missing = append(missing, fmt.Errorf("secret %s (%s, version %s) has no %s", s.Name, s.SecretID, res.VersionID, what))
				continue
			}
			version = res.VersionID
			data[s.Name] = []byte(val)
		}
		parts = append(parts, s.Name, s.SecretID, version, s.Key)
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	r.secret = r.p.Service + "-secrets-" + contentHash(parts...)
	if r.in.UnresolvedSecrets {
		return nil, nil
	}
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: r.meta(r.secret, true),
		Immutable:  ptr.To(true),
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}, nil
}

var appProtocols = map[string]string{"": "http", "http": "http", "http2": "http2", "grpc": "grpc", "tcp": "tcp"}

func (r *renderer) renderService() *corev1.Service {
	if len(r.p.Ports) == 0 {
		return nil
	}
	svc := &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: r.meta(r.p.Service, true),
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: r.selector()},
	}
	for _, pt := range r.p.Ports {
		sp := corev1.ServicePort{Name: pt.Name, Port: pt.Port, TargetPort: intstr.FromString(pt.Name), Protocol: corev1.ProtocolTCP}
		if pt.Protocol == "udp" {
			sp.Protocol = corev1.ProtocolUDP
		} else {
			sp.AppProtocol = ptr.To(appProtocols[pt.Protocol])
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	if r.p.Traffic != nil && r.p.Traffic.TopologyAwareRouting {
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[AnnotationTopologyMode] = "Auto"
	}
	return svc
}

func (r *renderer) resources(res *Resources) (corev1.ResourceRequirements, error) {
	eff := Resources{Requests: &r.rules.DefaultRequests}
	if res != nil {
		eff = mergeResources(eff, *res)
	}
	req := corev1.ResourceList{}
	lim := corev1.ResourceList{}
	var err error
	parse := func(list corev1.ResourceList, name corev1.ResourceName, s string) {
		if s == "" || err != nil {
			return
		}
		q, e := resource.ParseQuantity(s)
		if e != nil {
			err = fmt.Errorf("%s %q: %w", name, s, e)
			return
		}
		list[name] = q
	}
	parse(req, corev1.ResourceCPU, eff.Requests.CPU)
	parse(req, corev1.ResourceMemory, eff.Requests.Memory)
	if eff.Limits != nil {
		parse(lim, corev1.ResourceCPU, eff.Limits.CPU)
		parse(lim, corev1.ResourceMemory, eff.Limits.Memory)
	}
	if err != nil {
		return corev1.ResourceRequirements{}, err
	}
	if _, ok := lim[corev1.ResourceMemory]; !ok {
		m := req[corev1.ResourceMemory]
		lim[corev1.ResourceMemory] = *resource.NewQuantity(m.Value()*r.rules.MemoryLimitFactor, resource.BinarySI)
	}
	return corev1.ResourceRequirements{Requests: req, Limits: lim}, nil
}

func (r *renderer) port(ref PortRef) intstr.IntOrString {
	pt, _ := r.p.findPort(ref)
	return intstr.FromString(pt.Name)
}

func (r *renderer) probe(p *Probe) *corev1.Probe {
	if p == nil {
		return nil
	}
	out := &corev1.Probe{
		InitialDelaySeconds: p.InitialDelaySeconds,
		PeriodSeconds:       p.PeriodSeconds,
		TimeoutSeconds:      p.TimeoutSeconds,
		FailureThreshold:    p.FailureThreshold,
	}
	switch {
	case p.HTTP != nil:
		out.HTTPGet = &corev1.HTTPGetAction{Path: p.HTTP.Path, Port: r.port(p.HTTP.Port)}
	case p.TCP != nil:
		out.TCPSocket = &corev1.TCPSocketAction{Port: r.port(p.TCP.Port)}
	case p.Exec != nil:
		out.Exec = &corev1.ExecAction{Command: p.Exec.Command}
	}
	return out
}

// podSpec is what the Deployment's and the CronJobs' pods share: the
// image, env, config, secrets and the company's security settings.
func (r *renderer) podSpec(name string, command, args []string, res *Resources) (corev1.PodSpec, error) {
	resources, err := r.resources(res)
	if err != nil {
		return corev1.PodSpec{}, err
	}
	c := corev1.Container{
		Name:                     name,
		Image:                    r.p.Image,
		Command:                  command,
		Args:                     args,
		Resources:                resources,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext: &corev1.SecurityContext{
			Privileged:               ptr.To(false),
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	if s := r.p.Security; s != nil && s.ReadOnlyRootFilesystem {
		c.SecurityContext.ReadOnlyRootFilesystem = ptr.To(true)
	}
	for _, k := range sortedKeys(r.eff.env) {
		c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: r.eff.env[k]})
	}
	pod := corev1.PodSpec{
		ServiceAccountName: r.p.Service,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	if s := r.p.Security; s != nil && s.RunAsUser != nil {
		pod.SecurityContext.RunAsUser = ptr.To(*s.RunAsUser)
	}
	if r.configMap != "" {
		mount := r.p.Config.MountPath
		if mount == "" {
			mount = "/etc/" + r.p.Service
		}
		pod.Volumes = append(pod.Volumes, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: r.configMap}},
		}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "config", MountPath: mount, ReadOnly: true})
	}
	hasFiles := false
	for _, s := range r.p.Secrets {
		if s.Env != "" {
			c.Env = append(c.Env, corev1.EnvVar{Name: s.Env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: r.secret}, Key: s.Name,
			}}})
			continue
		}
		hasFiles = true
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "secrets", MountPath: s.File, SubPath: s.Name, ReadOnly: true})
	}
	if hasFiles {
		pod.Volumes = append(pod.Volumes, corev1.Volume{Name: "secrets", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: r.secret, DefaultMode: ptr.To[int32](0o440)},
		}})
	}
	pod.Containers = []corev1.Container{c}
	return pod, nil
}

func (r *renderer) renderDeployment() (*appsv1.Deployment, error) {
	pod, err := r.podSpec(r.p.Service, r.p.Command, r.p.Args, &r.eff.resources)
	if err != nil {
		return nil, err
	}
	c := &pod.Containers[0]
	for _, pt := range r.p.Ports {
		cp := corev1.ContainerPort{Name: pt.Name, ContainerPort: pt.Port, Protocol: corev1.ProtocolTCP}
		if pt.Protocol == "udp" {
			cp.Protocol = corev1.ProtocolUDP
		}
		c.Ports = append(c.Ports, cp)
	}
	if pr := r.p.Probes; pr != nil {
		c.ReadinessProbe = r.probe(pr.Readiness)
		c.LivenessProbe = r.probe(pr.Liveness)
		c.StartupProbe = r.probe(pr.Startup)
	}
	sel := &metav1.LabelSelector{MatchLabels: r.selector()}
	// Spread across zones and nodes, softly: a zone outage must not take
	// every pod, but a rollout must not stall when a zone is full.
	for _, key := range []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"} {
		pod.TopologySpreadConstraints = append(pod.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector: sel, MatchLabelKeys: []string{"pod-template-hash"},
		})
	}
	podLabels := r.labels()
	for k, v := range r.selector() {
		podLabels[k] = v
	}
	d := &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: r.meta(r.p.Service, true),
		Spec: appsv1.DeploymentSpec{
			Selector:             sel,
			RevisionHistoryLimit: ptr.To[int32](10),
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge:       ptr.To(intstr.FromString("25%")),
					MaxUnavailable: ptr.To(intstr.FromInt32(0)),
				},
			},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: pod},
		},
	}
	if r.eff.autoscaling == nil {
		n := r.rules.DefaultReplicas
		if r.eff.replicas != nil {
			n = *r.eff.replicas
		}
		d.Spec.Replicas = ptr.To(n)
	}
	return d, nil
}

func (r *renderer) renderHPA(a *Autoscaling) *autoscalingv2.HorizontalPodAutoscaler {
	target := a.CPUTarget
	if target == 0 {
		target = 70
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   typeMeta("autoscaling/v2", "HorizontalPodAutoscaler"),
		ObjectMeta: r.meta(r.p.Service, true),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: r.p.Service},
			MinReplicas:    ptr.To(a.Min),
			MaxReplicas:    a.Max,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(target)},
				},
			}},
		},
	}
}

func countOrPercentValue(s IntOrPercent) intstr.IntOrString {
	if n, err := strconv.Atoi(string(s)); err == nil {
		return intstr.FromInt32(int32(n))
	}
	return intstr.FromString(string(s))
}

func (r *renderer) renderPDB() *policyv1.PodDisruptionBudget {
	spec := policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: r.selector()}}
	switch p := r.eff.pdb; {
	case p != nil && p.MinAvailable != "":
		spec.MinAvailable = ptr.To(countOrPercentValue(p.MinAvailable))
	case p != nil:
		spec.MaxUnavailable = ptr.To(countOrPercentValue(p.MaxUnavailable))
	default:
		// The company default: one pod at a time, when there is more
		// than one; a budget on a single pod would block node drains.
		n := r.rules.DefaultReplicas
		if r.eff.replicas != nil {
			n = *r.eff.replicas
		}
		if a := r.eff.autoscaling; a != nil {
			n = a.Min
		}
		if n < 2 {
			return nil
		}
		spec.MaxUnavailable = ptr.To(intstr.FromInt32(1))
	}
	return &policyv1.PodDisruptionBudget{TypeMeta: typeMeta("policy/v1", "PodDisruptionBudget"), ObjectMeta: r.meta(r.p.Service, true), Spec: spec}
}

func (r *renderer) renderCronJob(c CronJob) (*batchv1.CronJob, error) {
	res := &r.eff.resources
	if c.Resources != nil {
		res = c.Resources
	}
	pod, err := r.podSpec(c.Name, c.Command, nil, res)
	if err != nil {
		return nil, err
	}
	pod.RestartPolicy = corev1.RestartPolicyNever
	policy := batchv1.ConcurrencyPolicy(c.ConcurrencyPolicy)
	if policy == "" {
		policy = batchv1.ForbidConcurrent
	}
	backoff := c.BackoffLimit
	if backoff == nil {
		backoff = ptr.To[int32](2)
	}
	podLabels := r.labels()
	podLabels[LabelComponent] = "cronjob"
	podLabels[LabelCronJob] = c.Name
	cj := &batchv1.CronJob{
		TypeMeta:   typeMeta("batch/v1", "CronJob"),
		ObjectMeta: r.meta(r.p.Service+"-"+c.Name, true),
		Spec: batchv1.CronJobSpec{
			Schedule:          c.Schedule,
			ConcurrencyPolicy: policy,
			Suspend:           ptr.To(c.Suspend),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: batchv1.JobSpec{
					BackoffLimit:          backoff,
					ActiveDeadlineSeconds: c.ActiveDeadlineSeconds,
					Template:              corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels}, Spec: pod},
				},
			},
		},
	}
	if c.TimeZone != "" {
		cj.Spec.TimeZone = ptr.To(c.TimeZone)
	}
	cj.Labels[LabelCronJob] = c.Name
	return cj, nil
}

func (r *renderer) renderIngress() *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: r.meta(r.p.Service, true),
		Spec:       networkingv1.IngressSpec{IngressClassName: ptr.To(r.rules.IngressClassName)},
	}
	byHost := map[string]int{}
	for _, rt := range r.eff.routes {
		i, ok := byHost[rt.Host]
		if !ok {
			i = len(ing.Spec.Rules)
			byHost[rt.Host] = i
			ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: rt.Host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}})
		}
		pt, _ := r.p.findPort(rt.Port)
		http := ing.Spec.Rules[i].HTTP
		http.Paths = append(http.Paths, networkingv1.HTTPIngressPath{
			Path:     routePath(rt),
			PathType: ptr.To(networkingv1.PathTypePrefix),
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: r.p.Service, Port: networkingv1.ServiceBackendPort{Name: pt.Name},
			}},
		})
	}
	return ing
}

func (r *renderer) fqdn() string { return r.p.Service + "." + r.ns + ".svc.cluster.local" }

// istioObject builds an Istio object as unstructured: furrow does not
// import Istio's API module for two kinds.
func (r *renderer) istioObject(kind, name string, spec map[string]any) *unstructured.Unstructured {
	m := r.meta(name, true)
	meta := map[string]any{"name": m.Name, "namespace": m.Namespace, "labels": stringMap(m.Labels)}
	if m.Annotations != nil {
		meta["annotations"] = stringMap(m.Annotations)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": kind, "metadata": meta, "spec": spec,
	}}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// renderVirtualServices binds the routes to the mesh gateway, one
// VirtualService per host so that each host's paths stay together.
func (r *renderer) renderVirtualServices() []*unstructured.Unstructured {
	var hosts []string
	byHost := map[string][]any{}
	for _, rt := range r.eff.routes {
		if _, ok := byHost[rt.Host]; !ok {
			hosts = append(hosts, rt.Host)
		}
		pt, _ := r.p.findPort(rt.Port)
		byHost[rt.Host] = append(byHost[rt.Host], map[string]any{
			"match": []any{map[string]any{"uri": map[string]any{"prefix": routePath(rt)}}},
			"route": []any{map[string]any{"destination": map[string]any{
				"host": r.fqdn(), "port": map[string]any{"number": int64(pt.Port)},
			}}},
		})
	}
	var out []*unstructured.Unstructured
	for _, h := range hosts {
		name := r.p.Service
		if len(hosts) > 1 {
			name += "-" + contentHash(h)[:8]
		}
		out = append(out, r.istioObject("VirtualService", name, map[string]any{
			"hosts":    []any{h},
			"gateways": []any{r.rules.MeshGateway},
			"http":     byHost[h],
		}))
	}
	return out
}

// renderDestinationRule turns on locality load balancing, which keeps
// calls in the caller's zone (the cross-zone bill of BRIEF §1) and which
// Istio only applies when outlier detection is set too, since it must know
// when the local endpoints are unhealthy to fail over.
func (r *renderer) renderDestinationRule() *unstructured.Unstructured {
	t := r.p.Traffic
	od := OutlierDetection{Consecutive5xxErrors: 5, Interval: "10s", BaseEjectionTime: "30s", MaxEjectionPercent: 50}
	if o := t.OutlierDetection; o != nil {
		if o.Consecutive5xxErrors != 0 {
			od.Consecutive5xxErrors = o.Consecutive5xxErrors
		}
		if o.Interval != "" {
			od.Interval = o.Interval
		}
		if o.BaseEjectionTime != "" {
			od.BaseEjectionTime = o.BaseEjectionTime
		}
		if o.MaxEjectionPercent != 0 {
			od.MaxEjectionPercent = o.MaxEjectionPercent
		}
	}
	locality := t.LocalityLB == nil || *t.LocalityLB
	policy := map[string]any{
		"outlierDetection": map[string]any{
			"consecutive5xxErrors": int64(od.Consecutive5xxErrors),
			"interval":             od.Interval,
			"baseEjectionTime":     od.BaseEjectionTime,
			"maxEjectionPercent":   int64(od.MaxEjectionPercent),
		},
		"loadBalancer": map[string]any{
			"simple":            "LEAST_REQUEST",
			"localityLbSetting": map[string]any{"enabled": locality},
		},
	}
	return r.istioObject("DestinationRule", r.p.Service, map[string]any{"host": r.fqdn(), "trafficPolicy": policy})
}
