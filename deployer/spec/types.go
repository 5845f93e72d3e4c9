package spec

// Project is a service's project spec: what runs, and where.
type Project struct {
	// Project is the catalog project id the service belongs to (DNS-1123 label). It names the default namespace, <project>-<environment>.
	Project string `yaml:"project" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// Service is the service's name (DNS-1123 label): the Deployment, Service and ServiceAccount are named after it.
	Service string `yaml:"service" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// Image is the container image, built once and deployed unchanged to every environment: a registry path with a tag other than latest, or a digest (@sha256:…).
	Image string `yaml:"image" jsonschema:"required"`
	// Namespace overrides the default namespace <project>-<environment> for every environment (an environment may set its own).
	Namespace string `yaml:"namespace,omitempty"`
	// Command replaces the image's entrypoint.
	Command []string `yaml:"command,omitempty"`
	// Args replaces the image's arguments.
	Args []string `yaml:"args,omitempty"`
	// Ports are the ports the service listens on; names must be unique and are what routes and probes refer to.
	Ports []Port `yaml:"ports,omitempty"`
	// Routes expose a port to clients outside the cluster, by host and path (an Ingress, or a VirtualService on the mesh gateway when traffic.mesh is istio).
	Routes []Route `yaml:"routes,omitempty"`
	// Env holds plain environment variables (never secrets: use secrets for those).
	Env map[string]string `yaml:"env,omitempty"`
	// Config holds configuration files, rendered as a ConfigMap whose name carries a hash of its content so that a change rolls the pods.
	Config *Config `yaml:"config,omitempty"`
	// Secrets reference AWS Secrets Manager secrets (at most 8), resolved at deploy time and applied all together: all new or all old.
	Secrets []Secret `yaml:"secrets,omitempty" jsonschema:"maxItems=8"`
	// Resources are the container's requests and limits; absent values take the company defaults (requests 100m CPU and 128Mi memory, memory limit twice the request, no CPU limit).
	Resources *Resources `yaml:"resources,omitempty"`
	// Probes are the readiness, liveness and startup checks.
	Probes *Probes `yaml:"probes,omitempty"`
	// Replicas is the fixed number of pods (default 2); leave it out when autoscaling is set.
	Replicas *int32 `yaml:"replicas,omitempty"`
	// Autoscaling scales the pods on CPU with a HorizontalPodAutoscaler instead of a fixed replica count.
	Autoscaling *Autoscaling `yaml:"autoscaling,omitempty"`
	// PDB is the PodDisruptionBudget; by default at most one pod is unavailable during voluntary disruptions when there are two pods or more.
	PDB *PDB `yaml:"pdb,omitempty"`
	// Security adjusts the container's security context; pods always run as non-root without privilege escalation.
	Security *Security `yaml:"security,omitempty"`
	// CronJobs are scheduled jobs run from the service's image, with its env, config and secrets.
	CronJobs []CronJob `yaml:"cronjobs,omitempty"`
	// Traffic chooses how traffic reaches the pods: Istio with locality load balancing and outlier detection, or Kubernetes topology-aware routing outside the mesh.
	Traffic *Traffic `yaml:"traffic,omitempty"`
	// Environments are where the service is deployed, by name (dev, staging, prod, …): the regions and clusters of each, and its overrides.
	Environments map[string]Environment `yaml:"environments" jsonschema:"required"`

	file string
	pos  map[string]position
}

// Port is a port the service listens on.
type Port struct {
	// Name is the port's name (DNS-1123 label, at most 15 characters), used by routes and probes.
	Name string `yaml:"name" jsonschema:"required"`
	// Port is the container port, which is also the Service port.
	Port int32 `yaml:"port" jsonschema:"required,minimum=1,maximum=65535"`
	// Protocol is the application protocol: http (default), http2, grpc, tcp or udp.
	Protocol string `yaml:"protocol,omitempty" jsonschema:"enum=http,enum=http2,enum=grpc,enum=tcp,enum=udp"`
}

// Route exposes a port for a host and path prefix.
type Route struct {
	// Host is the DNS name clients use.
	Host string `yaml:"host" jsonschema:"required"`
	// Path is the path prefix (default /).
	Path string `yaml:"path,omitempty"`
	// Port is the name or number of one of the service's ports (default: the first port).
	Port PortRef `yaml:"port,omitempty"`
}

// PortRef names a port of the service by name or by number.
type PortRef string

// IntOrPercent is a count such as 2 or a percentage such as 50%.
type IntOrPercent string

// Config is the service's configuration files.
type Config struct {
	// MountPath is the directory where the files appear (default /etc/<service>).
	MountPath string `yaml:"mount_path,omitempty"`
	// Files maps file names to their content.
	Files map[string]string `yaml:"files,omitempty"`
}

