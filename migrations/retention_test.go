package migrations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

// recorder is a Store that records the statements Exec runs, so a test can
// assert that a run altered nothing.
type recorder struct {
	store.Store
	stmts []string
	// dryAlters records ALTERs without running them (the cluster test's
	// ON CLUSTER statements cannot run on the embedded engine).
	dryAlters bool
	// localNames makes system.tables report every table as name_local, as
	// a cluster's node does.
	localNames bool
}

func (r *recorder) Exec(ctx context.Context, q string, opts ...store.Option) error {
	r.stmts = append(r.stmts, q)
	if r.dryAlters && strings.HasPrefix(q, "ALTER ") {
		return nil
	}
	return r.Store.Exec(ctx, q, opts...)
}

func (r *recorder) Query(ctx context.Context, w io.Writer, q, format string, opts ...store.Option) error {
	if !r.localNames || !strings.Contains(q, "FROM system.tables") {
		return r.Store.Query(ctx, w, q, format, opts...)
	}
	var buf bytes.Buffer
	if err := r.Store.Query(ctx, &buf, q, format, opts...); err != nil {
		return err
	}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		row := map[string]any{}
		if err := dec.Decode(&row); err != nil {
			return err
		}
		row["name"] = row["name"].(string) + "_local"
		b, _ := json.Marshal(row)
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) reset() { r.stmts = nil }

func (r *recorder) alters() []string {
	var out []string
	for _, q := range r.stmts {
		if strings.HasPrefix(q, "ALTER ") {
			out = append(out, q)
		}
	}
	return out
}

// engines returns engine_full of every table, by name.
func engines(t *testing.T, s store.Store) map[string]string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf,
		"SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()", "TSVRaw"))
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		name, engine, _ := strings.Cut(line, "\t")
		out[name] = engine
	}
	return out
}

// ttlOf is the TTL clause of a table as the engine prints it.
func ttlOf(engine string) string {
	_, ttl, ok := strings.Cut(engine, " TTL ")
	if !ok {
		return ""
	}
	ttl, _, _ = strings.Cut(ttl, " SETTINGS ")
	return ttl
}

func historyTTL(days int) string {
	return fmt.Sprintf("if(valid_to = 0, toDateTime('2106-01-01 00:00:00', 'UTC'), toDateTime(valid_to) + toIntervalDay(%d))", days)
}

func TestRetentionTTLsFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	r := migrations.Retention{FlowLogs: 30, FlowRollups: 395, Pods: 45}
	want := map[string]string{
		"flow_logs":           "start + toIntervalDay(30)",
		"flow_traffic_hourly": "hour + toIntervalDay(395)",
		"flow_traffic_daily":  "day + toIntervalDay(395)",
		"pod_ips":             historyTTL(45),
		"k8s_nodes":           historyTTL(45),
		"pod_usage_hourly":    "hour + toIntervalDay(45)",
		"ingested_objects":    "", // the ledger is kept: an object it forgets would be ingested twice
		"ingest_failures":     "",
		"schema_migrations":   "",
	}
	for from := 0; from <= migrations.Latest(); from++ {
		t.Run(fmt.Sprintf("from_%d", from), func(t *testing.T) {
			s := &recorder{Store: chtest.Store(t)}
			m := migrations.New(s, migrations.Options{Retention: r})
			_, err := m.UpTo(ctx, from)
			require.NoError(t, err)
			_, err = m.Up(ctx)
			require.NoError(t, err)
			require.Len(t, s.alters(), 6, "one ALTER per table with a retention: %q", s.alters())
			got := engines(t, s)
			for table, ttl := range want {
				require.Equal(t, ttl, ttlOf(got[table]), table)
			}

			s.reset()
			_, err = m.Up(ctx)
			require.NoError(t, err)
			require.Empty(t, s.alters())
			require.Equal(t, got, engines(t, s))
		})
	}
}

