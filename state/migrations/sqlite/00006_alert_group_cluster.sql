-- +goose Up
-- The cluster of a group's alerts (their alerting.cluster_label), so that
-- the page and the API look the owner up where the alert came from.
ALTER TABLE alert_groups ADD COLUMN cluster TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE alert_groups DROP COLUMN cluster;
