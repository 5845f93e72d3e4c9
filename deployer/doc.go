// Package deployer is furrow's deployer (Kontrol): a short YAML spec per
// service (package deployer/spec) rendered to Kubernetes manifests,
// applied to every cluster of its environment with server-side apply and
// watched until rolled out (deployer/kube), secrets resolved from AWS
// Secrets Manager (deployer/secrets); one deploy at a time per project and
// environment through a lock in the operational store, which also keeps
// the deploy ids, who did what, when and with what result; and the
// operations around it: rollback, restart, scale, CronJob trigger. Every
// action is also a deploy_events row in ClickHouse (deployer/events).
package deployer
