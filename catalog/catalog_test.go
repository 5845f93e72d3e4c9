package catalog_test

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
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/internal/testenv/pgtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
	"github.com/furrowdev/furrow/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

const hrV1 = `people:
  - {employee_id: e1, name: Alice, email: alice@example.com, slack_user_id: U1, team: {code: PAY, name: Payments, slack_channel: "#payments"}}
  - {employee_id: e2, name: Bob, email: bob@example.com, team: {code: PAY, name: Payments, slack_channel: "#payments"}}
  - {employee_id: e3, name: Carol, email: carol@example.com, team: {code: SRCH, name: Search, slack_channel: "#search"}}
  - {employee_id: e4, name: Dan, email: dan@example.com, team: {code: OLD, name: Legacy}}
`

// hrV2 renames Payments, moves nobody, and drops the Legacy team.
const hrV2 = `people:
  - {employee_id: e1, name: Alice, email: alice@example.com, slack_user_id: U1, team: {code: PAY, name: Payments & Billing, slack_channel: "#payments"}}
  - {employee_id: e2, name: Bob, email: bob@example.com, team: {code: PAY, name: Payments & Billing, slack_channel: "#payments"}}
  - {employee_id: e3, name: Carol, email: carol@example.com, team: {code: SRCH, name: Search, slack_channel: "#search"}}
`

