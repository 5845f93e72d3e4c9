package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// Group is objects stored by one INSERT, recorded before the INSERT runs
// (kind "<kind>-group"), so that a run after a crash can tell which
// objects went in together and form the same group again: same members,
// same order, same deduplication token. From and To bound the event
// times of its rows, for the caller's check of whether the INSERT
// committed.
type Group struct {
	ID       string
	Members  []string // identities, in insert order
	From, To time.Time
}

func (l *Ledger) groupKind() string { return l.kind + "-group" }

// RecordGroup records g; call it before g's INSERT.
func (l *Ledger) RecordGroup(ctx context.Context, g Group) error {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }
	err := l.s.Exec(ctx, `INSERT INTO ingested_objects (source_id, kind, url, started_at, finished_at)
SELECT {id:String}, {kind:String}, {members:String}, {from:DateTime64(3, 'UTC')}, {to:DateTime64(3, 'UTC')}`,
		store.WithParams(map[string]string{
			"id": g.ID, "kind": l.groupKind(), "members": strings.Join(g.Members, "\n"),
			"from": ts(g.From), "to": ts(g.To),
		}))
	if err != nil {
		return fmt.Errorf("record a group of %d objects in the ingest ledger: %w", len(g.Members), err)
	}
	return nil
}

// GroupsOf returns the recorded groups that hold any of ids.
func (l *Ledger) GroupsOf(ctx context.Context, ids []string) ([]Group, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	err := l.s.Query(ctx, &buf, `SELECT source_id, url, toUnixTimestamp64Milli(started_at) AS from_ms, toUnixTimestamp64Milli(finished_at) AS to_ms
FROM ingested_objects WHERE kind = {kind:String} AND hasAny(splitByChar('\n', url), {ids:Array(String)})`,
		"JSONEachRow", store.WithParams(map[string]string{"kind": l.groupKind(), "ids": chsql.QuoteStrings(ids)}),
		store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
	if err != nil {
		return nil, fmt.Errorf("read the groups of the ingest ledger: %w", err)
	}
	var out []Group
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var row struct {
			ID     string `json:"source_id"`
			URL    string `json:"url"`
			FromMS int64  `json:"from_ms"`
			ToMS   int64  `json:"to_ms"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read the groups of the ingest ledger: %w", err)
		}
		out = append(out, Group{ID: row.ID, Members: strings.Split(row.URL, "\n"),
			From: time.UnixMilli(row.FromMS), To: time.UnixMilli(row.ToMS)})
	}
	return out, nil
}
