package cost

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestRoutes(t *testing.T) {
	s := migrated(t)
	fixture(t, s, "d1", "0.192")
	c, err := New(DefaultConfiguration(), Dependencies{Store: s, Now: func() time.Time { return time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	g := engine.Group("/api/v1")
	c.Routes(g, g)
	do := func(method, url string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, httptest.NewRequest(method, url, nil))
		return w
	}
	w := do(http.MethodPost, "/api/v1/cost/allocate")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), `"111/2026-11-01"`)

	ok := []struct{ url, contentType, contains string }{
		{"/api/v1/cost/breakdown?by=team", "application/json", `"team_name": "Shop"`},
		{"/api/v1/cost/breakdown?by=team,namespace&granularity=day&shared=apart&format=csv", "text/csv", "2026-11-02,t-plat,Platform,kube-system,shared,USD,"},
		{"/api/v1/cost/breakdown?by=service&by=region&currency=EUR&format=table", "text/plain", "Amazon S3  eu-central-1  allocated  EUR       0.07"},
		{"/api/v1/cost/breakdown?by=team&from=2026-11-02&to=2026-11-02&granularity=hour", "application/json", `"hour": "2026-11-02 10:00"`},
		{"/api/v1/cost/network?format=csv", "text/csv", "2026-11-02,cross-zone,1,0.4"},
		{"/api/v1/cost/summary", "application/json", `"month_to_date"`},
		{"/api/v1/cost/anomalies", "application/json", `"anomalies": []`},
		{"/api/v1/cost/anomalies/drivers?day=2026-11-02&team=t-shop&project=p-shop&service=Amazon%20S3&currency=USD", "application/json", `"resource_id": "shop-assets"`},
	}
	for _, tt := range ok {
		w := do(http.MethodGet, tt.url)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", tt.url, w.Body)
		require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), tt.contentType), tt.url)
		require.Contains(t, w.Body.String(), tt.contains, tt.url)
	}
	bad := []string{
		"/api/v1/cost/breakdown?by=colour", "/api/v1/cost/breakdown?granularity=week", "/api/v1/cost/breakdown?metric=list",
		"/api/v1/cost/breakdown?limit=-1", "/api/v1/cost/breakdown?format=xml", "/api/v1/cost/breakdown?from=yesterday",
		"/api/v1/cost/breakdown?from=2026-11-03&to=2026-11-01", "/api/v1/cost/anomalies/drivers?day=2026-11-02",
		"/api/v1/cost/summary?at=soon", "/api/v1/cost/breakdown?shared=%27%3BDROP", "/api/v1/cost/breakdown?team=a%00b",
		"/api/v1/cost/anomalies/drivers?day=2026-11-02&service=S3&currency=USD&team=%00",
	}
	for _, url := range bad {
		w := do(http.MethodGet, url)
		require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", url, w.Body)
		var body struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), url)
		require.NotEmpty(t, body.Error, url)
	}
}

// TestRefresh: the schedule allocates what changed, and nothing when
// nothing did.
func TestRefresh(t *testing.T) {
	s := migrated(t)
	fixture(t, s, "d1", "0.192")
	now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) // long after the period
	c, err := New(DefaultConfiguration(), Dependencies{Store: s, Now: func() time.Time { return now }})
	require.NoError(t, err)
	rep, err := c.Refresh(context.Background())
	require.NoError(t, err)
	require.Len(t, rep.Periods, 1, "never allocated: stale")
	rep, err = c.Refresh(context.Background())
	require.NoError(t, err)
	require.Empty(t, rep.Periods, "nothing changed since")
}
