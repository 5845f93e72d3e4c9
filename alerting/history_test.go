package alerting

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

func migratedHistory(t *testing.T) (*History, store.Store) {
	t.Helper()
	if testing.Short() {
		t.Skip("opens the embedded engine")
	}
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return NewHistory(s), s
}

func chQuery(t *testing.T, s store.Store, q string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b, q, "TSV"), q)
	return strings.TrimSuffix(b.String(), "\n")
}

// tsv joins rows of fields as the engine's TSV output.
func tsv(rows [][]string) string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, "\t")
	}
	return strings.Join(lines, "\n")
}

// TestHistorySharedPayloads records every shared payload, decoded and
// split, at receive times spread over three days; recording them all
// again stores nothing new; and the analysts' queries of the README give
// what the payloads hold, computed here from the decoded notifications.
func TestHistorySharedPayloads(t *testing.T) {
	h, s := migratedHistory(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

	type nsDay struct{ ns, day string }
	type nsName struct{ ns, name string }
	type episode struct {
		key, fp string
		start   time.Time
	}
	perDay := map[nsDay]int{}
	fires := map[nsName]int{}
	resolvedIn := map[episode]time.Duration{}
	episodeName := map[episode]string{}
	values := map[string]string{} // fingerprint → value, the alerts that have one
	rows := 0

	files := sharedPayloads(t)
	bodies := make([][]byte, len(files))
	notes := make([]Notification, len(files))
	for i, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		n, err := decoderFor(t, filepath.Base(f))(body)
		require.NoError(t, err, f)
		bodies[i], notes[i] = body, n
		received := base.Add(time.Duration(i) * 5 * time.Hour)
		groups := Split(n, nil)
		require.NoError(t, h.RecordEvents(ctx, n, groups, received, body), f)

		for _, g := range groups {
			for _, a := range g.Alerts {
				rows++
				perDay[nsDay{g.Namespace, received.Format(time.DateOnly)}]++
				if a.Status == StatusFiring {
					fires[nsName{g.Namespace, g.AlertName}]++
				}
				e := episode{g.Key, a.Fingerprint, a.StartsAt}
				episodeName[e] = g.AlertName
				if a.Status == StatusResolved && !a.EndsAt.IsZero() {
					resolvedIn[e] = a.EndsAt.Sub(a.StartsAt)
				}
				if v, ok := alertValue(a, ""); ok {
					values[a.Fingerprint] = strconv.FormatFloat(v, 'f', -1, 64)
				}
			}
		}
	}
	require.NotZero(t, rows)
	require.NotEmpty(t, resolvedIn, "the shared payloads hold resolves: time to resolve needs one")
	count := chQuery(t, s, "SELECT count() FROM alert_events")
	require.Equal(t, strconv.Itoa(rows), count)

	// The same bodies again, later: a sender's retries store nothing.
	for i, body := range bodies {
		n := notes[i]
		require.NoError(t, h.RecordEvents(ctx, n, Split(n, nil), base.Add(72*time.Hour), body))
	}
	require.Equal(t, count, chQuery(t, s, "SELECT count() FROM alert_events"), "a retried webhook was stored twice:\n%s",
		chQuery(t, s, "SELECT notification_id, source, count(), uniqExact(received_at) FROM alert_events GROUP BY ALL ORDER BY ALL"))
	require.Equal(t, strconv.Itoa(len(files)), chQuery(t, s, "SELECT uniqExact(notification_id) FROM alert_events"))

	t.Run("alerts per namespace per day", func(t *testing.T) {
		var want [][]string
		for k, c := range perDay {
			want = append(want, []string{k.ns, k.day, strconv.Itoa(c)})
		}
		sort.Slice(want, func(i, j int) bool {
			return want[i][0]+"\x00"+want[i][1] < want[j][0]+"\x00"+want[j][1]
		})
		got := chQuery(t, s, `SELECT namespace, toDate(received_at) AS day, count() AS alerts
			FROM alert_events GROUP BY namespace, day ORDER BY namespace, day`)
		require.Equal(t, tsv(want), got)
	})

	t.Run("top noisy alerts", func(t *testing.T) {
		var want [][]string
		for k, c := range fires {
			want = append(want, []string{k.ns, k.name, strconv.Itoa(c)})
		}
		sort.Slice(want, func(i, j int) bool {
			ci, _ := strconv.Atoi(want[i][2])
			cj, _ := strconv.Atoi(want[j][2])
			if ci != cj {
				return ci > cj
			}
			if want[i][0] != want[j][0] {
				return want[i][0] < want[j][0]
			}
			return want[i][1] < want[j][1]
		})
		want = want[:min(5, len(want))]
		got := chQuery(t, s, `SELECT namespace, alertname, countIf(status = 'firing') AS fires
			FROM alert_events GROUP BY namespace, alertname HAVING fires > 0
			ORDER BY fires DESC, namespace, alertname LIMIT 5`)
		require.Equal(t, tsv(want), got)
	})

	t.Run("mean time to resolve", func(t *testing.T) {
		sum, n := map[string]float64{}, map[string]int{}
		for e, d := range resolvedIn {
			sum[episodeName[e]] += d.Seconds()
			n[episodeName[e]]++
		}
		var want [][]string
		for name := range sum {
			want = append(want, []string{name, strconv.Itoa(n[name]), strconv.FormatFloat(sum[name]/float64(n[name]), 'f', -1, 64)})
		}
		sort.Slice(want, func(i, j int) bool { return want[i][0] < want[j][0] })
		got := chQuery(t, s, `SELECT alertname, count() AS incidents, avg(duration_seconds) AS mean_seconds
			FROM alert_incidents WHERE resolved_at IS NOT NULL GROUP BY alertname ORDER BY alertname`)
		require.Equal(t, tsv(want), got)
	})

	t.Run("values", func(t *testing.T) {
		var want [][]string
		for fp, v := range values {
			want = append(want, []string{fp, v})
		}
		sort.Slice(want, func(i, j int) bool { return want[i][0] < want[j][0] })
		got := chQuery(t, s, `SELECT DISTINCT fingerprint, value FROM alert_events WHERE value IS NOT NULL ORDER BY fingerprint`)
		require.Equal(t, tsv(want), got)
	})

	t.Run("labels and annotations", func(t *testing.T) {
		// Every alert's label and annotation count, as stored.
		var want []string
		for _, n := range notes {
			for _, a := range n.Alerts {
				want = append(want, fmt.Sprintf("%s\t%d\t%d", a.Fingerprint, len(a.Labels), len(a.Annotations)))
			}
		}
		sort.Strings(want)
		got := chQuery(t, s, `SELECT fingerprint, length(labels), length(annotations) FROM alert_events ORDER BY fingerprint, length(labels), length(annotations)`)
		require.Equal(t, strings.Join(want, "\n"), got)
	})
}