// Secret references one AWS Secrets Manager secret and says how the container sees it.
type Secret struct {
	// Name names the secret within the spec (DNS-1123 label); it is also the key in the rendered Kubernetes Secret.
	Name string `yaml:"name" jsonschema:"required"`
	// SecretID is the secret's ARN or name in AWS Secrets Manager.
	SecretID string `yaml:"secret_id" jsonschema:"required"`
	// VersionStage selects a staging label (default AWSCURRENT); exclusive with version_id.
	VersionStage string `yaml:"version_stage,omitempty"`
	// VersionID pins one version of the secret; exclusive with version_stage.
	VersionID string `yaml:"version_id,omitempty"`
	// Key picks one top-level key of a secret stored as a JSON object; without it the whole secret string is used.
	Key string `yaml:"key,omitempty"`
	// Env is the environment variable that receives the value; exactly one of env and file.
	Env string `yaml:"env,omitempty"`
	// File is the absolute path of a file that receives the value; exactly one of env and file.
	File string `yaml:"file,omitempty"`
}

// Resources are a container's requests and limits.
type Resources struct {
	// Requests is what the scheduler reserves for each pod.
	Requests *ResourceList `yaml:"requests,omitempty"`
	// Limits caps what a pod may use; a memory limit below the request is an error.
	Limits *ResourceList `yaml:"limits,omitempty"`
}

// ResourceList is a CPU and memory amount in Kubernetes quantity notation.
type ResourceList struct {
	// CPU in cores or millicores, e.g. 250m or 1.
	CPU string `yaml:"cpu,omitempty"`
	// Memory in bytes with a suffix, e.g. 256Mi or 1Gi.
	Memory string `yaml:"memory,omitempty"`
}

// Probes are a container's health checks.
type Probes struct {
	// Readiness decides whether a pod receives traffic.
	Readiness *Probe `yaml:"readiness,omitempty"`
	// Liveness restarts a pod whose check keeps failing.
	Liveness *Probe `yaml:"liveness,omitempty"`
	// Startup holds the other probes back until a slow-starting pod is up.
	Startup *Probe `yaml:"startup,omitempty"`
}

// Probe is one health check: exactly one of http, tcp and exec.
type Probe struct {
	// HTTP checks that a GET of the path answers 2xx or 3xx.
	HTTP *HTTPCheck `yaml:"http,omitempty"`
	// TCP checks that the port accepts connections.
	TCP *TCPCheck `yaml:"tcp,omitempty"`
	// Exec runs a command in the container; exit code 0 is healthy.
	Exec *ExecCheck `yaml:"exec,omitempty"`
	// InitialDelaySeconds waits before the first check.
	InitialDelaySeconds int32 `yaml:"initial_delay_seconds,omitempty" jsonschema:"minimum=0"`
	// PeriodSeconds is the time between checks (default 10).
	PeriodSeconds int32 `yaml:"period_seconds,omitempty" jsonschema:"minimum=0"`
	// TimeoutSeconds bounds one check (default 1).
	TimeoutSeconds int32 `yaml:"timeout_seconds,omitempty" jsonschema:"minimum=0"`
	// FailureThreshold is how many failures in a row count as failed (default 3).
	FailureThreshold int32 `yaml:"failure_threshold,omitempty" jsonschema:"minimum=0"`
}

// HTTPCheck is an HTTP GET health check.
type HTTPCheck struct {
	// Path is the request path, e.g. /healthz.
	Path string `yaml:"path" jsonschema:"required"`
	// Port is the name or number of one of the service's ports (default: the first port).
	Port PortRef `yaml:"port,omitempty"`
}

// TCPCheck is a TCP connect health check.
type TCPCheck struct {
	// Port is the name or number of one of the service's ports (default: the first port).
	Port PortRef `yaml:"port,omitempty"`
}

// ExecCheck runs a command in the container.
type ExecCheck struct {
	// Command is the program and its arguments.
	Command []string `yaml:"command" jsonschema:"required"`
}

// Autoscaling is a HorizontalPodAutoscaler on CPU utilization.
type Autoscaling struct {
	// Min is the lowest number of pods (at least 1).
	Min int32 `yaml:"min" jsonschema:"required,minimum=1"`
	// Max is the highest number of pods (at least min).
	Max int32 `yaml:"max" jsonschema:"required,minimum=1"`
	// CPUTarget is the average CPU utilization to keep, in percent of the request (default 70).
	CPUTarget int32 `yaml:"cpu_target,omitempty" jsonschema:"minimum=1,maximum=100"`
}

// PDB is a PodDisruptionBudget: exactly one of min_available and max_unavailable, each a count or a percentage such as 50%.
type PDB struct {
	// MinAvailable is how many pods must stay up during voluntary disruptions.
	MinAvailable IntOrPercent `yaml:"min_available,omitempty"`
	// MaxUnavailable is how many pods may be down during voluntary disruptions.
	MaxUnavailable IntOrPercent `yaml:"max_unavailable,omitempty"`
}

// Security adjusts the container's security context within the company rules.
type Security struct {
	// RunAsUser is the user id the container runs as; 0 (root) is forbidden.
	RunAsUser *int64 `yaml:"run_as_user,omitempty"`
	// ReadOnlyRootFilesystem mounts the image's file system read-only (default false).
	ReadOnlyRootFilesystem bool `yaml:"read_only_root_filesystem,omitempty"`
}

