package alerting

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHistoryQueue writes the shared payloads and delivery records through
// the background writer and, into another database, at once: the rows are
// the same. A body recorded twice is stored once, also when received again
// after a restart of the writer; Received sees a body still queued; Stop
// writes everything queued.
func TestHistoryQueue(t *testing.T) {
	queued, qs := migratedHistory(t)
	direct, ds := migratedHistory(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)

	type received struct {
		n      Notification
		groups []Group
		body   []byte
	}
	var all []received
	for _, f := range sharedPayloads(t) {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		n, err := decoderFor(t, filepath.Base(f))(body)
		require.NoError(t, err, f)
		all = append(all, received{n, Split(n, DefaultConfiguration().NamespaceLabels), body})
	}
	deliveries := []DeliveryRecord{
		{At: base, DeliveryID: "1", GroupKey: "k1", Namespace: "payments", AlertName: "Ingress5xx", Kind: KindPost, Channel: "#alerts", Status: AttemptOK, Lag: 1200 * time.Millisecond},
		{At: base.Add(time.Second), DeliveryID: "2", GroupKey: "k2", Namespace: "search", AlertName: "KubePodCrashLooping", Kind: KindUpdate, Channel: "#sre", Status: AttemptRetry, Error: "ratelimited"},
		{At: base.Add(2 * time.Second), DeliveryID: "3", GroupKey: "k2", Kind: KindReply, Channel: "#sre", Status: AttemptFailed, Error: "channel_not_found"},
	}

	require.NoError(t, queued.Start(ctx, nil))
	require.Error(t, queued.Start(ctx, nil), "started twice")
	for i, r := range all {
		at := base.Add(time.Duration(i) * time.Minute)
		require.NoError(t, queued.RecordEvents(ctx, r.n, r.groups, at, r.body))
		require.NoError(t, direct.RecordEvents(ctx, r.n, r.groups, at, r.body))
	}
	r0 := all[0]
	seen, err := queued.Received(ctx, r0.n.Source, r0.body)
	require.NoError(t, err)
	require.True(t, seen, "a queued body is received")
	for i, r := range all { // a sender's retries, later
		require.NoError(t, queued.RecordEvents(ctx, r.n, r.groups, base.Add(time.Hour+time.Duration(i)*time.Minute), r.body))
	}
	for _, d := range deliveries {
		require.NoError(t, queued.RecordDelivery(ctx, d))
		require.NoError(t, direct.RecordDelivery(ctx, d))
	}
	require.ErrorIs(t, queued.RecordDelivery(ctx, DeliveryRecord{At: base, GroupKey: "k", Kind: "shout", Status: AttemptOK}), ErrBadDelivery)
	require.NoError(t, queued.Stop(ctx))
	require.NoError(t, queued.Stop(ctx), "stopped twice")

	const events = "SELECT received_at, source, receiver, group_key, namespace, alertname, fingerprint, status, starts_at, ends_at, mapSort(labels), mapSort(annotations), value, generator_url, notification_id FROM alert_events ORDER BY received_at, group_key, fingerprint"
	const dels = "SELECT at, delivery_id, group_key, namespace, alertname, kind, channel, status, error, lag_ms FROM alert_deliveries ORDER BY at"
	want := chQuery(t, ds, events)
	require.NotEmpty(t, want)
	require.Equal(t, want, chQuery(t, qs, events))
	require.Equal(t, chQuery(t, ds, dels), chQuery(t, qs, dels))
	require.Equal(t, "3", chQuery(t, qs, "SELECT count() FROM alert_deliveries"))

	// After a restart, the bodies stored are known: received again, they
	// store nothing.
	require.NoError(t, queued.Start(ctx, nil))
	for i, r := range all {
		require.NoError(t, queued.RecordEvents(ctx, r.n, r.groups, base.Add(2*time.Hour+time.Duration(i)*time.Minute), r.body))
	}
	require.NoError(t, queued.Stop(ctx))
	require.Equal(t, want, chQuery(t, qs, events))

	// Stopped, it inserts at once again.
	require.NoError(t, queued.RecordDelivery(ctx, DeliveryRecord{At: base.Add(time.Hour), DeliveryID: "4", GroupKey: "k4", Kind: KindPost, Channel: "#alerts", Status: AttemptOK}))
	require.Equal(t, "4", chQuery(t, qs, "SELECT count() FROM alert_deliveries"))
}