// amBody is an Alertmanager webhook of one alert of namespace shop.
func amBody(status, startsAt, endsAt, summary string) []byte {
	return []byte(fmt.Sprintf(`{"version":"4","receiver":"team","status":%q,"alerts":[{"status":%q,
		"labels":{"alertname":"KubePodCrashLooping","namespace":"shop","pod":"api-0"},
		"annotations":{"summary":%q},"startsAt":%q,"endsAt":%q}]}`, status, status, summary, startsAt, endsAt))
}

// TestHistoryIncidents: one alert fires (twice notified), resolves after
// ten minutes, fires again an hour later and is still firing; a second
// alert resolves without an endsAt. alert_incidents has one row per
// episode with what the notifications say.
func TestHistoryIncidents(t *testing.T) {
	h, s := migratedHistory(t)
	ctx := context.Background()
	zero := "0001-01-01T00:00:00Z"
	received := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, body := range [][]byte{
		amBody("firing", "2026-12-01T10:00:00Z", zero, "crash looping"),
		amBody("firing", "2026-12-01T10:00:00Z", zero, "crash looping, 5 restarts"),
		amBody("resolved", "2026-12-01T10:00:00Z", "2026-12-01T10:10:00Z", "crash looping"),
		amBody("firing", "2026-12-01T11:00:00Z", zero, "crash looping"),
		[]byte(`{"receiver":"team","status":"resolved","alerts":[{"status":"resolved",
			"labels":{"alertname":"KubeJobFailed","namespace":"shop"},"startsAt":"2026-12-01T09:00:00Z"}]}`),
	} {
		n, err := DecodeAlertmanager(body)
		require.NoError(t, err)
		require.NoError(t, h.RecordEvents(ctx, n, Split(n, nil), received.Add(time.Duration(i)*5*time.Minute), body))
	}
	got := chQuery(t, s, `SELECT alertname, fired_at, fire_count, resolved_at, duration_seconds, first_received_at
		FROM alert_incidents ORDER BY alertname, fired_at`)
	require.Equal(t, tsv([][]string{
		// No endsAt: resolved when the resolve was received (10:20).
		{"KubeJobFailed", "2026-12-01 09:00:00.000", "0", "2026-12-01 10:20:00.000", "4800", "2026-12-01 10:20:00.000"},
		{"KubePodCrashLooping", "2026-12-01 10:00:00.000", "2", "2026-12-01 10:10:00.000", "600", "2026-12-01 10:00:00.000"},
		{"KubePodCrashLooping", "2026-12-01 11:00:00.000", "1", `\N`, `\N`, "2026-12-01 10:15:00.000"},
	}), got)
	// A firing alert's ends_at is NULL, not 0001-01-01 or 1970.
	require.Equal(t, "3", chQuery(t, s, "SELECT countIf(ends_at IS NULL) FROM alert_events WHERE status = 'firing'"))
	require.Equal(t, "shop\tapi-0\tcrash looping, 5 restarts", chQuery(t, s,
		`SELECT namespace, labels['pod'], annotations['summary'] FROM alert_events WHERE received_at = '2026-12-01 10:05:00'`))
}

