package api

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// A route on SelfAuthenticated is reached without a token and does its own
// check; the token groups beside it still need one.
func TestSelfAuthenticated(t *testing.T) {
	s := newTestServer(t, nil)
	s.SelfAuthenticated().POST("/signed", func(c *gin.Context) {
		if c.GetHeader("X-Signature") != "good" {
			c.AbortWithStatus(http.StatusUnauthorized)
			return
		}
		c.String(http.StatusOK, "signed")
	})
	s.Group(ScopeRead).POST("/tokened", func(c *gin.Context) { c.String(http.StatusOK, "tokened") })

	rec := s.do(t, request{method: http.MethodPost, target: "/api/v1/signed", header: map[string]string{"X-Signature": "good"}})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "signed", rec.Body.String())
	require.Equal(t, http.StatusUnauthorized, s.do(t, request{method: http.MethodPost, target: "/api/v1/signed"}).Code)

	require.Equal(t, http.StatusUnauthorized, s.do(t, request{method: http.MethodPost, target: "/api/v1/tokened", header: map[string]string{"X-Signature": "good"}}).Code)
	require.Equal(t, http.StatusOK, s.do(t, request{method: http.MethodPost, target: "/api/v1/tokened", token: testToken}).Code)
	// The SQL route is still behind the token.
	require.Equal(t, http.StatusUnauthorized, s.do(t, request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT 1"}).Code)
}
