package api

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/toolcache"
)

// nodeClientDir is where scripts/setup-node-client.sh installed
// @clickhouse/client; FURROW_TEST_NODE_CLIENT overrides it.
func nodeClientDir() string {
	if d := os.Getenv("FURROW_TEST_NODE_CLIENT"); d != "" {
		return d
	}
	return toolcache.Tools("node-clickhouse-client")
}

// TestClickHouseJSClient runs the official JS client, installed from npm
// by make test, against /clickhouse/ with node: ping, JSONEachRow, JSON
// with meta, query parameters, CSV, gzip responses; writes, file() and
// lifting readonly refused with ClickHouse's code; a wrong password
// refused as a server refuses it.
func TestClickHouseJSClient(t *testing.T) {
	dir := nodeClientDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@clickhouse", "client")); err != nil {
		t.Fatalf("@clickhouse/client is not installed in %s: run make setup-node-client (make test does)", dir)
	}
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is required (apt-get install nodejs)")
	s := startClickHouseServer(t)
	script, err := filepath.Abs(filepath.Join("testdata", "clickhouse_js_client.cjs"))
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), node, script)
	cmd.Env = append(os.Environ(),
		"NODE_PATH="+filepath.Join(dir, "node_modules"),
		"FURROW_TEST_CH_URL=http://"+s.Addr(),
		"FURROW_TEST_CH_PASSWORD="+analystToken)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())

	var got struct {
		Ping        bool `json:"ping"`
		ByNamespace []struct {
			NS    string `json:"ns"`
			Bytes uint64 `json:"bytes"`
		} `json:"byNamespace"`
		Meta []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"meta"`
		Payments      uint64            `json:"payments"`
		QueryID       string            `json:"queryId"`
		CSV           string            `json:"csv"`
		Refused       map[string]string `json:"refused"`
		WrongPassword string            `json:"wrongPassword"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &got), stdout.String())
	require.True(t, got.Ping)
	require.Len(t, got.ByNamespace, 3)
	require.Equal(t, "checkout", got.ByNamespace[0].NS)
	require.Equal(t, want(t, s, "SELECT sum(bytes) FROM flow_logs WHERE src_namespace = 'checkout'"), jsonNumber(got.ByNamespace[0].Bytes))
	require.Equal(t, "n", got.Meta[0].Name)
	require.Equal(t, "UInt64", got.Meta[0].Type)
	require.Equal(t, want(t, s, "SELECT count() FROM flow_logs WHERE src_namespace = 'payments'"), jsonNumber(got.Payments))
	require.NotEmpty(t, got.QueryID)
	require.Equal(t, "0\n1\n2\n", got.CSV)
	for name, code := range got.Refused {
		require.Equal(t, "164", code, name)
	}
	require.Len(t, got.Refused, 5)
	require.Equal(t, "516", got.WrongPassword)
	require.Equal(t, "500", want(t, s, "SELECT count() FROM flow_logs"), "nothing was written")
}

func jsonNumber(v uint64) string { b, _ := json.Marshal(v); return string(b) }