// TestRecordDelivery: each outcome is one row; the same record twice is
// stored once; bad records are refused whole with the reason; long errors
// are cut on a character boundary.
func TestRecordDelivery(t *testing.T) {
	h, s := migratedHistory(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ok := DeliveryRecord{At: at, DeliveryID: "17", GroupKey: GroupKey("grafana", "furrow", "shop", "HighErrorRate"),
		Namespace: "shop", AlertName: "HighErrorRate", Kind: KindPost, Channel: "#shop-alerts", Status: AttemptOK, Lag: 1234567 * time.Microsecond}
	retry := ok
	retry.At, retry.Status, retry.Error, retry.Lag = at.Add(-2*time.Second), AttemptRetry, "slack: rate limited, retry after 2s", 300*time.Millisecond
	long := ok
	long.At, long.Kind, long.Status, long.Error = at.Add(time.Minute), KindReply, AttemptFailed, strings.Repeat("é", maxErrorBytes)
	snoozed := ok
	snoozed.At, snoozed.Kind, snoozed.Channel, snoozed.Lag = at.Add(2*time.Minute), KindSnoozed, "", 0

	for _, d := range []DeliveryRecord{retry, ok, ok, long, snoozed} {
		require.NoError(t, h.RecordDelivery(ctx, d))
	}

	bad := []struct {
		name string
		edit func(*DeliveryRecord)
		says string
	}{
		{"unknown kind", func(d *DeliveryRecord) { d.Kind = "email" }, `kind "email"`},
		{"unknown status", func(d *DeliveryRecord) { d.Status = "done" }, `status "done"`},
		{"no time", func(d *DeliveryRecord) { d.At = time.Time{} }, "no time"},
		{"no group key", func(d *DeliveryRecord) { d.GroupKey = "" }, "no group key"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			d := ok
			d.At = at.Add(time.Hour)
			c.edit(&d)
			err := h.RecordDelivery(ctx, d)
			require.ErrorIs(t, err, ErrBadDelivery)
			require.Contains(t, err.Error(), c.says)
		})
	}

	got := chQuery(t, s, `SELECT at, delivery_id, kind, channel, status, lag_ms, length(error), left(error, 20)
		FROM alert_deliveries ORDER BY at`)
	cut := strings.Repeat("é", (maxErrorBytes-len("…"))/2) + "…"
	require.Equal(t, tsv([][]string{
		{"2026-12-01 09:59:58.000", "17", "post", "#shop-alerts", "retry", "300", strconv.Itoa(len(retry.Error)), retry.Error[:20]},
		{"2026-12-01 10:00:00.000", "17", "post", "#shop-alerts", "ok", "1234", "0", ""},
		{"2026-12-01 10:01:00.000", "17", "reply", "#shop-alerts", "failed", "1234", strconv.Itoa(len(cut)), strings.Repeat("é", 10)},
		{"2026-12-01 10:02:00.000", "17", "snoozed", "", "ok", "0", "0", ""},
	}), got)
	require.True(t, utf8.ValidString(chQuery(t, s, "SELECT error FROM alert_deliveries WHERE status = 'failed'")))
}

