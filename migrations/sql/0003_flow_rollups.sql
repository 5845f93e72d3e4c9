-- Hourly traffic rollup maintained by a materialized view on flow_logs, so
-- dashboards over 30 days read thousands of rows, not billions.
CREATE TABLE IF NOT EXISTS {{local "flow_traffic_hourly"}}{{onCluster}} (
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
) ENGINE = {{engine "SummingMergeTree((records, packets, bytes, transfer_bytes, cost_usd))"}}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, traffic_class, src_namespace, src_workload, dst_namespace, dst_workload, src_zone, dst_zone, src_cluster, dst_cluster, src_kind, dst_kind, src_workload_kind, dst_workload_kind)
-- As flow_logs: sparse serialization doubled the cost of feeding the view.
SETTINGS {{dedup}}, ratio_of_defaults_for_sparse_serialization = 1
;
{{distributed "flow_traffic_hourly" "rand()"}}
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {{local "flow_traffic_hourly_mv"}}{{onCluster}} TO {{local "flow_traffic_hourly"}} AS
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
FROM {{local "flow_logs"}}
GROUP BY hour, traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone
