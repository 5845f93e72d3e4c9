package main

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/demo"
)

// lockedBuffer is the stand-in's output, written from its handler
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAlertsReplay replays a fire and its resolve (named by their receive
// times), a Grafana body named otherwise (its modification time, its
// version) and a file that is not a notification, delivering to the demo's
// Slack stand-in: the good ones are recorded at their receive times and
// delivered (post, update, thread reply), the bad one is named and fails
// the command without stopping the others; a second replay records
// nothing.
func TestAlertsReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("opens the embedded engine")
	}
	dir := t.TempDir()
	data, alerts := filepath.Join(dir, "data"), filepath.Join(dir, "alerts")
	require.NoError(t, os.MkdirAll(alerts, 0o755))
	var out lockedBuffer
	slack := httptest.NewServer(demo.NewSlackStandIn(&out))
	defer slack.Close()
	cfg := filepath.Join(dir, "furrow.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("alerting:\n  enabled: true\n  slack: {api_url: '"+slack.URL+"/api/'}\n"), 0o644))
	env := []string{"FURROW_ALERTING_SLACK_TOKEN=xoxb-replay-test"}

	am := func(status, endsAt string) []byte {
		return []byte(fmt.Sprintf(`{"version":"4","receiver":"furrow","status":%q,"alerts":[{"status":%q,
			"labels":{"alertname":"KubePodCrashLooping","namespace":"shop","pod":"api-0","severity":"warning"},
			"annotations":{"summary":"api-0 is crash looping"},"startsAt":"2026-11-01T10:00:00Z","endsAt":%q}]}`, status, status, endsAt))
	}
	t0 := time.Date(2026, 11, 1, 10, 0, 30, 250e6, time.UTC)
	write := func(name string, body []byte) string {
		p := filepath.Join(alerts, name)
		require.NoError(t, os.WriteFile(p, body, 0o644))
		return p
	}
	write(demo.AlertFileName(t0, "alertmanager", 1), am("firing", "0001-01-01T00:00:00Z"))
	write(demo.AlertFileName(t0.Add(15*time.Minute), "alertmanager", 2), am("resolved", "2026-11-01T10:12:00Z"))
	g := write("grafana-saved.json", []byte(`{"version":"1","receiver":"furrow","status":"firing","orgId":1,"alerts":[{"status":"firing",
		"labels":{"alertname":"HighLatencyP99","namespace":"search"},"startsAt":"2026-11-01T09:00:00Z","values":{"A":812.5}}]}`))
	require.NoError(t, os.Chtimes(g, t0.Add(-time.Hour), t0.Add(-time.Hour)))
	write("bad.json", []byte(`{"alerts": "none"}`))

	r := runFurrow(t, env, "--data", data, "--config", cfg, "alerts", "replay", "--deliver", alerts)
	require.NotZero(t, r.code, "a file is not a notification: %s", r.stdout)
	require.Contains(t, r.stderr, "bad.json")
	require.Contains(t, r.stdout, "3 bodies replayed, 0 already received (skipped), 1 refused")
	require.Contains(t, r.stdout, "0 pending, 0 failed")
	lines := out.String()
	require.Equal(t, 2, strings.Count(lines, "post   #alerts            ts=1700000000.00000")-strings.Count(lines, "Alert report"), lines)
	require.Equal(t, 2, strings.Count(lines, "🔥 FIRING"), lines)
	require.Equal(t, 1, strings.Count(lines, "update #alerts"), lines)
	require.Equal(t, 1, strings.Count(lines, "✅ RESOLVED"), lines)
	require.Equal(t, 1, strings.Count(lines, "reply  #alerts"), lines)

	q := func(sql string) string {
		r := runFurrow(t, nil, "--data", data, "--config", cfg, "sql", "-f", "TSV", sql)
		require.Zero(t, r.code, r.stderr)
		return strings.TrimSpace(r.stdout)
	}
	events := "SELECT source, status, received_at FROM alert_events ORDER BY received_at"
	want := "grafana\tfiring\t2026-11-01 09:00:30.250\n" +
		"alertmanager\tfiring\t2026-11-01 10:00:30.250\n" +
		"alertmanager\tresolved\t2026-11-01 10:15:30.250"
	require.Equal(t, want, q(events))
	require.Equal(t, "720", q("SELECT duration_seconds FROM alert_incidents WHERE alertname = 'KubePodCrashLooping'"))
	require.Equal(t, "4\t1", q("SELECT count(), min(at) >= '2026-11-01 09:00:30' AND max(at) < '2026-11-01 10:16:00' FROM alert_deliveries WHERE status = 'ok' AND kind IN ('post', 'update', 'reply')"))

	r = runFurrow(t, env, "--data", data, "--config", cfg, "alerts", "replay", "--deliver", alerts)
	require.Contains(t, r.stdout, "0 bodies replayed, 3 already received (skipped)")
	require.Equal(t, want, q(events), "a second replay stores nothing")
	require.Equal(t, lines, out.String(), "and delivers nothing")
}
