package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Rules are the company rules a spec must follow and the defaults it gets.
// They are documented in docs/deployer.md ("Company rules").
type Rules struct {
	// Clusters are the clusters that exist, with their region; a spec naming another cluster is rejected. Empty: not checked.
	Clusters []KnownCluster `yaml:"clusters"`
	// DefaultRequests are the requests of a container whose spec gives none.
	DefaultRequests ResourceList `yaml:"default_requests"`
	// MemoryLimitFactor sets an absent memory limit to the memory request times this factor.
	MemoryLimitFactor int64 `yaml:"memory_limit_factor"`
	// DefaultReplicas is the replica count when neither replicas nor autoscaling is given.
	DefaultReplicas int32 `yaml:"default_replicas"`
	// MaxSecrets is how many Secrets Manager secrets one spec may reference.
	MaxSecrets int `yaml:"max_secrets"`
	// IngressClassName is the ingress class of the Ingress rendered for routes outside the mesh.
	IngressClassName string `yaml:"ingress_class_name"`
	// MeshGateway is the Istio gateway (namespace/name) that VirtualServices of routes bind to.
	MeshGateway string `yaml:"mesh_gateway"`
}

// KnownCluster is a cluster a spec may deploy to.
type KnownCluster struct {
	// Name is the cluster's name as specs write it.
	Name string `yaml:"name"`
	// Region is the AWS region the cluster runs in.
	Region string `yaml:"region"`
}

// DefaultRules returns the company defaults. The CPU limit is left out on
// purpose: a CPU limit throttles a pod even when the node has idle cores.
func DefaultRules() Rules {
	return Rules{
		DefaultRequests:   ResourceList{CPU: "100m", Memory: "128Mi"},
		MemoryLimitFactor: 2,
		DefaultReplicas:   2,
		MaxSecrets:        8,
		IngressClassName:  "alb",
		MeshGateway:       "istio-system/ingressgateway",
	}
}

// Validate checks the rules themselves.
func (r Rules) Validate() error {
	var errs []error
	if _, err := resource.ParseQuantity(r.DefaultRequests.CPU); err != nil {
		errs = append(errs, fmt.Errorf("default_requests.cpu: %w", err))
	}
	if _, err := resource.ParseQuantity(r.DefaultRequests.Memory); err != nil {
		errs = append(errs, fmt.Errorf("default_requests.memory: %w", err))
	}
	if r.MemoryLimitFactor < 1 {
		errs = append(errs, errors.New("memory_limit_factor: must be at least 1"))
	}
	if r.DefaultReplicas < 1 {
		errs = append(errs, errors.New("default_replicas: must be at least 1"))
	}
	if r.MaxSecrets < 0 {
		errs = append(errs, errors.New("max_secrets: must not be negative"))
	}
	if ns, name, ok := strings.Cut(r.MeshGateway, "/"); !ok || ns == "" || name == "" {
		errs = append(errs, fmt.Errorf("mesh_gateway %q: want namespace/name", r.MeshGateway))
	}
	return errors.Join(errs...)
}

// validator gathers a spec's violations.
type validator struct {
	p    *Project
	r    Rules
	errs []error
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, v.p.errAt(field, format, args...))
}

// Validate checks the spec against the company rules and returns every
// violation, each an *Error with the spec's file, line and field, joined
// with errors.Join.
func (p *Project) Validate(rules Rules) error {
	if err := rules.Validate(); err != nil {
		return fmt.Errorf("company rules: %w", err)
	}
	v := &validator{p: p, r: rules}
	v.label("project", p.Project, 63)
	v.label("service", p.Service, 63)
	if p.Namespace != "" {
		v.label("namespace", p.Namespace, 63)
	}
	v.image()
	v.ports()
	v.routes("routes", p.Routes)
	v.envs("env", p.Env)
	v.config()
	v.secrets()
	v.resources("resources", p.Resources)
	v.probes()
	v.scaling("", p.Replicas, p.Autoscaling)
	v.pdb("pdb", p.PDB)
	if p.Security != nil && p.Security.RunAsUser != nil && *p.Security.RunAsUser == 0 {
		v.add("security.run_as_user", "running as root (user 0) is forbidden by company rule")
	}
	v.cronjobs()
	v.traffic()
	v.environments()
	return errors.Join(v.errs...)
}

