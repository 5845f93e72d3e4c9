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
CREATE TABLE IF NOT EXISTS {{local "flow_traffic_daily"}}{{onCluster}} (
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
) ENGINE = {{engine "SummingMergeTree((records, packets, bytes, transfer_bytes, cost_usd))"}}
PARTITION BY toYYYYMM(day)
ORDER BY (day, traffic_class, src_namespace, src_workload, dst_namespace, dst_workload, src_zone, dst_zone, src_cluster, dst_cluster, src_kind, dst_kind, src_workload_kind, dst_workload_kind)
SETTINGS {{dedup}}, ratio_of_defaults_for_sparse_serialization = 1
;
{{distributed "flow_traffic_daily" "rand()"}}
;
TRUNCATE TABLE IF EXISTS {{local "flow_traffic_daily"}}{{onCluster}}
;
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
CREATE MATERIALIZED VIEW IF NOT EXISTS {{local "flow_traffic_daily_mv"}}{{onCluster}} TO {{local "flow_traffic_daily"}} AS
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
FROM {{local "flow_traffic_hourly"}}
GROUP BY day, traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone
