package cost

import (
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/furrowtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	furrowtest.Stop()
	os.Exit(code)
}

// get asks the demo server for a cost report as JSON rows.
func get(t *testing.T, srv *furrowtest.Server, path, key string) []map[string]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+furrowtest.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	var out map[string][]map[string]json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out), path)
	var rows []map[string]string
	for _, r := range out[key] {
		m := map[string]string{}
		for k, v := range r {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v) // a number, as exact text
			}
			m[k] = s
		}
		rows = append(rows, m)
	}
	return rows
}

// TestDemo is the "done when" on the demo as `make run` loads it:
// the allocation of every account, day and currency adds up to the bill's
// hand total to the last decimal; node cost reaches namespaces, idle,
// shared and unowned rows exist; the network reconciliation adds up; the
// search project's spike is the anomaly.
func TestDemo(t *testing.T) {
	srv := furrowtest.Demo(t)
	b, err := os.ReadFile(filepath.Join(srv.Demo, "ground-truth.json"))
	require.NoError(t, err)
	var truth struct {
		Bill []struct {
			Account  string `json:"billing_account_id"`
			Day      string `json:"day"`
			Currency string `json:"currency"`
			Billed   string `json:"billed"`
		} `json:"bill"`
	}
	require.NoError(t, json.Unmarshal(b, &truth))
	require.NotEmpty(t, truth.Bill)

	got := map[string]*big.Rat{}
	for _, r := range get(t, srv, "/api/v1/cost/breakdown?by=billing_account&granularity=day&shared=apart", "breakdown") {
		k := r["billing_account"] + " " + r["day"] + " " + r["currency"]
		if got[k] == nil {
			got[k] = new(big.Rat)
		}
		got[k].Add(got[k], rat(t, r["cost"]))
	}
	for _, w := range truth.Bill {
		k := w.Account + " " + w.Day + " " + w.Currency
		require.NotNil(t, got[k], k)
		require.Equal(t, rat(t, w.Billed).RatString(), got[k].RatString(), k)
		delete(got, k)
	}
	require.Empty(t, got, "days the bill does not have")

	kinds, rules := map[string]bool{}, map[string]bool{}
	for _, r := range get(t, srv, "/api/v1/cost/breakdown?by=team,namespace,rule&from=2026-11-01&to=2026-11-02&shared=apart", "breakdown") {
		kinds[r["kind"]] = true
		if r["namespace"] != "" {
			rules[r["rule"]] = true
		}
	}
	require.Equal(t, map[string]bool{"allocated": true, "idle": true, "shared": true, "unowned": true}, kinds)
	require.True(t, rules["node"] && rules["network"], "namespaces get node and network cost: %v", rules)

	net := get(t, srv, "/api/v1/cost/network", "network")
	require.NotEmpty(t, net)
	for _, r := range net {
		require.Equal(t, "yes", r["adds_up"], r)
	}
	anomalies := get(t, srv, "/api/v1/cost/anomalies", "anomalies")
	require.NotEmpty(t, anomalies)
	require.Equal(t, "2026-11-02", anomalies[0]["day"])
	require.Equal(t, "search", anomalies[0]["project"])
	require.Equal(t, "Discovery", anomalies[0]["team_name"])
}
