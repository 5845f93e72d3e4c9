package traffic

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestRoutes(t *testing.T) {
	gin.SetMode(gin.TestMode)
	engine := gin.New()
	New(loaded(t)).Routes(engine.Group("/api/v1"))

	get := func(url string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, httptest.NewRequest(http.MethodGet, url, nil))
		return w
	}
	ok := []struct {
		pos, url, contentType, contains string
	}{
		{at(), "/api/v1/traffic/top", "application/json", `"src": "istio-system"`},
		{at(), "/api/v1/traffic/top?by=workload&namespace=monitoring&format=csv", "text/csv", "monitoring/prometheus,shop/cart,1000000000,0.01,1,1"},
		{at(), "/api/v1/traffic/top?by=zone&class=nat-gateway,internet-egress&limit=1&format=table", "text/plain", "use1-az1  use1-az1  3.00  $0.14  85.7%"},
		{at(), "/api/v1/traffic/top?class=nat-gateway&class=internet-egress&from=2026-03-02", "application/json", `"dst": "(internet)"`},
		// A date-only "to" includes that day.
		{at(), "/api/v1/traffic/cost-per-day?from=2026-03-01&to=2026-03-01&format=csv", "text/csv", "day,class,bytes,cost_usd,records\n2026-03-01,cross-zone,8000000000,0.08,4\n"},
		{at(), "/api/v1/traffic/cost-per-day?to=2026-03-02T00:00:00Z&format=csv", "text/csv", "2026-03-01,cross-zone,8000000000,0.08,4\n"},
		{at(), "/api/v1/traffic/before-after?at=2026-03-02&namespace=shop", "application/json", `"class_bytes": 8000000000`},
		{at(), "/api/v1/traffic/before-after?at=2026-03-02T10:00:00Z&workload=istio-ingressgateway&window=2h&format=table", "text/plain", "days"},
		{at(), "/api/v1/traffic/zone-skew?from=2026-03-01&to=2026-03-02", "application/json", `"workload": "cart"`},
	}
	for _, tt := range ok {
		w := get(tt.url)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", tt.pos, w.Body)
		require.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), tt.contentType), tt.pos)
		require.Contains(t, w.Body.String(), tt.contains, tt.pos)
	}

	bad := []struct{ pos, url string }{
		{at(), "/api/v1/traffic/top?by=pod"},
		{at(), "/api/v1/traffic/top?from=yesterday"},
		{at(), "/api/v1/traffic/top?from=2026-03-02&to=2026-03-01"},
		{at(), "/api/v1/traffic/top?class=cross-az"},
		{at(), "/api/v1/traffic/top?limit=0"},
		{at(), "/api/v1/traffic/top?limit=ten"},
		{at(), "/api/v1/traffic/top?format=xml"},
		{at(), "/api/v1/traffic/before-after?namespace=shop"},
		{at(), "/api/v1/traffic/before-after?at=2026-03-02&window=-1h"},
		{at(), "/api/v1/traffic/before-after?at=2026-03-02&window=week"},
	}
	for _, tt := range bad {
		w := get(tt.url)
		require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", tt.pos, w.Body)
		var body struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), tt.pos)
		require.NotEmpty(t, body.Error, tt.pos)
	}
}
