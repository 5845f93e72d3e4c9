-- Alert history (alerting/history.go). alert_events holds one row per
-- alert per webhook received from Grafana or Alertmanager, after the split
-- into (namespace, alert name) groups; notification_id is the SHA-256 of
-- the webhook body, and the insert's deduplication token is derived from
-- it, so a webhook the sender retries (same body) is stored once. Not
-- partitioned: ClickHouse deduplicates per partition, and a retry received
-- in the next month would land in another one and be stored twice (alerts
-- are thousands of rows a day, one partition holds years of them).
CREATE TABLE IF NOT EXISTS {{local "alert_events"}}{{onCluster}} (
    received_at DateTime64(3, 'UTC') COMMENT 'when furrow accepted the webhook',
    source LowCardinality(String) COMMENT 'grafana or alertmanager',
    receiver LowCardinality(String),
    group_key String COMMENT 'the Slack message''s group: source, receiver, namespace and alert name (alerting.GroupKey)',
    namespace LowCardinality(String) COMMENT 'empty: the alert had no namespace label (default route)',
    alertname LowCardinality(String),
    fingerprint String COMMENT 'the alert''s label set, as the sender (or Alertmanager''s algorithm) computes it',
    status LowCardinality(String) COMMENT 'firing or resolved',
    starts_at Nullable(DateTime64(3, 'UTC')) COMMENT 'NULL: the sender gave none',
    ends_at Nullable(DateTime64(3, 'UTC')) COMMENT 'NULL while firing',
    labels Map(String, String),
    annotations Map(String, String),
    value Nullable(Float64) COMMENT 'the value mention conditions compare (largest Grafana query value, else a value label or annotation)',
    generator_url String,
    notification_id String COMMENT 'SHA-256 of the webhook body, hex'
) ENGINE = {{engine "MergeTree"}}
ORDER BY (namespace, alertname, received_at)
SETTINGS {{dedup}}
;
{{distributed "alert_events" "cityHash64(namespace, alertname)"}}
;
-- One row per outcome of a delivery attempt: kind post, update (a resolve
-- edits the message), reply (in its thread), remind, snoozed or suppressed
-- (recorded, not sent); status ok, retry (will be tried again) or failed
-- (given up). lag_ms runs from the webhook's acceptance to the Slack call.
CREATE TABLE IF NOT EXISTS {{local "alert_deliveries"}}{{onCluster}} (
    at DateTime64(3, 'UTC'),
    delivery_id String COMMENT 'the outbox entry the attempt belongs to',
    group_key String,
    namespace LowCardinality(String),
    alertname LowCardinality(String),
    kind LowCardinality(String) COMMENT 'post, update, reply, remind, snoozed, suppressed',
    channel LowCardinality(String),
    status LowCardinality(String) COMMENT 'ok, retry, failed',
    error String COMMENT 'why the attempt failed; never carries a secret',
    lag_ms UInt64 COMMENT 'from the webhook''s acceptance to the Slack call'
) ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(at)
ORDER BY (namespace, alertname, at)
SETTINGS {{dedup}}
;
{{distributed "alert_deliveries" "cityHash64(namespace, alertname)"}}
;
-- Incidents: one row per firing episode of an alert, i.e. per group key,
-- fingerprint and start (an alert that resolves and fires again starts a
-- new episode with a new startsAt). fire_count counts the firing
-- notifications received for it (the sender's repeats included);
-- resolved_at is the resolved endsAt (else when the resolve was
-- received), NULL while it fires; duration_seconds is NULL until resolved.
CREATE VIEW IF NOT EXISTS alert_incidents{{onCluster}} AS
SELECT
    group_key,
    fingerprint,
    starts_at AS fired_at,
    any(source) AS source,
    any(namespace) AS namespace,
    any(alertname) AS alertname,
    min(received_at) AS first_received_at,
    max(received_at) AS last_received_at,
    countIf(status = 'firing') AS fire_count,
    coalesce(maxOrNullIf(ends_at, status = 'resolved'), maxOrNullIf(received_at, status = 'resolved')) AS resolved_at,
    dateDiff('second', fired_at, resolved_at) AS duration_seconds
FROM alert_events
GROUP BY group_key, fingerprint, starts_at
