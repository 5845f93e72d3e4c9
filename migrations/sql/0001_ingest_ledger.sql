-- The ingest ledger: one row per source object (S3 object or file) that was
-- ingested completely. An object whose id is here is never ingested again.
CREATE TABLE IF NOT EXISTS {{local "ingested_objects"}}{{onCluster}} (
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
) ENGINE = {{engine "ReplacingMergeTree(finished_at)"}}
ORDER BY source_id
SETTINGS {{dedup}}
;
{{distributed "ingested_objects" "cityHash64(source_id)"}}
