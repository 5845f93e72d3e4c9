package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/migrations"
)

const (
	analystToken = "analyst-token-0123456789"
	loaderToken  = "loader-token-0123456789"
)

// startClickHouseServer serves furrow's schema, with a few flows, on a
// loopback port, with a read token (subject analyst) and an ingest-only
// token (subject loader); not in dev mode, so every request authenticates.
func startClickHouseServer(t *testing.T, edit ...func(*Configuration)) *testServer {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("analyst read "+analystToken+"\nloader ingest "+loaderToken+"\n"), 0o600))
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) {
		c.Tokens = nil
		c.TokensFile = tokens
		for _, e := range edit {
			e(c)
		}
	})
	ctx := context.Background()
	_, err := migrations.New(s.deps.Store, migrations.Options{}).Up(ctx)
	require.NoError(t, err)
	require.NoError(t, s.deps.Store.Exec(ctx, `INSERT INTO flow_logs (start, end, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes,
    src_namespace, dst_namespace, src_workload, dst_workload, source)
SELECT toDateTime('2026-11-01 00:00:00') + number * 60, toDateTime('2026-11-01 00:01:00') + number * 60,
    toIPv6(concat('10.0.0.', toString(number % 7 + 1))), toIPv6('10.1.0.1'), 443, 30000 + number, 6, 10, 1000 * (number + 1),
    ['checkout', 'payments', 'search'][number % 3 + 1], 'db', 'api', 'postgres', 's3://b/k'
FROM numbers(500)`))
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func openClickHouseGo(t *testing.T, s *testServer, user, password string) clickhouse.Conn {
	t.Helper()
	return openClickHouseGoAt(t, s.Addr(), "/clickhouse/", user, password)
}

func openClickHouseGoAt(t *testing.T, addr, path, user, password string) clickhouse.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{addr},
		HttpUrlPath: path,
		Auth:        clickhouse.Auth{Username: user, Password: password},
		DialTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestClickHouseGoOverHTTP runs the official Go client, in the HTTP mode
