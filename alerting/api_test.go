package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

const (
	apiWriteToken = "alice-write-token-0123456789"
	apiReadToken  = "viewer-read-token-0123456789"
)

// apiHarness is the component behind furrow's real API server (its token
// check and scopes), on a fixed clock.
type apiHarness struct {
	t   *testing.T
	c   *Component
	srv *api.Server
	now time.Time
}

func newAPIHarness(t *testing.T, st *state.Store, srv *api.Server) *apiHarness {
	h := &apiHarness{t: t, srv: srv, now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	cfg := DefaultConfiguration()
	cfg.Enabled = true
	cfg.DefaultChannel = "#alerts"
	owners := func(cluster, namespace string) (Owner, bool) {
		if cluster == "" && namespace == "payments" {
			return Owner{Team: "PAY", TeamName: "Payments"}, true
		}
		if cluster == "eu-1" && namespace == "shop" {
			return Owner{Team: "SHOP", TeamName: "Shop"}, true
		}
		return Owner{}, false
	}
	c, err := New(cfg, Dependencies{State: st, Owners: owners, Registry: prometheus.NewRegistry(), Now: func() time.Time { return h.now }})
	require.NoError(t, err)
	h.c = c
	return h
}

// apiServer is one API server per test: its routes are those of the store
// under test, mounted under a prefix of their own.
func apiServer(t *testing.T) (*api.Server, func(prefix string, c *Component)) {
	t.Helper()
	if testing.Short() {
		t.Skip("the API server needs the embedded engine")
	}
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("alice read,write "+apiWriteToken+"\nviewer read "+apiReadToken+"\n"), 0o600))
	cfg := api.DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.TokensFile = tokens
	srv, err := api.New(cfg, api.Dependencies{Store: chtest.Store(t), Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	return srv, func(prefix string, c *Component) {
		read, write := srv.Group(api.ScopeRead).Group(prefix), srv.Group(api.ScopeWrite).Group(prefix)
		c.APIRoutes(read, write)
	}
}

// storePrefix separates the routes of the two stores on one server.
func storePrefix(cfg state.Configuration) string {
	if cfg.DSN == "" {
		return "/sqlite"
	}
	return "/postgres"
}

func (h *apiHarness) do(method, path, token, body string) (int, string) {
	h.t.Helper()
	req := httptest.NewRequest(method, "/api/v1"+path, strings.NewReader(body))
	req.RemoteAddr = "10.0.0.9:1234"
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.srv.Router().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (h *apiHarness) current(prefix string) []CurrentAlert {
	h.t.Helper()
	code, body := h.do(http.MethodGet, prefix+"/alerts/current", apiReadToken, "")
	require.Equal(h.t, http.StatusOK, code, body)
	var out []CurrentAlert
	require.NoError(h.t, json.Unmarshal([]byte(body), &out))
	return out
}

func (h *apiHarness) record(gs ...Group) Recorded {
	h.t.Helper()
	res, err := h.c.Outbox().Record(context.Background(), gs, h.now, h.c.plan(h.now, gs))
	require.NoError(h.t, err)
	return res
}

func namedGroup(ns, alertname, status string, fps ...string) Group {
	g := Group{Key: GroupKey("alertmanager", "r", ns, alertname), Source: "alertmanager", Namespace: ns, AlertName: alertname, Status: status}
	for _, fp := range fps {
		g.Alerts = append(g.Alerts, Alert{Status: status, Fingerprint: fp, Labels: map[string]string{"alertname": alertname, "namespace": ns}})
	}
	return g
}

func TestAPICurrentAndSnooze(t *testing.T) {
	srv, mount := apiServer(t)
	statetest.Each(t, func(t *testing.T, st *state.Store, cfg state.Configuration, _ string) {
		ctx := context.Background()
		prefix := storePrefix(cfg)
		h := newAPIHarness(t, st, srv)
		mount(prefix, h.c)
		o := h.c.Outbox()
		t0 := h.now

		require.Empty(t, h.current(prefix), "nothing received yet")
		pay := namedGroup("payments", "HighLatency", StatusFiring, "f1")
		chk := namedGroup("checkout", "ErrorRate", StatusFiring, "e1")
		gone := namedGroup("search", "Down", StatusFiring, "s1")
		require.Equal(t, Recorded{Groups: 3, Deliveries: 3}, h.record(pay, chk, gone))
		h.now = t0.Add(time.Minute)
		require.Equal(t, 1, h.record(namedGroup("search", "Down", StatusResolved, "s1")).Groups)

		// The payments post is delivered: its message is listed with a link.
		due, err := o.Due(ctx, h.now, 10)
		require.NoError(t, err)
		for _, d := range due {
			if d.GroupKey == pay.Key && d.Kind == KindPost {
				require.NoError(t, o.Done(ctx, d, "C0PAY", "1765101600.000100", h.now))
			} else {
				require.NoError(t, o.Retry(ctx, d.ID, h.now.Add(time.Hour), "held by the test"))
			}
		}

		h.now = t0.Add(10 * time.Minute)
		cur := h.current(prefix)
		require.Len(t, cur, 2, "the resolved group is not current")
		require.Equal(t, []string{"checkout", "payments"}, []string{cur[0].Namespace, cur[1].Namespace})
		c, p := cur[0], cur[1]
		require.Equal(t, chk.Key, c.GroupKey)
		require.Equal(t, "", c.OwnerTeam)
		require.Empty(t, c.Messages, "not delivered yet")
		require.Equal(t, pay.Key, p.GroupKey)
		require.Equal(t, "alertmanager", p.Source)
		require.Equal(t, "HighLatency", p.AlertName)
		require.Equal(t, StatusFiring, p.Status)
		require.Equal(t, "Payments", p.OwnerTeam)
		require.Equal(t, 1, p.FireCount)
		require.Equal(t, int64(600), p.AgeSeconds)
		require.True(t, p.FirstFiredAt.Equal(t0))
		require.True(t, p.LastFiredAt.Equal(t0))
		require.Nil(t, p.SnoozedUntil)
		require.Equal(t, []CurrentPosted{{PostedMessage: PostedMessage{Channel: "#alerts", ChannelID: "C0PAY", TS: "1765101600.000100"},
			Link: "https://slack.com/archives/C0PAY/p1765101600000100"}}, p.Messages)

		// A read token cannot snooze.
		code, body := h.do(http.MethodPost, prefix+"/alerts/snooze", apiReadToken, `{"group_key":"`+pay.Key+`","for":"1h"}`)
		require.Equal(t, http.StatusForbidden, code, body)

		// Snooze for an hour, as alice (the token's subject).
		code, body = h.do(http.MethodPost, prefix+"/alerts/snooze", apiWriteToken, `{"group_key":"`+pay.Key+`","for":"1h"}`)
		require.Equal(t, http.StatusOK, code, body)
		p = h.current(prefix)[1]
		require.Equal(t, "alice", p.SnoozedBy)
		require.NotNil(t, p.SnoozedUntil)
		require.True(t, p.SnoozedUntil.Equal(h.now.Add(time.Hour)), p.SnoozedUntil)
		require.False(t, p.UntilResolved)

		// Snoozed: its next firing is recorded, not delivered.
		h.now = t0.Add(20 * time.Minute)
		require.Equal(t, Recorded{Groups: 1, Snoozed: 1}, h.record(namedGroup("payments", "HighLatency", StatusFiring, "f1", "f2")))
		p = h.current(prefix)[1]
		require.Equal(t, 2, p.FireCount)
		require.True(t, p.LastFiredAt.Equal(h.now))
		due, err = o.Due(ctx, h.now, 10)
		require.NoError(t, err)
		require.Empty(t, due, "a snoozed group's firing is not sent")

		// Unsnooze: the next change is sent again.
		code, body = h.do(http.MethodDelete, prefix+"/alerts/snooze?group_key="+pay.Key, apiWriteToken, "")
		require.Equal(t, http.StatusOK, code, body)
		p = h.current(prefix)[1]
		require.Nil(t, p.SnoozedUntil)
		require.Empty(t, p.SnoozedBy)
		h.now = t0.Add(30 * time.Minute)
		require.Equal(t, Recorded{Groups: 1, Deliveries: 1}, h.record(namedGroup("payments", "HighLatency", StatusFiring, "f1", "f2", "f3")))
		due, err = o.Due(ctx, h.now, 10)
		require.NoError(t, err)
		require.Equal(t, []string{"update #alerts"}, kinds(due))

		// Until resolved: listed so; the resolve ends it and the group
		// leaves the list.
		code, body = h.do(http.MethodPost, prefix+"/alerts/snooze", apiWriteToken, `{"group_key":"`+chk.Key+`","for":"until_resolved"}`)
		require.Equal(t, http.StatusOK, code, body)
		c = h.current(prefix)[0]
		require.True(t, c.UntilResolved)
		require.Nil(t, c.SnoozedUntil)
		require.Equal(t, "alice", c.SnoozedBy)
		h.record(namedGroup("checkout", "ErrorRate", StatusResolved, "e1"))
		cur = h.current(prefix)
		require.Len(t, cur, 1)
		require.Equal(t, pay.Key, cur[0].GroupKey)

		// A snoozed group stays listed once resolved only while snoozed;
		// an expired snooze is not shown.
		code, body = h.do(http.MethodPost, prefix+"/alerts/snooze", apiWriteToken, `{"group_key":"`+chk.Key+`","for":"6h"}`)
		require.Equal(t, http.StatusOK, code, body)
		require.Len(t, h.current(prefix), 2)
		h.now = h.now.Add(6*time.Hour + time.Second)
		require.Len(t, h.current(prefix), 1)
	})
}

func TestAPISnoozeErrors(t *testing.T) {
	srv, mount := apiServer(t)
	statetest.Each(t, func(t *testing.T, st *state.Store, cfg state.Configuration, _ string) {
		prefix := storePrefix(cfg)
		h := newAPIHarness(t, st, srv)
		mount(prefix, h.c)
		g := namedGroup("payments", "HighLatency", StatusFiring, "f1")
		h.record(g)
		for _, tc := range []struct {
			name, method, query, body string
			want                      int
		}{
			{"not json", http.MethodPost, "", `snooze it`, http.StatusBadRequest},
			{"empty", http.MethodPost, "", ``, http.StatusBadRequest},
			{"no group", http.MethodPost, "", `{"for":"1h"}`, http.StatusBadRequest},
			{"blank group", http.MethodPost, "", `{"group_key":"  ","for":"1h"}`, http.StatusBadRequest},
			{"other duration", http.MethodPost, "", `{"group_key":"` + g.Key + `","for":"2h"}`, http.StatusBadRequest},
			{"no duration", http.MethodPost, "", `{"group_key":"` + g.Key + `"}`, http.StatusBadRequest},
			{"unknown field", http.MethodPost, "", `{"group_key":"` + g.Key + `","for":"1h","until":"x"}`, http.StatusBadRequest},
			{"two values", http.MethodPost, "", `{"group_key":"` + g.Key + `","for":"1h"}{}`, http.StatusBadRequest},
			{"too large", http.MethodPost, "", `{"group_key":"` + strings.Repeat("k", snoozeBodyLimit) + `","for":"1h"}`, http.StatusBadRequest},
			{"unknown group", http.MethodPost, "", `{"group_key":"nope","for":"1d"}`, http.StatusNotFound},
			{"unsnooze unknown", http.MethodDelete, "?group_key=nope", ``, http.StatusNotFound},
			{"unsnooze no key", http.MethodDelete, "", ``, http.StatusBadRequest},
			{"known group", http.MethodPost, "", `{"group_key":"` + g.Key + `","for":"1d"}`, http.StatusOK},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := h.do(tc.method, prefix+"/alerts/snooze"+tc.query, apiWriteToken, tc.body)
				require.Equal(t, tc.want, code, body)
				if tc.want != http.StatusOK {
					require.Contains(t, body, `"error"`)
				}
			})
		}
		// Only the good request changed anything.
		gs, err := h.c.Outbox().Group(context.Background(), g.Key)
		require.NoError(t, err)
		require.True(t, gs.SnoozedUntil.Equal(h.now.Add(24*time.Hour)))
		code, body := h.do(http.MethodGet, prefix+"/alerts/current?format=xml", apiReadToken, "")
		require.Equal(t, http.StatusBadRequest, code, body)
	})
}

