// Package spec reads, checks and renders a service's project spec: the short
// YAML file a service team keeps in its repository to describe what runs
// (one image, its ports, routes, configuration, secrets, probes, scaling,
// CronJobs) and where (environments → regions → clusters), without writing
// Kubernetes manifests.
//
// The flow is Parse (strict: an unknown key is an error that names its file,
// line, column and field path), Validate against the company rules, then
// Render for one Target into Kubernetes objects that the deployer applies.
// The image is built once and is the same in every environment; an
// environment's overrides may change scaling, resources, env and routes,
// never the image. Schema publishes a JSON Schema of the spec for editors.
package spec
