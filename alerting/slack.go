package alerting

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Slack's Block Kit limits (docs.slack.dev/reference/block-kit): a message
// over them is refused with invalid_blocks, so rendering truncates instead.
const (
	slackMaxBlocks      = 50
	slackMaxHeader      = 150
	slackMaxSectionText = 3000
	slackMaxContextText = 3000
	slackMaxButtonValue = 2000
)

// Snooze action ids, one per button; ParseSnooze accepts exactly these.
const (
	ActionSnooze1h       = "snooze_1h"
	ActionSnooze6h       = "snooze_6h"
	ActionSnooze1d       = "snooze_1d"
	ActionSnoozeResolved = "snooze_resolved"
	snoozeBlockID        = "snooze"
)

// DefaultLabels are the labels shown for an alert type without its own list.
var DefaultLabels = []string{"severity", "pod", "instance", "job", "service"}

// RenderOptions say what a message shows.
type RenderOptions struct {
	// Labels lists, per alert name, the label names worth showing, in
	// order; alert names not listed show DefaultLabels.
	Labels map[string][]string `yaml:"labels"`
	// MaxAlerts is how many alerts a message lists before "… and N more
	// alerts" (0: as many as Slack's 50 blocks allow).
	MaxAlerts int `yaml:"max_alerts"`
}

// DefaultRenderOptions returns the options used when nothing is configured.
func DefaultRenderOptions() RenderOptions {
	return RenderOptions{MaxAlerts: 20}
}

// snoozeValue is what a snooze button carries back in the interaction.
type snoozeValue struct {
	Group string `json:"group"`
	// For is a Go duration ("1h") or "resolved".
	For string `json:"for"`
}

// snoozeButtons are the buttons of a firing message, in order.
var snoozeButtons = []struct{ action, label, dur string }{
	{ActionSnooze1h, "Snooze 1h", "1h"},
	{ActionSnooze6h, "Snooze 6h", "6h"},
	{ActionSnooze1d, "Snooze 1d", "24h"},
	{ActionSnoozeResolved, "Snooze until resolved", "resolved"},
}

// Render builds the Block Kit message for a group: a header with the state,
// namespace and alert name, the owner and mentions, one section per alert
// (labels that matter, values, links), the project's links and, while
// firing, snooze buttons. It keeps within Slack's limits, ending with
// "… and N more alerts" when the group has too many.
func Render(g Group, owner Owner, d Decision, opts RenderOptions) []slack.Block {
	firing := g.Status != StatusResolved
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
			truncate(headerText(g), slackMaxHeader), true, false)),
	}

	summary := []string{ownerText(owner), countText(g)}
	blocks = append(blocks, slack.NewContextBlock("summary",
		slack.NewTextBlockObject(slack.MarkdownType, truncate(strings.Join(summary, "  ·  "), slackMaxContextText), false, false)))

	if firing && len(d.Mentions) > 0 {
		// Mentions notify only from a section (or the text fallback), not
		// from a context block.
		blocks = append(blocks, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, truncate(strings.Join(d.Mentions, " "), slackMaxSectionText), false, false), nil, nil))
	}

	var tail []slack.Block
	if links := ownerLinks(owner); links != "" {
		tail = append(tail, slack.NewContextBlock("links",
			slack.NewTextBlockObject(slack.MarkdownType, truncate(links, slackMaxContextText), false, false)))
	}
	if firing {
		if actions := snoozeActions(g.Key); actions != nil {
			tail = append(tail, actions)
		}
	}

	// Room for alerts: Slack's cap minus the fixed blocks and one for the
	// "and N more" note.
	room := slackMaxBlocks - len(blocks) - len(tail) - 1
	if opts.MaxAlerts > 0 && opts.MaxAlerts < room {
		room = opts.MaxAlerts
	}
	alerts := sortedAlerts(g.Alerts)
	shown := alerts
	if len(shown) > room {
		shown = shown[:room]
	}
	names := opts.Labels[g.AlertName]
	if names == nil {
		names = DefaultLabels
	}
	for _, a := range shown {
		blocks = append(blocks, slack.NewSectionBlock(
			slack.NewTextBlockObject(slack.MarkdownType, alertText(a, names), false, false), nil, nil))
	}
	if more := len(alerts) - len(shown); more > 0 {
		blocks = append(blocks, slack.NewContextBlock("more",
			slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("… and %d more alerts", more), false, false)))
	}
	return append(blocks, tail...)
}

