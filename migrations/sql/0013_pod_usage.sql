-- Pod CPU and memory usage per hour (ingest/usage), rolled up from the
-- cAdvisor series a Prometheus remote-writes to furrow:
-- container_cpu_usage_seconds_total (counter increases, resets counted
-- from 0, increases that span an hour boundary split in proportion) and
-- container_memory_working_set_bytes (gauge). The containers of a pod are
-- summed; the pod-level cgroup series and the pause container are not
-- stored (they would count the pod twice). Each insert adds to the rows of
-- its (cluster, namespace, pod, hour): read the view pod_usage, or sum()
-- GROUP BY, never the table's rows one by one.
CREATE TABLE IF NOT EXISTS {{local "pod_usage_hourly"}}{{onCluster}} (
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    pod String,
    hour DateTime('UTC'),
    cpu_core_seconds Float64 COMMENT 'CPU seconds used by the pod''s containers in the hour',
    memory_bytes_sum Float64 COMMENT 'sum of the pod''s working set (its containers added) over its samples',
    memory_samples UInt64 COMMENT 'samples of the pod''s working set in the hour: mean = memory_bytes_sum / memory_samples'
) ENGINE = {{engine "SummingMergeTree((cpu_core_seconds, memory_bytes_sum, memory_samples))"}}
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, namespace, pod, hour)
SETTINGS {{dedup}}
;
{{distributed "pod_usage_hourly" "cityHash64(cluster, namespace, pod)"}}
;
CREATE VIEW IF NOT EXISTS pod_usage{{onCluster}} AS
SELECT
    cluster,
    namespace,
    pod,
    hour,
    sum(cpu_core_seconds) / 3600 AS cpu_cores,
    if(sum(memory_samples) = 0, 0, sum(memory_bytes_sum) / sum(memory_samples)) AS memory_bytes
FROM pod_usage_hourly
GROUP BY cluster, namespace, pod, hour
