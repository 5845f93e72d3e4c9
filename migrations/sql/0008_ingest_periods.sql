-- Periods whose data is replaced rather than appended: a source that
-- restates a period (a cloud bill is published again for the same month,
-- several times a day until the month closes) keeps one version of it.
-- One row per (kind, period) names the object version that holds the
-- period now; the newest version (by the source's own version time) wins.
-- Rows of a replaced period carry the source_id they came from, and
-- readers keep the rows of the holder, so switching versions is this one
-- row insert: a crash before it leaves the old version in force, a crash
-- after it leaves rows of the old version that the next run deletes.
CREATE TABLE IF NOT EXISTS {{local "ingest_periods"}}{{onCluster}} (
    kind LowCardinality(String) COMMENT 'what was ingested: aws-cur, focus, …',
    period String COMMENT 'what one version replaces, e.g. payer account and billing month',
    source_id String COMMENT 'the object version holding the period (as ingested_objects.source_id)',
    url String,
    version DateTime64(3, 'UTC') COMMENT 'the version time the source gives; the newest holds the period',
    records_stored UInt64,
    recorded_at DateTime64(3, 'UTC')
) ENGINE = {{engine "ReplacingMergeTree(version)"}}
ORDER BY (kind, period)
SETTINGS {{dedup}}
;
{{distributed "ingest_periods" "cityHash64(kind, period)"}}
