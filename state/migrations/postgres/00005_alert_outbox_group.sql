-- +goose Up
-- A group's deliveries: a resolve looks up the channels of its episode,
-- and an update whether its post is pending, by group key and episode
-- (without it, a scan of the whole outbox per group received).
CREATE INDEX alert_outbox_group ON alert_outbox (group_key, episode);

-- +goose Down
DROP INDEX alert_outbox_group;