func TestAPICurrentTable(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	until := t0.Add(time.Hour)
	as := []CurrentAlert{
		{GroupKey: "k1", Source: "alertmanager", Namespace: "checkout", AlertName: "ErrorRate", Status: StatusFiring, FireCount: 3, AgeSeconds: 5400,
			UntilResolved: true, SnoozedBy: "alice"},
		{GroupKey: "k2", Source: "grafana", Namespace: "payments", AlertName: "HighLatency", Status: StatusFiring, FireCount: 1, AgeSeconds: 60,
			SnoozedUntil: &until, SnoozedBy: "bob", OwnerTeam: "Payments",
			Messages: []CurrentPosted{{PostedMessage: PostedMessage{Channel: "#pay"}}, {PostedMessage: PostedMessage{Channel: "#alerts"}}}},
		{GroupKey: "k3", Source: "grafana", Status: StatusFiring},
	}
	got := currentTable(as)
	golden := filepath.Join("testdata", "api", "current.txt")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "go test ./alerting -run APICurrentTable -update creates it")
	require.Equal(t, string(want), got)
	// Aligned: every row's columns start where the header's do.
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	require.Len(t, lines, 4)
	col := strings.Index(lines[0], "ALERTNAME")
	for _, l := range lines[1:] {
		require.NotEqual(t, ' ', l[col], l)
		require.Equal(t, byte(' '), l[col-1], l)
	}
}

