package alerting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/furrowdev/furrow/internal/chsql"
)

// Receive takes a webhook body of source (SourceGrafana or
// SourceAlertmanager) as if it had been accepted at at: decoded, split,
// recorded in the outbox and written to the history, the path of the
// webhook routes without their HTTP (authentication, body limit). It is
// what `furrow alerts replay` runs, with at the notification's receive
// time, so that an alert's history carries the times it happened.
//
// Receiving the same body again at the same time records nothing new: the
// outbox's deliveries have dedup keys, the history deduplicates by the
// body's hash. An error wrapping ErrMalformed means the body is not a
// notification; any other, that the operational store did not record it.
func (c *Component) Receive(ctx context.Context, source string, body []byte, at time.Time) (Recorded, error) {
	if source != SourceGrafana && source != SourceAlertmanager {
		return Recorded{}, fmt.Errorf("alerting: source %q: use %s or %s", source, SourceGrafana, SourceAlertmanager)
	}
	return c.receive(ctx, source, body, at, at)
}

// receive is the webhooks' pipeline once a body is read and its sender
// authenticated. now is the acceptance time (the outbox's and history's);
// decodeAt is what the decoder compares an alert's endsAt with when its
// status is absent (the wall clock for a webhook, as Decode does).
func (c *Component) receive(ctx context.Context, source string, body []byte, now, decodeAt time.Time) (Recorded, error) {
	n, err := decode(source, body, c.cfg.MaxAlerts, decodeAt)
	if err != nil {
		return Recorded{}, err
	}
	groups := Split(n, c.cfg.NamespaceLabels)
	for i := range groups {
		groups[i].Cluster = c.cluster(groups[i])
	}
	res, err := c.outbox.Record(ctx, groups, now, c.plan(now, groups))
	if err != nil {
		return Recorded{}, err
	}
	if c.deps.History != nil {
		if err := c.deps.History.RecordEvents(ctx, n, groups, now, body); err != nil {
			c.logger.Warn("alerting: history of a webhook", "source", source, "err", err)
		}
	}
	c.m.received.WithLabelValues(source).Add(float64(len(n.Alerts)))
	c.m.recorded.WithLabelValues(source).Add(float64(res.Deliveries))
	return res, nil
}

// Received reports whether a webhook body of source is in alert_events
// already (or queued for it). Replay does not ask it: an unchanged
// notification repeated by its sender has the same body and is replayed at
// its own time (the outbox may owe it a reminder).
func (h *History) Received(ctx context.Context, source string, body []byte) (bool, error) {
	if q := h.queue(); q != nil && q.received(source, NotificationID(body)) {
		return true, nil // queued, or stored recently
	}
	var b strings.Builder
	q := "SELECT count() FROM " + EventsTable + " WHERE source = " + chsql.QuoteString(source) +
		" AND notification_id = " + chsql.QuoteString(NotificationID(body))
	if err := h.s.Query(ctx, &b, q, "TSV"); err != nil {
		return false, fmt.Errorf("read %s: %w", EventsTable, err)
	}
	return strings.TrimSpace(b.String()) != "0", nil
}

// Replay is Receive for a body that may have been received before: a
// body whose groups the outbox holds as of at or later is skipped
// (skipped true, nothing recorded). Receiving an old body again after
// newer ones would move its groups back in time (a replayed resolve would
// close the episode that followed it). A sender's repeat of the same body
// at a later time is replayed, as it was received then (it may be due a
// reminder).
func (c *Component) Replay(ctx context.Context, source string, body []byte, at time.Time) (res Recorded, skipped bool, err error) {
	if source != SourceGrafana && source != SourceAlertmanager {
		return Recorded{}, false, fmt.Errorf("alerting: source %q: use %s or %s", source, SourceGrafana, SourceAlertmanager)
	}
	n, err := decode(source, body, c.cfg.MaxAlerts, at)
	if err != nil {
		return Recorded{}, false, err
	}
	for _, g := range Split(n, c.cfg.NamespaceLabels) {
		var updated string
		err := c.outbox.db.QueryRowContext(ctx, `SELECT updated_at FROM alert_groups WHERE group_key = $1`, g.Key).Scan(&updated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return Recorded{}, false, fmt.Errorf("alerting: read the outbox: %w", err)
		}
		if !ptime(updated).Before(at) {
			return Recorded{}, true, nil
		}
	}
	res, err = c.Receive(ctx, source, body, at)
	return res, false, err
}
