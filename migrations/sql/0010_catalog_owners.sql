-- Who owns each namespace, mirrored from the ownership catalog (the
-- operational store is the truth; catalog/) on every change, so that SQL
-- joins traffic and cost to teams. Each refresh writes the whole mapping
-- under a new generation and deletes the older ones; the view
-- namespace_owners reads the newest generation only, so a reader never
-- sees two mappings mixed or an empty one between them.
CREATE TABLE IF NOT EXISTS {{local "catalog_namespace_owners"}}{{onCluster}} (
    generation UInt64 COMMENT 'refresh number; the newest one is the mapping',
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    project LowCardinality(String),
    team LowCardinality(String) COMMENT 'the owning team''s stable code',
    team_name LowCardinality(String),
    slack_channel String,
    team_archived UInt8 COMMENT '1: the team left HR; the ownership needs a new owner'
) ENGINE = {{engine "MergeTree"}}
ORDER BY (generation, cluster, namespace)
;
{{distributed "catalog_namespace_owners" "generation"}}
;
CREATE VIEW IF NOT EXISTS namespace_owners{{onCluster}} AS
SELECT cluster, namespace, project, team, team_name, slack_channel, team_archived
FROM catalog_namespace_owners
WHERE generation = (SELECT max(generation) FROM catalog_namespace_owners)
