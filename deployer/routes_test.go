package deployer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/state"
)

// TestRoutesRefuseHostileRequests: malformed, oversized and incomplete
// requests get a 4xx with a reason and record nothing.
func TestRoutesRefuseHostileRequests(t *testing.T) {
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	cfg := DefaultConfiguration()
	cfg.Enabled = true
	c, err := New(cfg, Dependencies{State: st, Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	c.Routes(e.Group("/api/v1"), e.Group("/api/v1"))

	huge := `{"spec":"` + strings.Repeat("a", maxSpecBytes+10) + `","environment":"prod"}`
	cases := []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"not JSON", http.MethodPost, "/api/v1/deploys", "project: x", 400, "want JSON"},
		{"no environment", http.MethodPost, "/api/v1/deploys", `{"spec":"project: x"}`, 400, "required"},
		{"too large", http.MethodPost, "/api/v1/deploys", huge, 400, "too large"},
		{"spec with a bad field", http.MethodPost, "/api/v1/deploys", `{"spec":"project: x\nservice: y\nimage: z:1\nreplicas: [1]\n","spec_file":"x.yaml","environment":"prod"}`, 400, `"line":4`},
		{"unknown cluster", http.MethodPost, "/api/v1/deploys", `{"spec":"project: x\nservice: y\nimage: z:1\nenvironments:\n  prod:\n    regions:\n      - region: eu-west-1\n        clusters: [nowhere]\n","environment":"prod"}`, 400, "nowhere"},
		{"YAML bomb", http.MethodPost, "/api/v1/deploys", `{"spec":"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n","environment":"prod"}`, 400, "error"},
		{"rollback without project", http.MethodPost, "/api/v1/deploys/rollback", `{"environment":"prod"}`, 400, "required"},
		{"rollback of nothing deployed", http.MethodPost, "/api/v1/deploys/rollback", `{"project":"x","environment":"prod"}`, 400, "no successful deploy"},
		{"scale without replicas", http.MethodPost, "/api/v1/deploys/scale", `{"project":"x","environment":"prod"}`, 400, "replicas"},
		{"trigger without cronjob", http.MethodPost, "/api/v1/deploys/trigger", `{"project":"x","environment":"prod"}`, 400, "cronjob"},
		{"id not a number", http.MethodGet, "/api/v1/deploys/abc", "", 400, "deploy id"},
		{"unknown id", http.MethodGet, "/api/v1/deploys/999", "", 404, "no such deploy"},
		{"stream of an unknown id", http.MethodGet, "/api/v1/deploys/999/stream", "", 404, "no such deploy"},
		{"changes against garbage", http.MethodGet, "/api/v1/deploys/1/changes?against=x", "", 400, "against"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			require.Equal(t, tc.code, w.Code, w.Body.String())
			require.Contains(t, w.Body.String(), tc.want)
		})
	}
	list, err := c.Store().List(ctx, "", "", 10)
	require.NoError(t, err)
	require.Empty(t, list, "nothing recorded")
}