// Grafana's ClickHouse datasource uses, against /clickhouse/: its
// handshake, Native decoding of every column of flow_logs, parameters,
// settings, errors as *clickhouse.Exception, and refused writes.
func TestClickHouseGoOverHTTP(t *testing.T) {
	s := startClickHouseServer(t)
	conn := openClickHouseGo(t, s, "analyst", analystToken)
	ctx := context.Background()
	require.NoError(t, conn.Ping(ctx))
	v, err := conn.ServerVersion()
	require.NoError(t, err)
	require.NotZero(t, v.Version.Major)

	// Every column furrow stores, decoded from Native.
	rows, err := conn.Query(ctx, "SELECT * FROM flow_logs ORDER BY start LIMIT 50")
	require.NoError(t, err)
	types := rows.ColumnTypes()
	require.Greater(t, len(types), 20)
	n := 0
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = newScanTarget(ct.ScanType())
		}
		require.NoError(t, rows.Scan(vals...))
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 50, n)

	// An empty result.
	rows, err = conn.Query(ctx, "SELECT src_namespace, bytes FROM flow_logs WHERE bytes > 1e15")
	require.NoError(t, err)
	require.False(t, rows.Next())
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())

	// A dashboard's query, with parameters bound by the engine.
	var ns string
	var total uint64
	row := conn.QueryRow(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"ns": "payments"})),
		"SELECT src_namespace, sum(bytes) FROM flow_logs WHERE src_namespace = {ns:String} GROUP BY src_namespace")
	require.NoError(t, row.Scan(&ns, &total))
	require.Equal(t, "payments", ns)
	require.Equal(t, want(t, s, "SELECT sum(bytes) FROM flow_logs WHERE src_namespace = 'payments'"), strconv.FormatUint(total, 10))

	// Harmless settings pass; a lowered limit applies; raising one is refused.
	err = conn.Exec(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_result_rows": 5})),
		"SELECT number FROM numbers(100)")
	requireException(t, err, 396)
	_, err = conn.Query(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_result_rows": 100_000_000})), "SELECT 1")
	requireException(t, err, 164)
	rows, err = conn.Query(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"output_format_json_quote_64bit_integers": 0})), "SELECT 1")
	require.NoError(t, err)
	require.NoError(t, rows.Close())

	// Errors carry ClickHouse's code.
	_, err = conn.Query(ctx, "SELECT * FROM no_such_table")
	requireException(t, err, 60)
	_, err = conn.Query(ctx, "SELEC 1")
	requireException(t, err, 62)

	// Writes and escapes are refused, by furrow and by the engine.
	for _, q := range []string{
		"INSERT INTO flow_logs (bytes) VALUES (1)",
		"CREATE TABLE x (a UInt8) ENGINE = Memory",
		"DROP TABLE flow_logs",
		"ALTER TABLE flow_logs DELETE WHERE 1",
		"SELECT * FROM file('/etc/passwd', 'LineAsString')",
		"SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
		"SELECT 1 SETTINGS readonly = 0",
		"SET readonly = 0",
	} {
		err := conn.Exec(ctx, q)
		requireException(t, err, 164)
	}
	require.Equal(t, "500", want(t, s, "SELECT count() FROM flow_logs"), "nothing was written")

	// Credentials: a wrong key, another subject's name, a token without
	// the read scope.
	err = openClickHouseGo(t, s, "analyst", "wrong").Ping(ctx)
	requireException(t, err, 516)
	err = openClickHouseGo(t, s, "loader", analystToken).Ping(ctx)
	requireException(t, err, 516)
	err = openClickHouseGo(t, s, "loader", loaderToken).Ping(ctx)
	requireException(t, err, 497)
	require.NotContains(t, s.logs.String(), analystToken, "tokens never reach the logs")

	// As Grafana's ClickHouse datasource connects over HTTP: gzip both
	// ways, a default database, its row limit as the "limit" setting.
	grafana, err := clickhouse.Open(&clickhouse.Options{
		Protocol:    clickhouse.HTTP,
		Addr:        []string{s.Addr()},
		HttpUrlPath: "/clickhouse/",
		Auth:        clickhouse.Auth{Database: s.deps.Store.Info().Database, Username: "analyst", Password: analystToken},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		Settings:    clickhouse.Settings{"limit": 3},
		ClientInfo:  clickhouse.ClientInfo{Comment: []string{"grafana_dashboard:abc"}},
	})
	require.NoError(t, err)
	defer grafana.Close()
	require.NoError(t, grafana.Ping(ctx))
	rows, err = grafana.Query(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"from": "2026-11-01 00:00:00"})),
		"SELECT toStartOfHour(start) AS t, sum(bytes) FROM flow_logs WHERE start >= {from:DateTime} GROUP BY t ORDER BY t")
	require.NoError(t, err)
	n = 0
	for rows.Next() {
		var at time.Time
		var b uint64
		require.NoError(t, rows.Scan(&at, &b))
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 3, n, "the limit setting applies")
}

// newScanTarget returns a pointer to a new value of t.
func newScanTarget(t interface{ String() string }) any {
	return reflectNew(t)
}

func requireException(t *testing.T, err error, code int32) {
	t.Helper()
	require.Error(t, err)
	var ex *clickhouse.Exception
	require.True(t, errors.As(err, &ex), "%T: %v", err, err)
	require.Equal(t, code, ex.Code, "%v", err)
}

// want runs q on the store directly.
func want(t *testing.T, s *testServer, q string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.deps.Store.Query(context.Background(), &b, q, "TSV"))
	return strings.TrimSpace(b.String())
}