func TestRetentionChangeAltersOnlyThatTable(t *testing.T) {
	ctx := context.Background()
	s := &recorder{Store: chtest.Store(t)}
	r := migrations.DefaultRetention()
	_, err := migrations.New(s, migrations.Options{Retention: r}).Up(ctx)
	require.NoError(t, err)
	before := engines(t, s)

	r.FlowLogs = 7
	s.reset()
	changes, err := migrations.New(s, migrations.Options{Retention: r}).Converge(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"ALTER TABLE flow_logs MODIFY TTL start + INTERVAL 7 DAY"}, s.alters())
	require.Len(t, changes, 1)
	require.Equal(t, "start + toIntervalDay(30)", changes[0].From)
	after := engines(t, s)
	require.Equal(t, "start + toIntervalDay(7)", ttlOf(after["flow_logs"]))
	delete(before, "flow_logs")
	delete(after, "flow_logs")
	require.Equal(t, before, after, "only flow_logs changes")

	// 0 removes the TTL, and only where one was set.
	r.Pods = 0
	s.reset()
	_, err = migrations.New(s, migrations.Options{Retention: r}).Converge(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"ALTER TABLE pod_ips REMOVE TTL", "ALTER TABLE k8s_nodes REMOVE TTL", "ALTER TABLE pod_usage_hourly REMOVE TTL"}, s.alters())
	got := engines(t, s)
	require.Empty(t, ttlOf(got["pod_ips"]))
	require.Empty(t, ttlOf(got["k8s_nodes"]))
	require.NotContains(t, got["pod_ips"], "TTL")

	s.reset()
	_, err = migrations.New(s, migrations.Options{Retention: r}).Converge(ctx)
	require.NoError(t, err)
	require.Empty(t, s.alters())
}

// TestRetentionDeletesOldRows checks the TTLs on real data: what is older
// than its retention goes at the next merge, what is younger stays, and an
// open pod interval stays whatever its age. The pod history is written
// before the retention is set, so the TTL also reaches existing parts.
func TestRetentionDeletesOldRows(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	r := migrations.Retention{FlowLogs: 30, FlowRollups: 395}
	_, err := migrations.New(s, migrations.Options{Retention: r}).Up(ctx)
	require.NoError(t, err)
	exec := func(q string) { t.Helper(); require.NoError(t, s.Exec(ctx, q)) }
	query := func(q string) string {
		t.Helper()
		var buf bytes.Buffer
		require.NoError(t, s.Query(ctx, &buf, q, "TSV"))
		return strings.TrimSpace(buf.String())
	}
	// Fixed instants, so the two versions of one interval share their key.
	now := time.Now().UTC().Truncate(time.Second)
	ago := func(days int) string { return now.AddDate(0, 0, -days).Format("'2006-01-02 15:04:05'") }

	// Pod intervals: closed 50 days ago (goes), closed 10 days ago (stays),
	// open since 400 days (stays); and one interval written open, then
	// closed 50 days ago: once its versions are merged (background merges
	// do it long before a TTL of weeks fires), it goes as a whole.
	exec(`INSERT INTO pod_ips (cluster, ip, pod, pod_uid, valid_from, valid_to, updated_at) VALUES
		('c', '::1', 'old', 'u1', ` + ago(60) + `, ` + ago(50) + `, ` + ago(0) + `),
		('c', '::2', 'recent', 'u2', ` + ago(20) + `, ` + ago(10) + `, ` + ago(0) + `),
		('c', '::3', 'running', 'u3', ` + ago(400) + `, 0, ` + ago(0) + `)`)
	exec(`INSERT INTO pod_ips (cluster, ip, pod, pod_uid, valid_from, valid_to, updated_at) VALUES ('c', '::4', 'closed', 'u4', ` + ago(60) + `, 0, ` + ago(60) + `)`)
	exec(`INSERT INTO pod_ips (cluster, ip, pod, pod_uid, valid_from, valid_to, updated_at) VALUES ('c', '::4', 'closed', 'u4', ` + ago(60) + `, ` + ago(50) + `, ` + ago(50) + `)`)
	exec(`INSERT INTO k8s_nodes (cluster, node, valid_from, valid_to, updated_at) VALUES
		('c', 'gone', ` + ago(90) + `, ` + ago(46) + `, ` + ago(0) + `),
		('c', 'up', ` + ago(90) + `, 0, ` + ago(0) + `)`)
	exec("OPTIMIZE TABLE pod_ips FINAL")
	require.Equal(t, "4", query("SELECT count() FROM pod_ips"), "no TTL yet; the versions of u4 merged")
	r.Pods = 45
	_, err = migrations.New(s, migrations.Options{Retention: r}).Converge(ctx)
	require.NoError(t, err)

	// Flows 1, 40 and 400 days old: the rollup keeps the 40-day-old hour
	// that the raw table drops.
	for _, age := range []int{1, 40, 400} {
		exec(fmt.Sprintf("INSERT INTO flow_logs (start, end, bytes, source, traffic_class) VALUES (%s, %s, %d, 's', 'cross-zone')", ago(age), ago(age), age))
	}

	for _, table := range []string{"flow_logs", "flow_traffic_hourly", "pod_ips", "k8s_nodes"} {
		exec("OPTIMIZE TABLE " + table + " FINAL")
	}
	require.Equal(t, "[1]", query("SELECT groupArray(bytes) FROM flow_logs"))
	require.Equal(t, "[1,40]", query("SELECT arraySort(groupArray(bytes)) FROM flow_traffic_hourly"))
	require.Equal(t, "['recent','running']", query("SELECT arraySort(groupArray(pod)) FROM pod_ips FINAL"))
	require.Equal(t, "['up']", query("SELECT groupArray(node) FROM k8s_nodes FINAL"))
}

