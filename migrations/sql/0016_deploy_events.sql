-- Deploy events (deployer/events). deploy_events holds one row per step of
-- an action per target cluster: the deployer writes a started row and then
-- a succeeded, failed or cancelled one; external sources (Argo CD
-- notifications, GitHub deployment_status webhooks) write what they
-- report. Inserts carry a deduplication token (the row's content, or the
-- source and external_id for external events), so a retried write or a
-- webhook delivered twice is stored once. Kept forever (no TTL): a few
-- thousand rows a day, and DORA trends compare years. Not partitioned:
-- ClickHouse deduplicates per partition, and a retry landing in the next
-- month would be stored twice; one partition holds years of deploys.
CREATE TABLE IF NOT EXISTS {{local "deploy_events"}}{{onCluster}} (
    at DateTime64(3, 'UTC') COMMENT 'when the step happened (the result''s time; started_at for a started row)',
    deploy_id Int64 COMMENT 'furrow''s deploy id (a sequence); GitHub''s deployment id; for Argo CD a hash of the application and the sync''s start',
    source LowCardinality(String) COMMENT 'furrow, argocd or github',
    project LowCardinality(String) COMMENT 'the catalog''s project id',
    service LowCardinality(String),
    team LowCardinality(String) COMMENT 'the owning team''s stable code',
    environment LowCardinality(String),
    region LowCardinality(String),
    cluster LowCardinality(String),
    action LowCardinality(String) COMMENT 'deploy, rollback, restart, scale, cronjob_trigger, prune',
    result LowCardinality(String) COMMENT 'started, succeeded, failed, cancelled',
    failure_cause LowCardinality(String) COMMENT 'ImagePullBackOff, CrashLoopBackOff, Unschedulable, ProbeFailing, Quota, Timeout, LockConflict, RenderError, …; empty unless failed',
    message String,
    revision String COMMENT 'the spec''s revision (Git commit or furrow revision number)',
    image String,
    previous_image String,
    actor String COMMENT 'the employee id from the catalog; source:login when an external login matched nobody',
    actor_name String,
    started_at DateTime64(3, 'UTC'),
    finished_at Nullable(DateTime64(3, 'UTC')) COMMENT 'NULL on a started row',
    duration_ms UInt64 COMMENT 'finished_at - started_at; 0 on a started row',
    commit_sha String,
    commit_time Nullable(DateTime64(3, 'UTC')) COMMENT 'the deployed commit''s time, when known (lead time)',
    replicas_from Nullable(Int32) COMMENT 'scale: the replicas before',
    replicas_to Nullable(Int32) COMMENT 'scale: the replicas asked for',
    external_id String COMMENT 'the external source''s id of the event; empty for furrow'
) ENGINE = {{engine "MergeTree"}}
ORDER BY (project, environment, at)
SETTINGS {{dedup}}
;
{{distributed "deploy_events" "cityHash64(project)"}}
;
-- One row per action (source, project, environment, deploy id, action)
-- over its target clusters: started at the first cluster's start, finished
-- when every cluster that started has a result (NULL before), failed when
-- any cluster failed (its first cause), cancelled when any was cancelled,
-- else succeeded; duration_ms from the first start to the last finish.
-- The operating and DORA metrics (query/deploys) read this view.
CREATE VIEW IF NOT EXISTS deploy_actions{{onCluster}} AS
SELECT
    source,
    project,
    environment,
    deploy_id,
    action,
    any(e_service) AS service,
    any(e_team) AS team,
    groupUniqArray(e_region) AS regions,
    groupUniqArray(e_cluster) AS clusters,
    min(e_started_at) AS started_at,
    if(uniqExactIf(e_cluster, e_result != 'started') >= uniqExact(e_cluster), maxOrNull(e_finished_at), NULL) AS finished_at,
    multiIf(countIf(e_result = 'failed') > 0, 'failed',
        countIf(e_result = 'cancelled') > 0, 'cancelled',
        finished_at IS NOT NULL, 'succeeded', 'started') AS result,
    argMinIf(e_failure_cause, e_at, e_result = 'failed' AND e_failure_cause != '') AS failure_cause,
    argMaxIf(e_message, e_at, e_message != '') AS message,
    argMaxIf(e_revision, e_at, e_revision != '') AS revision,
    argMaxIf(e_image, e_at, e_image != '') AS image,
    argMaxIf(e_previous_image, e_at, e_previous_image != '') AS previous_image,
    argMaxIf(e_actor, e_at, e_actor != '') AS actor,
    argMaxIf(e_actor_name, e_at, e_actor_name != '') AS actor_name,
    argMaxIf(e_commit_sha, e_at, e_commit_sha != '') AS commit_sha,
    min(e_commit_time) AS commit_time,
    if(finished_at IS NULL, NULL, toUInt64(greatest(dateDiff('millisecond', started_at, assumeNotNull(finished_at)), 0))) AS duration_ms,
    min(e_replicas_from) AS replicas_from,
    max(e_replicas_to) AS replicas_to
FROM (
    SELECT source, project, environment, deploy_id, action, at AS e_at, service AS e_service, team AS e_team,
        region AS e_region, cluster AS e_cluster, result AS e_result, failure_cause AS e_failure_cause,
        message AS e_message, revision AS e_revision, image AS e_image, previous_image AS e_previous_image,
        actor AS e_actor, actor_name AS e_actor_name, started_at AS e_started_at, finished_at AS e_finished_at,
        commit_sha AS e_commit_sha, commit_time AS e_commit_time, replicas_from AS e_replicas_from, replicas_to AS e_replicas_to
    FROM deploy_events
)
GROUP BY source, project, environment, deploy_id, action
