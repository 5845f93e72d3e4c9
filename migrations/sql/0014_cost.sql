-- Cost allocation (query/cost). The catalog's teams, projects and cloud
-- resources are mirrored like its namespace owners (0010): a refresh
-- writes a new generation and the views read the newest one, so a team
-- renamed in HR is one row here and every cost report shows the new name.
CREATE TABLE IF NOT EXISTS {{local "catalog_teams"}}{{onCluster}} (
    generation UInt64,
    team LowCardinality(String) COMMENT 'the stable code from HR',
    team_name String,
    parent_team LowCardinality(String),
    archived UInt8
) ENGINE = {{engine "MergeTree"}}
ORDER BY (generation, team)
;
{{distributed "catalog_teams" "generation"}}
;
CREATE VIEW IF NOT EXISTS teams{{onCluster}} AS
SELECT team, team_name, parent_team, archived FROM catalog_teams
WHERE generation = (SELECT max(generation) FROM catalog_teams)
;
CREATE TABLE IF NOT EXISTS {{local "catalog_projects"}}{{onCluster}} (
    generation UInt64,
    project LowCardinality(String),
    project_name String,
    team LowCardinality(String),
    archived UInt8
) ENGINE = {{engine "MergeTree"}}
ORDER BY (generation, project)
;
{{distributed "catalog_projects" "generation"}}
;
CREATE VIEW IF NOT EXISTS projects{{onCluster}} AS
SELECT project, project_name, team, archived FROM catalog_projects
WHERE generation = (SELECT max(generation) FROM catalog_projects)
;
CREATE TABLE IF NOT EXISTS {{local "catalog_resources"}}{{onCluster}} (
    generation UInt64,
    arn String,
    resource_id String COMMENT 'the id a bill names: the ARN''s last part (i-0abc…, vol-…, a bucket)',
    project LowCardinality(String),
    team LowCardinality(String)
) ENGINE = {{engine "MergeTree"}}
ORDER BY (generation, resource_id)
;
{{distributed "catalog_resources" "generation"}}
;
CREATE VIEW IF NOT EXISTS resource_owners{{onCluster}} AS
SELECT arn, resource_id, project, team FROM catalog_resources
WHERE generation = (SELECT max(generation) FROM catalog_resources)
;
-- Allocated cost: every line item of the bill split into rows that add up
-- to it exactly (Decimal; the last share of a split is the remainder):
-- kind allocated (an owner), idle (node capacity no pod used), shared (the
-- shared namespaces' pods) or unowned; rule says how the owner was found
-- (tag, resource, node, network, none). One allocation run per (billing
-- account, billing period) is in force (ingest_periods kind cost), as
-- deliveries are for billing_line_items: the views below read that run
-- only, so a re-allocation swaps whole periods.
CREATE TABLE IF NOT EXISTS {{local "cost_allocation"}}{{onCluster}} (
    run LowCardinality(String),
    billing_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    charge_period_start DateTime('UTC'),
    charge_period_end DateTime('UTC'),
    billing_currency LowCardinality(String),
    kind LowCardinality(String) COMMENT 'allocated, idle, shared, unowned',
    rule LowCardinality(String) COMMENT 'tag, resource, node, network, none',
    project LowCardinality(String),
    team LowCardinality(String) COMMENT 'the owning team''s stable code',
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    workload LowCardinality(String),
    service_name LowCardinality(String),
    sub_account_id LowCardinality(String),
    region_id LowCardinality(String),
    usage_type LowCardinality(String),
    charge_category LowCardinality(String),
    resource_id String,
    line_item UInt64 COMMENT 'the line item split: cityHash64 of its source file and line',
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12)
) ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (billing_account_id, billing_period_start, charge_period_start, run)
SETTINGS {{dedup}}
;
{{distributed "cost_allocation" "cityHash64(billing_account_id, billing_period_start)"}}
;
-- The daily rollup of cost_allocation, written by the same run: long
-- ranges (a year of cost by team) read thousands of rows, not billions.
CREATE TABLE IF NOT EXISTS {{local "cost_allocation_daily"}}{{onCluster}} (
    run LowCardinality(String),
    billing_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    day Date,
    billing_currency LowCardinality(String),
    kind LowCardinality(String),
    rule LowCardinality(String),
    project LowCardinality(String),
    team LowCardinality(String),
    cluster LowCardinality(String),
    namespace LowCardinality(String),
    workload LowCardinality(String),
    service_name LowCardinality(String),
    sub_account_id LowCardinality(String),
    region_id LowCardinality(String),
    usage_type LowCardinality(String),
    charge_category LowCardinality(String),
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12)
) ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (day, team, project, billing_account_id, run)
SETTINGS {{dedup}}
;
{{distributed "cost_allocation_daily" "cityHash64(billing_account_id, billing_period_start)"}}
;
-- The owners' daily rollup: the daily one without the other dimensions,
-- what cost by team or project over a year reads (a few hundred thousand
-- rows a year, against millions).
CREATE TABLE IF NOT EXISTS {{local "cost_allocation_owner_daily"}}{{onCluster}} (
    run LowCardinality(String),
    billing_account_id LowCardinality(String),
    billing_period_start DateTime('UTC'),
    day Date,
    billing_currency LowCardinality(String),
    kind LowCardinality(String),
    cluster LowCardinality(String),
    team LowCardinality(String),
    project LowCardinality(String),
    billed_cost Decimal(38, 12),
    effective_cost Decimal(38, 12)
) ENGINE = {{engine "MergeTree"}}
PARTITION BY toYYYYMM(billing_period_start)
ORDER BY (day, team, project, billing_account_id, run)
SETTINGS {{dedup}}
;
{{distributed "cost_allocation_owner_daily" "cityHash64(billing_account_id, billing_period_start)"}}
;
-- The views keep the run in force of each (account, period): the period
-- names of ingest_periods ("account/YYYY-MM-DD") split back into columns,
-- so the filter compares columns, not a string built per row.
CREATE VIEW IF NOT EXISTS cost_allocated{{onCluster}} AS
SELECT * EXCEPT run FROM cost_allocation
WHERE (billing_account_id, billing_period_start, run) IN (SELECT splitByChar('/', period)[1], toDateTime(splitByChar('/', period)[2], 'UTC'), source_id
    FROM ingest_periods FINAL WHERE kind = 'cost')
