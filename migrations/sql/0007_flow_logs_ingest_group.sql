-- The group of small objects a row was inserted with ('' for an object
-- inserted on its own). Small objects are grouped into one INSERT (one
-- part: all or nothing), and the group is recorded before the INSERT; a
-- run that finds the group recorded but its objects not marked done asks
-- this column whether the INSERT committed, so that a re-run which forms
-- other groups never stores a row twice (docs/ingest-flowlogs.md).
ALTER TABLE {{local "flow_logs"}}{{onCluster}}
    ADD COLUMN IF NOT EXISTS ingest_group LowCardinality(String) DEFAULT '' COMMENT 'small-object group of the insert, or empty' AFTER source
{{- if .Cluster}}
;
ALTER TABLE flow_logs{{onCluster}}
    ADD COLUMN IF NOT EXISTS ingest_group LowCardinality(String) DEFAULT '' AFTER source
{{- end}}
