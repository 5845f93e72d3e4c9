// Package kube talks to the Kubernetes clusters the deployer ships to, with
// client-go: it applies rendered objects with server-side apply (field
// manager "furrow"), watches the rollout until the workloads are available
// or says why not from what the cluster reports (image pulls, crash loops,
// scheduling, readiness probes, quotas, deadlines), diffs desired objects
// against the live ones, lists and deletes orphans by label, and runs the
// day-two operations: restart, scale, trigger a CronJob and read a Job's
// logs.
//
// A Cluster is built from a rest.Config; kinds are mapped to resources with
// a cached discovery RESTMapper that is refreshed once when a kind is not
// found, so CRDs installed after the Cluster was built are seen.
package kube