;
CREATE VIEW IF NOT EXISTS cost_daily{{onCluster}} AS
SELECT * EXCEPT run FROM cost_allocation_daily
WHERE (billing_account_id, billing_period_start, run) IN (SELECT splitByChar('/', period)[1], toDateTime(splitByChar('/', period)[2], 'UTC'), source_id
    FROM ingest_periods FINAL WHERE kind = 'cost')
;
CREATE VIEW IF NOT EXISTS cost_owner_daily{{onCluster}} AS
SELECT * EXCEPT run FROM cost_allocation_owner_daily
WHERE (billing_account_id, billing_period_start, run) IN (SELECT splitByChar('/', period)[1], toDateTime(splitByChar('/', period)[2], 'UTC'), source_id
    FROM ingest_periods FINAL WHERE kind = 'cost')
;
-- Unintended increases: a day's cost of an owner and service against its
-- trailing baseline (median and MAD of the same weekdays, or of all days).
-- A detection run replaces the findings of the days it covers.
CREATE TABLE IF NOT EXISTS {{local "cost_anomalies"}}{{onCluster}} (
    day Date,
    team LowCardinality(String),
    project LowCardinality(String),
    service_name LowCardinality(String),
    rule LowCardinality(String) COMMENT 'how the cost reached the owner: a series is owner, service and rule',
    billing_currency LowCardinality(String),
    cost Decimal(38, 12),
    baseline Decimal(38, 12) COMMENT 'the trailing median',
    mad Float64 COMMENT 'median absolute deviation of the baseline days',
    score Float64 COMMENT '(cost - baseline) / (1.4826 MAD), robust z-score',
    increase Decimal(38, 12),
    detected_at DateTime64(3, 'UTC')
) ENGINE = {{engine "ReplacingMergeTree(detected_at)"}}
ORDER BY (day, team, project, service_name, rule, billing_currency)
SETTINGS {{dedup}}
;
{{distributed "cost_anomalies" "cityHash64(day, team)"}}
