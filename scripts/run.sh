#!/usr/bin/env bash
# `make run`: migrate the embedded store, load the demo data set on first
# start, print the cross-zone report, then serve on 127.0.0.1:8080 in dev
# mode (loopback clients need no token). Called by the Makefile.
set -euo pipefail
FURROW="${FURROW:-bin/furrow}"
DATA="${DATA:-./data}"
DEMO="${DEMO:-./demo-data}"
CFG="$DEMO/furrow.yaml"
marker="$DATA/.demo-loaded"

if [[ ! -f "$CFG" ]]; then
  echo "== generating the demo data set in $DEMO (2 days, 3 AZs, ~60 nodes, ~1.5k pods/day)"
  "$FURROW" demo generate "$DEMO"
fi
# With the demo's configuration: its retention keeps the demo's fixed dates,
# which the default retention (30 days of raw flows) would delete.
"$FURROW" --data "$DATA" --config "$CFG" migrate

# --- demo data (first start only; re-running an ingest never double counts) ---
if [[ ! -f "$marker" ]]; then
  echo "== loading pod and node snapshots"
  "$FURROW" --data "$DATA" --config "$CFG" ingest pods --cluster demo-eu "$DEMO/k8s"
  echo "== loading VPC flow logs (S3 key layout under $DEMO/s3)"
  "$FURROW" --data "$DATA" --config "$CFG" ingest flowlogs "$DEMO/s3"
  touch "$marker"
fi
# The bills (CUR 2.0 of the cluster's account, FOCUS of a data-platform
# account): loading the same files again changes nothing.
if [[ -d "$DEMO/billing" ]]; then
  echo "== loading the bills"
  "$FURROW" --data "$DATA" --config "$CFG" ingest billing "$DEMO/billing/cur2" "$DEMO/billing/focus"
fi
# The ownership catalog: teams and people from the demo's HR export, the
# projects that own its namespaces (a few left unowned on purpose). Both
# are idempotent: a second run changes nothing.
if [[ -f "$DEMO/catalog/hr.yaml" ]]; then
  echo "== ownership catalog: HR sync and projects"
  "$FURROW" --data "$DATA" --config "$CFG" catalog sync --file "$DEMO/catalog/hr.yaml"
  "$FURROW" --data "$DATA" --config "$CFG" catalog apply "$DEMO/catalog/projects.yaml"
fi
# Alert delivery: the demo's Alertmanager and Grafana webhooks, replayed at
# the times they were received, delivered to a local stand-in of Slack's
# Web API (furrow demo slack: it prints each message; it is not Slack and
# nothing leaves the machine). Replaying again records nothing.
SLACK_LISTEN="${SLACK_LISTEN:-127.0.0.1:8091}"
if [[ -d "$DEMO/alerts" ]]; then
  echo "== Slack stand-in on http://$SLACK_LISTEN/api/ (a LOCAL STAND-IN, NOT Slack: messages are printed below, nothing is sent)"
  "$FURROW" demo slack --listen "$SLACK_LISTEN" &
  slack_pid=$!
  trap 'kill "$slack_pid" 2>/dev/null || true' EXIT
  export FURROW_ALERTING_SLACK_API_URL="http://$SLACK_LISTEN/api/" FURROW_ALERTING_SLACK_TOKEN="xoxb-demo-not-a-real-token"
  echo "== alerts: replaying the demo's webhooks ($DEMO/alerts) at their receive times, delivered to the stand-in"
  "$FURROW" --data "$DATA" --config "$CFG" alerts replay --deliver "$DEMO/alerts"
fi
# The deployer's history over the demo's days (deploys, failures with their
# causes, a rollback, restarts, scale events, CronJob triggers). Loading it
# again stores nothing twice.
if [[ -f "$DEMO/deploy-events.jsonl" ]]; then
  echo "== deploy events: loading the demo's deploy history"
  "$FURROW" --data "$DATA" --config "$CFG" deploy events load "$DEMO/deploy-events.jsonl"
