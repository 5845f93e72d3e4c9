-- 0001_ingest_ledger
-- The ingest ledger: one row per source object (S3 object or file) that was
-- ingested completely. An object whose id is here is never ingested again.
CREATE TABLE IF NOT EXISTS ingested_objects_local ON CLUSTER `furrow` (
    source_id String COMMENT 's3://bucket/key?etag=E or file:///path?size=N&sha256=H',
    kind LowCardinality(String) COMMENT 'what was ingested: flowlogs, pods, …',
    url String,
    size UInt64,
    records_read UInt64,
    records_stored UInt64,
    records_rejected UInt64,
    first_errors Array(String) COMMENT 'first rejected lines as file:line: reason',
    started_at DateTime64(3, 'UTC'),
    finished_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', finished_at)
ORDER BY source_id
SETTINGS replicated_deduplication_window = 1000
;
-- 0001_ingest_ledger
CREATE TABLE IF NOT EXISTS ingested_objects ON CLUSTER `furrow` AS ingested_objects_local ENGINE = Distributed(`furrow`, currentDatabase(), ingested_objects_local, cityHash64(source_id))
;
-- 0002_flow_logs
-- VPC flow log records, one row per record, with the attribution of both
-- ends (pod/namespace/workload/node/zone at the flow's time), the traffic
-- class and the cost. Raw columns are named after the AWS fields in
-- snake_case; `-` in the source is stored as the column default (0, '' or ::).
-- IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d).
CREATE TABLE IF NOT EXISTS flow_logs_local ON CLUSTER `furrow` (
    version UInt8,
    account_id LowCardinality(String),
    interface_id LowCardinality(String),
    srcaddr IPv6,
    dstaddr IPv6,
    srcport UInt16,
    dstport UInt16,
    protocol UInt8,
    packets UInt64,
    bytes UInt64,
    start DateTime('UTC'),
    end DateTime('UTC'),
    action LowCardinality(String),
    log_status LowCardinality(String),
    vpc_id LowCardinality(String),
    subnet_id LowCardinality(String),
    instance_id LowCardinality(String),
    tcp_flags UInt16,
    type LowCardinality(String),
    pkt_srcaddr IPv6,
    pkt_dstaddr IPv6,
    region LowCardinality(String),
    az_id LowCardinality(String),
    sublocation_type LowCardinality(String),
    sublocation_id LowCardinality(String),
    pkt_src_aws_service LowCardinality(String),
    pkt_dst_aws_service LowCardinality(String),
    flow_direction LowCardinality(String),
    traffic_path UInt8,
    resource_type LowCardinality(String),
    tgw_id LowCardinality(String),
    tgw_attachment_id LowCardinality(String),
    tgw_src_vpc_account_id LowCardinality(String),
    tgw_dst_vpc_account_id LowCardinality(String),
    tgw_src_vpc_id LowCardinality(String),
    tgw_dst_vpc_id LowCardinality(String),
    tgw_src_subnet_id LowCardinality(String),
    tgw_dst_subnet_id LowCardinality(String),
    tgw_src_eni LowCardinality(String),
    tgw_dst_eni LowCardinality(String),
    tgw_src_az_id LowCardinality(String),
    tgw_dst_az_id LowCardinality(String),
    tgw_pair_attachment_id LowCardinality(String),
    packets_lost_no_route UInt64,
    packets_lost_blackhole UInt64,
    packets_lost_mtu_exceeded UInt64,
    packets_lost_ttl_expired UInt64,
    ecs_cluster_arn LowCardinality(String),
    ecs_cluster_name LowCardinality(String),
    ecs_container_instance_arn LowCardinality(String),
    ecs_container_instance_id LowCardinality(String),
    ecs_container_id LowCardinality(String),
    ecs_second_container_id LowCardinality(String),
    ecs_service_name LowCardinality(String),
    ecs_task_definition_arn LowCardinality(String),
    ecs_task_arn LowCardinality(String),
    ecs_task_id LowCardinality(String),
    reject_reason LowCardinality(String),
    resource_id LowCardinality(String),
    encryption_status UInt8,
    interface_type LowCardinality(String),
    next_hop_interface_id LowCardinality(String),
    next_hop_subnet_id LowCardinality(String),
    next_hop_az_id LowCardinality(String),
    next_hop_vpc_id LowCardinality(String),
    next_hop_interface_type LowCardinality(String),

    source LowCardinality(String) COMMENT 'ingested object id (see ingested_objects)',

    src_kind LowCardinality(String) COMMENT 'pod, node, nat-gateway, aws-service, vpc (unknown in-VPC), internet',
    src_cluster LowCardinality(String),
    src_namespace LowCardinality(String),
    src_workload_kind LowCardinality(String),
    src_workload LowCardinality(String),
    src_pod String,
    src_node LowCardinality(String),
    src_zone LowCardinality(String),
    src_region LowCardinality(String),
    src_aws_service LowCardinality(String),

    dst_kind LowCardinality(String),
    dst_cluster LowCardinality(String),
    dst_namespace LowCardinality(String),
    dst_workload_kind LowCardinality(String),
    dst_workload LowCardinality(String),
    dst_pod String,
    dst_node LowCardinality(String),
    dst_zone LowCardinality(String),
    dst_region LowCardinality(String),
    dst_aws_service LowCardinality(String),

    traffic_class LowCardinality(String) COMMENT 'same-zone, cross-zone, cross-region, internet-egress, internet-ingress, nat-gateway, aws-service, unknown',
    transfer_bytes Float64 COMMENT 'bytes counted once per transfer: both ENIs log an in-VPC transfer, see docs/traffic.md',
    cost_usd Float64 COMMENT 'transfer cost of this record in USD'
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(start)
ORDER BY (start, src_namespace, dst_namespace)
-- Sparse serialization off: deciding it for ~60 mostly-default columns made
-- every insert 3x slower (measured: 960k rows 3.1 s vs 1.1 s) for no gain
-- on disk (53.0 vs 53.2 MB).
SETTINGS replicated_deduplication_window = 1000, ratio_of_defaults_for_sparse_serialization = 1
;
-- 0002_flow_logs
CREATE TABLE IF NOT EXISTS flow_logs ON CLUSTER `furrow` AS flow_logs_local ENGINE = Distributed(`furrow`, currentDatabase(), flow_logs_local, rand())
;
-- 0002_flow_logs
-- Pod IP history: which pod held an IP when. valid_to = 1970-01-01 means
-- the interval is still open. Rows are upserts keyed by
-- (cluster, ip, pod_uid, valid_from); read with FINAL.
CREATE TABLE IF NOT EXISTS pod_ips_local ON CLUSTER `furrow` (
    cluster LowCardinality(String),
    ip IPv6,
    namespace LowCardinality(String),
    pod String,
    pod_uid String,
    workload_kind LowCardinality(String),
    workload LowCardinality(String),
    node LowCardinality(String),
    zone LowCardinality(String),
    host_network Bool,
    valid_from DateTime64(3, 'UTC'),
    valid_to DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY (cluster, ip, pod_uid, valid_from)
SETTINGS replicated_deduplication_window = 1000
;
-- 0002_flow_logs
CREATE TABLE IF NOT EXISTS pod_ips ON CLUSTER `furrow` AS pod_ips_local ENGINE = Distributed(`furrow`, currentDatabase(), pod_ips_local, cityHash64(cluster, ip))
;
-- 0002_flow_logs
-- Node history (zone, region, instance type, addresses).
CREATE TABLE IF NOT EXISTS k8s_nodes_local ON CLUSTER `furrow` (
    cluster LowCardinality(String),
    node String,
    ips Array(IPv6),
    zone LowCardinality(String),
    region LowCardinality(String),
    instance_type LowCardinality(String),
    valid_from DateTime64(3, 'UTC'),
    valid_to DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', updated_at)
ORDER BY (cluster, node, valid_from)
SETTINGS replicated_deduplication_window = 1000
;
-- 0002_flow_logs
CREATE TABLE IF NOT EXISTS k8s_nodes ON CLUSTER `furrow` AS k8s_nodes_local ENGINE = Distributed(`furrow`, currentDatabase(), k8s_nodes_local, cityHash64(cluster, node))
;
-- 0003_flow_rollups
-- Hourly traffic rollup maintained by a materialized view on flow_logs, so
-- dashboards over 30 days read thousands of rows, not billions.
CREATE TABLE IF NOT EXISTS flow_traffic_hourly_local ON CLUSTER `furrow` (
    hour DateTime('UTC'),
    traffic_class LowCardinality(String),
    src_cluster LowCardinality(String),
    src_kind LowCardinality(String),
    src_namespace LowCardinality(String),
    src_workload_kind LowCardinality(String),
    src_workload LowCardinality(String),
    src_zone LowCardinality(String),
    dst_cluster LowCardinality(String),
    dst_kind LowCardinality(String),
    dst_namespace LowCardinality(String),
    dst_workload_kind LowCardinality(String),
    dst_workload LowCardinality(String),
    dst_zone LowCardinality(String),
    records UInt64,
    packets UInt64,
    bytes UInt64,
    transfer_bytes Float64,
    cost_usd Float64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', (records, packets, bytes, transfer_bytes, cost_usd))
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, traffic_class, src_namespace, src_workload, dst_namespace, dst_workload, src_zone, dst_zone, src_cluster, dst_cluster, src_kind, dst_kind, src_workload_kind, dst_workload_kind)
-- As flow_logs: sparse serialization doubled the cost of feeding the view.
SETTINGS replicated_deduplication_window = 1000, ratio_of_defaults_for_sparse_serialization = 1
;
-- 0003_flow_rollups
CREATE TABLE IF NOT EXISTS flow_traffic_hourly ON CLUSTER `furrow` AS flow_traffic_hourly_local ENGINE = Distributed(`furrow`, currentDatabase(), flow_traffic_hourly_local, rand())
;
-- 0003_flow_rollups
CREATE MATERIALIZED VIEW IF NOT EXISTS flow_traffic_hourly_mv_local ON CLUSTER `furrow` TO flow_traffic_hourly_local AS
SELECT
    toStartOfHour(start) AS hour,
    traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone,
    count() AS records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    sum(transfer_bytes) AS transfer_bytes,
    sum(cost_usd) AS cost_usd
FROM flow_logs_local
GROUP BY hour, traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone
;
-- 0004_ingest_failures
-- Objects whose ingest failed permanently (the same object, read again by
-- the same furrow, fails the same way: a block the table refuses, a file
-- that cannot be decoded): one row per object and furrow version, the
-- latest failure winning. A poller skips an object recorded here for the
-- running version; a new version, or a changed object (another source_id),
-- is tried again, and `furrow ingest flowlogs --retry-failed` forces it.
-- This table never makes an object count as ingested: only
-- ingested_objects does, so a failure recorded here cannot lose rows.
CREATE TABLE IF NOT EXISTS ingest_failures_local ON CLUSTER `furrow` (
    source_id String COMMENT 'as ingested_objects.source_id',
    kind LowCardinality(String) COMMENT 'what was ingested: flowlogs, …',
    url String,
    furrow_version LowCardinality(String) COMMENT 'the binary that failed; another one tries again',
    reason String COMMENT 'the error, with what to do next',
    records_read UInt64 COMMENT 'records read before the failure, last attempt',
    failed_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', failed_at)
ORDER BY (source_id, furrow_version)
SETTINGS replicated_deduplication_window = 1000
;
-- 0004_ingest_failures
CREATE TABLE IF NOT EXISTS ingest_failures ON CLUSTER `furrow` AS ingest_failures_local ENGINE = Distributed(`furrow`, currentDatabase(), ingest_failures_local, cityHash64(source_id))
;
-- 0005_flow_logs_sharding
-- Cluster only (a single node has no Distributed table, and this version
-- renders no statement there): shard flow_logs by the record instead of
-- rand(), so that a retried insert block is split across the shards as the
-- first attempt was, and each shard's insert deduplication token sees the
-- same rows again (docs/store.md, "why cluster inserts are exactly once").
--
-- A Distributed table's sharding key cannot be altered, so the table is
-- recreated; flow_logs_local, which holds the data, is untouched. The key
-- uses only columns read from the flow-log object, never the attribution,
-- which can differ between two attempts when pod history arrived in between.
--
-- Every statement can run again after an interruption: the first one puts
-- back the old table if the DROP ran but the CREATE did not, so that the
-- FLUSH, which sends blocks the old table still queues for other shards
-- (furrow used asynchronous distributed inserts before), always finds it.
CREATE TABLE IF NOT EXISTS flow_logs ON CLUSTER `furrow` AS flow_logs_local ENGINE = Distributed(`furrow`, currentDatabase(), flow_logs_local, rand())
;
-- 0005_flow_logs_sharding
SYSTEM FLUSH DISTRIBUTED flow_logs ON CLUSTER `furrow`
;
-- 0005_flow_logs_sharding
DROP TABLE IF EXISTS flow_logs ON CLUSTER `furrow`
;
-- 0005_flow_logs_sharding
CREATE TABLE IF NOT EXISTS flow_logs ON CLUSTER `furrow` AS flow_logs_local ENGINE = Distributed(`furrow`, currentDatabase(), flow_logs_local, cityHash64(source, interface_id, start, srcaddr, dstaddr, srcport, dstport, protocol))
;
-- 0006_flow_logs_compact_inserts
-- Inserts into flow_logs write compact parts (one file for all columns)
-- until a part passes 256 MB or 1M rows; merges write wide parts (a file
-- per column) as before. The ingest sends ~100k records per INSERT so
-- that a dashboard query waits a fraction of a second for one, and a wide
-- part of that size is ~200 files to write and sync: with compact parts,
-- a 1M-record ingest in 65k-record inserts ran at 0.59–0.79× the storage
-- limit instead of 0.37–0.52× (make bench, same run). Reads are not
-- affected: parts that size are merged within minutes.
ALTER TABLE flow_logs_local ON CLUSTER `furrow`
    MODIFY SETTING min_bytes_for_wide_part = 268435456, min_rows_for_wide_part = 1048576
;
-- 0007_flow_logs_ingest_group
-- The group of small objects a row was inserted with ('' for an object
-- inserted on its own). Small objects are grouped into one INSERT (one
-- part: all or nothing), and the group is recorded before the INSERT; a
-- run that finds the group recorded but its objects not marked done asks
-- this column whether the INSERT committed, so that a re-run which forms
-- other groups never stores a row twice (docs/ingest-flowlogs.md).
ALTER TABLE flow_logs_local ON CLUSTER `furrow`
    ADD COLUMN IF NOT EXISTS ingest_group LowCardinality(String) DEFAULT '' COMMENT 'small-object group of the insert, or empty' AFTER source
;
-- 0007_flow_logs_ingest_group
ALTER TABLE flow_logs ON CLUSTER `furrow`
    ADD COLUMN IF NOT EXISTS ingest_group LowCardinality(String) DEFAULT '' AFTER source
;
-- 0008_ingest_periods
-- Periods whose data is replaced rather than appended: a source that
-- restates a period (a cloud bill is published again for the same month,
-- several times a day until the month closes) keeps one version of it.
-- One row per (kind, period) names the object version that holds the
-- period now; the newest version (by the source's own version time) wins.
-- Rows of a replaced period carry the source_id they came from, and
-- readers keep the rows of the holder, so switching versions is this one
-- row insert: a crash before it leaves the old version in force, a crash
-- after it leaves rows of the old version that the next run deletes.
CREATE TABLE IF NOT EXISTS ingest_periods_local ON CLUSTER `furrow` (
    kind LowCardinality(String) COMMENT 'what was ingested: aws-cur, focus, …',
    period String COMMENT 'what one version replaces, e.g. payer account and billing month',
    source_id String COMMENT 'the object version holding the period (as ingested_objects.source_id)',
    url String,
    version DateTime64(3, 'UTC') COMMENT 'the version time the source gives; the newest holds the period',
    records_stored UInt64,
    recorded_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)
ORDER BY (kind, period)
SETTINGS replicated_deduplication_window = 1000
;
-- 0008_ingest_periods
CREATE TABLE IF NOT EXISTS ingest_periods ON CLUSTER `furrow` AS ingest_periods_local ENGINE = Distributed(`furrow`, currentDatabase(), ingest_periods_local, cityHash64(kind, period))
;
-- 0009_flow_traffic_daily
-- Daily traffic rollup, for dashboards and reports over weeks and months:
-- a workload pair that talks every hour is one row a day instead of 24.
-- Fed by a materialized view on the hourly rollup's inserts (whose blocks
-- are already aggregated, so the ingest pays little for it), and filled
-- from the hourly rollup once, here. The fill starts by emptying the table
-- and runs before the view exists, so a migration interrupted half way and
-- run again neither loses nor doubles a row (migrations run before the
-- ingest starts). Reports read it for the whole UTC days of their range
-- and the hourly rollup for the rest (query/traffic), with the same
-- answers as from the hourly rollup alone.
CREATE TABLE IF NOT EXISTS flow_traffic_daily_local ON CLUSTER `furrow` (
    day DateTime('UTC'),
    traffic_class LowCardinality(String),
    src_cluster LowCardinality(String),
    src_kind LowCardinality(String),
    src_namespace LowCardinality(String),
    src_workload_kind LowCardinality(String),
    src_workload LowCardinality(String),
    src_zone LowCardinality(String),
    dst_cluster LowCardinality(String),
    dst_kind LowCardinality(String),
    dst_namespace LowCardinality(String),
    dst_workload_kind LowCardinality(String),
    dst_workload LowCardinality(String),
    dst_zone LowCardinality(String),
    records UInt64,
    packets UInt64,
    bytes UInt64,
    transfer_bytes Float64,
    cost_usd Float64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', (records, packets, bytes, transfer_bytes, cost_usd))
PARTITION BY toYYYYMM(day)
ORDER BY (day, traffic_class, src_namespace, src_workload, dst_namespace, dst_workload, src_zone, dst_zone, src_cluster, dst_cluster, src_kind, dst_kind, src_workload_kind, dst_workload_kind)
SETTINGS replicated_deduplication_window = 1000, ratio_of_defaults_for_sparse_serialization = 1
;
-- 0009_flow_traffic_daily
CREATE TABLE IF NOT EXISTS flow_traffic_daily ON CLUSTER `furrow` AS flow_traffic_daily_local ENGINE = Distributed(`furrow`, currentDatabase(), flow_traffic_daily_local, rand())
;
-- 0009_flow_traffic_daily
TRUNCATE TABLE IF EXISTS flow_traffic_daily_local ON CLUSTER `furrow`
;
-- 0009_flow_traffic_daily
INSERT INTO flow_traffic_daily
SELECT
    toStartOfDay(hour) AS day,
    traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone,
    sum(records), sum(packets), sum(bytes), sum(transfer_bytes), sum(cost_usd)
FROM flow_traffic_hourly
GROUP BY day, traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone
SETTINGS insert_deduplicate = 0
;
-- 0009_flow_traffic_daily
CREATE MATERIALIZED VIEW IF NOT EXISTS flow_traffic_daily_mv_local ON CLUSTER `furrow` TO flow_traffic_daily_local AS
SELECT
    toStartOfDay(hour) AS day,
    traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone,
    sum(records) AS records,
    sum(packets) AS packets,
    sum(bytes) AS bytes,
    sum(transfer_bytes) AS transfer_bytes,
    sum(cost_usd) AS cost_usd
FROM flow_traffic_hourly_local
GROUP BY day, traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone
;
-- 0010_catalog_owners
-- Who owns each namespace, mirrored from the ownership catalog (the
-- operational store is the truth; catalog/) on every change, so that SQL
-- joins traffic and cost to teams. Each refresh writes the whole mapping
-- under a new generation and deletes the older ones; the view
-- namespace_owners reads the newest generation only, so a reader never
-- sees two mappings mixed or an empty one between them.
CREATE TABLE IF NOT EXISTS catalog_namespace_owners_local ON CLUSTER `furrow` (
    generation UInt64 COMMENT 'refresh number; the newest one is the mapping',
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    project LowCardinality(String),
    team LowCardinality(String) COMMENT 'the owning team''s stable code',
    team_name LowCardinality(String),
    slack_channel String,
    team_archived UInt8 COMMENT '1: the team left HR; the ownership needs a new owner'
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (generation, cluster, namespace)
;
-- 0010_catalog_owners
CREATE TABLE IF NOT EXISTS catalog_namespace_owners ON CLUSTER `furrow` AS catalog_namespace_owners_local ENGINE = Distributed(`furrow`, currentDatabase(), catalog_namespace_owners_local, generation)
;
-- 0010_catalog_owners
CREATE VIEW IF NOT EXISTS namespace_owners ON CLUSTER `furrow` AS
SELECT cluster, namespace, project, team, team_name, slack_channel, team_archived
FROM catalog_namespace_owners
WHERE generation = (SELECT max(generation) FROM catalog_namespace_owners)
;
-- 0011_billing
-- Billing line items (ingest/billing): one row per input line item of a
-- CUR 1.0, CUR 2.0 or FOCUS bill, in FOCUS column names (snake_case), AWS
-- columns that allocation needs prefixed x_. Money is Decimal with 12
-- fractional digits (CUR writes up to 17: the rest is rounded half to
-- even by the engine's conversion). A delivery (a manifest's assembly, or
-- the files of one command) replaces the (billing account, billing period)
-- pairs it holds: its rows carry the delivery id, ingest_periods names the
-- delivery in force per pair (kind billing), and billing_costs keeps only
-- those rows, so a query during a swap sees one delivery, never both.
CREATE TABLE IF NOT EXISTS billing_line_items_local ON CLUSTER `furrow` (
    delivery LowCardinality(String) COMMENT 'the delivery the row came with (see ingest_periods)',
    provider LowCardinality(String),
    billing_account_id LowCardinality(String),
    sub_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    charge_period_start DateTime('UTC'),
    charge_period_end DateTime('UTC'),
    charge_category LowCardinality(String),
    service_name LowCardinality(String),
    region_id LowCardinality(String),
    availability_zone LowCardinality(String),
    resource_id String,
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12),
    list_cost Decimal(38, 12),
    billing_currency LowCardinality(String),
    tags Map(String, String),
    x_usage_type LowCardinality(String),
    x_operation LowCardinality(String),
    x_line_item_type LowCardinality(String),
    x_product_code LowCardinality(String),
    source_file LowCardinality(String),
    source_line UInt64
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (billing_account_id, billing_period_start, charge_period_start, delivery)
SETTINGS replicated_deduplication_window = 1000
;
-- 0011_billing
CREATE TABLE IF NOT EXISTS billing_line_items ON CLUSTER `furrow` AS billing_line_items_local ENGINE = Distributed(`furrow`, currentDatabase(), billing_line_items_local, cityHash64(billing_account_id, billing_period_start))
;
-- 0011_billing
CREATE VIEW IF NOT EXISTS billing_costs ON CLUSTER `furrow` AS
SELECT * EXCEPT delivery FROM billing_line_items
WHERE (concat(billing_account_id, '/', toString(toDate(billing_period_start))), delivery) IN
    (SELECT period, source_id FROM ingest_periods FINAL WHERE kind = 'billing')
;
-- 0012_pod_resources
-- Pod requests and limits, and the nodes' cloud identity and size, for
-- cost allocation (query/cost splits an EC2 node's cost across the pods
-- that ran on it). The pod values are the pod's effective ones, what the
-- scheduler reserves: max(sum of the app and restartable (sidecar) init
-- containers, the largest init container) plus the pod overhead (0: none
-- set). A change of them (an in-place resize) closes the pod's intervals
-- and opens new ones, like a change of IP (docs/ingest-pods.md).
ALTER TABLE pod_ips_local ON CLUSTER `furrow`
    ADD COLUMN IF NOT EXISTS cpu_request_millis UInt64 DEFAULT 0 COMMENT 'effective CPU request of the pod, millicores' AFTER host_network,
    ADD COLUMN IF NOT EXISTS memory_request_bytes UInt64 DEFAULT 0 COMMENT 'effective memory request of the pod, bytes' AFTER cpu_request_millis,
    ADD COLUMN IF NOT EXISTS cpu_limit_millis UInt64 DEFAULT 0 COMMENT 'sum of the containers'' CPU limits plus overhead, millicores; 0: none set' AFTER memory_request_bytes,
    ADD COLUMN IF NOT EXISTS memory_limit_bytes UInt64 DEFAULT 0 COMMENT 'sum of the containers'' memory limits plus overhead, bytes; 0: none set' AFTER cpu_limit_millis
;
-- 0012_pod_resources
ALTER TABLE pod_ips ON CLUSTER `furrow`
    ADD COLUMN IF NOT EXISTS cpu_request_millis UInt64 DEFAULT 0 AFTER host_network,
    ADD COLUMN IF NOT EXISTS memory_request_bytes UInt64 DEFAULT 0 AFTER cpu_request_millis,
    ADD COLUMN IF NOT EXISTS cpu_limit_millis UInt64 DEFAULT 0 AFTER memory_request_bytes,
    ADD COLUMN IF NOT EXISTS memory_limit_bytes UInt64 DEFAULT 0 AFTER cpu_limit_millis
;
-- 0012_pod_resources
-- instance_id is the EC2 instance (i-…) parsed from spec.providerID
-- (aws:///us-east-1a/i-0abc…), empty on other providers: the key a bill's
-- line items join on. A change of provider id or size is a node change.
ALTER TABLE k8s_nodes_local ON CLUSTER `furrow`
    ADD COLUMN IF NOT EXISTS provider_id String DEFAULT '' COMMENT 'spec.providerID as the node reports it' AFTER instance_type,
    ADD COLUMN IF NOT EXISTS instance_id String DEFAULT '' COMMENT 'EC2 instance id from provider_id, empty when not aws' AFTER provider_id,
    ADD COLUMN IF NOT EXISTS cpu_allocatable_millis UInt64 DEFAULT 0 AFTER instance_id,
    ADD COLUMN IF NOT EXISTS memory_allocatable_bytes UInt64 DEFAULT 0 AFTER cpu_allocatable_millis,
    ADD COLUMN IF NOT EXISTS cpu_capacity_millis UInt64 DEFAULT 0 AFTER memory_allocatable_bytes,
    ADD COLUMN IF NOT EXISTS memory_capacity_bytes UInt64 DEFAULT 0 AFTER cpu_capacity_millis
;
-- 0012_pod_resources
ALTER TABLE k8s_nodes ON CLUSTER `furrow`
    ADD COLUMN IF NOT EXISTS provider_id String DEFAULT '' AFTER instance_type,
    ADD COLUMN IF NOT EXISTS instance_id String DEFAULT '' AFTER provider_id,
    ADD COLUMN IF NOT EXISTS cpu_allocatable_millis UInt64 DEFAULT 0 AFTER instance_id,
    ADD COLUMN IF NOT EXISTS memory_allocatable_bytes UInt64 DEFAULT 0 AFTER cpu_allocatable_millis,
    ADD COLUMN IF NOT EXISTS cpu_capacity_millis UInt64 DEFAULT 0 AFTER memory_allocatable_bytes,
    ADD COLUMN IF NOT EXISTS memory_capacity_bytes UInt64 DEFAULT 0 AFTER cpu_capacity_millis
;
-- 0012_pod_resources
-- One row per pod interval: pod_ips holds one row per IP, so a dual-stack
-- pod's two rows of the same interval (same pod_uid and valid_from: the
-- ingest opens and closes a pod's IPs together) collapse into one.
-- valid_to = 1970-01-01 while the interval is open, as in pod_ips. An
-- interval ends at the latest where the pod's next one starts: a watcher
-- restarted after a resize opens the pod anew while the interval it
-- cannot know of is still open in pod_ips, and the two must not both
-- count.
CREATE VIEW IF NOT EXISTS pod_resources ON CLUSTER `furrow` AS
SELECT
    cluster, namespace, pod, pod_uid, workload_kind, workload, node, valid_from,
    if(toUnixTimestamp64Milli(next_from) != 0
            AND (toUnixTimestamp64Milli(valid_to) = 0 OR valid_to > next_from),
        next_from, valid_to) AS valid_to,
    cpu_request_millis, memory_request_bytes, cpu_limit_millis, memory_limit_bytes
FROM (
    SELECT
        *,
        leadInFrame(valid_from) OVER (PARTITION BY cluster, pod_uid ORDER BY valid_from
            ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS next_from
    FROM (
        SELECT
            cluster,
            any(namespace) AS namespace,
            any(pod) AS pod,
            pod_uid,
            any(workload_kind) AS workload_kind,
            any(workload) AS workload,
            any(node) AS node,
            valid_from,
            if(min(valid_to) = toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), max(valid_to)) AS valid_to,
            max(cpu_request_millis) AS cpu_request_millis,
            max(memory_request_bytes) AS memory_request_bytes,
            max(cpu_limit_millis) AS cpu_limit_millis,
            max(memory_limit_bytes) AS memory_limit_bytes
        FROM pod_ips FINAL
        GROUP BY cluster, pod_uid, valid_from
    )
)
;
-- 0013_pod_usage
-- Pod CPU and memory usage per hour (ingest/usage), rolled up from the
-- cAdvisor series a Prometheus remote-writes to furrow:
-- container_cpu_usage_seconds_total (counter increases, resets counted
-- from 0, increases that span an hour boundary split in proportion) and
-- container_memory_working_set_bytes (gauge). The containers of a pod are
-- summed; the pod-level cgroup series and the pause container are not
-- stored (they would count the pod twice). Each insert adds to the rows of
-- its (cluster, namespace, pod, hour): read the view pod_usage, or sum()
-- GROUP BY, never the table's rows one by one.
CREATE TABLE IF NOT EXISTS pod_usage_hourly_local ON CLUSTER `furrow` (
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    pod String,
    hour DateTime('UTC'),
    cpu_core_seconds Float64 COMMENT 'CPU seconds used by the pod''s containers in the hour',
    memory_bytes_sum Float64 COMMENT 'sum of the pod''s working set (its containers added) over its samples',
    memory_samples UInt64 COMMENT 'samples of the pod''s working set in the hour: mean = memory_bytes_sum / memory_samples'
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', (cpu_core_seconds, memory_bytes_sum, memory_samples))
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, namespace, pod, hour)
SETTINGS replicated_deduplication_window = 1000
;
-- 0013_pod_usage
CREATE TABLE IF NOT EXISTS pod_usage_hourly ON CLUSTER `furrow` AS pod_usage_hourly_local ENGINE = Distributed(`furrow`, currentDatabase(), pod_usage_hourly_local, cityHash64(cluster, namespace, pod))
;
-- 0013_pod_usage
CREATE VIEW IF NOT EXISTS pod_usage ON CLUSTER `furrow` AS
SELECT
    cluster,
    namespace,
    pod,
    hour,
    sum(cpu_core_seconds) / 3600 AS cpu_cores,
    if(sum(memory_samples) = 0, 0, sum(memory_bytes_sum) / sum(memory_samples)) AS memory_bytes
FROM pod_usage_hourly
GROUP BY cluster, namespace, pod, hour
;
-- 0014_cost
-- Cost allocation (query/cost). The catalog's teams, projects and cloud
-- resources are mirrored like its namespace owners (0010): a refresh
-- writes a new generation and the views read the newest one, so a team
-- renamed in HR is one row here and every cost report shows the new name.
CREATE TABLE IF NOT EXISTS catalog_teams_local ON CLUSTER `furrow` (
    generation UInt64,
    team LowCardinality(String) COMMENT 'the stable code from HR',
    team_name String,
    parent_team LowCardinality(String),
    archived UInt8
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (generation, team)
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS catalog_teams ON CLUSTER `furrow` AS catalog_teams_local ENGINE = Distributed(`furrow`, currentDatabase(), catalog_teams_local, generation)
;
-- 0014_cost
CREATE VIEW IF NOT EXISTS teams ON CLUSTER `furrow` AS
SELECT team, team_name, parent_team, archived FROM catalog_teams
WHERE generation = (SELECT max(generation) FROM catalog_teams)
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS catalog_projects_local ON CLUSTER `furrow` (
    generation UInt64,
    project LowCardinality(String),
    project_name String,
    team LowCardinality(String),
    archived UInt8
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (generation, project)
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS catalog_projects ON CLUSTER `furrow` AS catalog_projects_local ENGINE = Distributed(`furrow`, currentDatabase(), catalog_projects_local, generation)
;
-- 0014_cost
CREATE VIEW IF NOT EXISTS projects ON CLUSTER `furrow` AS
SELECT project, project_name, team, archived FROM catalog_projects
WHERE generation = (SELECT max(generation) FROM catalog_projects)
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS catalog_resources_local ON CLUSTER `furrow` (
    generation UInt64,
    arn String,
    resource_id String COMMENT 'the id a bill names: the ARN''s last part (i-0abc…, vol-…, a bucket)',
    project LowCardinality(String),
    team LowCardinality(String)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (generation, resource_id)
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS catalog_resources ON CLUSTER `furrow` AS catalog_resources_local ENGINE = Distributed(`furrow`, currentDatabase(), catalog_resources_local, generation)
;
-- 0014_cost
CREATE VIEW IF NOT EXISTS resource_owners ON CLUSTER `furrow` AS
SELECT arn, resource_id, project, team FROM catalog_resources
WHERE generation = (SELECT max(generation) FROM catalog_resources)
;
-- 0014_cost
-- Allocated cost: every line item of the bill split into rows that add up
-- to it exactly (Decimal; the last share of a split is the remainder):
-- kind allocated (an owner), idle (node capacity no pod used), shared (the
-- shared namespaces' pods) or unowned; rule says how the owner was found
-- (tag, resource, node, network, none). One allocation run per (billing
-- account, billing period) is in force (ingest_periods kind cost), as
-- deliveries are for billing_line_items: the views below read that run
-- only, so a re-allocation swaps whole periods.
CREATE TABLE IF NOT EXISTS cost_allocation_local ON CLUSTER `furrow` (
    run LowCardinality(String),
    billing_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    charge_period_start DateTime('UTC'),
    charge_period_end DateTime('UTC'),
    billing_currency LowCardinality(String),
    kind LowCardinality(String) COMMENT 'allocated, idle, shared, unowned',
    rule LowCardinality(String) COMMENT 'tag, resource, node, network, none',
    project LowCardinality(String),
    team LowCardinality(String) COMMENT 'the owning team''s stable code',
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    workload LowCardinality(String),
    service_name LowCardinality(String),
    sub_account_id LowCardinality(String),
    region_id LowCardinality(String),
    usage_type LowCardinality(String),
    charge_category LowCardinality(String),
    resource_id String,
    line_item UInt64 COMMENT 'the line item split: cityHash64 of its source file and line',
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (billing_account_id, billing_period_start, charge_period_start, run)
SETTINGS replicated_deduplication_window = 1000
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS cost_allocation ON CLUSTER `furrow` AS cost_allocation_local ENGINE = Distributed(`furrow`, currentDatabase(), cost_allocation_local, cityHash64(billing_account_id, billing_period_start))
;
-- 0014_cost
-- The daily rollup of cost_allocation, written by the same run: long
-- ranges (a year of cost by team) read thousands of rows, not billions.
CREATE TABLE IF NOT EXISTS cost_allocation_daily_local ON CLUSTER `furrow` (
    run LowCardinality(String),
    billing_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    day Date,
    billing_currency LowCardinality(String),
    kind LowCardinality(String),
    rule LowCardinality(String),
    project LowCardinality(String),
    team LowCardinality(String),
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    workload LowCardinality(String),
    service_name LowCardinality(String),
    sub_account_id LowCardinality(String),
    region_id LowCardinality(String),
    usage_type LowCardinality(String),
    charge_category LowCardinality(String),
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (day, team, project, billing_account_id, run)
SETTINGS replicated_deduplication_window = 1000
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS cost_allocation_daily ON CLUSTER `furrow` AS cost_allocation_daily_local ENGINE = Distributed(`furrow`, currentDatabase(), cost_allocation_daily_local, cityHash64(billing_account_id, billing_period_start))
;
-- 0014_cost
-- The owners' daily rollup: the daily one without the other dimensions,
-- what cost by team or project over a year reads (a few hundred thousand
-- rows a year, against millions).
CREATE TABLE IF NOT EXISTS cost_allocation_owner_daily_local ON CLUSTER `furrow` (
    run LowCardinality(String),
    billing_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    day Date,
    billing_currency LowCardinality(String),
    kind LowCardinality(String),
    cluster LowCardinality(String),
    team LowCardinality(String),
    project LowCardinality(String),
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (day, team, project, billing_account_id, run)
SETTINGS replicated_deduplication_window = 1000
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS cost_allocation_owner_daily ON CLUSTER `furrow` AS cost_allocation_owner_daily_local ENGINE = Distributed(`furrow`, currentDatabase(), cost_allocation_owner_daily_local, cityHash64(billing_account_id, billing_period_start))
;
-- 0014_cost
-- The views keep the run in force of each (account, period): the period
-- names of ingest_periods ("account/YYYY-MM-DD") split back into columns,
-- so the filter compares columns, not a string built per row.
CREATE VIEW IF NOT EXISTS cost_allocated ON CLUSTER `furrow` AS
SELECT * EXCEPT run FROM cost_allocation
WHERE (billing_account_id, billing_period_start, run) IN (SELECT splitByChar('/', period)[1], toDateTime(splitByChar('/', period)[2], 'UTC'), source_id
    FROM ingest_periods FINAL WHERE kind = 'cost')
;
-- 0014_cost
CREATE VIEW IF NOT EXISTS cost_daily ON CLUSTER `furrow` AS
SELECT * EXCEPT run FROM cost_allocation_daily
WHERE (billing_account_id, billing_period_start, run) IN (SELECT splitByChar('/', period)[1], toDateTime(splitByChar('/', period)[2], 'UTC'), source_id
    FROM ingest_periods FINAL WHERE kind = 'cost')
;
-- 0014_cost
CREATE VIEW IF NOT EXISTS cost_owner_daily ON CLUSTER `furrow` AS
SELECT * EXCEPT run FROM cost_allocation_owner_daily
WHERE (billing_account_id, billing_period_start, run) IN (SELECT splitByChar('/', period)[1], toDateTime(splitByChar('/', period)[2], 'UTC'), source_id
    FROM ingest_periods FINAL WHERE kind = 'cost')
;
-- 0014_cost
-- Unintended increases: a day's cost of an owner and service against its
-- trailing baseline (median and MAD of the same weekdays, or of all days).
-- A detection run replaces the findings of the days it covers.
CREATE TABLE IF NOT EXISTS cost_anomalies_local ON CLUSTER `furrow` (
    day Date,
    team LowCardinality(String),
    project LowCardinality(String),
    service_name LowCardinality(String),
    rule LowCardinality(String) COMMENT 'how the cost reached the owner: a series is owner, service and rule',
    billing_currency LowCardinality(String),
    cost Decimal(38, 12),
    baseline Decimal(38, 12) COMMENT 'the trailing median',
    mad Float64 COMMENT 'median absolute deviation of the baseline days',
    score Float64 COMMENT '(cost - baseline) / (1.4826 MAD), robust z-score',
    increase Decimal(38, 12),
    detected_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', detected_at)
ORDER BY (day, team, project, service_name, rule, billing_currency)
SETTINGS replicated_deduplication_window = 1000
;
-- 0014_cost
CREATE TABLE IF NOT EXISTS cost_anomalies ON CLUSTER `furrow` AS cost_anomalies_local ENGINE = Distributed(`furrow`, currentDatabase(), cost_anomalies_local, cityHash64(day, team))
;
-- 0015_alerts
-- Alert history (alerting/history.go). alert_events holds one row per
-- alert per webhook received from Grafana or Alertmanager, after the split
-- into (namespace, alert name) groups; notification_id is the SHA-256 of
-- the webhook body, and the insert's deduplication token is derived from
-- it, so a webhook the sender retries (same body) is stored once. Not
-- partitioned: ClickHouse deduplicates per partition, and a retry received
-- in the next month would land in another one and be stored twice (alerts
-- are thousands of rows a day, one partition holds years of them).
CREATE TABLE IF NOT EXISTS alert_events_local ON CLUSTER `furrow` (
    received_at DateTime64(3, 'UTC') COMMENT 'when furrow accepted the webhook',
    source LowCardinality(String) COMMENT 'grafana or alertmanager',
    receiver LowCardinality(String),
    group_key String COMMENT 'the Slack message''s group: source, receiver, namespace and alert name (alerting.GroupKey)',
    namespace LowCardinality(String) COMMENT 'empty: the alert had no namespace label (default route)',
    alertname LowCardinality(String),
    fingerprint String COMMENT 'the alert''s label set, as the sender (or Alertmanager''s algorithm) computes it',
    status LowCardinality(String) COMMENT 'firing or resolved',
    starts_at Nullable(DateTime64(3, 'UTC')) COMMENT 'NULL: the sender gave none',
    ends_at Nullable(DateTime64(3, 'UTC')) COMMENT 'NULL while firing',
    labels Map(String, String),
    annotations Map(String, String),
    value Nullable(Float64) COMMENT 'the value mention conditions compare (largest Grafana query value, else a value label or annotation)',
    generator_url String,
    notification_id String COMMENT 'SHA-256 of the webhook body, hex'
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (namespace, alertname, received_at)
SETTINGS replicated_deduplication_window = 1000
;
-- 0015_alerts
CREATE TABLE IF NOT EXISTS alert_events ON CLUSTER `furrow` AS alert_events_local ENGINE = Distributed(`furrow`, currentDatabase(), alert_events_local, cityHash64(namespace, alertname))
;
-- 0015_alerts
-- One row per outcome of a delivery attempt: kind post, update (a resolve
-- edits the message), reply (in its thread), remind, snoozed or suppressed
-- (recorded, not sent); status ok, retry (will be tried again) or failed
-- (given up). lag_ms runs from the webhook's acceptance to the Slack call.
CREATE TABLE IF NOT EXISTS alert_deliveries_local ON CLUSTER `furrow` (
    at DateTime64(3, 'UTC'),
    delivery_id String COMMENT 'the outbox entry the attempt belongs to',
    group_key String,
    namespace LowCardinality(String),
    alertname LowCardinality(String),
    kind LowCardinality(String) COMMENT 'post, update, reply, remind, snoozed, suppressed',
    channel LowCardinality(String),
    status LowCardinality(String) COMMENT 'ok, retry, failed',
    error String COMMENT 'why the attempt failed; never carries a secret',
    lag_ms UInt64 COMMENT 'from the webhook''s acceptance to the Slack call'
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(at)
ORDER BY (namespace, alertname, at)
SETTINGS replicated_deduplication_window = 1000
;
-- 0015_alerts
CREATE TABLE IF NOT EXISTS alert_deliveries ON CLUSTER `furrow` AS alert_deliveries_local ENGINE = Distributed(`furrow`, currentDatabase(), alert_deliveries_local, cityHash64(namespace, alertname))
;
-- 0015_alerts
-- Incidents: one row per firing episode of an alert, i.e. per group key,
-- fingerprint and start (an alert that resolves and fires again starts a
-- new episode with a new startsAt). fire_count counts the firing
-- notifications received for it (the sender's repeats included);
-- resolved_at is the resolved endsAt (else when the resolve was
-- received), NULL while it fires; duration_seconds is NULL until resolved.
CREATE VIEW IF NOT EXISTS alert_incidents ON CLUSTER `furrow` AS
SELECT
    group_key,
    fingerprint,
    starts_at AS fired_at,
    any(source) AS source,
    any(namespace) AS namespace,
    any(alertname) AS alertname,
    min(received_at) AS first_received_at,
    max(received_at) AS last_received_at,
    countIf(status = 'firing') AS fire_count,
    coalesce(maxOrNullIf(ends_at, status = 'resolved'), maxOrNullIf(received_at, status = 'resolved')) AS resolved_at,
    dateDiff('second', fired_at, resolved_at) AS duration_seconds
FROM alert_events
GROUP BY group_key, fingerprint, starts_at
;
-- 0016_deploy_events
-- Deploy events (deployer/events). deploy_events holds one row per step of
-- an action per target cluster: the deployer writes a started row and then
-- a succeeded, failed or cancelled one; external sources (Argo CD
-- notifications, GitHub deployment_status webhooks) write what they
-- report. Inserts carry a deduplication token (the row's content, or the
-- source and external_id for external events), so a retried write or a
-- webhook delivered twice is stored once. Kept forever (no TTL): a few
-- thousand rows a day, and DORA trends compare years. Not partitioned:
-- ClickHouse deduplicates per partition, and a retry landing in the next
-- month would be stored twice; one partition holds years of deploys.
CREATE TABLE IF NOT EXISTS deploy_events_local ON CLUSTER `furrow` (
    at DateTime64(3, 'UTC') COMMENT 'when the step happened (the result''s time; started_at for a started row)',
    deploy_id Int64 COMMENT 'furrow''s deploy id (a sequence); GitHub''s deployment id; for Argo CD a hash of the application and the sync''s start',
    source LowCardinality(String) COMMENT 'furrow, argocd or github',
    project LowCardinality(String) COMMENT 'the catalog''s project id',
    service LowCardinality(String),
    team LowCardinality(String) COMMENT 'the owning team''s stable code',
    environment LowCardinality(String),
    region LowCardinality(String),
    cluster LowCardinality(String),
    action LowCardinality(String) COMMENT 'deploy, rollback, restart, scale, cronjob_trigger, prune',
    result LowCardinality(String) COMMENT 'started, succeeded, failed, cancelled',
    failure_cause LowCardinality(String) COMMENT 'ImagePullBackOff, CrashLoopBackOff, Unschedulable, ProbeFailing, Quota, Timeout, LockConflict, RenderError, …; empty unless failed',
    message String,
    revision String COMMENT 'the spec''s revision (Git commit or furrow revision number)',
    image String,
    previous_image String,
    actor String COMMENT 'the employee id from the catalog; source:login when an external login matched nobody',
    actor_name String,
    started_at DateTime64(3, 'UTC'),
    finished_at Nullable(DateTime64(3, 'UTC')) COMMENT 'NULL on a started row',
    duration_ms UInt64 COMMENT 'finished_at - started_at; 0 on a started row',
    commit_sha String,
    commit_time Nullable(DateTime64(3, 'UTC')) COMMENT 'the deployed commit''s time, when known (lead time)',
    replicas_from Nullable(Int32) COMMENT 'scale: the replicas before',
    replicas_to Nullable(Int32) COMMENT 'scale: the replicas asked for',
    external_id String COMMENT 'the external source''s id of the event; empty for furrow'
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (project, environment, at)
SETTINGS replicated_deduplication_window = 1000
;
-- 0016_deploy_events
CREATE TABLE IF NOT EXISTS deploy_events ON CLUSTER `furrow` AS deploy_events_local ENGINE = Distributed(`furrow`, currentDatabase(), deploy_events_local, cityHash64(project))
;
-- 0016_deploy_events
-- One row per action (source, project, environment, deploy id, action)
-- over its target clusters: started at the first cluster's start, finished
-- when every cluster that started has a result (NULL before), failed when
-- any cluster failed (its first cause), cancelled when any was cancelled,
-- else succeeded; duration_ms from the first start to the last finish.
-- The operating and DORA metrics (query/deploys) read this view.
CREATE VIEW IF NOT EXISTS deploy_actions ON CLUSTER `furrow` AS
SELECT
    source,
    project,
    environment,
    deploy_id,
    action,
    any(e_service) AS service,
    any(e_team) AS team,
    groupUniqArray(e_region) AS regions,
    groupUniqArray(e_cluster) AS clusters,
    min(e_started_at) AS started_at,
    if(uniqExactIf(e_cluster, e_result != 'started') >= uniqExact(e_cluster), maxOrNull(e_finished_at), NULL) AS finished_at,
    multiIf(countIf(e_result = 'failed') > 0, 'failed',
        countIf(e_result = 'cancelled') > 0, 'cancelled',
        finished_at IS NOT NULL, 'succeeded', 'started') AS result,
    argMinIf(e_failure_cause, e_at, e_result = 'failed' AND e_failure_cause != '') AS failure_cause,
    argMaxIf(e_message, e_at, e_message != '') AS message,
    argMaxIf(e_revision, e_at, e_revision != '') AS revision,
    argMaxIf(e_image, e_at, e_image != '') AS image,
    argMaxIf(e_previous_image, e_at, e_previous_image != '') AS previous_image,
    argMaxIf(e_actor, e_at, e_actor != '') AS actor,
    argMaxIf(e_actor_name, e_at, e_actor_name != '') AS actor_name,
    argMaxIf(e_commit_sha, e_at, e_commit_sha != '') AS commit_sha,
    min(e_commit_time) AS commit_time,
    if(finished_at IS NULL, NULL, toUInt64(greatest(dateDiff('millisecond', started_at, assumeNotNull(finished_at)), 0))) AS duration_ms,
    min(e_replicas_from) AS replicas_from,
    max(e_replicas_to) AS replicas_to
FROM (
    SELECT source, project, environment, deploy_id, action, at AS e_at, service AS e_service, team AS e_team,
        region AS e_region, cluster AS e_cluster, result AS e_result, failure_cause AS e_failure_cause,
        message AS e_message, revision AS e_revision, image AS e_image, previous_image AS e_previous_image,
        actor AS e_actor, actor_name AS e_actor_name, started_at AS e_started_at, finished_at AS e_finished_at,
        commit_sha AS e_commit_sha, commit_time AS e_commit_time, replicas_from AS e_replicas_from, replicas_to AS e_replicas_to
    FROM deploy_events
)
GROUP BY source, project, environment, deploy_id, action
;
