// Package flowlogs parses AWS VPC and Transit Gateway flow log files into
// columnar batches for the ClickHouse table flow_logs.
//
// Every documented flow log field (versions 2 to 11, see Fields) has a
// column named as the AWS field in snake_case ("account-id" becomes
// account_id), in catalogue order; ColumnsDDL renders the column list for
// the table's migration and Batch.Input the matching ch-go proto columns.
// A field that a file does not carry, and a field whose value is "-"
// (absent: NODATA and SKIPDATA records, pkt-src-aws-service for non-AWS
// traffic, …), is stored as the column default: 0 for numbers and
// DateTime, the empty string for strings and :: for addresses. IPv4
// addresses are stored IPv4-mapped (::ffff:a.b.c.d) in the IPv6 columns;
// start and end are unix seconds.
//
// A Reader takes one file and detects its encoding from the first bytes:
// plain text, gzip text, Parquet (AWS names its columns in snake_case), and
// text lines that are CloudWatch Logs or Firehose JSON objects whose
// "message" holds the flow log line. The fields of text lines come from a
// header line when there is one (any order, any subset, dashes or
// underscores; a header repeated mid-file is re-read), else from
// Options.Fields, else from the documented default for the line's field
// count (DefaultFields).
//
// A malformed line is skipped, counted and, up to Options.MaxErrorDetails,
// described in Stats with its file name, line number and reason; its
// neighbours are kept. A file that is not a flow log at all is reported as
// ErrNotFlowLog from its first bytes or lines. Records come out in file
// order, so the same file always yields the same batches.
//
// An Attributor resolves both ends of each record (pod at the flow's time,
// node, NAT gateway, AWS service, VPC, internet) and classifies and costs
// it (docs/traffic.md); an Ingester lists objects, skips those the ledger
// (ingested_objects) knows, and streams parse → attribute → insert with
// per-block deduplication tokens, so each record is stored once.
package flowlogs
