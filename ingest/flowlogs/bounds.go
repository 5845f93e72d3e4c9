package flowlogs

import (
	"strconv"
)

// Bounds of the values a flow-log record can hold. A record outside them
// is rejected, counted and reported with its line and the reason, like a
// malformed one; its neighbours are stored. docs/ingest-flowlogs.md lists
// them under "Bad input".
const (
	// MaxRecordBytes bounds bytes: the fastest single network interface
	// (400 Gbit/s, 50 GB/s) sending for twice the longest aggregation
	// window (10 minutes). At this bound sum(bytes) can wrap UInt64 only
	// past 300,000 records that each claim it, 18 EB in all; real traffic
	// never gets near.
	MaxRecordBytes = 50_000_000_000 * 2 * 600
	// MaxRecordPackets bounds packets: MaxRecordBytes in packets of 20
	// bytes, the smallest IPv4 header.
	MaxRecordPackets = MaxRecordBytes / 20
)

// checkBounds returns why record n of b cannot be a flow-log record, or
// "". Fields the record does not have read as their defaults, which pass.
// Protocol (0–255), ports (0–65535) and times (32-bit) are bounded by
// their column types when parsed.
func checkBounds(b *Batch, n int) string {
	switch a := b.Action(n); a {
	case "", "ACCEPT", "REJECT":
	default:
		return "action " + strconv.Quote(a) + " is not ACCEPT, REJECT or -"
	}
	switch s := b.LogStatus(n); s {
	case "", "OK", "NODATA", "SKIPDATA":
	default:
		return "log-status " + strconv.Quote(s) + " is not OK, NODATA, SKIPDATA or -"
	}
	if v := b.Bytes(n); v > MaxRecordBytes {
		return "bytes " + strconv.FormatUint(v, 10) + " is more than one interface can carry in a record (at most " + strconv.FormatUint(MaxRecordBytes, 10) + ")"
	}
	if v := b.Packets(n); v > MaxRecordPackets {
		return "packets " + strconv.FormatUint(v, 10) + " is more than one interface can carry in a record (at most " + strconv.FormatUint(MaxRecordPackets, 10) + ")"
	}
	if s, e := b.Start(n), b.End(n); s != 0 && e != 0 && s > e {
		return "start " + strconv.FormatUint(uint64(s), 10) + " is after end " + strconv.FormatUint(uint64(e), 10)
	}
	return ""
}
