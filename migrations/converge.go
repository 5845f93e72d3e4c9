package migrations

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/furrowdev/furrow/store"
)

// Converging steps: unlike a versioned migration, which runs once and is
// recorded in schema_migrations, a converging step runs after every
// migration run. It reads the live table from system.tables, computes the
// target from the configuration, and changes only what differs, so a second
// run does nothing and editing one setting alters one table. Nothing is
// recorded: the live table is the record.

// ttlTarget is a table whose TTL follows one retention setting.
type ttlTarget struct {
	table string // as named in the migrations; local() gives the data table
	// expr is the TTL for a retention of days, on the table's own time
	// column: a TTL on another column would keep or drop rows at the wrong
	// time.
	expr func(days Days) string
	days func(r Retention) Days
}

// openForever stands for "still open" in the TTL of the history tables: an
// interval whose valid_to is 0 (the pod still holds the IP) must never
// expire, and a date near DateTime's end (2106-02-07) keeps it out of every
// TTL merge. It is not the maximum itself because adding days to that would
// wrap around.
const openForever = "toDateTime('2106-01-01 00:00:00', 'UTC')"

// historyTTL expires an interval retention days after it closed. Rows are
// upserts of (key, valid_from): once background merges have collapsed the
// open and the closed version of an interval into the closed one, the TTL
// removes the interval whole. A TTL merge of a part holding only the closed
// version would leave an unmerged open version alone (measured on chDB with
// history written already expired); docs/migrations.md says when that can
// happen.
func historyTTL(days Days) string {
	return fmt.Sprintf("if(valid_to = 0, %s, toDateTime(valid_to) + INTERVAL %d DAY)", openForever, days)
}

var ttlTargets = []ttlTarget{
	{"flow_logs", func(d Days) string { return fmt.Sprintf("start + INTERVAL %d DAY", d) }, func(r Retention) Days { return r.FlowLogs }},
	{"flow_traffic_hourly", func(d Days) string { return fmt.Sprintf("hour + INTERVAL %d DAY", d) }, func(r Retention) Days { return r.FlowRollups }},
	{"flow_traffic_daily", func(d Days) string { return fmt.Sprintf("day + INTERVAL %d DAY", d) }, func(r Retention) Days { return r.FlowRollups }},
	{"pod_ips", historyTTL, func(r Retention) Days { return r.Pods }},
	{"k8s_nodes", historyTTL, func(r Retention) Days { return r.Pods }},
	{"pod_usage_hourly", func(d Days) string { return fmt.Sprintf("hour + INTERVAL %d DAY", d) }, func(r Retention) Days { return r.Pods }},
}

// Change is one change a converging step made.
type Change struct {
	// Table is the table changed (the local table on a cluster).
	Table string `json:"table"`
	// What names the property: "ttl".
	What string `json:"what"`
	// From and To are the property before and after, as the engine prints
	// them; empty means none.
	From string `json:"from"`
	To   string `json:"to"`
	// Statement is the statement that made the change.
	Statement string `json:"statement"`
}

// Converge brings the converging properties of the schema (today: the TTLs
// that apply the retention) to their targets and returns what it changed.
// The versioned migrations must be applied first.
func (m *Migrator) Converge(ctx context.Context) ([]Change, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Current != st.Latest {
		return nil, fmt.Errorf("converge schema: database at version %d, want %d; apply the migrations first (furrow migrate)", st.Current, st.Latest)
	}
	live, err := m.liveEngines(ctx)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, t := range ttlTargets {
		name := renderInline(`{{local "`+t.table+`"}}`, m.opts)
		engine, ok := live[name]
		if !ok {
			return changes, fmt.Errorf("converge schema: table %s is missing although the schema is at version %d; restore it or migrate a new database", name, st.Current)
		}
		want := ""
		if d := t.days(m.opts.Retention); d > 0 {
			want = t.expr(d)
		}
		have := ttlClause(engine)
		same, err := m.sameTTL(ctx, have, want)
		if err != nil {
			return changes, fmt.Errorf("converge TTL of %s: %w", name, err)
		}
		if same {
			continue
		}
		stmt := "ALTER TABLE " + name + renderInline("{{onCluster}}", m.opts)
		if want == "" {
			stmt += " REMOVE TTL"
		} else {
			stmt += " MODIFY TTL " + want
		}
		// The ALTER changes the metadata at once; materializing the TTL on
		// the existing parts (materialize_ttl_after_modify, on by default)
		// is a mutation that rewrites them, which on a large flow_logs
		// takes long. mutations_sync = 0 lets it run in the background
		// instead of holding up furrow's start (chDB waits by default).
		// Leaving materialization off would be cheaper still, but old
		// parts that no longer merge would then keep expired rows forever.
		if err := m.s.Exec(ctx, stmt, store.WithSettings(map[string]string{"mutations_sync": "0"})); err != nil {
			return changes, fmt.Errorf("converge TTL of %s (%s): %w", name, stmt, err)
		}
		changes = append(changes, Change{Table: name, What: "ttl", From: have, To: want, Statement: stmt})
	}
	return changes, nil
}

// liveEngines returns engine_full (engine, keys, TTL, settings) of every
// table of the database, by name.
func (m *Migrator) liveEngines(ctx context.Context) (map[string]string, error) {
	var buf bytes.Buffer
	err := m.s.Query(ctx, &buf, "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()", "JSONEachRow")
	if err != nil {
		return nil, fmt.Errorf("read system.tables: %w", err)
	}
	out := map[string]string{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var row struct {
			Name       string `json:"name"`
			EngineFull string `json:"engine_full"`
		}
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("read system.tables: %w", err)
		}
		out[row.Name] = row.EngineFull
	}
	return out, nil
}

// ttlClause extracts the TTL expression from a MergeTree engine_full
// ("MergeTree PARTITION BY … ORDER BY … TTL <expr> SETTINGS …"); empty
// when the table has none.
func ttlClause(engineFull string) string {
	_, ttl, ok := strings.Cut(engineFull, " TTL ")
	if !ok {
		return ""
	}
	ttl, _, _ = strings.Cut(ttl, " SETTINGS ")
	return strings.TrimSpace(ttl)
}

// sameTTL compares two TTL expressions as the engine prints them: the
// engine stores `INTERVAL 30 DAY` as `toIntervalDay(30)`, and its
// formatter, not ours, decides such spellings.
func (m *Migrator) sameTTL(ctx context.Context, a, b string) (bool, error) {
	if a == "" || b == "" || a == b {
		return a == b, nil
	}
	var buf bytes.Buffer
	err := m.s.Query(ctx, &buf,
		"SELECT formatQuerySingleLine({a:String}) = formatQuerySingleLine({b:String})", "TSV",
		store.WithParams(map[string]string{"a": "ALTER TABLE t MODIFY TTL " + a, "b": "ALTER TABLE t MODIFY TTL " + b}))
	if err != nil {
		return false, fmt.Errorf("compare TTLs with the engine's formatter: %w", err)
	}
	return strings.TrimSpace(buf.String()) == "1", nil
}