// TestClickHouseHTTPInterface checks the protocol itself, as the clients
// without a Go or JS driver (DBeaver's JDBC driver, clickhouse-connect,
// curl) use it.
func TestClickHouseHTTPInterface(t *testing.T) {
	s := startClickHouseServer(t)
	base := "http://" + s.Addr() + "/clickhouse/"
	get := func(t *testing.T, method, target, body string, header map[string]string) (*http.Response, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, target, rd)
		require.NoError(t, err)
		req.SetBasicAuth("analyst", analystToken)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	q := func(sql string, extra ...string) string {
		v := url.Values{"query": {sql}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return base + "?" + v.Encode()
	}

	for _, tc := range []struct {
		name, method, target, body string
		header                     map[string]string
		status                     int
		want                       string // body contains
		wantHeader                 map[string]string
	}{
		{name: "ping", method: "GET", target: "http://" + s.Addr() + "/clickhouse/ping", status: 200, want: "Ok.\n"},
		{name: "get query TSV", method: "GET", target: q("SELECT 1 + 1"), status: 200, want: "2\n",
			wantHeader: map[string]string{"X-ClickHouse-Format": "TabSeparated", "Content-Type": "text/tab-separated-values; charset=UTF-8"}},
		{name: "post body", method: "POST", target: base, body: "SELECT count() FROM flow_logs", status: 200, want: "500\n"},
		{name: "query param and body joined", method: "POST", target: q("SELECT count()"), body: "FROM flow_logs", status: 200, want: "500\n"},
		{name: "trailing FORMAT JSON", method: "POST", target: base, body: "SELECT src_namespace AS ns, count() AS n FROM flow_logs GROUP BY ns ORDER BY ns FORMAT JSON",
			status: 200, want: `"rows": 3`, wantHeader: map[string]string{"X-ClickHouse-Format": "JSON", "Content-Type": "application/json; charset=UTF-8"}},
		{name: "default_format", method: "POST", target: q("", "default_format", "JSONEachRow"), body: "SELECT 1 AS x", status: 200, want: `{"x":1}`},
		{name: "FORMAT and SETTINGS clause", method: "POST", target: base, body: "SELECT number FROM numbers(3) SETTINGS max_result_rows = 10 FORMAT CSV", status: 200, want: "0\n1\n2\n"},
		{name: "param_", method: "GET", target: q("SELECT {a:UInt8} * 2", "param_a", "21"), status: 200, want: "42\n"},
		{name: "query_id echoed", method: "GET", target: q("SELECT 1", "query_id", "my-query-1"), status: 200,
			wantHeader: map[string]string{"X-ClickHouse-Query-Id": "my-query-1", "X-ClickHouse-Timezone": "Etc/UTC"}},
		{name: "unknown client setting ignored", method: "GET", target: q("SELECT 1", "session_id", "abc", "quota_key", "q", "max_threads", "64"), status: 200, want: "1\n",
			wantHeader: map[string]string{"X-Furrow-Ignored-Settings": "max_threads"}},
		{name: "empty result keeps the JSON frame", method: "POST", target: base, body: "SELECT 1 AS x WHERE 0 FORMAT JSON", status: 200, want: `"rows": 0`},
		{name: "handshake", method: "POST", target: base, body: "SELECT displayName(), version(), revision(), timezone() FORMAT TSV", status: 200},
		{name: "system.settings", method: "POST", target: base, body: "SELECT name, value, readonly FROM system.settings WHERE name = 'max_result_rows'", status: 200, want: "max_result_rows\t"},
		{name: "Parquet", method: "POST", target: base, body: "SELECT 1 AS a FORMAT Parquet", status: 200, want: "PAR1",
			wantHeader: map[string]string{"Content-Type": "application/octet-stream"}},
		{name: "syntax error", method: "POST", target: base, body: "SELEC 1", status: 400, want: "Code: 62. DB::Exception:",
			wantHeader: map[string]string{"X-ClickHouse-Exception-Code": "62"}},
		{name: "write refused", method: "POST", target: base, body: "INSERT INTO flow_logs (bytes) VALUES (1)", status: 403, want: "Code: 164. DB::Exception: furrow: INSERT statements are not allowed",
			wantHeader: map[string]string{"X-ClickHouse-Exception-Code": "164"}},
		{name: "settings reaching files refused", method: "GET", target: q("SELECT 1", "format_schema", "/etc/x"), status: 403, want: "Code: 164."},
		{name: "a driver's longer timeout leaves furrow's", method: "GET", target: q("SELECT 1", "max_execution_time", "3600"), status: 200, want: "1\n",
			wantHeader: map[string]string{"X-Furrow-Ignored-Settings": "max_execution_time"}},
		{name: "raising a row limit refused", method: "GET", target: q("SELECT 1", "max_result_rows", "999999999"), status: 403, want: "would raise the limit"},
		{name: "readonly cannot be lifted", method: "GET", target: q("SELECT 1", "readonly", "0"), status: 403, want: "readonly cannot be lifted"},
		{name: "setting name injection", method: "GET", target: q("SELECT 1", "a = 1, readonly", "0"), status: 403, want: "not a setting name"},
		{name: "other database", method: "GET", target: q("SELECT 1", "database", "other"), status: 400, want: "Code: 81."},
		{name: "template format refused", method: "POST", target: base, body: "SELECT 1 FORMAT Template", status: 403, want: "template file"},
		{name: "unknown format", method: "POST", target: base, body: "SELECT 1 FORMAT NoSuchFormat", status: 400, want: "Code: 73."},
		{name: "filter with subquery refused", method: "GET",
			target: q("SELECT count() FROM flow_logs", "additional_table_filters", `{'flow_logs': 'src_namespace IN (SELECT name FROM system.users)'}`), status: 403, want: "not allowed in a condition"},
		{name: "filter with file() refused", method: "GET",
			target: q("SELECT count() FROM flow_logs", "additional_table_filters", `{'flow_logs': 'file(\'/etc/passwd\') != \'\''}`), status: 403, want: "file() function"},
		{name: "filter escaping its brackets refused", method: "GET",
			target: q("SELECT name FROM system.tables", "additional_table_filters", `{'system.tables': '1) OR (1'}`), status: 403, want: "brackets must balance"},
		{name: "GET / without a query is a ping", method: "GET", target: base, status: 200, want: "Ok.\n"},
		{name: "ad hoc filter applies", method: "GET",
			target: q("SELECT count() FROM flow_logs", "additional_table_filters", `{'flow_logs': 'src_namespace = \'payments\''}`), status: 200, want: want(t, s, "SELECT count() FROM flow_logs WHERE src_namespace = 'payments'") + "\n"},
		{name: "schema: databases", method: "POST", target: base, body: "SHOW DATABASES", status: 200, want: "system\n" + s.deps.Store.Info().Database + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.method, tc.target, tc.body, tc.header)
			require.Equal(t, tc.status, resp.StatusCode, body)
			require.Contains(t, body, tc.want)
			for k, v := range tc.wantHeader {
				require.Equal(t, v, resp.Header.Get(k), k)
			}
		})
	}

	// The schema browser sees furrow's tables, no other database's.
	_, body := get(t, "POST", base, "SELECT DISTINCT database FROM system.tables ORDER BY database", nil)
	require.Equal(t, "system\n"+s.deps.Store.Info().Database+"\n", body)
	_, body = get(t, "POST", base, "SELECT count() FROM system.columns WHERE table = 'flow_logs'", nil)
	require.NotEqual(t, "0\n", body)

	// Compressed responses, as the JS client asks for them.
	req, err := http.NewRequest("GET", q("SELECT number FROM numbers(1000)", "enable_http_compression", "1"), nil)
	require.NoError(t, err)
	req.SetBasicAuth("analyst", analystToken)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))

	// No credentials: 401 with ClickHouse's code.
	resp2, err := http.Get(q("SELECT 1"))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp2.StatusCode)
	require.Contains(t, string(b), "Code: 516.")
}