// CronJob is a job run on a schedule from the service's image.
type CronJob struct {
	// Name is the CronJob's name suffix (DNS-1123 label): the object is <service>-<name>.
	Name string `yaml:"name" jsonschema:"required"`
	// Schedule is a five-field cron expression (minute hour day-of-month month day-of-week) or a descriptor such as @hourly.
	Schedule string `yaml:"schedule" jsonschema:"required"`
	// Command is the program and its arguments.
	Command []string `yaml:"command" jsonschema:"required"`
	// ConcurrencyPolicy says what to do when the previous run is still going: Forbid (default), Allow or Replace.
	ConcurrencyPolicy string `yaml:"concurrency_policy,omitempty" jsonschema:"enum=Allow,enum=Forbid,enum=Replace"`
	// TimeZone is the IANA time zone of the schedule (default UTC), e.g. Asia/Seoul.
	TimeZone string `yaml:"timezone,omitempty"`
	// Suspend stops new runs without removing the CronJob.
	Suspend bool `yaml:"suspend,omitempty"`
	// ActiveDeadlineSeconds bounds a run's duration.
	ActiveDeadlineSeconds *int64 `yaml:"active_deadline_seconds,omitempty" jsonschema:"minimum=1"`
	// BackoffLimit is how many times a failed run is retried (default 2).
	BackoffLimit *int32 `yaml:"backoff_limit,omitempty" jsonschema:"minimum=0"`
	// Resources override the service's resources for the job.
	Resources *Resources `yaml:"resources,omitempty"`
}

// Traffic chooses how traffic reaches the pods. Set mesh or topology_aware_routing, not both.
type Traffic struct {
	// Mesh puts the service on the Istio mesh ("istio"): routes become a VirtualService and a DestinationRule adds outlier detection and locality load balancing.
	Mesh string `yaml:"mesh,omitempty" jsonschema:"enum=istio"`
	// LocalityLB keeps mesh traffic in the caller's zone while it has healthy endpoints (default true with mesh).
	LocalityLB *bool `yaml:"locality_lb,omitempty"`
	// OutlierDetection ejects failing endpoints (mesh only); defaults apply when absent.
	OutlierDetection *OutlierDetection `yaml:"outlier_detection,omitempty"`
	// TopologyAwareRouting sets service.kubernetes.io/topology-mode: Auto on the Service, so that kube-proxy keeps traffic in its zone, for services outside the mesh.
	TopologyAwareRouting bool `yaml:"topology_aware_routing,omitempty"`
}

// OutlierDetection ejects endpoints that keep failing from the load-balancing pool.
type OutlierDetection struct {
	// Consecutive5xxErrors ejects an endpoint after this many 5xx answers in a row (default 5).
	Consecutive5xxErrors int32 `yaml:"consecutive_5xx_errors,omitempty" jsonschema:"minimum=1"`
	// Interval is how often endpoints are evaluated, as a duration such as 10s (default 10s).
	Interval string `yaml:"interval,omitempty"`
	// BaseEjectionTime is how long an endpoint stays out the first time (default 30s).
	BaseEjectionTime string `yaml:"base_ejection_time,omitempty"`
	// MaxEjectionPercent caps the share of endpoints ejected at once (default 50).
	MaxEjectionPercent int32 `yaml:"max_ejection_percent,omitempty" jsonschema:"minimum=1,maximum=100"`
}

// Environment is one environment: where it runs and what differs there.
type Environment struct {
	// Namespace overrides the namespace in this environment (default: the spec's namespace, or <project>-<environment>).
	Namespace string `yaml:"namespace,omitempty"`
	// Regions lists the AWS regions and, in each, the clusters to deploy to.
	Regions []Region `yaml:"regions" jsonschema:"required"`
	// Overrides change scaling, resources, env and routes in this environment; the image is never overridden.
	Overrides *Overrides `yaml:"overrides,omitempty"`
}

// Region is an AWS region and its target clusters.
type Region struct {
	// Region is the AWS region, e.g. ap-northeast-2.
	Region string `yaml:"region" jsonschema:"required"`
	// Clusters are the cluster names in the region to deploy to.
	Clusters []string `yaml:"clusters" jsonschema:"required"`
}

// Overrides are an environment's differences from the spec's top level.
type Overrides struct {
	// Replicas replaces the fixed replica count.
	Replicas *int32 `yaml:"replicas,omitempty"`
	// Autoscaling replaces the autoscaling settings.
	Autoscaling *Autoscaling `yaml:"autoscaling,omitempty"`
	// Resources replaces the requests and limits given here (others are kept).
	Resources *Resources `yaml:"resources,omitempty"`
	// Env is merged over the top-level env.
	Env map[string]string `yaml:"env,omitempty"`
	// Routes replace the top-level routes (hosts often differ per environment).
	Routes []Route `yaml:"routes,omitempty"`
	// PDB replaces the PodDisruptionBudget.
	PDB *PDB `yaml:"pdb,omitempty"`
}
