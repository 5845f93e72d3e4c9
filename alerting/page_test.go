package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/internal/testenv/slackapi"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/store"
)

const (
	pageWriter       = "alice"
	pageWriterToken  = "alice-page-token-0123456789"
	pageViewerToken  = "viewer-page-token-0123456789"
	pageIngestToken  = "sender-ingest-token-0123456789"
	hostileNamespace = `<script>window.pwned=1</script>`
	hostileAlertName = `<img src=x onerror="window.pwned=2">`
)

// pageHarness is the alerting component on a real SQLite operational
// store and the embedded engine's history, behind furrow's real API
// server: the webhooks on /api/v1 (ingest token), the page on Pages.
type pageHarness struct {
	t   *testing.T
	c   *Component
	srv *api.Server
	ch  store.Store

	mu  sync.Mutex
	now time.Time
}

type pageOptions struct {
	devMode   bool
	noHistory bool // the history's tables are missing: ClickHouse errors
}

func newPageHarness(t *testing.T, o pageOptions) *pageHarness {
	t.Helper()
	if testing.Short() {
		t.Skip("the page's history needs the embedded engine")
	}
	ch := chtest.Store(t)
	if !o.noHistory {
		_, err := migrations.New(ch, migrations.Options{}).Up(context.Background())
		require.NoError(t, err)
	}
	st, err := state.Open(context.Background(), state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte(pageWriter+" read,write "+pageWriterToken+"\nviewer read "+pageViewerToken+"\nsender ingest "+pageIngestToken+"\n"), 0o600))
	acfg := api.DefaultConfiguration()
	acfg.Listen = "127.0.0.1:0"
	acfg.TokensFile = tokens
	acfg.DevMode = o.devMode
	srv, err := api.New(acfg, api.Dependencies{Store: ch, Registry: prometheus.NewRegistry()})
	require.NoError(t, err)

	h := &pageHarness{t: t, srv: srv, ch: ch, now: time.Now().UTC().Truncate(time.Millisecond)}
	cfg := DefaultConfiguration()
	cfg.Enabled = true
	cfg.Slack.APIURL = slackapi.New(t, e2eToken).URL()
	cfg.Slack.Token = e2eToken
	owners := func(cluster, namespace string) (Owner, bool) {
		switch namespace {
		case "whatever/promstack":
			return Owner{Team: "PLAT", TeamName: "Platform", Oncall: "@jdoe"}, true
		case hostileNamespace:
			return Owner{Team: "EVIL", TeamName: `<b id="owner-injected">Evil</b>`, Oncall: `<i>@mallory</i>`}, true
		}
		return Owner{}, false
	}
	c, err := New(cfg, Dependencies{State: st, Owners: owners, Registry: prometheus.NewRegistry(), Now: h.clock, History: NewHistory(ch)})
	require.NoError(t, err)
	h.c = c
	c.Routes(srv.Group(api.ScopeIngest), srv.SelfAuthenticated())
	c.PageRoutes(srv.Pages(api.ScopeRead), srv.Pages(api.ScopeWrite))
	return h
}

