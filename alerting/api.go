package alerting

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/api"
)

// snoozeFor are the durations POST /alerts/snooze accepts: the Slack
// buttons' choices.
var snoozeFor = map[string]time.Duration{"1h": time.Hour, "6h": 6 * time.Hour, "1d": 24 * time.Hour}

// snoozeBodyLimit bounds a snooze request's body.
const snoozeBodyLimit = 4 << 10

// CurrentAlert is one group of GET /alerts/current.
type CurrentAlert struct {
	GroupKey      string          `json:"group_key"`
	Source        string          `json:"source"`
	Namespace     string          `json:"namespace"`
	AlertName     string          `json:"alertname"`
	Status        string          `json:"status"`
	FirstFiredAt  *time.Time      `json:"first_fired_at,omitempty"`
	LastFiredAt   *time.Time      `json:"last_fired_at,omitempty"`
	FireCount     int             `json:"fire_count"`
	AgeSeconds    int64           `json:"age_seconds"` // since first_fired_at; 0 when never fired
	SnoozedUntil  *time.Time      `json:"snoozed_until,omitempty"`
	UntilResolved bool            `json:"snoozed_until_resolved,omitempty"`
	SnoozedBy     string          `json:"snoozed_by,omitempty"`
	OwnerTeam     string          `json:"owner_team,omitempty"` // the team's name, from the catalog
	Oncall        string          `json:"oncall,omitempty"`     // the owner team's on-call, from the catalog
	Cluster       string          `json:"cluster,omitempty"`    // the cluster of its alerts
	Messages      []CurrentPosted `json:"messages"`
}

// CurrentPosted is a group's Slack message, with a link to it.
type CurrentPosted struct {
	PostedMessage
	Link string `json:"link"`
}

// SnoozeRequest is POST /alerts/snooze's body.
type SnoozeRequest struct {
	GroupKey string `json:"group_key"`
	For      string `json:"for"` // 1h, 6h, 1d or until_resolved
}

// APIRoutes registers the operators' API, relative to /api/v1: the
// current alerts (read) and snoozes (write), the caller's token subject
// being who snoozed.
func (c *Component) APIRoutes(read, write gin.IRoutes) {
	read.GET("/alerts/current", c.current)
	write.POST("/alerts/snooze", c.snooze)
	write.DELETE("/alerts/snooze", c.unsnooze)
}

func apiError(ctx *gin.Context, status int, msg string) {
	ctx.AbortWithStatusJSON(status, errorBody{Error: msg})
}

// messageLink is the Slack link of a message (slack.com redirects it to
// the workspace): its ts without the dot.
func messageLink(channelID, ts string) string {
	if channelID == "" || ts == "" {
		return ""
	}
	return "https://slack.com/archives/" + channelID + "/p" + strings.ReplaceAll(ts, ".", "")
}

func tptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// currentAlerts lists the current groups with their owners, looked up in
// cluster when given, else in the cluster of the group's alerts.
func (c *Component) currentAlerts(ctx *gin.Context, now time.Time, cluster string) ([]CurrentAlert, error) {
	groups, err := c.outbox.Current(ctx.Request.Context(), now)
	if err != nil {
		return nil, err
	}
	out := make([]CurrentAlert, 0, len(groups))
	for _, g := range groups {
		a := CurrentAlert{GroupKey: g.Key, Source: g.Source, Namespace: g.Namespace, AlertName: g.AlertName, Status: g.Status,
			FirstFiredAt: tptr(g.FirstFired), LastFiredAt: tptr(g.LastFired), FireCount: g.FireCount, SnoozedBy: g.SnoozedBy,
			Cluster: g.Cluster, Messages: []CurrentPosted{}}
		if !g.FirstFired.IsZero() {
			a.AgeSeconds = int64(now.Sub(g.FirstFired) / time.Second)
		}
		if !g.SnoozedUntil.IsZero() {
			if g.SnoozedUntil.Equal(forever) {
				a.UntilResolved = true
			} else {
				a.SnoozedUntil = tptr(g.SnoozedUntil)
			}
		}
		if c.deps.Owners != nil && g.Namespace != "" {
			in := cluster
			if in == "" {
				in = g.Cluster
			}
			if o, ok := c.deps.Owners(in, g.Namespace); ok {
				a.OwnerTeam, a.Oncall = o.TeamName, o.Oncall
				if a.OwnerTeam == "" {
					a.OwnerTeam = o.Team
				}
			}
		}
		for _, m := range g.Messages {
			a.Messages = append(a.Messages, CurrentPosted{PostedMessage: m, Link: messageLink(m.ChannelID, m.TS)})
		}
		out = append(out, a)
	}
	return out, nil
}

