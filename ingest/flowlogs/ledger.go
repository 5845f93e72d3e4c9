package flowlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	sources "github.com/furrowdev/furrow/ingest/source"
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

// NewLedger returns the ledger of objects of kind (e.g. "flowlogs") in s,
// kept by furrow version (see RecordFailure; "" means DefaultVersion).
func NewLedger(s store.Store, kind, version string) *Ledger {
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
		"JSONEachRow", store.WithParams(map[string]string{"ids": arrayLiteral(ids)}))
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

// LedgerEntry is one ingested object.
type LedgerEntry struct {
	ID, URL                string
	Size                   int64
	Read, Stored, Rejected int64
	FirstErrors            []string
	StartedAt, FinishedAt  time.Time
}

// Record marks an object as ingested.
func (l *Ledger) Record(ctx context.Context, e LedgerEntry) error {
	u := func(v int64) string { return strconv.FormatInt(max(v, 0), 10) }
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }
	err := l.s.Exec(ctx, `INSERT INTO ingested_objects (source_id, kind, url, size, records_read, records_stored,
    records_rejected, first_errors, started_at, finished_at)
SELECT {id:String}, {kind:String}, {url:String}, {size:UInt64}, {read:UInt64}, {stored:UInt64},
    {rejected:UInt64}, {errors:Array(String)}, {started:DateTime64(3, 'UTC')}, {finished:DateTime64(3, 'UTC')}`,
		store.WithParams(map[string]string{
			"id": e.ID, "kind": l.kind, "url": e.URL, "size": u(e.Size),
			"read": u(e.Read), "stored": u(e.Stored), "rejected": u(e.Rejected),
			"errors": arrayLiteral(e.FirstErrors), "started": ts(e.StartedAt), "finished": ts(e.FinishedAt),
		}))
	if err != nil {
		return fmt.Errorf("record %s in the ingest ledger: %w", e.URL, err)
	}
	return nil
}

// arrayLiteral renders strings as an Array(String) parameter value.
func arrayLiteral(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		for _, r := range s {
			switch r {
			case '\\', '\'':
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}
