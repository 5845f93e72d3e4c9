package alerting

import (
	"context"
	"fmt"
	"time"
)

// CurrentGroup is a group firing now or snoozed, with its messages of the
// current episode.
type CurrentGroup struct {
	GroupState
	FirstFired, LastFired time.Time // zero when never fired
	Messages              []PostedMessage
}

// PostedMessage is a group's Slack message in a channel.
type PostedMessage struct {
	Channel   string `json:"channel"`
	ChannelID string `json:"channel_id"`
	TS        string `json:"ts"`
}

// Current returns the groups firing at now or snoozed past now, by
// namespace, alert name and key, each with the messages of its current
// episode (none when not posted: snoozed before its first post, or still
// in the outbox).
func (o *Outbox) Current(ctx context.Context, now time.Time) ([]CurrentGroup, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT group_key, source, namespace, alertname, status, fire_count, snoozed_until, snoozed_by, first_fired_at, last_fired_at, cluster
FROM alert_groups WHERE status = 'firing' OR snoozed_until > $1 ORDER BY namespace, alertname, group_key`, ftime(now))
	if err != nil {
		return nil, fmt.Errorf("alerting: current: %w", err)
	}
	var out []CurrentGroup
	for rows.Next() {
		var g CurrentGroup
		var until, first, last string
		if err := rows.Scan(&g.Key, &g.Source, &g.Namespace, &g.AlertName, &g.Status, &g.FireCount, &until, &g.SnoozedBy, &first, &last, &g.Cluster); err != nil {
			rows.Close()
			return nil, fmt.Errorf("alerting: current: %w", err)
		}
		if until > ftime(now) {
			g.SnoozedUntil = ptime(until)
		} else {
			g.SnoozedBy = "" // an expired snooze
		}
		if first != "" {
			g.FirstFired = ptime(first)
		}
		if last != "" {
			g.LastFired = ptime(last)
		}
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerting: current: %w", err)
	}
	// SQLite has one connection: the messages are read once the groups'
	// rows are closed.
	for i := range out {
		g := &out[i]
		if g.FirstFired.IsZero() {
			continue
		}
		mrows, err := o.db.QueryContext(ctx, `SELECT channel, channel_id, ts FROM alert_messages WHERE group_key = $1 AND episode = $2 ORDER BY channel`, g.Key, ftime(g.FirstFired))
		if err != nil {
			return nil, fmt.Errorf("alerting: current: %w", err)
		}
		for mrows.Next() {
			var m PostedMessage
			if err := mrows.Scan(&m.Channel, &m.ChannelID, &m.TS); err != nil {
				mrows.Close()
				return nil, fmt.Errorf("alerting: current: %w", err)
			}
			g.Messages = append(g.Messages, m)
		}
		mrows.Close()
		if err := mrows.Err(); err != nil {
			return nil, fmt.Errorf("alerting: current: %w", err)
		}
	}
	return out, nil
}

// Unsnooze ends a group's snooze: its next firing is sent again.
func (o *Outbox) Unsnooze(ctx context.Context, groupKey string, now time.Time) error {
	r, err := o.db.ExecContext(ctx, `UPDATE alert_groups SET snoozed_until = '', snoozed_by = '', updated_at = $1 WHERE group_key = $2`, ftime(now), groupKey)
	if err != nil {
		return fmt.Errorf("alerting: unsnooze: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("alerting: unsnooze %s: %w", groupKey, ErrUnknownGroup)
	}
	return nil
}