// FuzzTruncateUTF8: the cut is valid UTF-8 when the input is, never longer
// than the bound, and the input itself when it fits.
func FuzzTruncateUTF8(f *testing.F) {
	for _, s := range []string{"", "abc", strings.Repeat("é", 600), "日本語のエラー", "\xff\xfe"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < len("…") || n > 4096 {
			return
		}
		got := truncateUTF8(s, n)
		require.LessOrEqual(t, len(got), n)
		if len(s) <= n {
			require.Equal(t, s, got)
			return
		}
		require.True(t, strings.HasSuffix(got, "…"))
		require.True(t, strings.HasPrefix(s, strings.TrimSuffix(got, "…")))
		if utf8.ValidString(s) {
			require.True(t, utf8.ValidString(got))
		}
	})
}

// The README's examples ("The ClickHouse schema, for analysts"), as
// written there.
const (
	readmeNoisiest = `SELECT namespace, alertname, countIf(status = 'firing') AS fires, uniqExact(fingerprint) AS series
FROM alert_events WHERE received_at >= now() - INTERVAL 7 DAY
GROUP BY namespace, alertname ORDER BY namespace, fires DESC LIMIT 5 BY namespace`
	readmeTimeToResolve = `SELECT alertname, count() AS incidents, round(avg(duration_seconds) / 60, 1) AS mean_minutes,
       round(quantile(0.9)(duration_seconds) / 60, 1) AS p90_minutes
FROM alert_incidents WHERE resolved_at >= now() - INTERVAL 30 DAY
GROUP BY alertname ORDER BY mean_minutes DESC`
)

// TestHistoryREADMEQueries runs the README's examples on alerts received
// in the last hours: two episodes of one alert (10 and 20 minutes), a
// second alert in another namespace, and one too old for the week.
func TestHistoryREADMEQueries(t *testing.T) {
	h, s := migratedHistory(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	zero := "0001-01-01T00:00:00Z"
	body := func(ns, name, status, starts, ends string) []byte {
		return []byte(fmt.Sprintf(`{"receiver":"team","status":%q,"alerts":[{"status":%q,
			"labels":{"alertname":%q,"namespace":%q},"startsAt":%q,"endsAt":%q}]}`, status, status, name, ns, starts, ends))
	}
	for _, c := range []struct {
		at   time.Duration
		body []byte
	}{
		{-10 * 24 * time.Hour, body("shop", "Old", "firing", ts(-10*24*time.Hour), zero)},
		{-3 * time.Hour, body("shop", "KubePodCrashLooping", "firing", ts(-3*time.Hour), zero)},
		{-3*time.Hour + 10*time.Minute, body("shop", "KubePodCrashLooping", "resolved", ts(-3*time.Hour), ts(-3*time.Hour+10*time.Minute))},
		{-2 * time.Hour, body("shop", "KubePodCrashLooping", "firing", ts(-2*time.Hour), zero)},
		{-2*time.Hour + 20*time.Minute, body("shop", "KubePodCrashLooping", "resolved", ts(-2*time.Hour), ts(-2*time.Hour+20*time.Minute))},
		{-time.Hour, body("shop", "CPUThrottlingHigh", "firing", ts(-time.Hour), zero)},
		{-time.Hour, body("web", "CPUThrottlingHigh", "firing", ts(-time.Hour), zero)},
	} {
		n, err := DecodeAlertmanager(c.body)
		require.NoError(t, err)
		require.NoError(t, h.RecordEvents(ctx, n, Split(n, nil), now.Add(c.at), c.body))
	}
	require.Equal(t, tsv([][]string{
		{"shop", "KubePodCrashLooping", "2", "1"},
		{"shop", "CPUThrottlingHigh", "1", "1"},
		{"web", "CPUThrottlingHigh", "1", "1"},
	}), chQuery(t, s, readmeNoisiest))
	// quantile is interpolated: 0.9 of the way from 10 to 20 minutes.
	require.Equal(t, tsv([][]string{{"KubePodCrashLooping", "2", "15", "19"}}), chQuery(t, s, readmeTimeToResolve))
}
