package alerting

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// KindReport is the periodic report of a channel (alerting.report_interval):
// what fires there and for how long, what resolved, what is snoozed.
const KindReport = "report"

// reportGroupKey is the outbox's group key of a channel's reports.
func reportGroupKey(channel string) string { return "report:" + channel }

// ReportLine is one group in a report.
type ReportLine struct {
	Namespace, AlertName string
	// Since is when the group began firing (its episode).
	Since time.Time
	// Fires counts the firings received for it.
	Fires int
	// SnoozedUntil is zero when not snoozed; forever is "until resolved".
	SnoozedUntil time.Time
	SnoozedBy    string
}

// Report is a channel's report for the interval ending at At.
type Report struct {
	Channel  string
	At       time.Time
	Interval time.Duration
	// Firing groups (not snoozed), the longest firing first.
	Firing []ReportLine
	// Resolved during the interval.
	Resolved []ReportLine
	// Snoozed groups still firing.
	Snoozed []ReportLine
}

// Empty reports whether there is nothing to say.
func (r Report) Empty() bool { return len(r.Firing)+len(r.Resolved)+len(r.Snoozed) == 0 }

// Reports builds, for each channel that a group was posted to, its report
// for the interval ending at now. A group is in the channels of its posts
// (any episode); one never posted is in none.
func (o *Outbox) Reports(ctx context.Context, now time.Time, interval time.Duration) ([]Report, error) {
	since := ftime(now.Add(-interval))
	rows, err := o.db.QueryContext(ctx, `SELECT c.channel, g.namespace, g.alertname, g.status, g.first_fired_at, g.fire_count, g.snoozed_until, g.snoozed_by
FROM alert_groups g JOIN (SELECT DISTINCT group_key, channel FROM alert_outbox WHERE kind IN ('post', 'remind') AND state <> 'failed') c ON c.group_key = g.group_key
WHERE g.status = 'firing' OR g.updated_at >= $1
ORDER BY c.channel, g.first_fired_at, g.namespace, g.alertname`, since)
	if err != nil {
		return nil, fmt.Errorf("alerting: report: %w", err)
	}
	defer rows.Close()
	byChannel := map[string]*Report{}
	var order []string
	for rows.Next() {
		var channel, status, first, until string
		var l ReportLine
		if err := rows.Scan(&channel, &l.Namespace, &l.AlertName, &status, &first, &l.Fires, &until, &l.SnoozedBy); err != nil {
			return nil, fmt.Errorf("alerting: report: %w", err)
		}
		r, ok := byChannel[channel]
		if !ok {
			r = &Report{Channel: channel, At: now, Interval: interval}
			byChannel[channel] = r
			order = append(order, channel)
		}
		l.Since = ptime(first)
		switch {
		case status != StatusFiring:
			r.Resolved = append(r.Resolved, l)
		case until != "" && until > ftime(now):
			l.SnoozedUntil = ptime(until)
			r.Snoozed = append(r.Snoozed, l)
		default:
			r.Firing = append(r.Firing, l)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alerting: report: %w", err)
	}
	out := make([]Report, 0, len(order))
	for _, ch := range order {
		out = append(out, *byChannel[ch])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out, nil
}

// EnqueueReport adds a channel's report for slot to the outbox, once: a
// second call for the same channel and slot (a restart, another replica)
// adds nothing.
func (o *Outbox) EnqueueReport(ctx context.Context, channel string, slot time.Time, blocks []slack.Block, text string, now time.Time) (bool, error) {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("alerting: report: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	key := reportGroupKey(channel)
	n, err := enqueue(ctx, tx, key, KindReport, channel, ftime(slot), blocks, text, ftime(now), dedupKey(key, KindReport, ftime(slot)))
	if err != nil {
		return false, fmt.Errorf("alerting: report: %w", err)
	}
	return n == 1, tx.Commit()
}

// reportGrace is how late after its boundary a report is still sent by a
// worker that just started (a restart across the boundary).
func reportGrace(iv time.Duration) time.Duration { return min(iv/4, 5*time.Minute) }

// reportLines bounds each section of a report.
const reportLines = 15

// RenderReport draws a channel's report in Block Kit, with its fallback
// text.
func RenderReport(r Report) ([]slack.Block, string) {
	title := fmt.Sprintf("Alert report · %s · %d firing, %d resolved, %d snoozed", cadence(r.Interval), len(r.Firing), len(r.Resolved), len(r.Snoozed))
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, true, false)),
		slack.NewContextBlock("period", slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf("%s to %s", r.At.Add(-r.Interval).UTC().Format("2006-01-02 15:04"), r.At.UTC().Format("15:04 UTC")), false, false)),
	}
	section := func(head string, lines []ReportLine, line func(ReportLine) string) {
		if len(lines) == 0 {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "*%s (%d)*", head, len(lines))
		for i, l := range lines {
			if i == reportLines {
				fmt.Fprintf(&b, "\n…and %d more", len(lines)-reportLines)
				break
			}
			b.WriteString("\n• " + line(l))
		}
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, b.String(), false, false), nil, nil))
	}
	name := func(l ReportLine) string {
		ns := l.Namespace
		if ns == "" {
			ns = "(no namespace)"
		}
		// Bounded, so that a section stays within Slack's 3,000 characters.
		return fmt.Sprintf("*%s* · %s", escape(truncateUTF8(ns, 63)), escape(truncateUTF8(l.AlertName, 80)))
	}
	section(":fire: Firing", r.Firing, func(l ReportLine) string {
		return fmt.Sprintf("%s — for %s, %s", name(l), span(r.At.Sub(l.Since)), times(l.Fires))
	})
	section(":white_check_mark: Resolved", r.Resolved, func(l ReportLine) string {
		return fmt.Sprintf("%s — %s", name(l), times(l.Fires))
	})
	section(":zzz: Snoozed", r.Snoozed, func(l ReportLine) string {
		until := "until resolved"
		if !l.SnoozedUntil.Equal(forever) {
			until = "until " + l.SnoozedUntil.UTC().Format("2006-01-02 15:04 UTC")
		}
		by := ""
		if l.SnoozedBy != "" {
			by = " by " + escape(truncateUTF8(l.SnoozedBy, 40))
		}
		return fmt.Sprintf("%s — firing for %s, snoozed %s%s", name(l), span(r.At.Sub(l.Since)), until, by)
	})
	return blocks, title
}

