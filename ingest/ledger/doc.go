// Package ledger is the exactly-once ledger of every ingest, kept in
// ClickHouse next to the rows it accounts for: which objects are stored
// (ingested_objects), which an interrupted run had started or grouped,
// which failed permanently under which furrow version (ingest_failures),
// and, for sources that restate a period instead of appending to it,
// which object version holds each period (ingest_periods; see
// Ledger.ReplacePeriod). It implements source.Ledger and source.Failures
// for the pollers.
package ledger
