package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestDecodeJSON(t *testing.T) {
	type request struct {
		Sources []string  `json:"sources"`
		Since   time.Time `json:"since"`
		Strict  bool      `json:"strict"`
	}
	cases := []struct {
		body string
		err  string // "" means decoded
	}{
		{`{"sources":["/d"],"strict":true}`, ""},
		{` {"sources":[]} `, ""},
		{``, "empty"},
		{`{`, "cut short"},
		{`[]`, "must be a JSON object"},
		{`{"sources":"x"}`, "sources must be a list"},
		{`{"strict":"yes"}`, "strict must be true or false"},
		{`{"sinse":"2026-11-01T00:00:00Z"}`, `unknown field "sinse"`},
		{`{"sources":["/d"]} {"sources":["/etc"]}`, "one JSON object"},
		{`{"sources":["/d"]} x`, "one JSON object"},
		{`{"since":"garbage"}`, "garbage"},
		{`{"sources":["` + strings.Repeat("a", 2<<20) + `"]}`, "larger than"},
		{"\x00", "not JSON"},
	}
	for _, tc := range cases {
		name := tc.body
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			var r request
			err := DecodeJSON(c, &r)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.err)
		})
	}
}