func (h *pageHarness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *pageHarness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// webhook is one payload as its sender posts it.
type webhook struct {
	name, source string
	body         []byte
	at           time.Time
}

// sharedWebhooks are the shared payloads, in file order, each with its
// sender, and last a hostile one: the first Alertmanager payload with a
// namespace and an alert name that are HTML.
func sharedWebhooks(t *testing.T) []webhook {
	t.Helper()
	var out []webhook
	var hostile []byte
	for _, f := range sharedPayloads(t) {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		name := filepath.Base(f)
		src := SourceAlertmanager
		if strings.HasPrefix(name, "pytorch-alerting-infra_grafana-") || strings.HasPrefix(name, "ntfy_webhook_grafana_") {
			src = SourceGrafana // as decoderFor classifies them
		}
		n, err := decoderFor(t, name)(body)
		require.NoError(t, err, f)
		require.Equal(t, src, n.Source, f)
		out = append(out, webhook{name: filepath.Base(f), source: src, body: body})
		if hostile == nil && src == SourceAlertmanager {
			var m map[string]any
			require.NoError(t, json.Unmarshal(body, &m))
			for _, a := range m["alerts"].([]any) {
				labels := a.(map[string]any)["labels"].(map[string]any)
				labels["namespace"] = hostileNamespace
				labels["alertname"] = hostileAlertName
				delete(a.(map[string]any), "fingerprint")
			}
			delete(m, "commonLabels")
			delete(m, "groupLabels")
			hostile, err = json.Marshal(m)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, hostile, "no Alertmanager payload among the shared ones")
	return append(out, webhook{name: "hostile", source: SourceAlertmanager, body: hostile})
}

// feed posts the webhooks through the server's routes, one minute apart,
// and returns them with their receive times.
func (h *pageHarness) feed(whs []webhook, post func(path string, body []byte) (int, string)) []webhook {
	h.t.Helper()
	for i := range whs {
		h.advance(time.Minute)
		whs[i].at = h.clock()
		code, body := post("/api/v1/alerts/"+whs[i].source, whs[i].body)
		require.Equal(h.t, http.StatusAccepted, code, "%s: %s", whs[i].name, body)
	}
	return whs
}

// viaRouter posts a webhook through the router, as the ingest token's
// holder.
func (h *pageHarness) viaRouter(path string, body []byte) (int, string) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.RemoteAddr = "10.0.0.7:1234"
	req.Header.Set("Authorization", "Bearer "+pageIngestToken)
	rec := httptest.NewRecorder()
	h.srv.Router().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// browserReq is one request of a browser: basic credentials, the CSRF
// cookie, headers.
type browserReq struct {
	method, target, remote, token, cookie string
	form                                  url.Values
	header                                map[string]string
}

const pageTestHost = "furrow.test:8080"

func (h *pageHarness) browser(r browserReq) *httptest.ResponseRecorder {
	h.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	req := httptest.NewRequest(r.method, "http://"+pageTestHost+r.target, body)
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = r.remote
	if req.RemoteAddr == "" {
		req.RemoteAddr = "10.0.0.9:5555"
	}
	if r.token != "" {
		req.SetBasicAuth("someone", r.token)
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: api.CSRFCookie, Value: r.cookie})
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.srv.Router().ServeHTTP(rec, req)
	return rec
}

// wantSummary computes the page's history section from the payloads
// themselves: per namespace, the episodes (group key, fingerprint,
// start) that fired, resolved, and whose last notification fired, and
// the alert names with the most firing notifications.
func wantSummary(t *testing.T, whs []webhook, top int) []NamespaceSummary {
	t.Helper()
	type episode struct {
		key, fp string
		start   time.Time
	}
	type state struct {
		ns              string
		fired, resolved bool
		last            string
	}
	eps := map[episode]*state{}
	fires := map[string]map[string]int{}
	for _, wh := range whs {
		n, err := decode(wh.source, wh.body, 0, wh.at)
		require.NoError(t, err)
		for _, g := range Split(n, nil) {
			for _, a := range g.Alerts {
				e := episode{g.Key, a.Fingerprint, a.StartsAt.Truncate(time.Millisecond)}
				s := eps[e]
				if s == nil {
					s = &state{ns: g.Namespace}
					eps[e] = s
				}
				s.last = a.Status
				if a.Status == StatusFiring {
					s.fired = true
					if fires[g.Namespace] == nil {
						fires[g.Namespace] = map[string]int{}
					}
					fires[g.Namespace][g.AlertName]++
				} else {
					s.resolved = true
				}
			}
		}
	}
	byNS := map[string]*NamespaceSummary{}
	for _, s := range eps {
		ns := byNS[s.ns]
		if ns == nil {
			ns = &NamespaceSummary{Namespace: s.ns}
			byNS[s.ns] = ns
		}
		if s.fired {
			ns.Fired++
		}
		if s.resolved {
			ns.Resolved++
		}
		if s.last == StatusFiring {
			ns.StillFiring++
		}
	}
	var out []NamespaceSummary
	for name, ns := range byNS {
		for an, c := range fires[name] {
			ns.Noisiest = append(ns.Noisiest, NoisyAlert{AlertName: an, Fires: c})
		}
		sort.Slice(ns.Noisiest, func(i, j int) bool {
			a, b := ns.Noisiest[i], ns.Noisiest[j]
			return a.Fires > b.Fires || a.Fires == b.Fires && a.AlertName < b.AlertName
		})
		if len(ns.Noisiest) > top {
			ns.Noisiest = ns.Noisiest[:top]
		}
		out = append(out, *ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

// TestPageSummary checks History.Summary against the payloads, and that
// what was received before the window does not count.
func TestPageSummary(t *testing.T) {
	h := newPageHarness(t, pageOptions{})
	whs := h.feed(sharedWebhooks(t), h.viaRouter)
	want := wantSummary(t, whs, pageNoisiest)
	ctx := context.Background()
	got, err := h.c.deps.History.Summary(ctx, h.clock().Add(-24*time.Hour), h.clock().Add(time.Millisecond), pageNoisiest)
	require.NoError(t, err)
	require.Equal(t, want, got)
	var still int
	for _, s := range got {
		still += s.StillFiring
	}
	require.NotZero(t, still)
	require.NotEqual(t, got[0].Fired, got[0].StillFiring, "a resolve among the payloads of the default route")

	// A window starting after the fourth payload counts only the later ones.
	got, err = h.c.deps.History.Summary(ctx, whs[4].at, h.clock().Add(time.Millisecond), pageNoisiest)
	require.NoError(t, err)
	require.Equal(t, wantSummary(t, whs[4:], pageNoisiest), got)
	// Nothing after now.
	got, err = h.c.deps.History.Summary(ctx, h.clock().Add(time.Second), h.clock().Add(time.Hour), pageNoisiest)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestPageView(t *testing.T) {
	h := newPageHarness(t, pageOptions{})
	rec := h.browser(browserReq{target: "/alerts"})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Header().Get("WWW-Authenticate"), `Basic realm="furrow"`)

	rec = h.browser(browserReq{target: "/alerts", token: pageViewerToken})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "Nothing is firing or snoozed.")
	require.Contains(t, rec.Body.String(), "No alert received in the last 24 h.")

	whs := h.feed(sharedWebhooks(t), h.viaRouter)
	h.c.Deliver(context.Background()) // to the local Slack API: the groups get their message links
	cur, err := h.c.Outbox().Current(context.Background(), h.clock())
	require.NoError(t, err)
	require.NotEmpty(t, cur)

	rec = h.browser(browserReq{target: "/alerts", token: pageViewerToken})
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
	require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	// Every current group has its row, under its namespace, with its name.
	links := 0
	for _, g := range cur {
		require.Contains(t, page, `id="g-`+g.Key+`"`, g.AlertName)
		require.Contains(t, page, template_escape(orDefault(g.AlertName, "(unnamed alert)")))
		for _, m := range g.Messages {
			require.Contains(t, page, `<a href="`+messageLink(m.ChannelID, m.TS)+`" rel="noreferrer">`+template_escape(m.Channel)+`</a>`)
			links++
		}
	}
	require.Equal(t, len(cur), links, "every current group was posted once")
	require.Contains(t, page, "<code>whatever/promstack</code>")
	require.Contains(t, page, "<code>(no namespace)</code>")
	require.Contains(t, page, `<td class="owner">Platform</td>`)
	require.Contains(t, page, `<td class="oncall">@jdoe</td>`)
	require.Contains(t, page, "signed in as <strong>viewer</strong>")
	require.Contains(t, page, "read only")
	require.NotContains(t, page, "<form", "a read token gets no forms")

	// Labels and the catalog's names are text, never markup.
	require.NotContains(t, page, "<script>window.pwned")
	require.NotContains(t, page, "<img src=x")
	require.NotContains(t, page, `<b id="owner-injected">`)
	require.NotContains(t, page, "<i>@mallory")
	require.Contains(t, page, "&lt;script&gt;window.pwned=1&lt;/script&gt;")
	require.Contains(t, page, "&lt;img src=x onerror=&#34;window.pwned=2&#34;&gt;")
	require.Contains(t, page, "&lt;b id=&#34;owner-injected&#34;&gt;Evil&lt;/b&gt;")
	require.NotContains(t, page, "<script", "no script at all: the label is text")

	// The history section: every namespace with its counts.
	for _, s := range wantSummary(t, whs, pageNoisiest) {
		row := fmt.Sprintf(`<td class="num n-fired">%d</td>
<td class="num n-resolved">%d</td>
<td class="num n-still-firing">%d</td>`, s.Fired, s.Resolved, s.StillFiring)
		require.Contains(t, page, `<tr data-namespace="`+template_escape(s.Namespace)+`">`)
		require.Contains(t, page, row, s.Namespace)
		for _, n := range s.Noisiest {
			require.Contains(t, page, template_escape(orDefault(n.AlertName, "(unnamed alert)"))+fmt.Sprintf(" (%d)", n.Fires))
		}
	}

	// A writer gets the snooze forms with the CSRF cookie's token.
	rec = h.browser(browserReq{target: "/alerts", token: pageWriterToken})
	require.Equal(t, http.StatusOK, rec.Code)
	var ck *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == api.CSRFCookie {
			ck = c
		}
	}
	require.NotNil(t, ck)
	page = rec.Body.String()
	require.Equal(t, len(cur), strings.Count(page, `action="/alerts/snooze"`))
	require.Equal(t, len(cur), strings.Count(page, `name="csrf_token" value="`+ck.Value+`"`))
	require.Equal(t, 0, strings.Count(page, `action="/alerts/unsnooze"`), "nothing is snoozed")
	for _, f := range []string{"1h", "6h", "1d", "until_resolved"} {
		require.Equal(t, len(cur), strings.Count(page, `name="for" value="`+f+`"`))
	}
}

// template_escape is html/template's escaping of text.
func template_escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

// TestPageSnooze snoozes and unsnoozes from the page's forms, with the
// page's cookie and origin; refused forms change nothing.
func TestPageSnooze(t *testing.T) {
	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprintf("dev=%v", dev), func(t *testing.T) {
			h := newPageHarness(t, pageOptions{devMode: dev})
			h.feed(sharedWebhooks(t), h.viaRouter)
			token, remote, by := pageWriterToken, "10.0.0.9:5555", pageWriter
			if dev {
				token, remote, by = "", "127.0.0.1:5555", "dev-loopback"
			}
			ctx := context.Background()
			o := h.c.Outbox()
			var key string
			cur, err := o.Current(ctx, h.clock())
			require.NoError(t, err)
			for _, g := range cur {
				if g.Namespace == "whatever/promstack" {
					key = g.Key
				}
			}
			require.NotEmpty(t, key, "the promstack payload's group is current")
			before, err := o.Group(ctx, key)
			require.NoError(t, err)
			require.True(t, before.SnoozedUntil.IsZero())

			rec := h.browser(browserReq{target: "/alerts", token: token, remote: remote})
			require.Equal(t, http.StatusOK, rec.Code)
			var csrf string
			for _, c := range rec.Result().Cookies() {
				if c.Name == api.CSRFCookie {
					csrf = c.Value
				}
			}
			require.NotEmpty(t, csrf)
			self := map[string]string{"Origin": "http://" + pageTestHost, "Sec-Fetch-Site": "same-origin"}
			form := func(kv ...string) url.Values {
				v := url.Values{"csrf_token": {csrf}}
				for i := 0; i < len(kv); i += 2 {
					v.Set(kv[i], kv[i+1])
				}
				return v
			}
			unchanged := func(at string) {
				g, err := o.Group(ctx, key)
				require.NoError(t, err)
				require.True(t, g.SnoozedUntil.IsZero(), "%s: snoozed by a refused form", at)
			}

			// Cross-site: another site's form, the browser adding the
			// credentials (or none needed on loopback in dev mode).
			for _, tc := range []struct {
				name   string
				cookie string
				f      url.Values
				hdr    map[string]string
			}{
				{"another origin, no cookie", "", url.Values{"group_key": {key}, "for": {"1d"}}, map[string]string{"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"}},
				{"another origin with the token", csrf, form("group_key", key, "for", "1d"), map[string]string{"Origin": "http://evil.test"}},
				{"our origin, no token", csrf, url.Values{"group_key": {key}, "for": {"1d"}}, self},
				{"our origin, wrong token", csrf, url.Values{"group_key": {key}, "for": {"1d"}, "csrf_token": {strings.Repeat("A", 43)}}, self},
			} {
				rec := h.browser(browserReq{method: http.MethodPost, target: "/alerts/snooze", token: token, remote: remote, cookie: tc.cookie, form: tc.f, header: tc.hdr})
				require.Equal(t, http.StatusForbidden, rec.Code, "%s: %s", tc.name, rec.Body.String())
				unchanged(tc.name)
			}
			// Bad forms.
			for _, tc := range []struct {
				name string
				f    url.Values
				want int
			}{
				{"no group", form("for", "1h"), http.StatusBadRequest},
				{"other duration", form("group_key", key, "for", "2h"), http.StatusBadRequest},
				{"unknown group", form("group_key", "nope", "for", "1h"), http.StatusNotFound},
			} {
				rec := h.browser(browserReq{method: http.MethodPost, target: "/alerts/snooze", token: token, remote: remote, cookie: csrf, form: tc.f, header: self})
				require.Equal(t, tc.want, rec.Code, "%s: %s", tc.name, rec.Body.String())
				unchanged(tc.name)
			}
			if !dev {
				// A read token cannot snooze.
				rec := h.browser(browserReq{method: http.MethodPost, target: "/alerts/snooze", token: pageViewerToken, cookie: csrf, form: form("group_key", key, "for", "1h"), header: self})
				require.Equal(t, http.StatusForbidden, rec.Code)
				unchanged("read token")
			}

			// The page's own form: snoozed for 6h by the principal, and
			// back to the page.
			rec = h.browser(browserReq{method: http.MethodPost, target: "/alerts/snooze", token: token, remote: remote, cookie: csrf,
				form: form("group_key", key, "for", "6h", "cluster", "eu-1"), header: self})
			require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
			require.Equal(t, "/alerts?cluster=eu-1&done=snoozed#g-"+key, rec.Header().Get("Location"))
			g, err := o.Group(ctx, key)
			require.NoError(t, err)
			require.True(t, g.SnoozedUntil.Equal(h.clock().Add(6*time.Hour)), g.SnoozedUntil)
			require.Equal(t, by, g.SnoozedBy)

			rec = h.browser(browserReq{target: "/alerts?done=snoozed", token: token, remote: remote, cookie: csrf})
			page := rec.Body.String()
			require.Contains(t, page, `<p class="flash" id="flash">Snoozed.</p>`)
			require.Contains(t, page, `data-group="`+key+`" data-status="snoozed"`)
			require.Contains(t, page, "until "+h.clock().Add(6*time.Hour).Format("2006-01-02 15:04 UTC")+", by "+by)
			require.Equal(t, 1, strings.Count(page, `action="/alerts/unsnooze"`))

			// Until resolved, then unsnooze.
			rec = h.browser(browserReq{method: http.MethodPost, target: "/alerts/snooze", token: token, remote: remote, cookie: csrf,
				form: form("group_key", key, "for", "until_resolved"), header: self})
			require.Equal(t, http.StatusSeeOther, rec.Code)
			page = h.browser(browserReq{target: "/alerts", token: token, remote: remote, cookie: csrf}).Body.String()
			require.Contains(t, page, "until resolved, by "+by)
			rec = h.browser(browserReq{method: http.MethodPost, target: "/alerts/unsnooze", token: token, remote: remote, cookie: "", form: form("group_key", key), header: self})
			require.Equal(t, http.StatusForbidden, rec.Code, "unsnooze without the cookie")
			rec = h.browser(browserReq{method: http.MethodPost, target: "/alerts/unsnooze", token: token, remote: remote, cookie: csrf, form: form("group_key", key), header: self})
			require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
			require.Equal(t, "/alerts?done=unsnoozed#g-"+key, rec.Header().Get("Location"))
			unchanged("unsnoozed")
		})
	}
}

// TestPageHistoryUnavailable: with the history's tables missing (a
// ClickHouse that errors), the page still shows the current alerts, with
// a note.
func TestPageHistoryUnavailable(t *testing.T) {
	h := newPageHarness(t, pageOptions{noHistory: true})
	h.feed(sharedWebhooks(t)[:3], h.viaRouter)
	rec := h.browser(browserReq{target: "/alerts", token: pageViewerToken})
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, "The alert history is unavailable right now")
	require.NotContains(t, page, `id="history-table"`)
	require.Contains(t, page, `class="group"`, "the current section is still there")
	require.NotContains(t, page, "Nothing is firing or snoozed.")
}

func TestHumanAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "<1m"}, {59 * time.Second, "<1m"}, {time.Minute, "1m"}, {59 * time.Minute, "59m"},
		{time.Hour, "1h 0m"}, {2*time.Hour + 5*time.Minute, "2h 5m"}, {24 * time.Hour, "1d 0h"}, {76 * time.Hour, "3d 4h"},
	} {
		require.Equal(t, tc.want, humanAge(tc.d), tc.d)
	}
}
