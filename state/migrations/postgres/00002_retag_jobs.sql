-- +goose Up
-- Re-tag jobs of ownership transfers (catalog/aws.go): one job per
-- transfer, one item per resource to re-tag; items are done one batch at a
-- time and their state saved after each, so a job resumes after a crash
-- where it stopped.
CREATE TABLE retag_jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    from_team TEXT NOT NULL,
    to_team TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE retag_items (
    job_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, arn)
);

-- +goose Down
DROP TABLE retag_items;
DROP TABLE retag_jobs;