func reflectNew(t interface{ String() string }) any {
	if rt, ok := t.(reflect.Type); ok {
		return reflect.New(rt).Interface()
	}
	var v any
	return &v
}

// TestClickHouseOwnListener: http.clickhouse_listen serves the interface
// at the root of its own address, for tools that take no path.
func TestClickHouseOwnListener(t *testing.T) {
	s := startClickHouseServer(t, func(c *Configuration) { c.ClickHouseListen = "127.0.0.1:0" })
	require.NotEmpty(t, s.ClickHouseAddr())
	conn := openClickHouseGoAt(t, s.ClickHouseAddr(), "", "analyst", analystToken)
	var n uint64
	require.NoError(t, conn.QueryRow(context.Background(), "SELECT count() FROM flow_logs").Scan(&n))
	require.EqualValues(t, 500, n)
	err := openClickHouseGoAt(t, s.ClickHouseAddr(), "", "analyst", "nope").Ping(context.Background())
	requireException(t, err, 516)

	_, err = New(Configuration{Listen: "127.0.0.1:0", ClickHouseListen: "0.0.0.0:8123", ReadTimeout: time.Second,
		WriteTimeout: time.Minute, SQL: DefaultConfiguration().SQL}, Dependencies{Store: s.deps.Store, Registry: s.registry})
	require.ErrorContains(t, err, "without authentication")
}
