package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Replacing a period. Some sources publish the same period again: a cloud
// bill (CUR, FOCUS) is rewritten for the month several times a day until
// the month closes, each time complete. Appending would count the month
// once per version, and deduplication tokens cannot help (each version is
// another object with other rows). Such a source keeps one version per
// period, in ingest_periods:
//
//  1. Holders: if the period is held by this object, or by a newer
//     version, there is nothing to do.
//  2. Insert the object's rows, each carrying the object's identity (the
//     source_id column) and its own deduplication tokens, so a re-run after
//     a crash stores them once.
//  3. ReplacePeriod: one row insert makes the object the holder. Readers
//     keep only the holder's rows (HolderFilter), so a crash before this
//     step leaves the old version in force, and no reader ever sees two
//     versions added together.
//  4. Delete the rows of the period whose source_id is not the holder. A
//     crash before this leaves rows the readers already ignore; the next
//     run deletes them.
//
// The version that holds a period is the newest by the source's own
// version time (an older object listed late never wins); for equal times
// the last recorded wins.

// Period is one version of a period.
type Period struct {
	// Period names what a version replaces, e.g. "123456789012/2026-11"
	// for a payer account's billing month.
	Period string `json:"period"`
	// ID is the object version's identity (source.ID), which its rows
	// carry; URL where it was read.
	ID  string `json:"source_id"`
	URL string `json:"url"`
	// Version orders versions: the source's own (a manifest's assembly
	// time, an object's last modification).
	Version time.Time `json:"-"`
	Stored  int64     `json:"records_stored"`
}

func (l *Ledger) periodKind() string { return l.kind }

// Holders returns the version that holds each of periods; a period
// missing from the answer has none.
func (l *Ledger) Holders(ctx context.Context, periods []string) (map[string]Period, error) {
	out := map[string]Period{}
	if len(periods) == 0 {
		return out, nil
	}
	var buf bytes.Buffer
	err := l.s.Query(ctx, &buf, `SELECT period, source_id, url, toUnixTimestamp64Milli(version) AS version_ms, records_stored
FROM ingest_periods FINAL WHERE kind = {kind:String} AND period IN {periods:Array(String)}`,
		"JSONEachRow", store.WithParams(map[string]string{"kind": l.periodKind(), "periods": chsql.QuoteStrings(periods)}),
		store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
	if err != nil {
		return nil, fmt.Errorf("read the periods of the ingest ledger: %w", err)
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var row struct {
			Period
			VersionMS int64 `json:"version_ms"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read the periods of the ingest ledger: %w", err)
		}
		row.Period.Version = time.UnixMilli(row.VersionMS).UTC()
		out[row.Period.Period] = row.Period
	}
	return out, nil
}

// ReplacePeriod makes p the version that holds its period, unless a newer
// version holds it already; it reports whether p holds the period now.
// Call it after p's rows are stored.
func (l *Ledger) ReplacePeriod(ctx context.Context, p Period, now time.Time) (bool, error) {
	if p.Period == "" || p.ID == "" {
		return false, fmt.Errorf("replace a period: the period and the object's identity are required")
	}
	held, err := l.Holders(ctx, []string{p.Period})
	if err != nil {
		return false, err
	}
	if h, ok := held[p.Period]; ok && h.Version.After(p.Version) {
		return false, nil
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }
	err = l.s.Exec(ctx, `INSERT INTO ingest_periods (kind, period, source_id, url, version, records_stored, recorded_at)
SELECT {kind:String}, {period:String}, {id:String}, {url:String}, {version:DateTime64(3, 'UTC')}, {stored:UInt64}, {now:DateTime64(3, 'UTC')}`,
		store.WithParams(map[string]string{
			"kind": l.periodKind(), "period": p.Period, "id": p.ID, "url": p.URL, "version": ts(p.Version),
			"stored": strconv.FormatInt(max(p.Stored, 0), 10), "now": ts(now),
		}),
		// Two versions recorded in the same millisecond would otherwise
		// share a block and be dropped as one insert retried.
		store.WithSettings(map[string]string{"insert_deduplicate": "0"}))
	if err != nil {
		return false, fmt.Errorf("record %s as the version of period %s: %w", p.URL, p.Period, err)
	}
	return true, nil
}

// HolderFilter is a condition on a table's (period, source_id) columns,
// named by periodExpr and idExpr, that keeps the rows of the versions
// holding their periods: the reader's half of replacing a period.
func (l *Ledger) HolderFilter(periodExpr, idExpr string) string {
	return "(" + periodExpr + ", " + idExpr + ") IN (SELECT period, source_id FROM ingest_periods FINAL WHERE kind = " +
		chsql.QuoteString(l.periodKind()) + ")"
}
