package alerting

// The /alerts page: the current alerts per namespace with snooze forms,
// and the last 24 hours per namespace from the ClickHouse history. Server
// rendered with html/template (which escapes every label: they come from
// whoever sent the alert), no script; its forms POST to the page's own
// routes, which redirect back to it (POST-redirect-GET).

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/api"
)

//go:embed templates/alerts.html
var pageFiles embed.FS

// pageTemplate is the /alerts page.
var pageTemplate = template.Must(template.New("alerts.html").Funcs(template.FuncMap{
	"age":    humanAge,
	"at":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"orNone": func(s, none string) string { return orDefault(s, none) },
	"deref":  func(t *time.Time) time.Time { return *t },
}).ParseFS(pageFiles, "templates/alerts.html"))

// pageWindow is the span of the page's history section.
const pageWindow = 24 * time.Hour

// pageNoisiest is how many alert names the history lists per namespace.
const pageNoisiest = 3

// pageHistoryTimeout bounds the history's queries: the current alerts are
// shown even when ClickHouse is slow.
const pageHistoryTimeout = 5 * time.Second

// pageSnoozeChoices are the page's snooze buttons, as the Slack buttons.
var pageSnoozeChoices = []struct{ For, Label string }{{"1h", "1h"}, {"6h", "6h"}, {"1d", "1d"}, {"until_resolved", "until resolved"}}

// pageFlash are the notes shown after a form's redirect, by the done
// parameter: fixed texts, the parameter is never shown as given.
var pageFlash = map[string]string{"snoozed": "Snoozed.", "unsnoozed": "Snooze ended: the group's next change is sent."}

// PageRoutes registers the /alerts page at the server's root: viewing
// (read, e.g. api.Server.Pages(api.ScopeRead)) and its snooze forms
// (write, Pages(api.ScopeWrite), which checks their CSRF token).
func (c *Component) PageRoutes(read, write gin.IRoutes) {
	read.GET("/alerts", c.page)
	write.POST("/alerts/snooze", c.pageSnooze)
	write.POST("/alerts/unsnooze", c.pageUnsnooze)
}

// pageData is what the template renders.
type pageData struct {
	Now          time.Time
	Cluster      string
	Subject      string
	CanWrite     bool
	CSRF         string
	Flash        string
	Choices      []struct{ For, Label string }
	Namespaces   []pageNamespace
	Groups       int
	CurrentError string
	History      []NamespaceSummary
	HistoryNote  string
	Window       string
}

// pageNamespace is one namespace's current groups.
type pageNamespace struct {
	Name   string
	Groups []pageGroup
}

// pageGroup is one current group as the page shows it.
type pageGroup struct {
	CurrentAlert
	Anchor string
	Age    time.Duration
}

// Snoozed reports whether the group is snoozed now.
func (g pageGroup) Snoozed() bool { return g.UntilResolved || g.SnoozedUntil != nil }

func (c *Component) page(ctx *gin.Context) {
	now := c.deps.Now()
	p := api.RequestPrincipal(ctx)
	d := pageData{
		Now: now, Cluster: ctx.Query("cluster"), Subject: p.Subject, CanWrite: p.Scopes.Has(api.ScopeWrite),
		Choices: pageSnoozeChoices, Flash: pageFlash[ctx.Query("done")], Window: "24 h",
	}
	if d.CanWrite {
		d.CSRF = api.CSRFToken(ctx)
	}
	cur, err := c.currentAlerts(ctx, now, d.Cluster)
	if err != nil {
		c.logger.Error("alerting: the /alerts page's current alerts", "err", err)
		d.CurrentError = "The operational store did not answer: the current alerts cannot be shown."
	}
	d.Groups = len(cur)
	for _, a := range cur {
		g := pageGroup{CurrentAlert: a, Anchor: "g-" + a.GroupKey, Age: time.Duration(a.AgeSeconds) * time.Second}
		if n := len(d.Namespaces); n == 0 || d.Namespaces[n-1].Name != a.Namespace {
			d.Namespaces = append(d.Namespaces, pageNamespace{Name: a.Namespace})
		}
		ns := &d.Namespaces[len(d.Namespaces)-1]
		ns.Groups = append(ns.Groups, g)
	}
	d.History, d.HistoryNote = c.pageHistory(ctx.Request.Context(), now)
	ctx.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	ctx.Header("X-Frame-Options", "DENY")
	ctx.Header("X-Content-Type-Options", "nosniff")
	ctx.Header("Referrer-Policy", "same-origin")
	ctx.Header("Cache-Control", "no-store")
	var b strings.Builder
	if err := pageTemplate.Execute(&b, d); err != nil {
		c.logger.Error("alerting: render the /alerts page", "err", err)
		ctx.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("the page could not be rendered\n"))
		return
	}
	ctx.Data(http.StatusOK, "text/html; charset=utf-8", []byte(b.String()))
}

