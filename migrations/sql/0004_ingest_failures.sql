-- Objects whose ingest failed permanently (the same object, read again by
-- the same furrow, fails the same way: a block the table refuses, a file
-- that cannot be decoded): one row per object and furrow version, the
-- latest failure winning. A poller skips an object recorded here for the
-- running version; a new version, or a changed object (another source_id),
-- is tried again, and `furrow ingest flowlogs --retry-failed` forces it.
-- This table never makes an object count as ingested: only
-- ingested_objects does, so a failure recorded here cannot lose rows.
CREATE TABLE IF NOT EXISTS {{local "ingest_failures"}}{{onCluster}} (
    source_id String COMMENT 'as ingested_objects.source_id',
    kind LowCardinality(String) COMMENT 'what was ingested: flowlogs, …',
    url String,
    furrow_version LowCardinality(String) COMMENT 'the binary that failed; another one tries again',
    reason String COMMENT 'the error, with what to do next',
    records_read UInt64 COMMENT 'records read before the failure, last attempt',
    failed_at DateTime64(3, 'UTC')
) ENGINE = {{engine "ReplacingMergeTree(failed_at)"}}
ORDER BY (source_id, furrow_version)
SETTINGS {{dedup}}
;
{{distributed "ingest_failures" "cityHash64(source_id)"}}
