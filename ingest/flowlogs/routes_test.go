package flowlogs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestRoutes(t *testing.T) {
	gin.SetMode(gin.TestMode)
	s := migrated(t)
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "v5_custom.log"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "v5.log"), data, 0o644))
	r := gin.New()
	newTestIngester(t, s, Dependencies{}, IngestOptions{}).Routes(r.Group("/api/v1"))

	post := func(body string) (*httptest.ResponseRecorder, Summary) {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/v1/ingest/flowlogs", strings.NewReader(body)))
		var sum Summary
		_ = json.Unmarshal(w.Body.Bytes(), &sum)
		return w, sum
	}
	w, sum := post(`{"sources":["` + dir + `"]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "ok", sum.Status)
	require.EqualValues(t, 4, sum.Stored)

	w, _ = post(`{"sources":[]}`)
	require.Equal(t, http.StatusBadRequest, w.Code)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "v5b.log"), append(data, '\n', 'x'), 0o644))
	w, sum = post(`{"sources":["` + dir + `"], "strict": true}`)
	require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
	require.Equal(t, 1, sum.Skipped)
	require.Equal(t, "failed", sum.Status)
}