// Text is the message's plain fallback, shown in notifications and by
// clients that cannot display blocks; mentions are included so that they
// notify.
func Text(g Group, owner Owner, d Decision) string {
	var b strings.Builder
	b.WriteString(headerText(g))
	b.WriteString(" (")
	b.WriteString(countText(g))
	b.WriteString(") ")
	b.WriteString(ownerPlain(owner))
	if g.Status != StatusResolved && len(d.Mentions) > 0 {
		b.WriteString(" ")
		b.WriteString(strings.Join(d.Mentions, " "))
	}
	return truncate(b.String(), slackMaxSectionText)
}

func headerText(g Group) string {
	state := "🔥 FIRING"
	if g.Status == StatusResolved {
		state = "✅ RESOLVED"
	}
	ns := g.Namespace
	if ns == "" {
		ns = "(no namespace)"
	}
	name := g.AlertName
	if name == "" {
		name = "(unnamed alert)"
	}
	return state + ": " + ns + " · " + name
}

func countText(g Group) string {
	firing := 0
	for _, a := range g.Alerts {
		if a.Status != StatusResolved {
			firing++
		}
	}
	switch {
	case len(g.Alerts) == 1:
		return "1 alert"
	case firing == 0 || firing == len(g.Alerts):
		return fmt.Sprintf("%d alerts", len(g.Alerts))
	default:
		return fmt.Sprintf("%d alerts, %d firing", len(g.Alerts), firing)
	}
}

func ownerText(o Owner) string {
	if o.Team == "" && o.TeamName == "" {
		return "Owner: _unowned_"
	}
	s := "Owner: *" + escape(teamName(o)) + "*"
	if o.Project != "" {
		s += " (" + escape(o.Project) + ")"
	}
	if o.Oncall != "" {
		oncall := o.Oncall
		if !slackMention.MatchString(oncall) {
			oncall = escape(oncall)
		}
		s += "  ·  on call: " + oncall
	}
	return s
}

func ownerPlain(o Owner) string {
	if o.Team == "" && o.TeamName == "" {
		return "unowned"
	}
	s := "owner " + teamName(o)
	if o.Project != "" {
		s += " (" + o.Project + ")"
	}
	return s
}

func teamName(o Owner) string {
	if o.TeamName != "" {
		return o.TeamName
	}
	return o.Team
}

// slackMention is a user, user group or special mention, which the catalog
// may give as the on-call; anything else is shown as text.
var slackMention = regexp.MustCompile(`^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+|!here|!channel)>$`)

// ownerLinkOrder puts the usual project links first; others follow by name.
var ownerLinkOrder = map[string]int{"project": 1, "dashboard": 2, "logs": 3, "runbook": 4}

