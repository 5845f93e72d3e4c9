-- Pod requests and limits, and the nodes' cloud identity and size, for
-- cost allocation (query/cost splits an EC2 node's cost across the pods
-- that ran on it). The pod values are the pod's effective ones, what the
-- scheduler reserves: max(sum of the app and restartable (sidecar) init
-- containers, the largest init container) plus the pod overhead (0: none
-- set). A change of them (an in-place resize) closes the pod's intervals
-- and opens new ones, like a change of IP (docs/ingest-pods.md).
ALTER TABLE {{local "pod_ips"}}{{onCluster}}
    ADD COLUMN IF NOT EXISTS cpu_request_millis UInt64 DEFAULT 0 COMMENT 'effective CPU request of the pod, millicores' AFTER host_network,
    ADD COLUMN IF NOT EXISTS memory_request_bytes UInt64 DEFAULT 0 COMMENT 'effective memory request of the pod, bytes' AFTER cpu_request_millis,
    ADD COLUMN IF NOT EXISTS cpu_limit_millis UInt64 DEFAULT 0 COMMENT 'sum of the containers'' CPU limits plus overhead, millicores; 0: none set' AFTER memory_request_bytes,
    ADD COLUMN IF NOT EXISTS memory_limit_bytes UInt64 DEFAULT 0 COMMENT 'sum of the containers'' memory limits plus overhead, bytes; 0: none set' AFTER cpu_limit_millis
{{- if .Cluster}}
;
ALTER TABLE pod_ips{{onCluster}}
    ADD COLUMN IF NOT EXISTS cpu_request_millis UInt64 DEFAULT 0 AFTER host_network,
    ADD COLUMN IF NOT EXISTS memory_request_bytes UInt64 DEFAULT 0 AFTER cpu_request_millis,
    ADD COLUMN IF NOT EXISTS cpu_limit_millis UInt64 DEFAULT 0 AFTER memory_request_bytes,
    ADD COLUMN IF NOT EXISTS memory_limit_bytes UInt64 DEFAULT 0 AFTER cpu_limit_millis
{{- end}}
;
-- instance_id is the EC2 instance (i-…) parsed from spec.providerID
-- (aws:///us-east-1a/i-0abc…), empty on other providers: the key a bill's
-- line items join on. A change of provider id or size is a node change.
ALTER TABLE {{local "k8s_nodes"}}{{onCluster}}
    ADD COLUMN IF NOT EXISTS provider_id String DEFAULT '' COMMENT 'spec.providerID as the node reports it' AFTER instance_type,
    ADD COLUMN IF NOT EXISTS instance_id String DEFAULT '' COMMENT 'EC2 instance id from provider_id, empty when not aws' AFTER provider_id,
    ADD COLUMN IF NOT EXISTS cpu_allocatable_millis UInt64 DEFAULT 0 AFTER instance_id,
    ADD COLUMN IF NOT EXISTS memory_allocatable_bytes UInt64 DEFAULT 0 AFTER cpu_allocatable_millis,
    ADD COLUMN IF NOT EXISTS cpu_capacity_millis UInt64 DEFAULT 0 AFTER memory_allocatable_bytes,
    ADD COLUMN IF NOT EXISTS memory_capacity_bytes UInt64 DEFAULT 0 AFTER cpu_capacity_millis
{{- if .Cluster}}
;
ALTER TABLE k8s_nodes{{onCluster}}
    ADD COLUMN IF NOT EXISTS provider_id String DEFAULT '' AFTER instance_type,
    ADD COLUMN IF NOT EXISTS instance_id String DEFAULT '' AFTER provider_id,
    ADD COLUMN IF NOT EXISTS cpu_allocatable_millis UInt64 DEFAULT 0 AFTER instance_id,
    ADD COLUMN IF NOT EXISTS memory_allocatable_bytes UInt64 DEFAULT 0 AFTER cpu_allocatable_millis,
    ADD COLUMN IF NOT EXISTS cpu_capacity_millis UInt64 DEFAULT 0 AFTER memory_allocatable_bytes,
    ADD COLUMN IF NOT EXISTS memory_capacity_bytes UInt64 DEFAULT 0 AFTER cpu_capacity_millis
{{- end}}
;
-- One row per pod interval: pod_ips holds one row per IP, so a dual-stack
-- pod's two rows of the same interval (same pod_uid and valid_from: the
-- ingest opens and closes a pod's IPs together) collapse into one.
-- valid_to = 1970-01-01 while the interval is open, as in pod_ips. An
-- interval ends at the latest where the pod's next one starts: a watcher
-- restarted after a resize opens the pod anew while the interval it
-- cannot know of is still open in pod_ips, and the two must not both
-- count.
CREATE VIEW IF NOT EXISTS pod_resources{{onCluster}} AS
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
