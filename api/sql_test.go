package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSQLFormats(t *testing.T) {
	s := newTestServer(t, nil)
	cases := []struct {
		pos         string
		target      string
		body        string
		contentType string // of the request
		wantType    string
		want        string
	}{
		{here(), "/api/v1/sql", "SELECT a, s FROM t WHERE a < 2 ORDER BY a", "", "text/tab-separated-values", "0\t0\n1\t1\n"},
		{here(), "/api/v1/sql?format=csv", "SELECT a, s FROM t WHERE a < 2 ORDER BY a", "", "text/csv", "0,\"0\"\n1,\"1\"\n"},
		{here(), "/api/v1/sql?format=JSONEachRow&param_a=3", "SELECT a FROM t WHERE a = {a:UInt32}", "", "application/x-ndjson", "{\"a\":3}\n"},
		{here(), "/api/v1/sql?format=Pretty", "SELECT 1 AS one", "", "text/plain", ""},
		{here(), "/api/v1/sql", `{"query": "SELECT s FROM t WHERE a = {a:UInt32}", "format": "jsoneachrow", "params": {"a": "4"}}`, "application/json", "application/x-ndjson", "{\"s\":\"4\"}\n"},
		{here(), "/api/v1/sql?format=TSV&param_a=1", `{"query": "SELECT {a:UInt8}", "params": {"a": "2"}}`, "application/json; charset=utf-8", "text/tab-separated-values", "2\n"},
		{here(), "/api/v1/sql", "SHOW TABLES", "", "text/tab-separated-values", "t\n"},
		{here(), "/api/v1/sql", "SELECT 1 WHERE 0", "", "text/tab-separated-values", ""},
	}
	for _, tc := range cases {
		rec := s.do(t, request{method: http.MethodPost, target: tc.target, body: tc.body, token: testToken,
			header: map[string]string{"Content-Type": tc.contentType}})
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", tc.pos, rec.Body.String())
		require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), tc.wantType), "%s: %s", tc.pos, rec.Header().Get("Content-Type"))
		if tc.want != "" || tc.body == "SELECT 1 WHERE 0" {
			require.Equal(t, tc.want, rec.Body.String(), tc.pos)
		} else {
			require.NotEmpty(t, rec.Body.String(), tc.pos)
		}
	}

	rec := s.do(t, request{method: http.MethodPost, target: "/api/v1/sql?format=parquet", body: "SELECT * FROM t", token: testToken})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "application/octet-stream", rec.Header().Get("Content-Type"))
	b := rec.Body.Bytes()
	require.True(t, bytes.HasPrefix(b, []byte("PAR1")) && bytes.HasSuffix(b, []byte("PAR1")))
}

func TestSQLErrors(t *testing.T) {
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) {
		c.SQL.MaxResultRows = 5
		c.SQL.MaxQuerySize = 1000
	})
	cases := []struct {
		pos      string
		target   string
		body     string
		status   int
		code     int    // ClickHouse code, if any
		contains string // in the message
	}{
		{here(), "/api/v1/sql", "INSERT INTO t VALUES (1, 'x')", http.StatusForbidden, 0, "INSERT statements are not allowed"},
		{here(), "/api/v1/sql", "DROP TABLE t", http.StatusForbidden, 0, "DROP TABLE"},
		{here(), "/api/v1/sql", "SELECT 1; DROP TABLE t", http.StatusForbidden, 0, "multiple statements"},
		{here(), "/api/v1/sql", "SELECT * FROM (SELECT 1 SETTINGS readonly = 0)", http.StatusForbidden, 0, "SETTINGS"},
		{here(), "/api/v1/sql", "SELECT * FROM file('/etc/hostname', 'LineAsString')", http.StatusForbidden, 0, "file()"},
		{here(), "/api/v1/sql", "EXPLAIN SELECT 1", http.StatusForbidden, 0, "EXPLAIN"},
		{here(), "/api/v1/sql", "SELEC 1", http.StatusBadRequest, 62, "Syntax error"},
		{here(), "/api/v1/sql", "SELECT * FROM nope", http.StatusBadRequest, 60, "nope"},
		{here(), "/api/v1/sql", "SELECT {x:UInt8}", http.StatusBadRequest, 456, "x"},
		{here(), "/api/v1/sql", "", http.StatusBadRequest, 0, "empty"},
		{here(), "/api/v1/sql?format=XML", "SELECT 1", http.StatusBadRequest, 0, "TSV, CSV, JSONEachRow, Pretty, Parquet"},
		{here(), "/api/v1/sql", "SELECT number FROM numbers(10)", http.StatusUnprocessableEntity, 396, "max_result_rows=5"},
		{here(), "/api/v1/sql", "SELECT '" + strings.Repeat("x", 1000) + "'", http.StatusRequestEntityTooLarge, 0, "max_query_size"},
		{here(), "/api/v1/sql", strings.Repeat("x", 100000), http.StatusRequestEntityTooLarge, 0, "too large"},
	}
	for _, tc := range cases {
		rec := s.do(t, request{method: http.MethodPost, target: tc.target, body: tc.body, token: testToken})
		require.Equal(t, tc.status, rec.Code, "%s: %s", tc.pos, rec.Body.String())
		require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json"), tc.pos)
		var body errorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), tc.pos)
		require.Equal(t, tc.code, body.Code, "%s: %s", tc.pos, rec.Body.String())
		require.Contains(t, body.Error, tc.contains, tc.pos)
	}
	rec := s.do(t, request{method: http.MethodPost, target: "/api/v1/sql", body: `{"query": 1}`, token: testToken,
		header: map[string]string{"Content-Type": "application/json"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)

	// The table survived.
	rec = s.do(t, request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT count() FROM t", token: testToken})
	require.Equal(t, "10\n", rec.Body.String())
}

func TestMetricsAndLogs(t *testing.T) {
	s := newTestServer(t, nil)
	rec := s.do(t, request{method: http.MethodPost, target: "/api/v1/sql?param_who=alice-secret-value", body: "SELECT {who:String}", token: testToken})
	require.Equal(t, http.StatusOK, rec.Code)
	s.do(t, request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT * FROM nope", token: testToken})

	rec = s.do(t, request{target: "/metrics", token: testToken})
	require.Equal(t, http.StatusOK, rec.Code)
	m := rec.Body.String()
	require.Contains(t, m, `furrow_http_requests_total{code="200",method="POST",route="/api/v1/sql"} 1`)
	require.Contains(t, m, `furrow_http_requests_total{code="400",method="POST",route="/api/v1/sql"} 1`)
	require.Contains(t, m, `furrow_http_request_duration_seconds_count{route="/api/v1/sql"} 2`)
	require.Contains(t, m, `furrow_store_operations_total{op="query"}`)
	require.Contains(t, m, `furrow_store_errors_total{code="60",op="query"} 1`)

	logs := s.logs.String()
	require.Contains(t, logs, "route=/api/v1/sql")
	require.Contains(t, logs, "client=10.1.2.3")
	require.NotContains(t, logs, testToken)
	require.NotContains(t, logs, "alice-secret-value")
}
