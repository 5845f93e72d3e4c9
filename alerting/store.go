package alerting

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/furrowdev/furrow/state"
)

// Kinds of delivery in the outbox.
const (
	// KindPost posts a group's first message in a channel.
	KindPost = "post"
	// KindUpdate replaces the group's message (chat.update): its alerts
	// changed, or it resolved.
	KindUpdate = "update"
	// KindReply replies in the message's thread (the resolve).
	KindReply = "reply"
	// KindRemind posts the group again, still firing after its reminder
	// interval; the new message becomes the one a resolve updates.
	KindRemind = "remind"
)

// States of a delivery.
const (
	DeliveryPending = "pending"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
)

// ErrUnknownGroup is returned by Snooze for a group never received.
var ErrUnknownGroup = errors.New("no such alert group")

// timeFormat has a fixed width so that times compare as strings, in
// SQLite as in PostgreSQL.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// forever is the snooze "until resolved": a resolve clears it.
var forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// DefaultClaimLease is how long a claimed delivery is hidden from other
// workers (another replica, or this one after a crash): Done or Retry end
// it (alerting.claim_lease).
const DefaultClaimLease = time.Minute

func ftime(t time.Time) string { return t.UTC().Format(timeFormat) }

func ptime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}

// Message is what a group's delivery sends: the Block Kit message and its
// fallback text, and the thread reply of a resolve.
type Message struct {
	Blocks []slack.Block
	Text   string
	Reply  string
}

// Plan decides a group, and gives how to render its message; Record calls
// it inside its transaction, fires counting this notification's firing,
// and renders only when it records a delivery (most groups received again
// send nothing).
type Plan func(g Group, fires FireHistory) (Decision, func() Message)

// Recorded says what Record did, for the webhook's answer and metrics.
type Recorded struct {
	Groups     int `json:"groups"`
	Deliveries int `json:"deliveries"` // outbox rows added
	Snoozed    int `json:"snoozed"`    // firing groups not sent, snoozed
	Unchanged  int `json:"unchanged"`  // groups received again with nothing to send
}

// Delivery is one row of the outbox, claimed by Due.
type Delivery struct {
	ID       int64
	GroupKey string
	// Namespace and AlertName are the group's; CreatedAt is when the
	// webhook that asked for the delivery was accepted.
	Namespace, AlertName string
	CreatedAt            time.Time
	Kind                 string
	Channel              string
	Episode              string
	Blocks               []slack.Block
	Text                 string
	Attempts             int
	// DedupKey identifies the delivery everywhere (it is unique in the
	// outbox, and derived from group, channel, kind, episode and state):
	// it goes with the Slack message as metadata.
	DedupKey string
	// SentAt is when an earlier claim, whose attempt may have reached
	// Slack, was made (a crash or a timeout left it unknown); zero when
	// none was, or when Slack said it had not posted.
	SentAt time.Time
}

type payload struct {
	Blocks *slack.Blocks `json:"blocks,omitempty"`
	Text   string        `json:"text"`
}

// Outbox is alerting's state in the operational store: groups, their
// messages, fires and the durable outbox of deliveries.
type Outbox struct {
	db    *sql.DB
	lease time.Duration

	// calls, when batching (StartBatching), takes Record's calls to the
	// committer, which records those waiting together in one transaction;
	// stopped is closed by StopBatching. mu guards both.
	mu      sync.Mutex
	calls   chan *recordCall
	stopped chan struct{}
}

// NewOutbox uses the store's alert tables (state migrations 00003 and
// 00004), with the default claim lease.
func NewOutbox(st *state.Store) *Outbox { return &Outbox{db: st.DB(), lease: DefaultClaimLease} }

// SetLease sets how long Due hides the deliveries it claims.
func (o *Outbox) SetLease(d time.Duration) {
	if d > 0 {
		o.lease = d
	}
}

type groupRow struct {
	status, firstFired, snoozedUntil, lastPosted, lastPayload string
	fireCount                                                 int
}

// stateHash identifies what a group says: its status and each alert's
// fingerprint and status. Values and timestamps are left out: a group
// received again with new values is the same group, not a new message.
func stateHash(g Group) string {
	parts := make([]string, 0, len(g.Alerts))
	for _, a := range g.Alerts {
		parts = append(parts, a.Fingerprint+"="+a.Status)
	}
	sort.Strings(parts)
	h := sha256.Sum256([]byte(g.Status + "\n" + strings.Join(parts, "\n")))
	return hex.EncodeToString(h[:12])
}

func dedupKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:20])
}

// Record stores the groups of one notification and the deliveries they
// call for, in one transaction: the webhook is acknowledged only once it
// returns. For each group:
//
//   - firing, newly (first time, or after a resolve): a fire, and a post
//     to each channel of its decision (unless snoozed);
//   - firing, its alerts changed: a fire, and an update of its messages;
//   - firing, unchanged: nothing within its reminder interval, a reminder
//     post after it;
//   - resolved after firing: an update and a thread reply for each message
//     of the episode; the snooze ends;
//   - resolved again: nothing.
//
// Each delivery has a dedup key (group, channel, kind, episode, state, and
// the reminder slot), unique in the outbox, so that a notification recorded
// twice (a sender's retry, two replicas) adds nothing.
//
// While batching (StartBatching), calls made at the same time share one
// transaction, each in a savepoint of its own: one commit (one fsync) for
// all, and a call that fails rolls back only its own part. Record returns
// once the transaction holding the call has committed.
func (o *Outbox) Record(ctx context.Context, groups []Group, now time.Time, plan Plan) (Recorded, error) {
	o.mu.Lock()
	calls, stopped := o.calls, o.stopped
	o.mu.Unlock()
	if calls != nil {
		c := &recordCall{ctx: ctx, groups: groups, now: now, plan: plan, done: make(chan struct{})}
		select {
		case calls <- c:
		case <-stopped:
			return o.recordNow(ctx, groups, now, plan)
		case <-ctx.Done():
			return Recorded{}, fmt.Errorf("alerting: record: %w", ctx.Err())
		}
		<-c.done // bounded by the transaction: it must not be reported lost once committed
		return c.res, c.err
	}
	return o.recordNow(ctx, groups, now, plan)
}

// recordNow is Record in a transaction of its own.
func (o *Outbox) recordNow(ctx context.Context, groups []Group, now time.Time, plan Plan) (Recorded, error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return Recorded{}, fmt.Errorf("alerting: record: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := o.recordGroups(ctx, tx, groups, now, plan)
	if err != nil {
		return Recorded{}, err
	}
	if err := tx.Commit(); err != nil {
		return Recorded{}, fmt.Errorf("alerting: record: %w", err)
	}
	return res, nil
}

func (o *Outbox) recordGroups(ctx context.Context, tx *sql.Tx, groups []Group, now time.Time, plan Plan) (Recorded, error) {
	var res Recorded
	for _, g := range groups {
		n, snoozed, err := o.recordGroup(ctx, tx, g, now, plan)
		if err != nil {
			return Recorded{}, fmt.Errorf("alerting: record group %s/%s: %w", g.Namespace, g.AlertName, err)
		}
		res.Groups++
		res.Deliveries += n
		switch {
		case snoozed:
			res.Snoozed++
		case n == 0:
			res.Unchanged++
		}
	}
	return res, nil
}

// recordCall is one Record call waiting for the committer.
type recordCall struct {
	ctx    context.Context
	groups []Group
	now    time.Time
	plan   Plan
	res    Recorded
	err    error
	done   chan struct{}
}

// maxBatch bounds the calls one transaction records.
const maxBatch = 256

// StartBatching starts the committer: from now on, Record's calls made
// while a transaction commits wait and are recorded together in the next
// one (group commit), instead of one transaction, and one fsync, each.
// StopBatching ends it.
func (o *Outbox) StartBatching() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls != nil {
		return
	}
	o.calls = make(chan *recordCall)
	o.stopped = make(chan struct{})
	go o.commit(o.calls, o.stopped)
}

// StopBatching stops the committer once the calls it holds are recorded;
// later calls record on their own.
func (o *Outbox) StopBatching() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls == nil {
		return
	}
	close(o.stopped)
	o.calls, o.stopped = nil, nil
}

func (o *Outbox) commit(calls chan *recordCall, stopped chan struct{}) {
	for {
		var first *recordCall
		select {
		case first = <-calls:
		case <-stopped:
			return
		}
		batch := []*recordCall{first}
	more:
		for len(batch) < maxBatch {
			select {
			case c := <-calls:
				batch = append(batch, c)
			default:
				break more
			}
		}
		o.recordBatch(batch)
	}
}