func TestDaysYAML(t *testing.T) {
	var r migrations.Retention
	require.NoError(t, yaml.Unmarshal([]byte("{flow_logs: 30d, flow_rollups: 400, pods: 0}"), &r))
	require.Equal(t, migrations.Retention{FlowLogs: 30, FlowRollups: 400, Pods: 0}, r)
	require.Error(t, yaml.Unmarshal([]byte("{flow_logs: 1w}"), &r))
	require.Error(t, yaml.Unmarshal([]byte("{flow_logs: -1d}"), &r))
	b, err := yaml.Marshal(migrations.DefaultRetention())
	require.NoError(t, err)
	require.Equal(t, "flow_logs: 30d\nflow_rollups: 395d\npods: 45d\n", string(b))
	require.Error(t, migrations.Retention{Pods: -1}.Validate())
	require.NoError(t, migrations.DefaultRetention().Validate())
}

// TestClusterConverge: on a cluster, the TTLs go on the local tables that
// hold the data (a Distributed table has none), with ON CLUSTER. No
// cluster runs here: system.tables is answered by a single node whose
// tables are renamed name_local, and the ALTERs are recorded, then parsed.
func TestClusterConverge(t *testing.T) {
	ctx := context.Background()
	base := chtest.Store(t)
	_, err := migrations.New(base, migrations.Options{}).Up(ctx)
	require.NoError(t, err)
	s := &recorder{Store: base, dryAlters: true, localNames: true}
	_, err = migrations.New(s, migrations.Options{Cluster: "furrow", Retention: migrations.DefaultRetention()}).Converge(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{
		"ALTER TABLE flow_logs_local ON CLUSTER `furrow` MODIFY TTL start + INTERVAL 30 DAY",
		"ALTER TABLE flow_traffic_hourly_local ON CLUSTER `furrow` MODIFY TTL hour + INTERVAL 395 DAY",
		"ALTER TABLE flow_traffic_daily_local ON CLUSTER `furrow` MODIFY TTL day + INTERVAL 395 DAY",
		"ALTER TABLE pod_ips_local ON CLUSTER `furrow` MODIFY TTL if(valid_to = 0, toDateTime('2106-01-01 00:00:00', 'UTC'), toDateTime(valid_to) + INTERVAL 45 DAY)",
		"ALTER TABLE k8s_nodes_local ON CLUSTER `furrow` MODIFY TTL if(valid_to = 0, toDateTime('2106-01-01 00:00:00', 'UTC'), toDateTime(valid_to) + INTERVAL 45 DAY)",
		"ALTER TABLE pod_usage_hourly_local ON CLUSTER `furrow` MODIFY TTL hour + INTERVAL 45 DAY",
	}, s.alters())
	for _, q := range s.alters() {
		var buf bytes.Buffer
		require.NoError(t, base.Query(ctx, &buf, "SELECT formatQuerySingleLine({q:String})", "TSV", store.WithParams(map[string]string{"q": q})), q)
	}
}

// TestShardingMigrationIsClusterOnly: version 5 recreates the Distributed
// flow_logs on a cluster; on a single node, where flow_logs holds the data,
// it must render no statement at all.
func TestShardingMigrationIsClusterOnly(t *testing.T) {
	all, err := migrations.All()
	require.NoError(t, err)
	m := all[4]
	require.Equal(t, "flow_logs_sharding", m.Name)
	single, err := m.Statements(migrations.Options{DedupWindow: 10})
	require.NoError(t, err)
	require.Empty(t, single)
	cluster, err := m.Statements(migrations.Options{Cluster: "furrow", DedupWindow: 10})
	require.NoError(t, err)
	require.Len(t, cluster, 4)
	require.Contains(t, cluster[3], "Distributed(`furrow`, currentDatabase(), flow_logs_local, cityHash64(source, ")
	require.NotContains(t, cluster[3], "rand()")
}
