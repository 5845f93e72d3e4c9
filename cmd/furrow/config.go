package main

import (
	"errors"
	"fmt"

	"github.com/furrowdev/furrow/alerting"
	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/deployer"
	"github.com/furrowdev/furrow/ingest/billing"
	"github.com/furrowdev/furrow/ingest/flowlogs"
	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/ingest/usage"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/query/cost"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/store/embedded"
	"github.com/furrowdev/furrow/store/server"
)

// Configuration is furrow's whole configuration file. Every key, its
// default and its FURROW_* variable are listed in docs/configuration.md
// (`furrow config keys` prints them).
type Configuration struct {
	// Data is the embedded engine's data directory; it survives restarts.
	Data string `yaml:"data"`
	// Log configures logging to standard error.
	Log LogConfiguration `yaml:"log"`
	// Store selects and configures the ClickHouse backend.
	Store StoreConfiguration `yaml:"store"`
	// HTTP configures the API server of `furrow serve`.
	HTTP api.Configuration `yaml:"http"`
	// S3 configures access to S3 (or an S3-compatible store) for flow-log
	// sources, and the prefixes `furrow serve` polls.
	S3 source.Configuration `yaml:"s3"`
	// Kubernetes lists the clusters whose pods and nodes `furrow serve`
	// watches live.
	Kubernetes pods.Configuration `yaml:"kubernetes"`
	// Ingest bounds the ingests clients hand to `furrow serve` (POST
	// /api/v1/ingest/…): the directories and S3 prefixes it may read, and
	// how its jobs run.
	Ingest api.HandOverConfiguration `yaml:"ingest"`
	// Traffic describes the network (VPC, zones, NAT gateways, AWS ranges)
	// and the prices used to classify and cost flows.
	Traffic flowlogs.TrafficConfiguration `yaml:"traffic"`
	// Retention says how long raw flows, rollups and pod history are
	// kept; migrations apply it as table TTLs at every start.
	Retention migrations.Retention `yaml:"retention"`
	// State is the operational store (the catalog's tables): SQLite in the
	// data directory, or PostgreSQL for several replicas.
	State state.Configuration `yaml:"state"`
	// Catalog is the ownership catalog and its HR sync.
	Catalog catalog.Configuration `yaml:"catalog"`
	// Usage is the receiver of the pod CPU and memory usage a Prometheus
	// remote-writes to `furrow serve` (POST /api/v1/usage/prometheus/write).
	Usage usage.Configuration `yaml:"usage"`
	// Billing is the report folders (CUR, Data Exports, FOCUS) `furrow
	// serve` polls for new deliveries; S3 access is the s3 section's.
	Billing billing.Configuration `yaml:"billing"`
	// Cost says how the bill is split to owners (tag keys, node CPU and
	// memory weights, shared namespaces), how often `furrow serve`
	// allocates again, and what an unintended increase is.
	Cost cost.Configuration `yaml:"cost"`
	// Alerting receives Grafana and Alertmanager webhooks and posts one
	// Slack message per namespace and alert (docs/alerting.md).
	Alerting alerting.Configuration `yaml:"alerting"`
	// Deployer deploys services from their project specs to the clusters
	// listed here, and takes external deploy events (docs/deployer.md).
	Deployer deployer.Configuration `yaml:"deployer"`
}

// LogConfiguration configures logging.
type LogConfiguration struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// StoreConfiguration selects the ClickHouse backend.
type StoreConfiguration struct {
	// Backend is embedded (chDB in-process, the default) or server
	// (a ClickHouse server or cluster through clickhouse-go).
	Backend string `yaml:"backend"`
	// Database holds furrow's tables on either backend.
	Database string `yaml:"database"`
	// Embedded configures the embedded engine.
	Embedded embedded.Configuration `yaml:"embedded"`
	// Server configures the server backend.
	Server server.Configuration `yaml:"server"`
}

// DefaultConfiguration returns the defaults of every key.
func DefaultConfiguration() Configuration {
	return Configuration{
		Data: "./data",
		Log:  LogConfiguration{Level: "info", Format: "text"},
		Store: StoreConfiguration{
			Backend:  "embedded",
			Database: "furrow",
			Embedded: embedded.DefaultConfiguration(),
			Server:   server.DefaultConfiguration(),
		},
		HTTP:       api.DefaultConfiguration(),
		S3:         source.DefaultConfiguration(),
		Kubernetes: pods.DefaultConfiguration(),
		Ingest:     api.DefaultHandOverConfiguration(),
		Traffic:    flowlogs.DefaultTrafficConfiguration(),
		Retention:  migrations.DefaultRetention(),
		State:      state.DefaultConfiguration(),
		Catalog:    catalog.DefaultConfiguration(),
		Usage:      usage.DefaultConfiguration(),
		Billing:    billing.DefaultConfiguration(),
		Cost:       cost.DefaultConfiguration(),
		Alerting:   alerting.DefaultConfiguration(),
		Deployer:   deployer.DefaultConfiguration(),
	}
}

// Validate checks the whole configuration and reports every problem.
func (c Configuration) Validate() error {
	var errs []error
	switch c.Store.Backend {
	case "embedded":
		if c.Data == "" {
			errs = append(errs, errors.New("data: empty (the embedded engine needs a data directory)"))
		}
	case "server":
	default:
		errs = append(errs, fmt.Errorf("store.backend: %q is not embedded or server", c.Store.Backend))
	}
	if c.Store.Database == "" {
		errs = append(errs, errors.New("store.database: empty"))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	for _, v := range []struct {
		key string
		err error
	}{
		{"store.embedded", c.Store.Embedded.Validate()},
		{"http", c.HTTP.Validate()},
		{"s3", c.S3.Validate()},
		{"kubernetes", c.Kubernetes.Validate()},
		{"ingest", c.Ingest.Validate()},
		{"traffic", c.Traffic.Validate()},
		{"retention", c.Retention.Validate()},
		{"state", c.State.Validate()},
		{"catalog", c.Catalog.Validate()},
		{"usage", c.Usage.Validate()},
		{"billing", c.Billing.Validate()},
		{"cost", c.Cost.Validate()},
		{"alerting", c.Alerting.Validate()},
		{"deployer", c.Deployer.Validate()},
	} {
		if v.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.key, v.err))
		}
	}
	return errors.Join(errs...)
}