fi
echo "== cross-zone report (demo: locality load balancing switched on for checkout on 2026-11-02)"
"$FURROW" --data "$DATA" --config "$CFG" report cross-zone --namespace checkout --at 2026-11-02
echo
echo "== cross-zone cost per team pair (owners from the catalog)"
"$FURROW" --data "$DATA" --config "$CFG" report cross-zone --by team --limit 8
echo
echo "== who owns each namespace, and the unowned ones"
"$FURROW" --data "$DATA" --config "$CFG" catalog namespaces
if [[ -d "$DEMO/billing" ]]; then
  echo
  echo "== cost: the bill split to owners (node cost to the pods on each node by requests and usage, idle, shared, unowned), anomalies judged as of the demo's end"
  "$FURROW" --data "$DATA" --config "$CFG" cost allocate --at 2026-11-03 >/dev/null
  "$FURROW" --data "$DATA" --config "$CFG" report cost --from 2026-11-01 --to 2026-11-02 --at 2026-11-03 --shared apart --show breakdown,network,anomalies
  echo
  echo "== cost by team, project and namespace, shared namespaces spread over the others"
  "$FURROW" --data "$DATA" --config "$CFG" report cost --from 2026-11-01 --to 2026-11-02 --by team,project,namespace --limit 12 --show breakdown
fi

cat <<MSG

== starting furrow serve on http://127.0.0.1:8080 (dev mode: loopback needs no token)
   curl 127.0.0.1:8080/healthz
   curl -s '127.0.0.1:8080/api/v1/traffic/top?by=namespace&format=table'
   $FURROW sql "SELECT version()"          # goes through the running server
   $FURROW ingest flowlogs $DEMO/s3          # a job of the server (ingest.roots: $DEMO); nothing new to store
   $FURROW sql -f Pretty "SELECT src_namespace, dst_namespace, round(sum(cost_usd), 2) AS usd FROM flow_traffic_hourly WHERE traffic_class = 'cross-zone' GROUP BY ALL ORDER BY usd DESC LIMIT 10"
   # the ClickHouse HTTP interface, for Grafana's ClickHouse datasource, DBeaver, clickhouse-go, @clickhouse/client:
   curl -s '127.0.0.1:8080/clickhouse/' --data-binary "SELECT toDate(day) AS d, round(sum(cost_usd), 2) AS usd FROM flow_traffic_daily WHERE traffic_class = 'cross-zone' GROUP BY d ORDER BY d FORMAT PrettyCompact"
   curl -s '127.0.0.1:8080/api/v1/cost/breakdown?by=team&granularity=day&from=2026-11-01&to=2026-11-02&format=table'
   curl -s '127.0.0.1:8080/api/v1/alerts/current?format=table'     # the demo's alert still firing
   $FURROW sql -f Pretty "SELECT namespace, alertname, count() AS incidents, round(quantile(0.9)(duration_seconds) / 60, 1) AS p90_minutes FROM alert_incidents GROUP BY ALL ORDER BY incidents DESC LIMIT 10"
   curl -s '127.0.0.1:8080/api/v1/deploys/metrics?metric=failure_causes&from=2026-11-01&to=2026-11-02'   # also change_failure_rate, time_to_restore, …
   alerts posted to /api/v1/alerts/alertmanager are delivered to the Slack stand-in ($SLACK_LISTEN, not Slack)
   metrics: curl 127.0.0.1:8080/metrics      stop: Ctrl-C
MSG
# The demo directory is the hand-over root, so that `furrow ingest flowlogs
# ./demo-data/s3` run while the server holds ./data is handed to it.
DEMO_ABS="$(cd "$DEMO" && pwd)"
# Not exec: the EXIT trap stops the Slack stand-in when serve ends.
FURROW_HTTP_DEV_MODE=true FURROW_INGEST_ROOTS="['$DEMO_ABS']" "$FURROW" --data "$DATA" --config "$CFG" serve