// pageHistory is the page's history section, or why it is missing.
func (c *Component) pageHistory(ctx context.Context, now time.Time) ([]NamespaceSummary, string) {
	if c.deps.History == nil {
		return nil, "No alert history: this furrow does not write it to ClickHouse."
	}
	ctx, cancel := context.WithTimeout(ctx, pageHistoryTimeout)
	defer cancel()
	s, err := c.deps.History.Summary(ctx, now.Add(-pageWindow), now.Add(time.Millisecond), pageNoisiest)
	if err != nil {
		c.logger.Warn("alerting: the /alerts page's history", "err", err)
		return nil, "The alert history is unavailable right now (ClickHouse did not answer); the current alerts above are up to date."
	}
	if len(s) == 0 {
		return nil, "No alert received in the last 24 h."
	}
	return s, ""
}

// pageForm reads a page form's group_key and cluster.
func pageForm(ctx *gin.Context) (key, cluster string) {
	return strings.TrimSpace(ctx.PostForm("group_key")), ctx.PostForm("cluster")
}

// pageBack redirects to the page (303: the browser GETs it), at the
// group's row, with a note.
func pageBack(ctx *gin.Context, cluster, key, done string) {
	q := url.Values{"done": {done}}
	if cluster != "" {
		q.Set("cluster", cluster)
	}
	ctx.Redirect(http.StatusSeeOther, "/alerts?"+q.Encode()+"#g-"+url.PathEscape(key))
}

// pageFail answers a form that cannot be carried out, as text.
func pageFail(ctx *gin.Context, status int, msg string) {
	ctx.Data(status, "text/plain; charset=utf-8", []byte(msg+"\n"))
	ctx.Abort()
}

func (c *Component) pageStoreError(ctx *gin.Context, what string, err error) {
	if errors.Is(err, ErrUnknownGroup) {
		pageFail(ctx, http.StatusNotFound, "No such alert group: reload /alerts.")
		return
	}
	c.logger.Error("alerting: "+what+" from the /alerts page", "err", err)
	pageFail(ctx, http.StatusServiceUnavailable, "The operational store did not record the "+what+": try again.")
}

// pageSnooze is the snooze form: group_key and for (1h, 6h, 1d,
// until_resolved), by the principal's subject, as the API does.
func (c *Component) pageSnooze(ctx *gin.Context) {
	now := c.deps.Now()
	key, cluster := pageForm(ctx)
	dur := ctx.PostForm("for")
	if key == "" {
		pageFail(ctx, http.StatusBadRequest, "group_key is required")
		return
	}
	if _, ok := snoozeFor[dur]; !ok && dur != "until_resolved" {
		pageFail(ctx, http.StatusBadRequest, fmt.Sprintf("for: %q is not one of 1h, 6h, 1d, until_resolved", dur))
		return
	}
	by := api.RequestPrincipal(ctx).Subject
	if err := c.outbox.Snooze(ctx.Request.Context(), key, now.Add(snoozeFor[dur]), dur == "until_resolved", by, now); err != nil {
		c.pageStoreError(ctx, "snooze", err)
		return
	}
	c.logger.Info("alerting: snoozed", "group", key, "by", by, "for", dur, "from", "page")
	pageBack(ctx, cluster, key, "snoozed")
}

// pageUnsnooze is the unsnooze form.
func (c *Component) pageUnsnooze(ctx *gin.Context) {
	key, cluster := pageForm(ctx)
	if key == "" {
		pageFail(ctx, http.StatusBadRequest, "group_key is required")
		return
	}
	if err := c.outbox.Unsnooze(ctx.Request.Context(), key, c.deps.Now()); err != nil {
		c.pageStoreError(ctx, "unsnooze", err)
		return
	}
	c.logger.Info("alerting: unsnoozed", "group", key, "by", api.RequestPrincipal(ctx).Subject, "from", "page")
	pageBack(ctx, cluster, key, "unsnoozed")
}

// humanAge prints a duration in its two largest units: 3d 4h, 2h 5m, 4m.
func humanAge(d time.Duration) string { return spanOr(d, "<1m") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