func (v *validator) label(field, s string, max int) {
	if s == "" {
		v.add(field, "required")
		return
	}
	for _, m := range validation.IsDNS1123Label(s) {
		v.add(field, "%q: %s", s, m)
		return
	}
	if len(s) > max {
		v.add(field, "%q: at most %d characters", s, max)
	}
}

var (
	imageRef    = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)
	imageTag    = regexp.MustCompile(`:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$`)
	imageDigest = regexp.MustCompile(`@sha256:[a-f0-9]{64}$`)
)

func (v *validator) image() {
	img := v.p.Image
	if !imageRef.MatchString(img) {
		v.add("image", "%q is not an image reference (registry/path:tag or registry/path@sha256:…)", img)
		return
	}
	if imageDigest.MatchString(img) {
		return
	}
	last := img[strings.LastIndex(img, "/")+1:]
	m := imageTag.FindStringSubmatch(last)
	switch {
	case m == nil:
		v.add("image", "%q has no tag or digest: pin the image built for this release (company rule)", img)
	case m[1] == "latest":
		v.add("image", "the latest tag is forbidden by company rule: use the release's tag or digest")
	}
}

var protocols = map[string]bool{"": true, "http": true, "http2": true, "grpc": true, "tcp": true, "udp": true}

func (v *validator) ports() {
	names := map[string]bool{}
	nums := map[string]bool{}
	for i, pt := range v.p.Ports {
		f := fmt.Sprintf("ports[%d]", i)
		if pt.Name == "" {
			v.add(f+".name", "required")
		} else {
			for _, m := range validation.IsValidPortName(pt.Name) {
				v.add(f+".name", "%q: %s", pt.Name, m)
			}
			if names[pt.Name] {
				v.add(f+".name", "port name %q is used twice", pt.Name)
			}
			names[pt.Name] = true
		}
		if pt.Port < 1 || pt.Port > 65535 {
			v.add(f+".port", "%d: want 1 to 65535", pt.Port)
		}
		if !protocols[pt.Protocol] {
			v.add(f+".protocol", "%q: want http, http2, grpc, tcp or udp", pt.Protocol)
		}
		key := fmt.Sprint(pt.Port, pt.Protocol == "udp")
		if nums[key] {
			v.add(f+".port", "port %d is used twice", pt.Port)
		}
		nums[key] = true
	}
}

// findPort resolves a port reference; an empty one is the first port.
func (p *Project) findPort(ref PortRef) (Port, bool) {
	if len(p.Ports) == 0 {
		return Port{}, false
	}
	if ref == "" {
		return p.Ports[0], true
	}
	n, err := strconv.Atoi(string(ref))
	for _, pt := range p.Ports {
		if pt.Name == string(ref) || (err == nil && int(pt.Port) == n) {
			return pt, true
		}
	}
	return Port{}, false
}

func (v *validator) portRef(field string, ref PortRef) {
	if _, ok := v.p.findPort(ref); !ok {
		if len(v.p.Ports) == 0 {
			v.add(field, "the spec has no ports: declare one under ports")
			return
		}
		v.add(field, "no port %q under ports", string(ref))
	}
}

func (v *validator) routes(field string, routes []Route) {
	seen := map[string]bool{}
	for i, r := range routes {
		f := fmt.Sprintf("%s[%d]", field, i)
		host := strings.TrimPrefix(r.Host, "*.")
		if r.Host == "" {
			v.add(f+".host", "required")
		} else if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
			v.add(f+".host", "%q: %s", r.Host, msgs[0])
		}
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			v.add(f+".path", "%q: a path starts with /", r.Path)
		}
		if strings.ContainsAny(r.Path, " \t\n{}|\\^`") {
			v.add(f+".path", "%q: not a URL path", r.Path)
		}
		v.portRef(f+".port", r.Port)
		key := r.Host + " " + routePath(r)
		if seen[key] {
			v.add(f, "host %s and path %s are routed twice", r.Host, routePath(r))
		}
		seen[key] = true
	}
}

func routePath(r Route) string {
	if r.Path == "" {
		return "/"
	}
	return r.Path
}

func (v *validator) envs(field string, env map[string]string) {
	for k := range env {
		for _, m := range validation.IsEnvVarName(k) {
			v.add(field+"."+k, "%q: %s", k, m)
		}
		if strings.HasPrefix(k, "FURROW_") {
			v.add(field+"."+k, "the FURROW_ prefix is reserved for the platform")
		}
	}
}

