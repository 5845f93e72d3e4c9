package alerting

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/pgtest"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func testGroup(status string, fps ...string) Group {
	g := Group{Key: GroupKey("grafana", "r", "payments", "HighLatency"), Source: "grafana", Namespace: "payments", AlertName: "HighLatency", Status: status}
	for _, fp := range fps {
		g.Alerts = append(g.Alerts, Alert{Status: status, Fingerprint: fp, Labels: map[string]string{"alertname": "HighLatency"}})
	}
	return g
}

// fixedPlan sends to the given channels with a reminder interval, and
// records the fire counts it was given.
func fixedPlan(reminder time.Duration, seen *[]int, channels ...string) Plan {
	return func(g Group, fires FireHistory) (Decision, func() Message) {
		if seen != nil {
			*seen = append(*seen, fires.Fires(g.Key, time.Time{}))
		}
		return Decision{Channels: channels, Reminder: reminder}, func() Message {
			return Message{Blocks: []slack.Block{slack.NewDividerBlock()}, Text: g.Status + " " + g.AlertName, Reply: "resolved"}
		}
	}
}

func kinds(ds []Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Kind+" "+d.Channel)
	}
	return out
}

func TestOutboxLifecycle(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		o := NewOutbox(st)
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		var fires []int
		plan := fixedPlan(time.Hour, &fires, "#a", "#b")

		// A new firing group: one post per channel.
		res, err := o.Record(ctx, []Group{testGroup(StatusFiring, "f1")}, t0, plan)
		require.NoError(t, err)
		require.Equal(t, Recorded{Groups: 1, Deliveries: 2}, res)
		require.Equal(t, []int{1}, fires, "the firing being recorded counts")

		// The same again within the reminder interval: nothing.
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1")}, t0.Add(10*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, Recorded{Groups: 1, Unchanged: 1}, res)
		require.Equal(t, []int{1, 1}, fires, "an identical firing is not a new fire")

		due, err := o.Due(ctx, t0.Add(11*time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"post #a", "post #b"}, kinds(due))
		require.Len(t, due[0].Blocks, 1)
		require.Equal(t, "firing HighLatency", due[0].Text)
		// Claimed: not due again while leased.
		again, err := o.Due(ctx, t0.Add(11*time.Minute), 10)
		require.NoError(t, err)
		require.Empty(t, again)

		// #a posted; #b rate limited, retried later.
		require.NoError(t, o.Done(ctx, due[0], "CA", "1.0001", t0.Add(11*time.Minute)))
		require.NoError(t, o.Retry(ctx, due[1].ID, t0.Add(12*time.Minute), "429"))
		pending, err := o.PostPending(ctx, due[1].GroupKey, "#b", due[1].Episode)
		require.NoError(t, err)
		require.True(t, pending)
		id, ts, ok, err := o.MessageOf(ctx, due[0].GroupKey, "#a", due[0].Episode)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, []string{"CA", "1.0001"}, []string{id, ts})

		// A second alert joins: an update of each message, a new fire.
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1", "f2")}, t0.Add(20*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, 2, res.Deliveries)
		require.Equal(t, 2, fires[len(fires)-1])

		// After the reminder interval, unchanged: a reminder post.
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1", "f2")}, t0.Add(61*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, 2, res.Deliveries)
		// Recorded twice in the same slot (a sender's retry): once.
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1", "f2")}, t0.Add(62*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, 0, res.Deliveries)

		// Resolved: an update and a reply per channel of the episode.
		res, err = o.Record(ctx, []Group{testGroup(StatusResolved, "f1", "f2")}, t0.Add(70*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, 4, res.Deliveries)
		res, err = o.Record(ctx, []Group{testGroup(StatusResolved, "f1", "f2")}, t0.Add(71*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, Recorded{Groups: 1, Unchanged: 1}, res, "resolved again: nothing")

		due, err = o.Due(ctx, t0.Add(72*time.Minute), 100)
		require.NoError(t, err)
		require.Equal(t, []string{"post #b", "update #a", "update #b", "remind #a", "remind #b", "update #a", "reply #a", "update #b", "reply #b"}, kinds(due))
		require.Equal(t, "resolved", due[6].Text)
		require.Empty(t, due[6].Blocks)

		// Fire again after the resolve: a new episode, posted anew although
		// its alerts are the same as the first episode's.
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1")}, t0.Add(80*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, 2, res.Deliveries)
		require.Equal(t, 3, o.Fires(testGroup(StatusFiring).Key, time.Time{}))
		require.Equal(t, 1, o.Fires(testGroup(StatusFiring).Key, t0.Add(75*time.Minute)))

		require.NoError(t, o.Fail(ctx, due[0].ID, "channel_not_found", t0.Add(81*time.Minute)))
		counts, err := o.Counts(ctx)
		require.NoError(t, err)
		require.Equal(t, map[string]int{"done": 1, "failed": 1, "pending": 10}, counts)
	})
}