func newCatalog(t *testing.T, st *state.Store) (*catalog.Catalog, store.Store) {
	t.Helper()
	ch := chtest.Store(t)
	_, err := migrations.New(ch, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	c, err := catalog.New(catalog.DefaultConfiguration(), catalog.Dependencies{State: st, Store: ch, Registry: prometheus.NewRegistry(),
		Now: func() time.Time { return time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c, ch
}

func query(t *testing.T, s store.Store, q string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b, q, "TSV"))
	return strings.TrimSpace(b.String())
}

// TestHRSyncAndOwners, on SQLite and PostgreSQL: an HR sync creates teams
// and people; a second one changes nothing; a rename changes one row and
// every answer follows (owner lookup, the ClickHouse mirror); a team gone
// from HR is archived, its project flagged, not deleted; every change is
// audited.
func TestHRSyncAndOwners(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		c, ch := newCatalog(t, st)
		hr := catalog.Actor{Subject: "furrow", Source: "hr-sync"}

		dry, err := c.SyncHRData(ctx, hr, true, "yaml", []byte(hrV1))
		require.NoError(t, err)
		require.True(t, dry.DryRun)
		require.Len(t, dry.Changes, 7) // 4 people, 3 teams
		teams, err := c.Teams(ctx, true)
		require.NoError(t, err)
		require.Empty(t, teams, "a dry run writes nothing")

		rep, err := c.SyncHRData(ctx, hr, false, "yaml", []byte(hrV1))
		require.NoError(t, err)
		require.Len(t, rep.Changes, 7)
		rep, err = c.SyncHRData(ctx, hr, false, "yaml", []byte(hrV1))
		require.NoError(t, err)
		require.Empty(t, rep.Changes, "a second sync changes nothing")

		api := catalog.Actor{Subject: "e1", Source: "api"}
		_, err = c.PutProject(ctx, api, catalog.Project{ID: "checkout", Name: "Checkout", OwnerTeam: "PAY",
			Namespaces: []catalog.Namespace{{Cluster: "prod", Namespace: "checkout"}, {Cluster: "prod", Namespace: "cart"}}}, 0)
		require.NoError(t, err)
		_, err = c.PutProject(ctx, api, catalog.Project{ID: "legacy", Name: "Legacy batch", OwnerTeam: "OLD",
			Namespaces: []catalog.Namespace{{Cluster: "prod", Namespace: "batch"}}}, 0)
		require.NoError(t, err)
		_, err = c.PutProject(ctx, api, catalog.Project{ID: "steal", Name: "x", OwnerTeam: "SRCH",
			Namespaces: []catalog.Namespace{{Cluster: "prod", Namespace: "cart"}}}, 0)
		require.ErrorIs(t, err, catalog.ErrConflict, "a namespace belongs to one project")

		o, ok := c.OwnerOf("prod", "cart")
		require.True(t, ok)
		require.Equal(t, "PAY", o.Team)
		require.Equal(t, "Payments", o.TeamName)
		require.Equal(t, "#payments", o.SlackChannel)
		require.Equal(t, "PAY\tPayments", query(t, ch, "SELECT team, team_name FROM namespace_owners WHERE namespace = 'checkout'"))

		// The rename: one team row, and everything keyed by PAY follows.
		before, err := c.Team(ctx, "PAY")
		require.NoError(t, err)
		rep, err = c.SyncHRData(ctx, hr, false, "yaml", []byte(hrV2))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{`team PAY: update (renamed "Payments" → "Payments & Billing")`, "team OLD: archived (gone from HR)"}, rep.Changes)
		after, err := c.Team(ctx, "PAY")
		require.NoError(t, err)
		require.Equal(t, before.Version+1, after.Version)
		o, _ = c.OwnerOf("prod", "checkout")
		require.Equal(t, "Payments & Billing", o.TeamName)
		require.Equal(t, "PAY\tPayments & Billing", query(t, ch, "SELECT team, team_name FROM namespace_owners WHERE namespace = 'checkout'"))
		require.Equal(t, "1", query(t, ch, "SELECT team_archived FROM namespace_owners WHERE namespace = 'batch'"), "the project keeps its archived owner, flagged")
		o, ok = c.OwnerOf("prod", "batch")
		require.True(t, ok)
		require.True(t, o.TeamArchived)

		audit, err := c.Audit(ctx, "team", "PAY", 10)
		require.NoError(t, err)
		require.Equal(t, "update", audit[0].Action)
		require.Equal(t, "hr-sync", audit[0].Source)
		require.Contains(t, audit[0].Before, `"Payments"`)
		require.Contains(t, audit[0].After, `"Payments \u0026 Billing"`)

		// A transfer is one change, audited as such.
		p, err := c.Project(ctx, "checkout")
		require.NoError(t, err)
		p.OwnerTeam = "SRCH"
		_, err = c.PutProject(ctx, api, p, p.Version)
		require.NoError(t, err)
		audit, err = c.Audit(ctx, "project", "checkout", 1)
		require.NoError(t, err)
		require.Equal(t, "transfer", audit[0].Action)
		o, _ = c.OwnerOf("prod", "checkout")
		require.Equal(t, "SRCH", o.Team)

		// A stale version is refused.
		_, err = c.PutProject(ctx, api, p, p.Version)
		require.ErrorIs(t, err, catalog.ErrConflict)
	})
}