func (v *validator) config() {
	c := v.p.Config
	if c == nil {
		return
	}
	if c.MountPath != "" && !strings.HasPrefix(c.MountPath, "/") {
		v.add("config.mount_path", "%q: want an absolute path", c.MountPath)
	}
	size := 0
	for k, content := range c.Files {
		for _, m := range validation.IsConfigMapKey(k) {
			v.add("config.files."+k, "%q: %s", k, m)
		}
		size += len(k) + len(content)
	}
	if size > 900*1024 {
		v.add("config.files", "%d bytes: a ConfigMap holds at most 1 MiB; keep large files in the image", size)
	}
}

var secretsARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$`)
var secretName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func (v *validator) secrets() {
	if len(v.p.Secrets) > v.r.MaxSecrets {
		v.add(fmt.Sprintf("secrets[%d]", v.r.MaxSecrets), "%d secrets: one config references at most %d (company rule); group values in one JSON secret and pick them with key", len(v.p.Secrets), v.r.MaxSecrets)
	}
	names, envs, files := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, s := range v.p.Secrets {
		f := fmt.Sprintf("secrets[%d]", i)
		v.label(f+".name", s.Name, 63)
		if names[s.Name] {
			v.add(f+".name", "secret name %q is used twice", s.Name)
		}
		names[s.Name] = true
		switch {
		case s.SecretID == "":
			v.add(f+".secret_id", "required: the secret's ARN or name in AWS Secrets Manager")
		case strings.HasPrefix(s.SecretID, "arn:"):
			if !secretsARN.MatchString(s.SecretID) {
				v.add(f+".secret_id", "%q is not a Secrets Manager secret ARN", s.SecretID)
			}
		case !secretName.MatchString(s.SecretID):
			v.add(f+".secret_id", "%q is not a Secrets Manager secret name", s.SecretID)
		}
		if s.VersionStage != "" && s.VersionID != "" {
			v.add(f+".version_id", "give version_stage or version_id, not both")
		}
		switch {
		case (s.Env == "") == (s.File == ""):
			v.add(f, "give exactly one of env and file")
		case s.Env != "":
			for _, m := range validation.IsEnvVarName(s.Env) {
				v.add(f+".env", "%q: %s", s.Env, m)
			}
			if envs[s.Env] {
				v.add(f+".env", "%s receives two secrets", s.Env)
			}
			if _, ok := v.p.Env[s.Env]; ok {
				v.add(f+".env", "%s is also a plain env value", s.Env)
			}
			envs[s.Env] = true
		default:
			if !strings.HasPrefix(s.File, "/") || strings.HasSuffix(s.File, "/") || strings.Contains(s.File, "..") {
				v.add(f+".file", "%q: want an absolute file path", s.File)
			}
			if files[s.File] {
				v.add(f+".file", "%s receives two secrets", s.File)
			}
			files[s.File] = true
		}
	}
}

func (v *validator) resources(field string, r *Resources) {
	if r == nil {
		return
	}
	q := func(f, s string) (resource.Quantity, bool) {
		if s == "" {
			return resource.Quantity{}, false
		}
		x, err := resource.ParseQuantity(s)
		if err != nil || x.Sign() <= 0 {
			v.add(f, "%q is not a positive quantity (e.g. 250m, 1, 256Mi, 1Gi)", s)
			return x, false
		}
		return x, true
	}
	var rc, rm, lc, lm resource.Quantity
	var okRC, okRM, okLC, okLM bool
	if r.Requests != nil {
		rc, okRC = q(field+".requests.cpu", r.Requests.CPU)
		rm, okRM = q(field+".requests.memory", r.Requests.Memory)
	}
	if r.Limits != nil {
		lc, okLC = q(field+".limits.cpu", r.Limits.CPU)
		lm, okLM = q(field+".limits.memory", r.Limits.Memory)
	}
	if okRC && okLC && lc.Cmp(rc) < 0 {
		v.add(field+".limits.cpu", "%s is below the request %s", lc.String(), rc.String())
	}
	if okRM && okLM && lm.Cmp(rm) < 0 {
		v.add(field+".limits.memory", "%s is below the request %s", lm.String(), rm.String())
	}
}

func (v *validator) probes() {
	pr := v.p.Probes
	if pr == nil {
		return
	}
	for _, x := range []struct {
		name string
		p    *Probe
	}{{"readiness", pr.Readiness}, {"liveness", pr.Liveness}, {"startup", pr.Startup}} {
		if x.p == nil {
			continue
		}
		f := "probes." + x.name
		n := 0
		if x.p.HTTP != nil {
			n++
			if !strings.HasPrefix(x.p.HTTP.Path, "/") {
				v.add(f+".http.path", "%q: a path starts with /", x.p.HTTP.Path)
			}
			v.portRef(f+".http.port", x.p.HTTP.Port)
		}
		if x.p.TCP != nil {
			n++
			v.portRef(f+".tcp.port", x.p.TCP.Port)
		}
		if x.p.Exec != nil {
			n++
			if len(x.p.Exec.Command) == 0 {
				v.add(f+".exec.command", "required")
			}
		}
		if n != 1 {
			v.add(f, "give exactly one of http, tcp and exec")
		}
		for name, s := range map[string]int32{"initial_delay_seconds": x.p.InitialDelaySeconds, "period_seconds": x.p.PeriodSeconds, "timeout_seconds": x.p.TimeoutSeconds, "failure_threshold": x.p.FailureThreshold} {
			if s < 0 {
				v.add(f+"."+name, "%d: must not be negative", s)
			}
		}
	}
}

func (v *validator) scaling(prefix string, replicas *int32, a *Autoscaling) {
	if replicas != nil && a != nil {
		v.add(prefix+"autoscaling", "give replicas or autoscaling, not both")
	}
	if replicas != nil && *replicas < 0 {
		v.add(prefix+"replicas", "%d: must not be negative", *replicas)
	}
	if a == nil {
		return
	}
	if a.Min < 1 {
		v.add(prefix+"autoscaling.min", "%d: at least 1", a.Min)
	}
	if a.Max < a.Min {
		v.add(prefix+"autoscaling.max", "%d is below min %d", a.Max, a.Min)
	}
	if a.CPUTarget < 0 || a.CPUTarget > 100 {
		v.add(prefix+"autoscaling.cpu_target", "%d: want a percentage from 1 to 100", a.CPUTarget)
	}
}

var countOrPercent = regexp.MustCompile(`^(?:[0-9]{1,6}|(?:100|[1-9]?[0-9])%)$`)

func (v *validator) pdb(field string, p *PDB) {
	if p == nil {
		return
	}
	if (p.MinAvailable == "") == (p.MaxUnavailable == "") {
		v.add(field, "give exactly one of min_available and max_unavailable")
	}
	if p.MinAvailable != "" && !countOrPercent.MatchString(string(p.MinAvailable)) {
		v.add(field+".min_available", "%q: want a count or a percentage such as 50%%", p.MinAvailable)
	}
	if p.MaxUnavailable != "" && !countOrPercent.MatchString(string(p.MaxUnavailable)) {
		v.add(field+".max_unavailable", "%q: want a count or a percentage such as 50%%", p.MaxUnavailable)
	}
}

// cronParser accepts what the Kubernetes CronJob controller accepts: five
// fields, or a descriptor such as @hourly.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (v *validator) cronjobs() {
	names := map[string]bool{}
	for i, c := range v.p.CronJobs {
		f := fmt.Sprintf("cronjobs[%d]", i)
		v.label(f+".name", c.Name, 63)
		// The CronJob controller appends 11 characters to name its Jobs.
		if full := v.p.Service + "-" + c.Name; len(full) > 52 {
			v.add(f+".name", "%s is %d characters: a CronJob name is at most 52", full, len(full))
		}
		if names[c.Name] {
			v.add(f+".name", "cronjob name %q is used twice", c.Name)
		}
		names[c.Name] = true
		switch {
		case strings.TrimSpace(c.Schedule) == "":
			v.add(f+".schedule", "required")
		case strings.Contains(c.Schedule, "TZ="):
			v.add(f+".schedule", "set the time zone with timezone, not in the schedule")
		case strings.HasPrefix(c.Schedule, "@every"):
			v.add(f+".schedule", "@every is not supported by Kubernetes CronJobs")
		default:
			if _, err := cronParser.Parse(c.Schedule); err != nil {
				v.add(f+".schedule", "%q: %v", c.Schedule, err)
			}
		}
		if len(c.Command) == 0 {
			v.add(f+".command", "required")
		}
		switch c.ConcurrencyPolicy {
		case "", "Allow", "Forbid", "Replace":
		default:
			v.add(f+".concurrency_policy", "%q: want Allow, Forbid or Replace", c.ConcurrencyPolicy)
		}
		if c.TimeZone != "" {
			if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
				v.add(f+".timezone", "%q is not an IANA time zone such as Asia/Seoul", c.TimeZone)
			}
		}
		if c.ActiveDeadlineSeconds != nil && *c.ActiveDeadlineSeconds < 1 {
			v.add(f+".active_deadline_seconds", "at least 1")
		}
		if c.BackoffLimit != nil && *c.BackoffLimit < 0 {
			v.add(f+".backoff_limit", "must not be negative")
		}
		v.resources(f+".resources", c.Resources)
	}
}

func (v *validator) traffic() {
	t := v.p.Traffic
	if t == nil {
		return
	}
	if t.Mesh != "" && t.Mesh != "istio" {
		v.add("traffic.mesh", "%q: the only mesh is istio", t.Mesh)
	}
	if t.Mesh != "" && t.TopologyAwareRouting {
		v.add("traffic.topology_aware_routing", "give mesh or topology_aware_routing, not both: on the mesh, locality load balancing keeps traffic in its zone")
	}
	if t.Mesh == "" && (t.LocalityLB != nil || t.OutlierDetection != nil) {
		v.add("traffic", "locality_lb and outlier_detection need mesh: istio")
	}
	if o := t.OutlierDetection; o != nil {
		for name, s := range map[string]string{"interval": o.Interval, "base_ejection_time": o.BaseEjectionTime} {
			if s == "" {
				continue
			}
			if d, err := time.ParseDuration(s); err != nil || d < time.Millisecond {
				v.add("traffic.outlier_detection."+name, "%q: want a duration of at least 1ms, such as 10s", s)
			}
		}
		if o.MaxEjectionPercent < 0 || o.MaxEjectionPercent > 100 {
			v.add("traffic.outlier_detection.max_ejection_percent", "%d: want 1 to 100", o.MaxEjectionPercent)
		}
		if o.Consecutive5xxErrors < 0 {
			v.add("traffic.outlier_detection.consecutive_5xx_errors", "must not be negative")
		}
	}
}

var regionName = regexp.MustCompile(`^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)

