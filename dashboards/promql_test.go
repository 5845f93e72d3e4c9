package dashboards

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

// grafanaVars stands for what Grafana puts in place of its variables
// before Prometheus sees an expression.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	"$namespace", "checkout",
	"$cluster", "prod-.*",
)

// TestPromQL parses every Prometheus expression of every dashboard with
// Prometheus's own parser, and checks each names metrics (a typo in a
// function or a label matcher fails here, not in front of an SRE).
func TestPromQL(t *testing.T) {
	n := 0
	for name, b := range All() {
		out, err := JSON(b)
		require.NoError(t, err)
		var d struct {
			Panels []panelJSON `json:"panels"`
		}
		require.NoError(t, json.Unmarshal(out, &d))
		for _, p := range d.Panels {
			for _, raw := range p.Targets {
				var tgt struct {
					Expr       string `json:"expr"`
					Datasource struct {
						Type string `json:"type"`
					} `json:"datasource"`
				}
				require.NoError(t, json.Unmarshal(raw, &tgt))
				if tgt.Datasource.Type != "prometheus" {
					continue
				}
				expr, err := parser.ParseExpr(grafanaVars.Replace(tgt.Expr))
				require.NoError(t, err, "%s / %s: %s", name, p.Title, tgt.Expr)
				require.NotEmpty(t, parser.ExtractSelectors(expr), "%s / %s", name, p.Title)
				n++
			}
		}
	}
	require.Greater(t, n, 25, "expressions parsed")
}