func ownerLinks(o Owner) string {
	keys := make([]string, 0, len(o.Links))
	for k, v := range o.Links {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, oj := ownerLinkOrder[keys[i]], ownerLinkOrder[keys[j]]
		if oi == 0 {
			oi = 100
		}
		if oj == 0 {
			oj = 100
		}
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, link(o.Links[k], titleCase(k)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Project: " + strings.Join(parts, " · ")
}

func snoozeActions(key string) slack.Block {
	elems := make([]slack.BlockElement, 0, len(snoozeButtons))
	for _, b := range snoozeButtons {
		v, _ := json.Marshal(snoozeValue{Group: key, For: b.dur})
		if len(v) > slackMaxButtonValue {
			// A group key this long cannot travel in a button; the
			// message goes out without them rather than being refused.
			return nil
		}
		elems = append(elems, slack.NewButtonBlockElement(b.action, string(v),
			slack.NewTextBlockObject(slack.PlainTextType, b.label, false, false)))
	}
	return slack.NewActionBlock(snoozeBlockID, elems...)
}

// sortedAlerts lists firing alerts first, then by start time and
// fingerprint, so that a message is the same whatever order the sender used.
func sortedAlerts(in []Alert) []Alert {
	out := append([]Alert(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		fi, fj := out[i].Status != StatusResolved, out[j].Status != StatusResolved
		if fi != fj {
			return fi
		}
		if !out[i].StartsAt.Equal(out[j].StartsAt) {
			return out[i].StartsAt.Before(out[j].StartsAt)
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out
}

func alertText(a Alert, names []string) string {
	var lines []string
	state := "🔥"
	if a.Status == StatusResolved {
		state = "✅"
	}
	head := state
	if s := firstLine(a.Annotations["summary"]); s != "" {
		head += " *" + escape(s) + "*"
	}
	var labels []string
	for _, n := range names {
		if v, ok := a.Labels[n]; ok && v != "" {
			labels = append(labels, "`"+escape(n)+"`: "+escape(v))
		}
	}
	if len(labels) > 0 {
		head += " " + strings.Join(labels, " · ")
	}
	lines = append(lines, head)
	if v := valueText(a); v != "" {
		lines = append(lines, "Value: "+v)
	}
	if !a.StartsAt.IsZero() {
		since := "Since " + slackDate(a.StartsAt.Unix(), a.StartsAt.UTC().Format("2006-01-02 15:04 UTC"))
		if a.Status == StatusResolved && !a.EndsAt.IsZero() {
			since += ", resolved " + slackDate(a.EndsAt.Unix(), a.EndsAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		lines = append(lines, since)
	}
	var links []string
	for _, l := range []struct{ url, label string }{
		{a.PanelURL, "Panel"},
		{a.DashboardURL, "Dashboard"},
		{a.SilenceURL, "Silence"},
		{a.GeneratorURL, "Source"},
		{a.Annotations["runbook_url"], "Runbook"},
	} {
		if l.url != "" {
			links = append(links, link(l.url, l.label))
		}
	}
	if len(links) > 0 {
		lines = append(lines, strings.Join(links, " · "))
	}
	return truncate(strings.Join(lines, "\n"), slackMaxSectionText)
}

// valueText shows Grafana's values by ref id, else its valueString, else
// the "value" annotation Prometheus rules often carry.
func valueText(a Alert) string {
	if len(a.Values) > 0 {
		refs := make([]string, 0, len(a.Values))
		for k := range a.Values {
			refs = append(refs, k)
		}
		sort.Strings(refs)
		parts := make([]string, 0, len(refs))
		for _, k := range refs {
			parts = append(parts, escape(k)+"="+formatValue(a.Values[k]))
		}
		return "`" + strings.Join(parts, ", ") + "`"
	}
	if a.ValueString != "" {
		return "`" + escape(truncate(a.ValueString, 500)) + "`"
	}
	if v := a.Annotations["value"]; v != "" {
		return "`" + escape(truncate(v, 500)) + "`"
	}
	return ""
}

func formatValue(v float64) string {
	if math.Abs(v) < 1e12 && v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if math.Abs(v) >= 1e-3 && math.Abs(v) < 1e12 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// slackDate lets each reader's client show the time in their own zone.
func slackDate(unix int64, fallback string) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", unix, fallback)
}

// link formats a mrkdwn link; '|' and '>' would end it early.
func link(url, label string) string {
	url = strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(url)
	return "<" + url + "|" + escape(label) + ">"
}

// escape makes sender-controlled text inert in mrkdwn: Slack reads &, <
// and > as control characters (links, mentions).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return truncate(s, 300)
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// truncate cuts s to at most max characters (runes: Slack counts
// characters), ending with "…" when it cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// ResolvedReply is the thread reply posted under a message when its group
// resolves (the message itself is updated with Render): how long it fired,
// from the earliest start to the latest end its alerts give.
func ResolvedReply(g Group) string {
	var start, end time.Time
	for _, a := range g.Alerts {
		if !a.StartsAt.IsZero() && (start.IsZero() || a.StartsAt.Before(start)) {
			start = a.StartsAt
		}
		if a.EndsAt.After(end) {
			end = a.EndsAt
		}
	}
	s := "✅ Resolved"
	if !start.IsZero() && end.After(start) {
		s += " after " + end.Sub(start).Round(time.Second).String()
	}
	return s + " (" + countText(g) + ")."
}
