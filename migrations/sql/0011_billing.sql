-- Billing line items (ingest/billing): one row per input line item of a
-- CUR 1.0, CUR 2.0 or FOCUS bill, in FOCUS column names (snake_case), AWS
-- columns that allocation needs prefixed x_. Money is Decimal with 12
-- fractional digits (CUR writes up to 17: the rest is rounded half to
-- even by the engine's conversion). A delivery (a manifest's assembly, or
-- the files of one command) replaces the (billing account, billing period)
-- pairs it holds: its rows carry the delivery id, ingest_periods names the
-- delivery in force per pair (kind billing), and billing_costs keeps only
-- those rows, so a query during a swap sees one delivery, never both.
CREATE TABLE IF NOT EXISTS {{local "billing_line_items"}}{{onCluster}} (
    delivery LowCardinality(String) COMMENT 'the delivery the row came with (see ingest_periods)',
    provider LowCardinality(String),
    billing_account_id LowCardinality(String),
    sub_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    charge_period_start DateTime('UTC'),
    charge_period_end DateTime('UTC'),
    charge_category LowCardinality(String),
    service_name LowCardinality(String),
    region_id LowCardinality(String),
    availability_zone LowCardinality(String),
    resource_id String,
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12),
    list_cost Decimal(38, 12),
    billing_currency LowCardinality(String),
    tags Map(String, String),
    x_usage_type LowCardinality(String),
    x_operation LowCardinality(String),
    x_line_item_type LowCardinality(String),
    x_product_code LowCardinality(String),
    source_file LowCardinality(String),
    source_line UInt64
) ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (billing_account_id, billing_period_start, charge_period_start, delivery)
SETTINGS {{dedup}}
;
{{distributed "billing_line_items" "cityHash64(billing_account_id, billing_period_start)"}}
;
CREATE VIEW IF NOT EXISTS billing_costs{{onCluster}} AS
SELECT * EXCEPT delivery FROM billing_line_items
WHERE (concat(billing_account_id, '/', toString(toDate(billing_period_start))), delivery) IN
    (SELECT period, source_id FROM ingest_periods FINAL WHERE kind = 'billing')