// recordBatch records the calls of batch in one transaction, each in a
// savepoint: a call that fails (its context cancelled, a constraint) rolls
// back its own part only.
func (o *Outbox) recordBatch(batch []*recordCall) {
	defer func() {
		for _, c := range batch {
			close(c.done)
		}
	}()
	if len(batch) == 1 {
		c := batch[0]
		c.res, c.err = o.recordNow(c.ctx, c.groups, c.now, c.plan)
		return
	}
	// The transaction is the batch's, not one caller's: a caller that goes
	// away fails its own savepoint only.
	ctx := context.Background()
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		for _, c := range batch {
			c.err = fmt.Errorf("alerting: record: %w", err)
		}
		return
	}
	defer func() { _ = tx.Rollback() }()
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = fmt.Errorf("alerting: record: %w", err)
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT record_call"); err != nil {
			c.err = fmt.Errorf("alerting: record: %w", err)
			continue
		}
		// The batch's connection must not see a caller's cancellation (a
		// driver may close the connection mid-query): the call checks its
		// context after its part, and rolls that part back if it is gone.
		c.res, c.err = o.recordGroups(context.WithoutCancel(c.ctx), tx, c.groups, c.now, c.plan)
		if c.err == nil && c.ctx.Err() != nil {
			c.err = fmt.Errorf("alerting: record: %w", c.ctx.Err())
		}
		end := "RELEASE SAVEPOINT record_call"
		if c.err != nil {
			c.res = Recorded{}
			end = "ROLLBACK TO SAVEPOINT record_call"
		}
		if _, err := tx.ExecContext(ctx, end); err != nil {
			// The transaction is in an unknown state: none of it counts.
			for _, c := range batch {
				c.res, c.err = Recorded{}, fmt.Errorf("alerting: record: %w", err)
			}
			return
		}
		if c.err != nil && end == "ROLLBACK TO SAVEPOINT record_call" {
			// Rolled back to it; the savepoint itself stays: release it.
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT record_call"); err != nil {
				for _, c := range batch {
					c.res, c.err = Recorded{}, fmt.Errorf("alerting: record: %w", err)
				}
				return
			}
		}
	}
	if err := tx.Commit(); err != nil {
		for _, c := range batch {
			c.res, c.err = Recorded{}, fmt.Errorf("alerting: record: %w", err)
		}
	}
}

