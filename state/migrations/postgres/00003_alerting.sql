-- +goose Up
-- Alert delivery (alerting/store.go, docs/alerting.md "Pipeline and
-- outbox"). Times are UTC text of fixed width (2006-01-02T15:04:05.000000000Z)
-- so that they compare as strings in both dialects.
--
-- alert_groups: one row per group (source, receiver, namespace, alert
-- name: alerting.GroupKey), its last state and snooze.
CREATE TABLE alert_groups (
    group_key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    namespace TEXT NOT NULL,
    alertname TEXT NOT NULL,
    status TEXT NOT NULL,
    first_fired_at TEXT NOT NULL DEFAULT '',
    last_fired_at TEXT NOT NULL DEFAULT '',
    fire_count INTEGER NOT NULL DEFAULT 0,
    snoozed_until TEXT NOT NULL DEFAULT '',
    snoozed_by TEXT NOT NULL DEFAULT '',
    last_posted_at TEXT NOT NULL DEFAULT '',
    last_payload TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
-- alert_messages: the Slack message of a group in a channel (a route with
-- continue posts a group to several) during one firing episode (episode:
-- when the group began firing), which a resolve updates and replies under;
-- a reminder's message replaces it. channel_id is Slack's id, which
-- chat.update needs.
CREATE TABLE alert_messages (
    group_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    episode TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    PRIMARY KEY (group_key, channel, episode)
);
-- alert_outbox: the deliveries still to make and those made. dedup_key is
-- unique: recording the same delivery twice records it once.
CREATE TABLE alert_outbox (
    id BIGSERIAL PRIMARY KEY,
    group_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    episode TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedup_key TEXT NOT NULL UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    state TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    done_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_outbox_due ON alert_outbox (state, next_at);
-- alert_fires: when each group fired, for mention rules with after:.
CREATE TABLE alert_fires (
    group_key TEXT NOT NULL,
    fired_at TEXT NOT NULL
);
CREATE INDEX alert_fires_key ON alert_fires (group_key, fired_at);

-- +goose Down
DROP TABLE alert_fires;
DROP TABLE alert_outbox;
DROP TABLE alert_messages;
DROP TABLE alert_groups;