func FuzzSnoozeRequest(f *testing.F) {
	for _, s := range []string{`{"group_key":"k","for":"1h"}`, `{"group_key":"k","for":"until_resolved"}`, `{}`, `[`, `{"for":"1d"}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseSnoozeRequest(body)
		if err != nil {
			return
		}
		if strings.TrimSpace(r.GroupKey) == "" {
			t.Fatalf("accepted an empty group key: %q", body)
		}
		if _, ok := snoozeFor[r.For]; !ok && r.For != "until_resolved" {
			t.Fatalf("accepted for=%q", r.For)
		}
		if !json.Valid(bytes.TrimSpace(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}

// TestAPICurrentOwnerCluster: a group keeps its alerts' cluster, where its
// owner is looked up unless ?cluster= says otherwise.
func TestAPICurrentOwnerCluster(t *testing.T) {
	srv, mount := apiServer(t)
	statetest.Each(t, func(t *testing.T, st *state.Store, cfg state.Configuration, _ string) {
		prefix := storePrefix(cfg)
		h := newAPIHarness(t, st, srv)
		mount(prefix, h.c)
		g := namedGroup("shop", "ErrorRate", StatusFiring, "s1")
		g.Alerts[0].Labels["cluster"] = "eu-1"
		g.Cluster = h.c.cluster(g)
		require.Equal(t, "eu-1", g.Cluster)
		h.record(g)
		got, err := h.c.Outbox().Group(context.Background(), g.Key)
		require.NoError(t, err)
		require.Equal(t, "eu-1", got.Cluster)
		cur := h.current(prefix)
		require.Len(t, cur, 1)
		require.Equal(t, "Shop", cur[0].OwnerTeam, "the owner in the alerts' cluster")
		code, body := h.do(http.MethodGet, prefix+"/alerts/current?cluster=us-2", apiReadToken, "")
		require.Equal(t, http.StatusOK, code, body)
		require.NotContains(t, body, "Shop", "?cluster= looks elsewhere")
		// Received again without the label: the cluster is kept.
		g2 := namedGroup("shop", "ErrorRate", StatusFiring, "s1", "s2")
		h.record(g2)
		got, err = h.c.Outbox().Group(context.Background(), g.Key)
		require.NoError(t, err)
		require.Equal(t, "eu-1", got.Cluster)
	})
}
