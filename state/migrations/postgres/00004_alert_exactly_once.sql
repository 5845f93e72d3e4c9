-- +goose Up
-- Exactly-once delivery to Slack (alerting/store.go, docs/alerting.md
-- "Exactly once"). alert_outbox.sent_at is when an attempt that may have
-- reached Slack began ('' when none did): a delivery claimed again with
-- sent_at set (a crash, a timeout) first looks in the channel for the
-- message carrying its dedup key before posting. alert_channels keeps the
-- Slack id of each channel name posted to, which conversations.history
-- needs.
ALTER TABLE alert_outbox ADD COLUMN sent_at TEXT NOT NULL DEFAULT '';
CREATE TABLE alert_channels (
    channel TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE alert_channels;
ALTER TABLE alert_outbox DROP COLUMN sent_at;
