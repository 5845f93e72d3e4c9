package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

func TestRenderReport(t *testing.T) {
	at := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	many := make([]ReportLine, 0, 20)
	for i := range 20 {
		many = append(many, ReportLine{Namespace: fmt.Sprintf("ns-%02d", i), AlertName: "PodCrashLooping", Since: at.Add(-time.Duration(i) * time.Hour), Fires: i + 1})
	}
	cases := []struct {
		name string
		r    Report
	}{
		{"mixed", Report{Channel: "#payments-alerts", At: at, Interval: time.Hour,
			Firing: []ReportLine{
				{Namespace: "payments", AlertName: "HighErrorRate", Since: at.Add(-26*time.Hour - 5*time.Minute), Fires: 7},
				{Namespace: "", AlertName: "NodeNotReady", Since: at.Add(-40 * time.Second), Fires: 1},
				{Namespace: "payments", AlertName: "<!channel> & co", Since: at.Add(-3*time.Hour - 12*time.Minute), Fires: 2},
			},
			Resolved: []ReportLine{{Namespace: "checkout", AlertName: "Latency", Since: at.Add(-90 * time.Minute), Fires: 1}},
			Snoozed: []ReportLine{
				{Namespace: "payments", AlertName: "DiskFilling", Since: at.Add(-5 * time.Hour), Fires: 3, SnoozedUntil: at.Add(6 * time.Hour), SnoozedBy: "alice"},
				{Namespace: "search", AlertName: "Flapping", Since: at.Add(-45 * time.Minute), Fires: 9, SnoozedUntil: forever},
			}}},
		{"more than a section holds", Report{Channel: "#ops", At: at, Interval: 24 * time.Hour, Firing: many}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			blocks, text := RenderReport(c.r)
			checkLimits(t, blocks)
			checkGolden(t, filepath.Join("testdata", "reports", strings.ReplaceAll(c.name, " ", "-")+".json"),
				marshalGolden(t, renderedMessage{Text: text, Blocks: blocks}))
		})
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "under a minute", 45 * time.Minute: "45m", 3*time.Hour + 10*time.Minute + 59*time.Second: "3h 10m",
		50 * time.Hour: "2d 2h",
	} {
		require.Equal(t, want, span(d), d)
	}
	require.Equal(t, "hourly", cadence(time.Hour))
	require.Equal(t, "every 30m", cadence(30*time.Minute))
	require.Equal(t, "every 2h", cadence(2*time.Hour))
}

// TestE2EReport: once an hour each channel gets one report of what fires
// there, what resolved and what is snoozed; a second run of the worker in
// the same hour, or a restarted one, sends none again.
func TestE2EReport(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		e := newE2E(t, st)
		e.c.cfg.ReportInterval = time.Hour
		e.mu.Lock()
		e.now = time.Date(2026, 12, 7, 9, 50, 0, 0, time.UTC)
		e.mu.Unlock()
		ctx := context.Background()

		// Nothing yet: the worker starts 50 minutes past the hour, past
		// the grace, and waits for the next boundary.
		e.deliver()
		for _, ns := range []string{"payments", "checkout", "search"} {
			code, resp := e.alertmanager(amPayload(StatusFiring, "HighErrorRate", ns), e2eBearer)
			require.Equal(t, http.StatusAccepted, code, resp)
		}
		e.deliver()
		code, resp := e.alertmanager(amPayload(StatusResolved, "HighErrorRate", "checkout"), e2eBearer)
		require.Equal(t, http.StatusAccepted, code, resp)
		require.NoError(t, e.c.Outbox().Snooze(ctx, groupKeyOf(t, e, "search"), e.clock().Add(6*time.Hour), false, "alice", e.clock()))
		e.deliver()
		n := len(e.slack.Calls())

		e.advance(10*time.Minute + time.Second) // 10:00:01
		e.deliver()
		calls := e.callsSince(n)
		require.Len(t, calls, 1, "one report for the one channel")
		r := calls[0]
		require.Equal(t, e2eChannel, r.Channel)
		require.Contains(t, r.Text, "Alert report · hourly · 1 firing, 1 resolved, 1 snoozed")
		var blocks []map[string]any
		require.NoError(t, json.Unmarshal(r.Blocks, &blocks))
		body := string(r.Blocks)
		require.Contains(t, body, "*payments* · HighErrorRate — for 10m, fired once")
		require.Contains(t, body, "*checkout* · HighErrorRate — fired once")
		require.Contains(t, body, "snoozed until 2026-12-07 15:50 UTC by alice")

		e.advance(10 * time.Minute)
		e.deliver()
		require.Len(t, e.callsSince(n), 1, "one report an hour")
		// A restarted worker (its memory gone) within the grace: the
		// outbox's dedup key keeps it at one.
		e.c.lastReport = time.Time{}
		e.mu.Lock()
		e.now = time.Date(2026, 12, 7, 10, 2, 0, 0, time.UTC)
		e.mu.Unlock()
		e.deliver()
		require.Len(t, e.callsSince(n), 1, "a restart sends the hour's report once")

		// Next hour: checkout's resolve is older than the hour; payments
		// still fires.
		e.advance(time.Hour)
		e.deliver()
		calls = e.callsSince(n)
		require.Len(t, calls, 2)
		require.Contains(t, calls[1].Text, "1 firing, 0 resolved, 1 snoozed")
	})
}

func groupKeyOf(t *testing.T, e *e2e, namespace string) string {
	t.Helper()
	cur, err := e.c.Outbox().Current(context.Background(), e.clock())
	require.NoError(t, err)
	for _, g := range cur {
		if g.Namespace == namespace {
			return g.Key
		}
	}
	t.Fatalf("no current group in %s", namespace)
	return ""
}