func times(n int) string {
	if n == 1 {
		return "fired once"
	}
	return fmt.Sprintf("fired %d times", n)
}

// span prints a duration as on-call people say it: 45m, 3h 10m, 2d 4h.
func span(d time.Duration) string { return spanOr(d, "under a minute") }

// spanOr is span, with what to say under a minute.
func spanOr(d time.Duration, underMinute string) string {
	if d < time.Minute {
		return underMinute
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

// cadence names an interval: "hourly" for an hour.
func cadence(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hourly"
	case 24 * time.Hour:
		return "daily"
	}
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("every %dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("every %dm", d/time.Minute)
	}
	return "every " + d.String()
}

// reportDue enqueues each channel's report once per report_interval, at
// the interval's boundaries; the worker calls it each run. The slot makes
// it idempotent: a restart or a second replica adds nothing.
func (c *Component) reportDue(ctx context.Context, now time.Time) {
	iv := c.cfg.ReportInterval
	if iv <= 0 {
		return
	}
	slot := now.Truncate(iv)
	if !slot.After(c.lastReport) {
		return
	}
	if c.lastReport.IsZero() && now.Sub(slot) > reportGrace(iv) {
		// Started well after the boundary: this slot's report was sent
		// before (or is late enough to be noise); wait for the next.
		c.lastReport = slot
		return
	}
	reports, err := c.outbox.Reports(ctx, slot, iv)
	if err != nil {
		c.logger.Error("alerting: build the reports", "err", err)
		return
	}
	for _, r := range reports {
		if r.Empty() {
			continue
		}
		blocks, text := RenderReport(r)
		if _, err := c.outbox.EnqueueReport(ctx, r.Channel, slot, blocks, text, now); err != nil {
			c.logger.Error("alerting: record a report", "channel", r.Channel, "err", err)
			return
		}
	}
	c.lastReport = slot
}
