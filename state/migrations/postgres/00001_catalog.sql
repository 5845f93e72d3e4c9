-- +goose Up
-- The ownership catalog (catalog/): teams by their HR code, people,
-- projects and the namespaces they run in, cloud resources, and the audit
-- log of every change. version counts each row's changes (the ETag).
CREATE TABLE teams (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT NOT NULL DEFAULT '',
    slack_channel TEXT NOT NULL DEFAULT '',
    oncall TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL DEFAULT 'api',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE people (
    employee_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    slack_user_id TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL DEFAULT 'api',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE team_members (
    team_code TEXT NOT NULL,
    employee_id TEXT NOT NULL,
    PRIMARY KEY (team_code, employee_id)
);
CREATE INDEX team_members_by_person ON team_members (employee_id);
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_team TEXT NOT NULL DEFAULT '',
    tier TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    slo TEXT NOT NULL DEFAULT '',
    repos TEXT NOT NULL DEFAULT '[]',
    links TEXT NOT NULL DEFAULT '{}',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL DEFAULT 'api',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE project_namespaces (
    cluster TEXT NOT NULL,
    namespace TEXT NOT NULL,
    project_id TEXT NOT NULL,
    PRIMARY KEY (cluster, namespace)
);
CREATE INDEX project_namespaces_by_project ON project_namespaces (project_id);
CREATE TABLE resources (
    arn TEXT PRIMARY KEY,
    project_id TEXT NOT NULL DEFAULT '',
    team_code TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL DEFAULT 'api',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    subject TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT NOT NULL DEFAULT '',
    after TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_key ON audit (kind, key);

-- +goose Down
DROP TABLE audit;
DROP TABLE resources;
DROP TABLE project_namespaces;
DROP TABLE projects;
DROP TABLE team_members;
DROP TABLE people;
DROP TABLE teams;