func (v *validator) environments() {
	known := map[string]string{}
	for _, c := range v.r.Clusters {
		known[c.Name] = c.Region
	}
	for _, name := range v.p.EnvironmentNames() {
		e := v.p.Environments[name]
		f := "environments." + name
		v.label(f, name, 63)
		if e.Namespace != "" {
			v.label(f+".namespace", e.Namespace, 63)
		} else if ns := v.p.NamespaceFor(name); len(validation.IsDNS1123Label(ns)) > 0 {
			v.add(f, "the namespace %q is not a DNS-1123 label; set namespace", ns)
		}
		if len(e.Regions) == 0 {
			v.add(f+".regions", "required: at least one region with its clusters")
		}
		seen := map[string]bool{}
		for i, r := range e.Regions {
			rf := fmt.Sprintf("%s.regions[%d]", f, i)
			if !regionName.MatchString(r.Region) {
				v.add(rf+".region", "%q is not an AWS region such as ap-northeast-2", r.Region)
			}
			if len(r.Clusters) == 0 {
				v.add(rf+".clusters", "required: at least one cluster")
			}
			for j, c := range r.Clusters {
				cf := fmt.Sprintf("%s.clusters[%d]", rf, j)
				if seen[c] {
					v.add(cf, "cluster %q is listed twice", c)
				}
				seen[c] = true
				if len(known) == 0 {
					if len(validation.IsDNS1123Subdomain(c)) > 0 {
						v.add(cf, "%q is not a cluster name", c)
					}
					continue
				}
				region, ok := known[c]
				switch {
				case !ok:
					v.add(cf, "unknown cluster %q", c)
				case region != r.Region:
					v.add(cf, "cluster %q is in %s, not %s", c, region, r.Region)
				}
			}
		}
		if o := e.Overrides; o != nil {
			of := f + ".overrides"
			v.scaling(of+".", o.Replicas, o.Autoscaling)
			v.resources(of+".resources", o.Resources)
			v.envs(of+".env", o.Env)
			if o.Routes != nil {
				v.routes(of+".routes", o.Routes)
			}
			v.pdb(of+".pdb", o.PDB)
		}
	}
}