// TestAPIRules: scopes, the membership rule, ETags.
func TestAPIRules(t *testing.T) {
	dir := t.TempDir()
	st, err := state.Open(context.Background(), state.DefaultConfiguration(), dir)
	require.NoError(t, err)
	defer st.Close()
	c, ch := newCatalog(t, st)
	ctx := context.Background()
	_, err = c.SyncHRData(ctx, catalog.Actor{Subject: "furrow", Source: "hr-sync"}, false, "yaml", []byte(hrV1))
	require.NoError(t, err)
	require.NoError(t, ch.Exec(ctx, "INSERT INTO pod_ips (cluster, ip, namespace, pod, pod_uid, valid_from, updated_at) VALUES ('prod', toIPv6('10.0.0.1'), 'orphans', 'p', 'u', now(), now())"))

	tokens := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("e1 read,write alice-token-0123456789\ne3 read,write carol-token-0123456789\nroot admin admin-token-0123456789\nviewer read read-token-0123456789\n"), 0o600))
	cfg := api.DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.TokensFile = tokens
	srv, err := api.New(cfg, api.Dependencies{Store: ch, Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	c.Routes(srv.Group(api.ScopeRead), srv.Group(api.ScopeWrite))
	do := func(method, path, token, ifMatch string, body any) *httptest.ResponseRecorder {
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req := httptest.NewRequest(method, "/api/v1"+path, rd)
		req.RemoteAddr = "10.0.0.9:1234"
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		rec := httptest.NewRecorder()
		srv.Router().ServeHTTP(rec, req)
		return rec
	}
	project := map[string]any{"name": "Checkout", "owner_team": "PAY", "namespaces": []map[string]string{{"cluster": "prod", "namespace": "checkout"}}}

	// A read token cannot write: 403, nothing changes.
	r := do("PUT", "/catalog/projects/checkout", "read-token-0123456789", "", project)
	require.Equal(t, http.StatusForbidden, r.Code, r.Body.String())
	r = do("GET", "/catalog/projects", "read-token-0123456789", "", nil)
	require.Equal(t, "[]", strings.TrimSpace(r.Body.String()))

	// Carol (team SRCH) may not create a PAY project; Alice (PAY) may.
	r = do("PUT", "/catalog/projects/checkout", "carol-token-0123456789", "", project)
	require.Equal(t, http.StatusForbidden, r.Code, r.Body.String())
	r = do("PUT", "/catalog/projects/checkout", "alice-token-0123456789", "", project)
	require.Equal(t, http.StatusOK, r.Code, r.Body.String())
	require.Equal(t, `"1"`, r.Header().Get("ETag"))

	// Changing it needs If-Match; a stale one is 412 and changes nothing.
	project["tier"] = "1"
	r = do("PUT", "/catalog/projects/checkout", "alice-token-0123456789", "", project)
	require.Equal(t, http.StatusPreconditionRequired, r.Code, r.Body.String())
	r = do("PUT", "/catalog/projects/checkout", "alice-token-0123456789", `"1"`, project)
	require.Equal(t, http.StatusOK, r.Code, r.Body.String())
	project["tier"] = "2"
	r = do("PUT", "/catalog/projects/checkout", "alice-token-0123456789", `"1"`, project)
	require.Equal(t, http.StatusPreconditionFailed, r.Code, r.Body.String())
	r = do("GET", "/catalog/projects/checkout", "read-token-0123456789", "", nil)
	require.Equal(t, `"2"`, r.Header().Get("ETag"))
	require.Contains(t, r.Body.String(), `"tier":"1"`)

	// Renaming a team needs admin or its membership.
	r = do("GET", "/catalog/teams/PAY", "read-token-0123456789", "", nil)
	var team map[string]any
	require.NoError(t, json.Unmarshal(r.Body.Bytes(), &team))
	team["name"] = "Pay"
	delete(team, "code")
	r = do("PUT", "/catalog/teams/PAY", "carol-token-0123456789", r.Header().Get("ETag"), team)
	require.Equal(t, http.StatusForbidden, r.Code)
	r = do("PUT", "/catalog/teams/PAY", "admin-token-0123456789", `"1"`, team)
	require.Equal(t, http.StatusOK, r.Code, r.Body.String())

	// The owner lookup and the unowned namespaces.
	r = do("GET", "/catalog/owner?cluster=prod&namespace=checkout", "read-token-0123456789", "", nil)
	require.Equal(t, http.StatusOK, r.Code)
	require.Contains(t, r.Body.String(), `"team":"PAY"`)
	r = do("GET", "/catalog/namespaces", "read-token-0123456789", "", nil)
	require.Contains(t, r.Body.String(), `"unowned":[{"cluster":"prod","namespace":"orphans"}]`)

	// The audit names who did what.
	r = do("GET", "/catalog/audit?kind=project&key=checkout", "read-token-0123456789", "", nil)
	require.Contains(t, r.Body.String(), `"subject":"e1"`)
}