func (o *Outbox) recordGroup(ctx context.Context, tx *sql.Tx, g Group, now time.Time, plan Plan) (added int, snoozed bool, err error) {
	var row groupRow
	found := true
	err = tx.QueryRowContext(ctx, `SELECT status, first_fired_at, snoozed_until, last_posted_at, last_payload, fire_count FROM alert_groups WHERE group_key = $1`, g.Key).
		Scan(&row.status, &row.firstFired, &row.snoozedUntil, &row.lastPosted, &row.lastPayload, &row.fireCount)
	if errors.Is(err, sql.ErrNoRows) {
		found, err = false, nil
	}
	if err != nil {
		return 0, false, err
	}
	at := ftime(now)
	h := stateHash(g)
	fires := txFires{ctx: ctx, tx: tx}

	if g.Status != StatusFiring {
		if !found || row.status != StatusFiring {
			// Resolved again, or a resolve of a group never seen firing:
			// there is no message to update.
			return 0, false, o.saveGroup(ctx, tx, g, found, row, at, h)
		}
		_, render := plan(g, fires)
		msg := render()
		row.snoozedUntil = "" // a resolve ends any snooze
		channels, err := episodeChannels(ctx, tx, g.Key, row.firstFired)
		if err != nil {
			return 0, false, err
		}
		for _, ch := range channels {
			for _, k := range []struct{ kind, text string }{{KindUpdate, msg.Text}, {KindReply, msg.Reply}} {
				var blocks []slack.Block
				if k.kind == KindUpdate {
					blocks = msg.Blocks
				}
				n, err := enqueue(ctx, tx, g.Key, k.kind, ch, row.firstFired, blocks, k.text, at,
					dedupKey(g.Key, ch, k.kind, row.firstFired, StatusResolved, h))
				if err != nil {
					return 0, false, err
				}
				added += n
			}
		}
		return added, false, o.saveGroup(ctx, tx, g, found, row, at, h)
	}

	newEpisode := !found || row.status != StatusFiring
	changed := newEpisode || row.lastPayload != h
	if newEpisode {
		row.firstFired = at
		row.lastPosted = ""
	}
	if changed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_fires (group_key, fired_at) VALUES ($1, $2)`, g.Key, at); err != nil {
			return 0, false, err
		}
		row.fireCount++
	}
	d, render := plan(g, fires)
	if row.snoozedUntil != "" && row.snoozedUntil > at {
		return 0, true, o.saveGroup(ctx, tx, g, found, row, at, h)
	}
	var kind, slot string
	switch {
	case row.lastPosted == "":
		// New, or never sent (snoozed until now): post.
		kind = KindPost
	case changed:
		kind = KindUpdate
		slot = h
	case d.Reminder > 0 && now.Sub(ptime(row.lastPosted)) >= d.Reminder:
		kind = KindRemind
		slot = ftime(now.Truncate(d.Reminder))
	default:
		return 0, false, o.saveGroup(ctx, tx, g, found, row, at, h)
	}
	msg := render()
	for _, ch := range d.Channels {
		n, err := enqueue(ctx, tx, g.Key, kind, ch, row.firstFired, msg.Blocks, msg.Text, at,
			dedupKey(g.Key, ch, kind, row.firstFired, StatusFiring, slot))
		if err != nil {
			return 0, false, err
		}
		added += n
	}
	if kind == KindPost || kind == KindRemind {
		row.lastPosted = at
	}
	return added, false, o.saveGroup(ctx, tx, g, found, row, at, h)
}

func (o *Outbox) saveGroup(ctx context.Context, tx *sql.Tx, g Group, found bool, row groupRow, at, h string) error {
	lastFired := ""
	if g.Status == StatusFiring {
		lastFired = at
	}
	if !found {
		_, err := tx.ExecContext(ctx, `INSERT INTO alert_groups (group_key, source, namespace, alertname, status, first_fired_at, last_fired_at, fire_count, snoozed_until, last_posted_at, last_payload, updated_at, cluster)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, g.Key, g.Source, g.Namespace, g.AlertName, g.Status, row.firstFired, lastFired, row.fireCount, row.snoozedUntil, row.lastPosted, h, at, g.Cluster)
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE alert_groups SET status = $1, first_fired_at = $2, last_fired_at = CASE WHEN CAST($3 AS TEXT) = '' THEN last_fired_at ELSE $3 END,
fire_count = $4, snoozed_until = $5, snoozed_by = CASE WHEN CAST($5 AS TEXT) = '' THEN '' ELSE snoozed_by END, last_posted_at = $6, last_payload = $7, updated_at = $8,
cluster = CASE WHEN CAST($10 AS TEXT) = '' THEN cluster ELSE $10 END WHERE group_key = $9`,
		g.Status, row.firstFired, lastFired, row.fireCount, row.snoozedUntil, row.lastPosted, h, at, g.Key, g.Cluster)
	return err
}

// episodeChannels are the channels a group was posted to (or is to be) in
// the episode that began at episode.
func episodeChannels(ctx context.Context, tx *sql.Tx, key, episode string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT channel FROM alert_outbox WHERE group_key = $1 AND episode = $2 AND kind IN ('post', 'remind') AND state <> 'failed' ORDER BY channel`, key, episode)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func enqueue(ctx context.Context, tx *sql.Tx, key, kind, channel, episode string, blocks []slack.Block, text, at, dedup string) (int, error) {
	p := payload{Text: text}
	if len(blocks) > 0 {
		p.Blocks = &slack.Blocks{BlockSet: blocks}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO alert_outbox (group_key, kind, channel, episode, payload, dedup_key, attempts, next_at, state, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 'pending', $7) ON CONFLICT (dedup_key) DO NOTHING`, key, kind, channel, episode, string(b), dedup, at)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

// txFires counts fires inside Record's transaction (SQLite has one
// connection: a query outside it would wait for it).
type txFires struct {
	ctx context.Context
	tx  *sql.Tx
}

func (f txFires) Fires(groupKey string, since time.Time) int {
	return countFires(f.ctx, f.tx, groupKey, since)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func countFires(ctx context.Context, q queryer, key string, since time.Time) int {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM alert_fires WHERE group_key = $1 AND fired_at >= $2`, key, ftime(since)).Scan(&n); err != nil {
		return 0
	}
	return n
}

// Fires implements FireHistory from the recorded fires.
func (o *Outbox) Fires(groupKey string, since time.Time) int {
	return countFires(context.Background(), o.db, groupKey, since)
}

