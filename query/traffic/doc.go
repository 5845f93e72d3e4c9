// Package traffic answers "which namespaces and workloads make cross-AZ, NAT
// and internet traffic, and what does it cost?" from the hourly rollup
// flow_traffic_hourly (see migrations/sql/0003_flow_rollups.sql): top talkers
// by namespace, workload or zone pair, cost per day and class, before/after a
// change such as locality load balancing or Topology Aware Routing, and zone
// skew per workload. It serves `furrow report cross-zone` (CrossZoneReport)
// and GET /api/v1/traffic/… (Routes).
//
// The rollup is a SummingMergeTree whose parts may not be merged yet, so
// every query aggregates it with sum() and GROUP BY; no query trusts a single
// row. Its grain is one hour: a Filter's From is rounded down to the hour
// and an hour is included when it starts before To.
//
// Sums of Float64 columns depend on the order parts are read in, so the
// reports round bytes to whole bytes and costs to 10^-9 USD: the same data
// gives the same figures, byte for byte.
//
// Every user-supplied value reaches ClickHouse as a query parameter
// ({name:Type}); SQL text is only ever assembled from constants.
package traffic