// current answers GET /alerts/current: JSON, or ?format=table.
func (c *Component) current(ctx *gin.Context) {
	now := c.deps.Now()
	format := ctx.DefaultQuery("format", "json")
	if format != "json" && format != "table" {
		apiError(ctx, http.StatusBadRequest, "format: json or table")
		return
	}
	out, err := c.currentAlerts(ctx, now, ctx.Query("cluster"))
	if err != nil {
		c.logger.Error("alerting: current alerts", "err", err)
		apiError(ctx, http.StatusServiceUnavailable, "the operational store did not answer")
		return
	}
	if format == "table" {
		ctx.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(currentTable(out)))
		return
	}
	ctx.JSON(http.StatusOK, out)
}

// currentTable renders the current alerts as aligned text.
func currentTable(as []CurrentAlert) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAMESPACE\tALERTNAME\tSTATUS\tSOURCE\tFIRES\tAGE\tSNOOZED\tOWNER\tCHANNELS\tGROUP")
	for _, a := range as {
		snoozed := "-"
		switch {
		case a.UntilResolved:
			snoozed = "until resolved by " + a.SnoozedBy
		case a.SnoozedUntil != nil:
			snoozed = "until " + a.SnoozedUntil.Format(time.RFC3339) + " by " + a.SnoozedBy
		}
		var chans []string
		for _, m := range a.Messages {
			chans = append(chans, m.Channel)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", orDash(a.Namespace), orDash(a.AlertName), a.Status, a.Source, a.FireCount,
			(time.Duration(a.AgeSeconds) * time.Second).String(), snoozed, orDash(a.OwnerTeam), orDash(strings.Join(chans, ",")), a.GroupKey)
	}
	_ = w.Flush()
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ParseSnoozeRequest decodes and checks POST /alerts/snooze's body.
func ParseSnoozeRequest(body []byte) (SnoozeRequest, error) {
	var r SnoozeRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("body: %w", err)
	}
	if dec.More() {
		return r, errors.New("body: more than one JSON value")
	}
	if strings.TrimSpace(r.GroupKey) == "" {
		return r, errors.New("group_key is required")
	}
	if _, ok := snoozeFor[r.For]; !ok && r.For != "until_resolved" {
		return r, fmt.Errorf("for: %q is not one of 1h, 6h, 1d, until_resolved", r.For)
	}
	return r, nil
}

func (c *Component) snooze(ctx *gin.Context) {
	now := c.deps.Now()
	body, err := io.ReadAll(http.MaxBytesReader(ctx.Writer, ctx.Request.Body, snoozeBodyLimit))
	if err != nil {
		apiError(ctx, http.StatusBadRequest, "read the body: "+err.Error())
		return
	}
	r, err := ParseSnoozeRequest(body)
	if err != nil {
		apiError(ctx, http.StatusBadRequest, err.Error())
		return
	}
	by := api.RequestPrincipal(ctx).Subject
	untilResolved := r.For == "until_resolved"
	if err := c.outbox.Snooze(ctx.Request.Context(), r.GroupKey, now.Add(snoozeFor[r.For]), untilResolved, by, now); err != nil {
		c.storeError(ctx, "snooze", err)
		return
	}
	c.logger.Info("alerting: snoozed", "group", r.GroupKey, "by", by, "for", r.For)
	g, err := c.outbox.Group(ctx.Request.Context(), r.GroupKey)
	if err != nil {
		c.storeError(ctx, "snooze", err)
		return
	}
	ctx.JSON(http.StatusOK, gin.H{"group_key": g.Key, "snoozed_until": g.SnoozedUntil.UTC(), "until_resolved": untilResolved, "snoozed_by": g.SnoozedBy})
}

func (c *Component) unsnooze(ctx *gin.Context) {
	key := ctx.Query("group_key")
	if key == "" {
		apiError(ctx, http.StatusBadRequest, "group_key is required")
		return
	}
	if err := c.outbox.Unsnooze(ctx.Request.Context(), key, c.deps.Now()); err != nil {
		c.storeError(ctx, "unsnooze", err)
		return
	}
	c.logger.Info("alerting: unsnoozed", "group", key, "by", api.RequestPrincipal(ctx).Subject)
	ctx.JSON(http.StatusOK, gin.H{"group_key": key, "ok": true})
}

func (c *Component) storeError(ctx *gin.Context, what string, err error) {
	if errors.Is(err, ErrUnknownGroup) {
		apiError(ctx, http.StatusNotFound, "no such alert group")
		return
	}
	c.logger.Error("alerting: "+what, "err", err)
	apiError(ctx, http.StatusServiceUnavailable, "the operational store did not record the "+what)
}
