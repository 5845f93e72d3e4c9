// Package demo generates a realistic, internally consistent demo data set for
// furrow's cross-zone traffic analysis: AWS VPC flow logs (v5 custom format,
// gzip objects in the S3 key layout), Kubernetes node and pod snapshots
// (kubectl JSON), the network configuration that classifies addresses, and
// the ground truth the generator intended, so tests can check that ingestion
// and attribution recover it.
//
// The simulated cluster (demo-eu, eu-west-1, three zones) runs an Istio mesh
// of a dozen service namespaces behind an ingress gateway, with Prometheus,
// CoreDNS, a CronJob, rolling deploys, autoscaling and pod IP reuse. On the
// second day one namespace (checkout by default) switches on Istio locality
// load balancing, so a before/after comparison shows its cross-zone share
// drop from about two thirds to about one tenth. Its pods carry realistic
// requests and limits (a few none) and its nodes are EC2 instances with
// aws:///<zone>/i-… provider ids, listed by Instances for a matching bill.
//
// Everything is a pure function of Options: the same seed gives the same
// bytes. Flow-log files are produced in parallel, each from its own random
// stream, so the output does not depend on scheduling.
package demo