// Due claims up to limit pending deliveries whose time has come, oldest
// first, hiding them from other workers for a minute (Done, Retry or Fail
// settle them; after a crash they come due again).
//
// The claim also records, for each delivery, that an attempt may begin
// (sent_at, unless an earlier attempt set it): a process killed after the
// claim, mid-call or not, leaves it set, and the next claim looks in the
// channel before posting (see Component.post). Delivery.SentAt is the
// value before this claim. Claims are one transaction (one commit for the
// batch, not one per delivery).
func (o *Outbox) Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("alerting: due: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.group_key, o.kind, o.channel, o.episode, o.payload, o.attempts, o.next_at,
  o.created_at, COALESCE(g.namespace, ''), COALESCE(g.alertname, ''), o.dedup_key, o.sent_at
FROM alert_outbox o LEFT JOIN alert_groups g ON g.group_key = o.group_key
WHERE o.state = 'pending' AND o.next_at <= $1 ORDER BY o.id LIMIT $2`, ftime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("alerting: due: %w", err)
	}
	type cand struct {
		d    Delivery
		next string
	}
	var cands []cand
	for rows.Next() {
		var c cand
		var p, created, sent string
		if err := rows.Scan(&c.d.ID, &c.d.GroupKey, &c.d.Kind, &c.d.Channel, &c.d.Episode, &p, &c.d.Attempts, &c.next,
			&created, &c.d.Namespace, &c.d.AlertName, &c.d.DedupKey, &sent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("alerting: due: %w", err)
		}
		var pl payload
		if err := json.Unmarshal([]byte(p), &pl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("alerting: due: delivery %d: payload: %w", c.d.ID, err)
		}
		c.d.Text = pl.Text
		c.d.CreatedAt = ptime(created)
		if sent != "" {
			c.d.SentAt = ptime(sent)
		}
		if pl.Blocks != nil {
			c.d.Blocks = pl.Blocks.BlockSet
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerting: due: %w", err)
	}
	lease, at := ftime(now.Add(o.lease)), ftime(now)
	var out []Delivery
	for _, c := range cands {
		r, err := tx.ExecContext(ctx, `UPDATE alert_outbox SET next_at = $1, sent_at = CASE WHEN sent_at = '' THEN $4 ELSE sent_at END
WHERE id = $2 AND state = 'pending' AND next_at = $3`, lease, c.d.ID, c.next, at)
		if err != nil {
			return nil, fmt.Errorf("alerting: claim: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 1 {
			out = append(out, c.d)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("alerting: claim: %w", err)
	}
	return out, nil
}

// Done settles a delivery; for a post or reminder it keeps the message's
// channel id and ts, which the group's updates and replies need, in the
// same transaction.
func (o *Outbox) Done(ctx context.Context, d Delivery, channelID, ts string, now time.Time) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("alerting: done: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	at := ftime(now)
	if _, err := tx.ExecContext(ctx, `UPDATE alert_outbox SET state = 'done', attempts = attempts + 1, done_at = $1, last_error = '' WHERE id = $2`, at, d.ID); err != nil {
		return fmt.Errorf("alerting: done: %w", err)
	}
	if channelID != "" && channelID != d.Channel {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_channels (channel, channel_id, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (channel) DO UPDATE SET channel_id = excluded.channel_id, updated_at = excluded.updated_at`, d.Channel, channelID, at); err != nil {
			return fmt.Errorf("alerting: done: %w", err)
		}
	}
	if (d.Kind == KindPost || d.Kind == KindRemind) && ts != "" {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_messages (group_key, channel, episode, channel_id, ts, posted_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (group_key, channel, episode) DO UPDATE SET channel_id = excluded.channel_id, ts = excluded.ts, posted_at = excluded.posted_at`,
			d.GroupKey, d.Channel, d.Episode, channelID, ts, at); err != nil {
			return fmt.Errorf("alerting: done: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("alerting: done: %w", err)
	}
	return nil
}

// Retry makes a delivery due again at next, keeping why it failed (an
// error text that never holds a secret: SlackError scrubs the token).
func (o *Outbox) Retry(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE alert_outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3 AND state = 'pending'`, ftime(next), reason, id)
	if err != nil {
		return fmt.Errorf("alerting: retry: %w", err)
	}
	return nil
}

