-- VPC flow log records, one row per record, with the attribution of both
-- ends (pod/namespace/workload/node/zone at the flow's time), the traffic
-- class and the cost. Raw columns are named after the AWS fields in
-- snake_case; `-` in the source is stored as the column default (0, '' or ::).
-- IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d).
CREATE TABLE IF NOT EXISTS {{local "flow_logs"}}{{onCluster}} (
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
) ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(start)
ORDER BY (start, src_namespace, dst_namespace)
-- Sparse serialization off: deciding it for ~60 mostly-default columns made
-- every insert 3x slower (measured: 960k rows 3.1 s vs 1.1 s) for no gain
-- on disk (53.0 vs 53.2 MB).
SETTINGS {{dedup}}, ratio_of_defaults_for_sparse_serialization = 1
;
{{distributed "flow_logs" "rand()"}}
;
-- Pod IP history: which pod held an IP when. valid_to = 1970-01-01 means
-- the interval is still open. Rows are upserts keyed by
-- (cluster, ip, pod_uid, valid_from); read with FINAL.
CREATE TABLE IF NOT EXISTS {{local "pod_ips"}}{{onCluster}} (
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
) ENGINE = {{engine "ReplacingMergeTree(updated_at)"}}
ORDER BY (cluster, ip, pod_uid, valid_from)
SETTINGS {{dedup}}
;
{{distributed "pod_ips" "cityHash64(cluster, ip)"}}
;
-- Node history (zone, region, instance type, addresses).
CREATE TABLE IF NOT EXISTS {{local "k8s_nodes"}}{{onCluster}} (
    cluster LowCardinality(String),
    node String,
    ips Array(IPv6),
    zone LowCardinality(String),
    region LowCardinality(String),
    instance_type LowCardinality(String),
    valid_from DateTime64(3, 'UTC'),
    valid_to DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
) ENGINE = {{engine "ReplacingMergeTree(updated_at)"}}
ORDER BY (cluster, node, valid_from)
SETTINGS {{dedup}}
;
{{distributed "k8s_nodes" "cityHash64(cluster, node)"}}
