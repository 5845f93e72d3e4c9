package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClickHouseHostileInput: what an attacker or a broken client sends
// gets a ClickHouse error and nothing else.
func TestClickHouseHostileInput(t *testing.T) {
	s := startClickHouseServer(t)
	base := "http://" + s.Addr() + "/clickhouse/"
	post := func(t *testing.T, target, body string, header map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		require.NoError(t, err)
		req.SetBasicAuth("analyst", analystToken)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, target, body string
		header             map[string]string
		status             int
		want               string
	}{
		{"NUL byte", base, "SELECT 1\x00; DROP TABLE flow_logs", nil, 403, "NUL"},
		{"two statements", base, "SELECT 1; DROP TABLE flow_logs", nil, 403, "multiple statements"},
		{"comment hiding a statement", base, "SELECT 1 /* */; /**/ INSERT INTO flow_logs (bytes) VALUES (1)", nil, 403, "Code: 164."},
		{"oversize query", base, "SELECT '" + strings.Repeat("x", 200<<10) + "'", nil, 413, "Max query size"},
		{"corrupt gzip body", base, "not gzip", map[string]string{"Content-Encoding": "gzip"}, 400, "CANNOT_DECOMPRESS"},
		{"unknown content encoding", base, "SELECT 1", map[string]string{"Content-Encoding": "br"}, 400, "unsupported Content-Encoding"},
		{"bogus protocol version", base + "?client_protocol_version=abc&default_format=Native", "SELECT 1", nil, 200, ""},
		{"Native of a type it cannot walk", base + "?client_protocol_version=54460", "SELECT sumState(number) FROM numbers(10) FORMAT Native", nil, 500, "not supported in the Native format"},
		{"format name injection", base + "?default_format=" + url.QueryEscape("JSON SETTINGS readonly=0"), "SELECT 1", nil, 400, "Code: 73."},
		{"table function in a filter key", base + "?" + url.Values{"additional_table_filters": {`{'flow_logs': 'bytes IN (SELECT 1 FROM url(\'http://x\'))'}`}}.Encode(), "SELECT count() FROM flow_logs", nil, 403, "not allowed in a condition"},
		{"system table outside the list", base, "SELECT * FROM system.processes", nil, 403, "not readable here"},
		{"file() scalar", base, "SELECT file('/etc/passwd')", nil, 403, "file() function"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, tc.target, tc.body, tc.header)
			require.Equal(t, tc.status, status, body)
			require.Contains(t, body, tc.want)
			require.NotContains(t, body, "root:", "no file content leaks")
		})
	}
	require.Equal(t, "500", want(t, s, "SELECT count() FROM flow_logs"), "nothing was written")
}

// TestClickHouseConcurrentClients: many clients at once, a third of their
// queries failing half way through their result (in several formats):
// each successful query gets exactly its own rows, each failure an error.
func TestClickHouseConcurrentClients(t *testing.T) {
	s := startClickHouseServer(t)
	base := "http://" + s.Addr() + "/clickhouse/"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				n := 1000 + 97*g + i
				q := fmt.Sprintf("SELECT %d + number AS v FROM numbers(%d)", g*1_000_000, n)
				fail := i%3 == 0
				if fail {
					// Fails after many rows were computed.
					q = fmt.Sprintf("SELECT throwIf(number = %d, 'boom') + number AS v FROM numbers(%d)", n-10, n)
				}
				req, _ := http.NewRequest(http.MethodPost, base+"?default_format=TSV", strings.NewReader(q))
				req.SetBasicAuth("analyst", analystToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if fail {
					if resp.StatusCode == http.StatusOK && rerr == nil {
						errs <- fmt.Errorf("goroutine %d: a failing query answered 200 with a whole body", g)
					}
					continue
				}
				if resp.StatusCode != http.StatusOK || rerr != nil {
					errs <- fmt.Errorf("goroutine %d: HTTP %d %v: %.200s", g, resp.StatusCode, rerr, body)
					continue
				}
				lines := bytes.Split(bytes.TrimSpace(body), []byte("\n"))
				if len(lines) != n || string(lines[0]) != fmt.Sprint(g*1_000_000) || string(lines[n-1]) != fmt.Sprint(g*1_000_000+n-1) {
					errs <- fmt.Errorf("goroutine %d: got %d rows (%q … %q), want %d of its own", g, len(lines), lines[0], lines[len(lines)-1], n)
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
