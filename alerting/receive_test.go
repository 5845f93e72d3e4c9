package alerting

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/state"
)

// TestReceiveReplay replays a fire, its update, its resolve, a second
// episode and the sender's unchanged repeat of it hours later at their own
// times, as `furrow alerts replay` does: the outbox and the history carry
// those times, the repeat reminds; a body received twice in a row (a
// sender's retry) records nothing the second time; replaying them all
// again records nothing new in either store (where receiving them again
// would resolve the second episode with the first one's resolve); a
// malformed body is refused with ErrMalformed and stores nothing.
func TestReceiveReplay(t *testing.T) {
	h, s := migratedHistory(t)
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cfg := DefaultConfiguration()
	cfg.Enabled = true
	cfg.Slack.Token = "xoxb-receive-test"
	wall := func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) } // not the receive times
	c, err := New(cfg, Dependencies{State: st, Registry: prometheus.NewRegistry(), Now: wall, History: h})
	require.NoError(t, err)

	zero := "0001-01-01T00:00:00Z"
	base := time.Date(2026, 11, 1, 10, 0, 30, 0, time.UTC)
	bodies := []struct {
		body []byte
		at   time.Time
	}{
		{amBody("firing", "2026-11-01T10:00:00Z", zero, "crash looping"), base},
		{amBody("firing", "2026-11-01T10:00:00Z", zero, "crash looping, 5 restarts"), base.Add(5 * time.Minute)},
		{amBody("resolved", "2026-11-01T10:00:00Z", "2026-11-01T10:12:00Z", "crash looping"), base.Add(15 * time.Minute)},
		{amBody("firing", "2026-11-01T11:00:00Z", zero, "crash looping"), base.Add(time.Hour)},
		// Alertmanager's repeat of an unchanged notification: the same
		// body, 4 hours later, due a reminder.
		{amBody("firing", "2026-11-01T11:00:00Z", zero, "crash looping"), base.Add(5 * time.Hour)},
	}
	replayAll := func() ([]Recorded, int) {
		var out []Recorded
		skipped := 0
		for _, b := range bodies {
			r, skip, err := c.Replay(ctx, SourceAlertmanager, b.body, b.at)
			require.NoError(t, err)
			out = append(out, r)
			if skip {
				skipped++
			}
		}
		return out, skipped
	}
	first, skipped := replayAll()
	require.Zero(t, skipped)
	require.Equal(t, 1, first[0].Deliveries, "the first fire posts")
	require.Equal(t, 2, first[2].Deliveries, "the resolve updates and replies")
	require.Equal(t, 1, first[3].Deliveries, "the second episode posts")
	require.Equal(t, 1, first[4].Deliveries, "the repeat reminds")
	counts, err := c.Outbox().Counts(ctx)
	require.NoError(t, err)
	events := chQuery(t, s, "SELECT count() FROM alert_events")
	require.Equal(t, "4", events, "the repeat's body is stored once")
	// The history and the outbox hold the receive times, not the clock's.
	require.Equal(t, "2026-11-01 10:00:30.000\t2026-11-01 11:00:30.000", chQuery(t, s, "SELECT min(received_at), max(received_at) FROM alert_events"))
	require.Equal(t, "2026-11-01 10:12:00.000\t720", chQuery(t, s,
		"SELECT resolved_at, duration_seconds FROM alert_incidents WHERE fired_at = '2026-11-01 10:00:00'"))

	// A sender's retry: the same body again, a second later.
	retry, err := c.Receive(ctx, SourceAlertmanager, bodies[4].body, bodies[4].at.Add(time.Second))
	require.NoError(t, err)
	require.Zero(t, retry.Deliveries)

	again, skipped := replayAll()
	require.Equal(t, len(bodies), skipped)
	for i, r := range again {
		require.Zero(t, r.Deliveries, "body %d replayed again", i)
	}
	counts2, err := c.Outbox().Counts(ctx)
	require.NoError(t, err)
	require.Equal(t, counts, counts2, "the outbox after receiving everything again")
	n, err := DecodeAlertmanager(bodies[0].body)
	require.NoError(t, err)
	g, err := c.Outbox().Group(ctx, Split(n, nil)[0].Key)
	require.NoError(t, err)
	require.Equal(t, 2, g.FireCount, "two episodes, each fired once")
	require.Equal(t, StatusFiring, g.Status)
	require.Equal(t, events, chQuery(t, s, "SELECT count() FROM alert_events"), "alert_events after receiving everything again")

	_, err = c.Receive(ctx, SourceAlertmanager, []byte(`{"alerts": 3}`), base)
	require.True(t, errors.Is(err, ErrMalformed), "%v", err)
	_, err = c.Receive(ctx, "slack", bodies[0].body, base)
	require.Error(t, err)
	require.Equal(t, events, chQuery(t, s, "SELECT count() FROM alert_events"))
}
