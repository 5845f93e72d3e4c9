-- +goose Up
-- The deployer (deployer/store.go, docs/deployer.md). Times are UTC text of
-- fixed width so that they compare as strings in both dialects.
--
-- deploys: one row per action on a project's environment (deploy,
-- rollback, restart, scale, cronjob_trigger, prune); its id is the deploy
-- id, from the table's sequence. spec is the spec deployed; secret_versions
-- the Secrets Manager version ids it used (JSON, never values); params the
-- action's (replicas, CronJob, regions pruned); state running, succeeded,
-- failed or refused (another deploy held the lock).
CREATE TABLE deploys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    environment TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id TEXT NOT NULL DEFAULT '',
    actor_name TEXT NOT NULL DEFAULT '',
    service TEXT NOT NULL DEFAULT '',
    team TEXT NOT NULL DEFAULT '',
    image TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL DEFAULT '',
    spec_file TEXT NOT NULL DEFAULT '',
    secret_versions TEXT NOT NULL DEFAULT '{}',
    config_hash TEXT NOT NULL DEFAULT '',
    rollback_of BIGINT NOT NULL DEFAULT 0,
    params TEXT NOT NULL DEFAULT '{}',
    cause TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    commit_sha TEXT NOT NULL DEFAULT '',
    commit_time TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deploys_project ON deploys (project, environment, id);
-- deploy_locks: one deploy at a time per project and environment. A row
-- is the lock; taking it is an insert that must not conflict; a holder
-- that died is replaced only once its lease (expires_at) has passed, by an
-- update that names the old holder (optimistic).
CREATE TABLE deploy_locks (
    project TEXT NOT NULL,
    environment TEXT NOT NULL,
    deploy_id BIGINT NOT NULL,
    holder TEXT NOT NULL,
    since TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (project, environment)
);
-- deploy_targets: a deploy's outcome per cluster.
CREATE TABLE deploy_targets (
    deploy_id BIGINT NOT NULL,
    cluster TEXT NOT NULL,
    region TEXT NOT NULL,
    state TEXT NOT NULL,
    cause TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    log_tail TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (deploy_id, cluster)
);
-- deploy_log: the lines of a deploy's live stream, numbered, so that a
-- follower (SSE, furrow deploy --follow) can resume from the last it saw.
CREATE TABLE deploy_log (
    deploy_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    cluster TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (deploy_id, seq)
);

-- +goose Down
DROP TABLE deploy_log;
DROP TABLE deploy_targets;
DROP TABLE deploy_locks;
DROP TABLE deploys;
