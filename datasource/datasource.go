// Package datasource is furrow's Grafana datasource plugin backend
// (grafana-plugin-sdk-go): raw SQL with the ClickHouse datasource's
// macros, furrow's traffic and cost reports as query types that need no
// SQL (cost anomalies also as annotations), the values of template
// variables, and a health check that says what to fix.
// It talks to a furrow server over HTTP (its ClickHouse interface and its
// reports), so the embedded default works with Grafana. The binary is
// datasource/cmd/furrow-datasource.
package datasource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// PluginID is the plugin's id in plugin.json.
const PluginID = "furrowdev-furrow-datasource"

// Datasource is one configured furrow datasource.
type Datasource struct {
	settings Settings
	client   *client
	logger   log.Logger
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource is the instance factory Grafana calls for each datasource
// (and again when its settings change).
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	settings, err := LoadSettings(s)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	c, err := newClient(settings)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	return &Datasource{settings: settings, client: c, logger: backend.Logger}, nil
}

// Dispose closes idle connections when Grafana replaces the instance.
func (d *Datasource) Dispose() { d.client.http.CloseIdleConnections() }

// QueryData answers every query of a request.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	a := attributionOf(req.PluginContext, req.GetHTTPHeaders())
	resp := backend.NewQueryDataResponse()
	for _, q := range req.Queries {
		r := d.run(ctx, q, a)
		if r.Error != nil {
			d.logger.Warn("query failed", "refId", q.RefID, "user", a.User, "dashboard", a.Dashboard, "panel", a.Panel, "error", r.Error)
		} else {
			d.logger.Debug("query", "refId", q.RefID, "user", a.User, "dashboard", a.Dashboard, "panel", a.Panel)
		}
		resp.Responses[q.RefID] = r
	}
	return resp, nil
}

// attributionOf names the Grafana user, dashboard and panel of a request.
func attributionOf(pc backend.PluginContext, h http.Header) attribution {
	a := attribution{Dashboard: h.Get("X-Dashboard-Uid"), Panel: h.Get("X-Panel-Id")}
	if pc.User != nil {
		a.User = pc.User.Login
	}
	return a
}

// RequiredSchema is the furrow schema version the plugin's queries need
// (14: the cost allocation tables and their daily rollup, which the cost
// query types and the cost_teams and services lists read).
const RequiredSchema = 14

// CheckHealth says whether furrow answers, the token is accepted and the
// schema is recent enough, and what to do when not.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	fail := func(msg string) (*backend.CheckHealthResult, error) {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}, nil
	}
	if _, err := d.client.do(ctx, http.MethodGet, "/readyz", nil, ""); err != nil {
		var he *httpError
		if asHTTPError(err, &he) {
			return fail(fmt.Sprintf("furrow at %s is not ready (%d): %s", d.client.base.Redacted(), he.Status, he.Msg))
		}
		return fail(fmt.Sprintf("cannot reach furrow at %s: check the URL and that furrow serve runs (%v)", d.client.base.Redacted(), errors.Unwrap(err)))
	}
	res, err := d.client.sql(ctx, "SELECT max(version) FROM schema_migrations", 1, attribution{RefID: "health"})
	if err != nil {
		var he *httpError
		if asHTTPError(err, &he) && (he.Status == 401 || he.Status == 403) {
			return fail("furrow refused the token (" + strconv.Itoa(he.Status) + "): set a token with the read scope (a line \"SUBJECT read TOKEN\" of furrow's http.tokens_file)")
		}
		return fail("furrow answered, but a query failed: " + err.Error())
	}
	version := 0
	if len(res.Data) == 1 && len(res.Data[0]) == 1 {
		version, _ = strconv.Atoi(strings.Trim(string(res.Data[0][0]), `"`))
	}
	if version < RequiredSchema {
		return fail(fmt.Sprintf("furrow's schema is at version %d; this plugin needs %d: upgrade furrow (it migrates at start, or run furrow migrate)", version, RequiredSchema))
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk,
		Message: fmt.Sprintf("furrow answers at %s (schema version %d)", d.client.base.Redacted(), version)}, nil
}

// CallResource serves the lists the query editors offer: GET
// values/{clusters,namespaces,workloads,zones,classes,teams,cost_teams,services}
// → ["a", …].
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	send := func(status int, v any) error {
		b, _ := json.Marshal(v)
		return sender.Send(&backend.CallResourceResponse{Status: status, Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: b})
	}
	name, ok := strings.CutPrefix(strings.Trim(req.Path, "/"), "values/")
	sql, known := valueLists[name]
	if !ok || !known || req.Method != http.MethodGet {
		return send(http.StatusNotFound, map[string]string{"error": "use GET values/{" + strings.ReplaceAll(valueListNames(), ", ", ",") + "}"})
	}
	res, err := d.client.sql(ctx, sql, 10_000, attributionOf(req.PluginContext, http.Header(req.Headers)))
	if err != nil {
		var he *httpError
		if asHTTPError(err, &he) {
			return send(he.Status, map[string]string{"error": he.Msg})
		}
		return send(http.StatusBadGateway, map[string]string{"error": err.Error()})
	}
	out := make([]string, 0, len(res.Data))
	for _, row := range res.Data {
		if len(row) > 0 {
			if s := stringValue(row[0]); s != nil {
				out = append(out, *s)
			}
		}
	}
	return send(http.StatusOK, out)
}

func asHTTPError(err error, target **httpError) bool { return errors.As(err, target) }