func TestOutboxSnooze(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		o := NewOutbox(st)
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		plan := fixedPlan(time.Hour, nil, "#a")
		key := testGroup(StatusFiring).Key

		require.ErrorIs(t, o.Snooze(ctx, key, t0.Add(time.Hour), false, "U1", t0), ErrUnknownGroup)
		_, err := o.Record(ctx, []Group{testGroup(StatusFiring, "f1")}, t0, plan)
		require.NoError(t, err)
		require.NoError(t, o.Snooze(ctx, key, t0.Add(time.Hour), false, "U1", t0))
		gs, err := o.Group(ctx, key)
		require.NoError(t, err)
		require.Equal(t, "U1", gs.SnoozedBy)
		require.Equal(t, t0.Add(time.Hour), gs.SnoozedUntil)

		// Snoozed: a change is recorded (a fire), not sent.
		res, err := o.Record(ctx, []Group{testGroup(StatusFiring, "f1", "f2")}, t0.Add(10*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, Recorded{Groups: 1, Snoozed: 1}, res)
		require.Equal(t, 2, o.Fires(key, time.Time{}))

		// Expired: the next notification is sent (a reminder: last posted
		// over an hour ago).
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1", "f2")}, t0.Add(61*time.Minute), plan)
		require.NoError(t, err)
		require.Equal(t, 1, res.Deliveries)

		// Until resolved: silenced until the resolve, which ends it.
		require.NoError(t, o.Snooze(ctx, key, time.Time{}, true, "U2", t0.Add(62*time.Minute)))
		res, err = o.Record(ctx, []Group{testGroup(StatusFiring, "f1")}, t0.Add(200*time.Hour), plan)
		require.NoError(t, err)
		require.Equal(t, 1, res.Snoozed)
		res, err = o.Record(ctx, []Group{testGroup(StatusResolved, "f1")}, t0.Add(201*time.Hour), plan)
		require.NoError(t, err)
		require.Equal(t, 2, res.Deliveries, "the resolve updates the message and replies")
		gs, err = o.Group(ctx, key)
		require.NoError(t, err)
		require.True(t, gs.SnoozedUntil.IsZero())
		require.Empty(t, gs.SnoozedBy)
	})
}

func TestOutboxRecordIsAtomic(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		o := NewOutbox(st)
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		good := testGroup(StatusFiring, "f1")
		bad := good
		bad.Key = "other"
		bad.AlertName = "Other"
		// A plan whose channel list makes the second group's insert fail is
		// hard to provoke; a cancelled context fails mid-transaction.
		cctx, cancel := context.WithCancel(ctx)
		calls := 0
		plan := func(g Group, fires FireHistory) (Decision, func() Message) {
			calls++
			if calls == 2 {
				cancel()
			}
			return Decision{Channels: []string{"#a"}, Reminder: time.Hour}, func() Message { return Message{Text: "x"} }
		}
		_, err := o.Record(cctx, []Group{good, bad}, t0, plan)
		require.Error(t, err)
		counts, err := o.Counts(ctx)
		require.NoError(t, err)
		require.Empty(t, counts, "nothing partial is stored")
		_, err = o.Group(ctx, good.Key)
		require.ErrorIs(t, err, ErrUnknownGroup)
	})
}

// TestOutboxGroupCommit records many calls at once through the committer:
// each is recorded once, as if alone, in shared transactions; a call whose
// context is cancelled while it is recorded rolls back its own part only,
// and a cancelled call's groups are recorded by nothing.
func TestOutboxGroupCommit(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		o := NewOutbox(st)
		o.StartBatching()
		defer o.StopBatching()
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		const n = 60
		group := func(i int) Group {
			g := testGroup(StatusFiring, fmt.Sprintf("f%d", i))
			g.Namespace = fmt.Sprintf("ns-%02d", i)
			g.Key = GroupKey("grafana", "r", g.Namespace, g.AlertName)
			return g
		}
		var wg sync.WaitGroup
		results := make([]Recorded, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				plan := fixedPlan(time.Hour, nil, "#a")
				if i%10 == 7 {
					// Cancelled while its groups are recorded.
					inner := plan
					plan = func(g Group, f FireHistory) (Decision, func() Message) {
						cancel()
						return inner(g, f)
					}
				}
				results[i], errs[i] = o.Record(cctx, []Group{group(i), group(i + 100)}, t0, plan)
			}()
		}
		wg.Wait()
		counts, err := o.Counts(ctx)
		require.NoError(t, err)
		ok := 0
		for i := range n {
			_, gerr := o.Group(ctx, group(i).Key)
			if i%10 == 7 {
				require.Error(t, errs[i], "call %d", i)
				require.ErrorIs(t, gerr, ErrUnknownGroup, "call %d: nothing of a failed call is kept", i)
				continue
			}
			require.NoError(t, errs[i], "call %d", i)
			require.Equal(t, Recorded{Groups: 2, Deliveries: 2}, results[i], "call %d", i)
			require.NoError(t, gerr)
			ok++
		}
		require.Equal(t, map[string]int{DeliveryPending: 2 * ok}, counts)

		// The same calls again, batched: nothing new.
		for i := range n {
			if i%10 == 7 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := o.Record(ctx, []Group{group(i), group(i + 100)}, t0.Add(time.Minute), fixedPlan(time.Hour, nil, "#a"))
				errs[i], results[i] = err, res
			}()
		}
		wg.Wait()
		for i := range n {
			if i%10 != 7 {
				require.NoError(t, errs[i])
				require.Equal(t, Recorded{Groups: 2, Unchanged: 2}, results[i])
			}
		}
		// Stopped: calls record on their own.
		o.StopBatching()
		res, err := o.Record(ctx, []Group{group(500)}, t0, fixedPlan(time.Hour, nil, "#a"))
		require.NoError(t, err)
		require.Equal(t, 1, res.Deliveries)
	})
}
