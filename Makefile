# furrow — two commands on a fresh machine:
#   make run    set up, migrate, load the demo data set on first start, serve on 127.0.0.1:8080
#   make test   set up (engine library, MinIO, Kubernetes control plane) and run every test
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export GOTOOLCHAIN := local

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FURROW  := bin/furrow
DATA    ?= ./data
DEMO    ?= ./demo-data
GO_TEST_FLAGS ?= -timeout 20m

.PHONY: all setup setup-chdb setup-minio setup-k8s setup-node-client setup-frontend setup-postgres setup-chromium setup-test build plugin frontend-test run demo test vet fmt-check bench bench-store bench-ingest bench-query bench-latency bench-plugin bench-catalog bench-usage bench-billing bench-cost bench-alerting bench-deployer clean

all: build

## setup: fetch the embedded ClickHouse engine (libchdb.so, pinned, checksum checked) into ~/.cache/furrow
setup: setup-chdb
	go mod download

setup-chdb:
	@bash scripts/setup-chdb.sh

## setup-minio / setup-k8s: build the real S3 server and Kubernetes control plane the tests use (cached)
setup-minio:
	@bash scripts/setup-minio.sh

setup-k8s:
	@bash scripts/setup-k8s.sh

## setup-node-client: the official ClickHouse JS client (npm, pinned, integrity checked) the tests run against /clickhouse/
setup-node-client:
	@bash scripts/setup-node-client.sh

## setup-frontend: the plugin frontend's npm dependencies (package-lock.json, npm ci)
setup-frontend:
	@bash scripts/setup-frontend.sh

## setup-postgres: Debian's PostgreSQL for the operational store's tests (installed when missing)
setup-postgres:
	@bash scripts/setup-postgres.sh

## setup-chromium: Debian's chromium for the /alerts page's browser test (installed when missing)
setup-chromium:
	@bash scripts/setup-chromium.sh

setup-test: setup setup-minio setup-k8s setup-node-client setup-frontend setup-postgres setup-chromium

build: setup
	go build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(FURROW) ./cmd/furrow

## run: everything a newcomer needs; then try `curl 127.0.0.1:8080/healthz` and `bin/furrow sql "SELECT version()"`
run: build
	@FURROW=$(FURROW) DATA=$(DATA) DEMO=$(DEMO) bash scripts/run.sh

## test: vet, format check and every test, on the real engines
test: setup-test vet fmt-check frontend-test
	go test $(GO_TEST_FLAGS) ./...

## frontend-test: type-check the plugin frontend and run its unit tests
frontend-test: setup-frontend
	cd datasource/frontend && npm run --silent typecheck && npm test --silent

## plugin: furrow's Grafana datasource plugin (backend for linux amd64/arm64 and darwin arm64, module.js, plugin.json) and a provisioning tree, in build/grafana
plugin: setup
	@VERSION=$(VERSION) bash scripts/build-plugin.sh

vet:
	go vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: print the figures of every data-moving capability (never asserted in tests)
bench: setup bench-store bench-ingest bench-query bench-latency bench-plugin bench-catalog bench-usage bench-billing bench-cost bench-alerting bench-deployer

bench-store:
	go test -run '^$$' -bench . -benchtime 1x ./store/embedded/

bench-ingest:
	go test -run '^$$' -bench 'IngestEndToEnd' -benchtime 1x -timeout 30m ./ingest/flowlogs/
	go test -run '^$$' -bench 'SmallObjects' -benchtime 1x -timeout 30m ./ingest/flowlogs/
	go test -run '^$$' -bench 'IngestGoSide' -benchtime 3x ./ingest/flowlogs/
	go test -run '^$$' -bench 'Attribute|Parse' ./ingest/flowlogs/
	go test -run '^$$' -bench . ./ingest/pods/

# Raw flows for the top-talkers benchmark: FURROW_BENCH_RAW_ROWS (default 10M;
# the figure in issue 3's note was taken with 100M).
bench-query:
	go test -run '^$$' -bench . -benchtime 3x -timeout 30m ./query/traffic/

# Query latency (p50/p99 of a small SQL query and a top-talkers report),
# idle and while a 1M-record ingest runs through the server (target p99 <
# 250 ms). FURROW_BENCH_LATENCY_VERBOSE=1 prints the slow queries and the
# statements that held the engine.
# The cross-zone dashboard's panel queries through the built Grafana plugin
# (gRPC) against the same work on the store (target overhead ≤ 1.2×).
bench-plugin:
	go test -run '^$$' -bench PluginPath -benchtime 5x ./datasource/

# The catalog: HR sync of 20k people in 2k teams (first, again, a rename),
# owner lookups per second in process and through the API.
bench-catalog:
	go test -run '^$$' -bench 'HRSync|Retag' -benchtime 1x ./catalog/
	go test -run '^$$' -bench OwnerLookup ./catalog/

# Prometheus remote write of pod usage: samples/s stored next to the same
# bodies decoded by prompb alone (FURROW_BENCH_USAGE_PODS, _SCRAPES).
bench-usage:
	go test -run '^$$' -bench Receive -benchtime 1x ./ingest/usage/

# Billing: a 116-column CUR 1.0 bill of FURROW_BENCH_BILLING_ROWS line items
# (default 2M) as CSV.gz and Parquet, next to the engine loading the same
# CSV.gz with a plain mapping (targets: ≥ 0.8×, 10M rows < 60 s, < 1 GiB).
bench-billing:
	go test -run '^$$' -bench IngestBilling -benchtime 1x -timeout 60m ./ingest/billing/

# Cost by team over 12 months of allocated cost (the daily rollups of 10M
# line items a month) next to the same report from one month's hourly rows
# (target < 500 ms; FURROW_BENCH_COST_DAILY_ROWS, _HOURLY_ROWS).
bench-cost:
	go test -run '^$$' -bench CostByTeam -benchtime 1x -timeout 30m ./query/cost/

# Alert acceptance: Alertmanager webhooks from this process to `furrow
# serve` (FURROW_BENCH_ALERTS alerts, default 100k, at 2,000 alerts/s then
# flat out; target p99 < 50 ms), next to GET /healthz of the same server,
# and the delivery lag to the local Slack API.
bench-alerting:
	go test -run '^$$' -bench AlertAcceptance -benchtime 1x -timeout 30m ./cmd/furrow/

# The deployer: parse+validate+render of a 200-service repository
# (FURROW_BENCH_RENDER_SERVICES) next to reading the same YAML, and
# FURROW_BENCH_DEPLOY_SERVICES deploys (default 50) to two local control
# planes, 10 in flight: total, p50/p90, the rollout's share.
bench-deployer:
	go test -run '^$$' -bench 'RenderRepository|Deploy$$' -benchtime 1x -timeout 30m ./deployer/

bench-latency:
	go test -run '^$$' -bench QueryLatencyDuringIngest -benchtime 1x -timeout 20m ./cmd/furrow/

clean:
	rm -rf bin
