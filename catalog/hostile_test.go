package catalog_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/state"
)

// TestHostileCatalogInput: malformed bodies, codes that are not codes, an
// HR export broken half way: each refused with a reason, nothing written.
func TestHostileCatalogInput(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	c, ch := newCatalog(t, st)
	hr := catalog.Actor{Subject: "furrow", Source: "hr-sync"}
	_, err = c.SyncHRData(ctx, hr, false, "yaml", []byte(hrV1))
	require.NoError(t, err)
	before, err := c.Audit(ctx, "", "", 1000)
	require.NoError(t, err)

	// An HR export with a bad record in the middle changes nothing.
	_, err = c.SyncHRData(ctx, hr, false, "csv", []byte("employee_id,name,team_code\ne9,New,PAY\ne10\n"))
	require.Error(t, err)
	_, err = c.SyncHRData(ctx, hr, false, "yaml", []byte("people:\n  - {name: no id, team: {code: X}}\n"))
	require.ErrorContains(t, err, "no employee id")
	_, err = c.SyncHRData(ctx, hr, false, "json", []byte(`{"people": "not a list"}`))
	require.Error(t, err)
	_, err = c.SyncHRData(ctx, hr, false, "xml", []byte(`<people/>`))
	require.ErrorContains(t, err, "use yaml, json or csv")

	cfg := api.DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.DevMode = true // loopback clients are admin
	srv, err := api.New(cfg, api.Dependencies{Store: ch, Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	c.Routes(srv.Group(api.ScopeRead), srv.Group(api.ScopeWrite))
	do := func(method, path, body, ifMatch string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/api/v1"+path, strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:4000"
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		rec := httptest.NewRecorder()
		srv.Router().ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct{ method, path, body, ifMatch string }{
		{"PUT", "/catalog/projects/p1", `{"name": "x", "owner_team": "PAY"`, ""},               // truncated JSON
		{"PUT", "/catalog/projects/p1", `{"name": "x", "owner_team": "PAY", "ownr": 1}`, ""},   // unknown key
		{"PUT", "/catalog/projects/p1", `{"name": "x", "owner_team": "PAY"} {"again": 1}`, ""}, // two values
		{"PUT", "/catalog/projects/p1", `{"name": "x", "owner_team": "NOPE"}`, ""},             // unknown team
		{"PUT", "/catalog/projects/p%27%3B%20DROP", `{"name": "x", "owner_team": "PAY"}`, ""},  // id that is not a code
		{"PUT", "/catalog/projects/p1", `{"name": "x", "owner_team": "PAY", "namespaces": [{"cluster": ""}]}`, ""},
		{"PUT", "/catalog/teams/PAY", `{"name": "x"}`, `"abc"`}, // bad If-Match
		{"PUT", "/catalog/teams/PAY", `{"name": "x"}`, `"-3"`},
		{"PUT", "/catalog/people/e1", `{"name": ""}`, `"1"`},
		{"POST", "/catalog/sync", `garbage`, ""},
		{"POST", "/catalog/backstage", `{"files": {"x.yaml": "kind: [unclosed"}, "dry_run": false}`, ""},
	} {
		r := do(tc.method, tc.path, tc.body, tc.ifMatch)
		if tc.path == "/catalog/backstage" {
			require.Equal(t, http.StatusOK, r.Code, r.Body.String())
			require.Contains(t, r.Body.String(), "problems", "a broken document is a problem, not a failure")
			continue
		}
		require.GreaterOrEqual(t, r.Code, 400, "%s %s %s: %s", tc.method, tc.path, tc.body, r.Body.String())
		require.Less(t, r.Code, 500, "%s %s %s: %s", tc.method, tc.path, tc.body, r.Body.String())
		require.Contains(t, r.Body.String(), `"error"`)
	}
	after, err := c.Audit(ctx, "", "", 1000)
	require.NoError(t, err)
	require.Equal(t, len(before), len(after), "nothing was written")
}
