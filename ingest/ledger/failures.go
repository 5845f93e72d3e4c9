package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// FailureEntry is an object whose ingest failed permanently (see
// store.Permanent): reading it again with the same binary fails again.
type FailureEntry struct {
	ID, URL  string
	Reason   string
	Read     int64
	FailedAt time.Time
}

var _ sources.Failures = (*Ledger)(nil)

// RecordFailure records a permanent failure of an object under the
// ledger's version, in ingest_failures. The object stays out of
// ingested_objects: a failure never makes it count as done.
func (l *Ledger) RecordFailure(ctx context.Context, e FailureEntry) error {
	err := l.s.Exec(ctx, `INSERT INTO ingest_failures (source_id, kind, url, furrow_version, reason, records_read, failed_at)
SELECT {id:String}, {kind:String}, {url:String}, {version:String}, {reason:String}, {read:UInt64}, {at:DateTime64(3, 'UTC')}`,
		store.WithParams(map[string]string{
			"id": e.ID, "kind": l.kind, "url": e.URL, "version": l.version, "reason": e.Reason,
			"read": strconv.FormatInt(max(e.Read, 0), 10), "at": e.FailedAt.UTC().Format("2006-01-02 15:04:05.000"),
		}))
	if err != nil {
		return fmt.Errorf("record the failure of %s: %w", e.URL, err)
	}
	return nil
}

// Failed implements sources.Failures: the ids that failed permanently
// under the ledger's version. Another version, or a changed object (a new
// id), is not in the answer, so it is tried again.
func (l *Ledger) Failed(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var buf bytes.Buffer
	err := l.s.Query(ctx, &buf,
		`SELECT DISTINCT source_id FROM ingest_failures WHERE kind = {kind:String} AND furrow_version = {version:String}
    AND source_id IN {ids:Array(String)}`,
		"JSONEachRow", store.WithParams(map[string]string{"ids": chsql.QuoteStrings(ids), "kind": l.kind, "version": l.version}))
	if err != nil {
		return nil, fmt.Errorf("read the ingest failures: %w", err)
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var row struct {
			SourceID string `json:"source_id"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read the ingest failures: %w", err)
		}
		out[row.SourceID] = true
	}
	return out, nil
}

// ObjectStatus is one object of a Status report.
type ObjectStatus struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// State is "done" (in ingested_objects) or "failed" (failed
	// permanently and not ingested since).
	State    string `json:"state"`
	Read     int64  `json:"read"`
	Stored   int64  `json:"stored"`
	Rejected int64  `json:"rejected"`
	// Reason is why a failed object failed.
	Reason string `json:"reason,omitempty"`
	// Version is the furrow version a failed object failed with.
	Version string `json:"version,omitempty"`
	// Skipped: a failed object that this version leaves alone until the
	// object changes or --retry-failed forces it.
	Skipped bool   `json:"skipped,omitempty"`
	At      string `json:"at"`
}

// StatusReport is the state of the ingest: the totals and the most recent
// objects, newest first.
type StatusReport struct {
	// Version is the running furrow's, which failures are recorded under.
	Version string         `json:"version"`
	Done    int64          `json:"done"`
	Failed  int64          `json:"failed"`
	Objects []ObjectStatus `json:"objects"`
}

// statusQuery lists done objects and the failed ones not ingested since,
// each object once (its latest state).
const statusQuery = `WITH done AS (
    SELECT source_id, url, records_read, records_stored, records_rejected, finished_at
    FROM ingested_objects FINAL WHERE kind = {kind:String}
), failed AS (
    SELECT source_id, argMax(url, failed_at) AS url, argMax(records_read, failed_at) AS records_read,
        argMax(reason, failed_at) AS reason, argMax(furrow_version, failed_at) AS version, max(failed_at) AS at
    FROM ingest_failures WHERE kind = {kind:String} AND source_id NOT IN (SELECT source_id FROM done)
    GROUP BY source_id
)
SELECT * FROM (
    SELECT source_id AS id, url, 'done' AS state, records_read AS read, records_stored AS stored,
        records_rejected AS rejected, '' AS reason, '' AS version, finished_at AS at FROM done
    UNION ALL
    SELECT source_id, url, 'failed', records_read, 0, 0, reason, version, at FROM failed
)
WHERE {state:String} = '' OR state = {state:String}
ORDER BY at DESC, id
LIMIT {limit:UInt32}`

// Status reports the ledger's totals and its limit most recent objects;
// state ("done", "failed" or "") filters the objects.
func (l *Ledger) Status(ctx context.Context, state string, limit int) (StatusReport, error) {
	rep := StatusReport{Version: l.version, Objects: []ObjectStatus{}}
	if state != "" && state != "done" && state != "failed" {
		return rep, fmt.Errorf("state %q: want done, failed or nothing", state)
	}
	var buf bytes.Buffer
	err := l.s.Query(ctx, &buf, `SELECT
    (SELECT count() FROM ingested_objects FINAL WHERE kind = {kind:String}) AS done,
    (SELECT uniqExact(source_id) FROM ingest_failures WHERE kind = {kind:String}
        AND source_id NOT IN (SELECT source_id FROM ingested_objects WHERE kind = {kind:String})) AS failed`,
		"JSONEachRow", store.WithParams(map[string]string{"kind": l.kind}),
		store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
	if err != nil {
		return rep, fmt.Errorf("read the ingest status: %w", err)
	}
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		return rep, fmt.Errorf("read the ingest status: %w", err)
	}
	buf.Reset()
	err = l.s.Query(ctx, &buf, statusQuery, "JSONEachRow",
		store.WithParams(map[string]string{"kind": l.kind, "state": state, "limit": strconv.Itoa(max(limit, 0))}),
		store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
	if err != nil {
		return rep, fmt.Errorf("read the ingest status: %w", err)
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var o ObjectStatus
		if err := dec.Decode(&o); err != nil {
			return rep, fmt.Errorf("read the ingest status: %w", err)
		}
		o.Skipped = o.State == "failed" && o.Version == l.version
		rep.Objects = append(rep.Objects, o)
	}
	return rep, nil
}
