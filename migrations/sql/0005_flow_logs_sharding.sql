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
{{- if .Cluster}}
{{distributed "flow_logs" "rand()"}}
;
SYSTEM FLUSH DISTRIBUTED flow_logs{{onCluster}}
;
DROP TABLE IF EXISTS flow_logs{{onCluster}}
;
{{distributed "flow_logs" "cityHash64(source, interface_id, start, srcaddr, dstaddr, srcport, dstport, protocol)"}}
{{- end}}
