package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Ledger is the exactly-once ledger in ClickHouse: the table
// ingested_objects, one row per object ingested completely. It implements
// sources.Ledger.
type Ledger struct {
	s       store.Store
	kind    string
	version string // the binary's, which permanent failures are recorded under
}

// New returns the ledger of objects of kind (e.g. "flowlogs") in s,
// kept by furrow version (see RecordFailure; "" means DefaultVersion).
func New(s store.Store, kind, version string) *Ledger {
	if version == "" {
		version = DefaultVersion
	}
	return &Ledger{s: s, kind: kind, version: version}
}

// DefaultVersion is the version failures are recorded under when the
// binary does not say (a build without -ldflags "-X main.version=…").
const DefaultVersion = "dev"

var _ sources.Ledger = (*Ledger)(nil)

// Done implements sources.Ledger.
func (l *Ledger) Done(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var buf bytes.Buffer
	err := l.s.Query(ctx, &buf,
		"SELECT source_id FROM ingested_objects FINAL WHERE source_id IN {ids:Array(String)}",
		"JSONEachRow", store.WithParams(map[string]string{"ids": chsql.QuoteStrings(ids)}))
	if err != nil {
		return nil, fmt.Errorf("read the ingest ledger: %w", err)
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var row struct {
			SourceID string `json:"source_id"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read the ingest ledger: %w", err)
		}
		out[row.SourceID] = true
	}
	return out, nil
}

// Entry is one ingested object.
type Entry struct {
	ID, URL                string
	Size                   int64
	Read, Stored, Rejected int64
	FirstErrors            []string
	StartedAt, FinishedAt  time.Time
}

// Record marks an object as ingested.
func (l *Ledger) Record(ctx context.Context, e Entry) error {
	return l.RecordMany(ctx, []Entry{e})
}

// RecordMany marks objects as ingested, in one insert.
func (l *Ledger) RecordMany(ctx context.Context, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	u := func(v int64) string { return strconv.FormatInt(max(v, 0), 10) }
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }
	var ids, urls, sizes, read, stored, rejected, errs, started, finished []string
	for _, e := range es {
		ids, urls = append(ids, e.ID), append(urls, e.URL)
		sizes, read = append(sizes, u(e.Size)), append(read, u(e.Read))
		stored, rejected = append(stored, u(e.Stored)), append(rejected, u(e.Rejected))
		errs = append(errs, chsql.QuoteStrings(e.FirstErrors))
		started, finished = append(started, ts(e.StartedAt)), append(finished, ts(e.FinishedAt))
	}
	list := func(vs []string) string { return chsql.QuoteStrings(vs) }
	err := l.s.Exec(ctx, `INSERT INTO ingested_objects (source_id, kind, url, size, records_read, records_stored,
    records_rejected, first_errors, started_at, finished_at)
SELECT {ids:Array(String)}[i], {kind:String}, {urls:Array(String)}[i], {sizes:Array(UInt64)}[i], {read:Array(UInt64)}[i],
    {stored:Array(UInt64)}[i], {rejected:Array(UInt64)}[i], {errors:Array(Array(String))}[i],
    {started:Array(DateTime64(3, 'UTC'))}[i], {finished:Array(DateTime64(3, 'UTC'))}[i]
FROM (SELECT arrayJoin(range(1, {n:UInt32} + 1)) AS i)`,
		store.WithParams(map[string]string{
			"ids": list(ids), "kind": l.kind, "urls": list(urls), "sizes": "[" + strings.Join(sizes, ",") + "]",
			"read": "[" + strings.Join(read, ",") + "]", "stored": "[" + strings.Join(stored, ",") + "]",
			"rejected": "[" + strings.Join(rejected, ",") + "]", "errors": "[" + strings.Join(errs, ",") + "]",
			"started": list(started), "finished": list(finished), "n": strconv.Itoa(len(es)),
		}))
	if err != nil {
		if len(es) == 1 {
			return fmt.Errorf("record %s in the ingest ledger: %w", es[0].URL, err)
		}
		return fmt.Errorf("record %d objects in the ingest ledger: %w", len(es), err)
	}
	return nil
}

// Why attempts are marked: a crash after some insert streams committed
// leaves rows that a re-run sends again, and the engine drops as
// duplicates (same tokens). The re-run cannot tell from the inserts which
// rows were new, so before an object's first insert the ledger gets an
// attempt row (kind "<kind>-attempt", source_id ID#attempt@LOCATION). A
// re-run that finds one counts the object's rows before and after it
// stores, and reports the difference as stored. The count reads the
// source column of flow_logs, so it is paid only after an interrupted
// attempt; the attempt rows cost one small insert per batch of objects.

// attemptSep joins an ID and a location in an attempt row's source_id.
const attemptSep = "#attempt@"

// Attempt is one object about to be ingested.
type Attempt struct {
	// ID is the object's identity (source.ID), Location where it is read
	// (source.Location, what flow_logs.source holds).
	ID, Location string
}

// EarlierAttempts returns, for each of ids that an earlier run started,
// the locations it was read from.
func (l *Ledger) EarlierAttempts(ctx context.Context, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var buf bytes.Buffer
	// The ledger holds a row or two per object: a scan is cheap.
	err := l.s.Query(ctx, &buf, `SELECT DISTINCT splitByString({sep:String}, source_id)[1] AS id, url
FROM ingested_objects WHERE kind = {kind:String} AND id IN {ids:Array(String)}`,
		"JSONEachRow", store.WithParams(map[string]string{"sep": attemptSep, "kind": l.kind + "-attempt", "ids": chsql.QuoteStrings(ids)}))
	if err != nil {
		return nil, fmt.Errorf("read the ingest ledger: %w", err)
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var row struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read the ingest ledger: %w", err)
		}
		out[row.ID] = append(out[row.ID], row.URL)
	}
	return out, nil
}

// MarkAttempts records that the objects are about to be ingested, in one
// insert.
func (l *Ledger) MarkAttempts(ctx context.Context, as []Attempt, now time.Time) error {
	if len(as) == 0 {
		return nil
	}
	ids, locs := make([]string, len(as)), make([]string, len(as))
	for i, a := range as {
		ids[i], locs[i] = a.ID+attemptSep+a.Location, a.Location
	}
	err := l.s.Exec(ctx, `INSERT INTO ingested_objects (source_id, kind, url, started_at, finished_at)
SELECT t.1, {kind:String}, t.2, {now:DateTime64(3, 'UTC')}, {now:DateTime64(3, 'UTC')}
FROM (SELECT arrayJoin(arrayZip({ids:Array(String)}, {locs:Array(String)})) AS t)`,
		store.WithParams(map[string]string{
			"kind": l.kind + "-attempt", "ids": chsql.QuoteStrings(ids), "locs": chsql.QuoteStrings(locs),
			"now": now.UTC().Format("2006-01-02 15:04:05.000"),
		}))
	if err != nil {
		return fmt.Errorf("record %d objects as started in the ingest ledger: %w", len(as), err)
	}
	return nil
}