// RetryNotSent is Retry for a failure that says the message was not
// posted (Slack answered 429 or ok:false): the next attempt need not look
// for it in the channel.
func (o *Outbox) RetryNotSent(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE alert_outbox SET attempts = attempts + 1, next_at = $1, last_error = $2, sent_at = '' WHERE id = $3 AND state = 'pending'`, ftime(next), reason, id)
	if err != nil {
		return fmt.Errorf("alerting: retry: %w", err)
	}
	return nil
}

// ChannelIDOf returns the Slack id recorded for a channel name by an
// earlier delivery; ok is false when none was.
func (o *Outbox) ChannelIDOf(ctx context.Context, channel string) (id string, ok bool, err error) {
	err = o.db.QueryRowContext(ctx, `SELECT channel_id FROM alert_channels WHERE channel = $1`, channel).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("alerting: channel id: %w", err)
	}
	return id, true, nil
}

// Wait makes a delivery due again at next without counting an attempt: it
// waits for the post whose message it updates.
func (o *Outbox) Wait(ctx context.Context, id int64, next time.Time) error {
	_, err := o.db.ExecContext(ctx, `UPDATE alert_outbox SET next_at = $1 WHERE id = $2 AND state = 'pending'`, ftime(next), id)
	if err != nil {
		return fmt.Errorf("alerting: wait: %w", err)
	}
	return nil
}

// Fail gives up on a delivery (Slack refused it for good).
func (o *Outbox) Fail(ctx context.Context, id int64, reason string, now time.Time) error {
	_, err := o.db.ExecContext(ctx, `UPDATE alert_outbox SET state = 'failed', attempts = attempts + 1, last_error = $1, done_at = $2 WHERE id = $3`, reason, ftime(now), id)
	if err != nil {
		return fmt.Errorf("alerting: fail: %w", err)
	}
	return nil
}

// MessageOf returns the channel id and ts of a group's message in a
// channel during an episode; ok is false when it was not posted (yet).
func (o *Outbox) MessageOf(ctx context.Context, groupKey, channel, episode string) (channelID, ts string, ok bool, err error) {
	err = o.db.QueryRowContext(ctx, `SELECT channel_id, ts FROM alert_messages WHERE group_key = $1 AND channel = $2 AND episode = $3`, groupKey, channel, episode).Scan(&channelID, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("alerting: message: %w", err)
	}
	return channelID, ts, true, nil
}

// PostPending reports whether a post of the group to the channel in the
// episode is still to be made.
func (o *Outbox) PostPending(ctx context.Context, groupKey, channel, episode string) (bool, error) {
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT count(*) FROM alert_outbox WHERE group_key = $1 AND channel = $2 AND episode = $3 AND kind IN ('post', 'remind') AND state = 'pending'`,
		groupKey, channel, episode).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("alerting: pending: %w", err)
	}
	return n > 0, nil
}

// Snooze silences a group until the given time (forever: until it
// resolves); its firings are recorded, not sent. by is who snoozed it.
func (o *Outbox) Snooze(ctx context.Context, groupKey string, until time.Time, untilResolved bool, by string, now time.Time) error {
	if untilResolved {
		until = forever
	}
	r, err := o.db.ExecContext(ctx, `UPDATE alert_groups SET snoozed_until = $1, snoozed_by = $2, updated_at = $3 WHERE group_key = $4`, ftime(until), by, ftime(now), groupKey)
	if err != nil {
		return fmt.Errorf("alerting: snooze: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("alerting: snooze %s: %w", groupKey, ErrUnknownGroup)
	}
	return nil
}

// GroupState is a group's row, for the API and tests.
type GroupState struct {
	Key, Source, Namespace, AlertName, Status string
	// Cluster is the cluster label of its alerts ("" when they had none).
	Cluster      string
	FireCount    int
	SnoozedUntil time.Time // zero: not snoozed
	SnoozedBy    string
}

// Group returns a group's state.
func (o *Outbox) Group(ctx context.Context, groupKey string) (GroupState, error) {
	var g GroupState
	var until string
	err := o.db.QueryRowContext(ctx, `SELECT group_key, source, namespace, alertname, status, fire_count, snoozed_until, snoozed_by, cluster FROM alert_groups WHERE group_key = $1`, groupKey).
		Scan(&g.Key, &g.Source, &g.Namespace, &g.AlertName, &g.Status, &g.FireCount, &until, &g.SnoozedBy, &g.Cluster)
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("alerting: group %s: %w", groupKey, ErrUnknownGroup)
	}
	if err != nil {
		return g, fmt.Errorf("alerting: group: %w", err)
	}
	if until != "" {
		g.SnoozedUntil = ptime(until)
	}
	return g, nil
}

// Pending counts the deliveries still to make (through the outbox's
// state index: the worker asks every run).
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	if err := o.db.QueryRowContext(ctx, `SELECT count(*) FROM alert_outbox WHERE state = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("alerting: pending: %w", err)
	}
	return n, nil
}

// Counts are the outbox's rows by state.
func (o *Outbox) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT state, count(*) FROM alert_outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("alerting: counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}
