package datasource

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// client talks to one furrow server: SQL through its ClickHouse HTTP
// interface (/clickhouse/), furrow's own reports through /api/v1. Both
// work on the embedded engine.
type client struct {
	base  *url.URL
	token string
	http  *http.Client
}

func newClient(s Settings) (*client, error) {
	u, err := url.Parse(strings.TrimRight(s.URL, "/"))
	if err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: s.TLSSkipVerify} //nolint:gosec // the operator's explicit choice
	if s.TLSCACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.TLSCACert)) {
			return nil, errors.New("TLS CA certificate: not a PEM certificate")
		}
		tlsCfg.RootCAs = pool
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second}
	return &client{base: u, token: s.Token, http: &http.Client{Transport: tr}}, nil
}

// attribution names who asked, for furrow's logs and query ids.
type attribution struct {
	User, Dashboard, Panel, RefID string
}

func (a attribution) queryID() string {
	parts := []string{"grafana"}
	for _, p := range []string{a.Dashboard, a.Panel, a.RefID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return fmt.Sprintf("%s-%d", strings.Join(parts, "-"), time.Now().UnixNano())
}

func (a attribution) comment() string {
	return fmt.Sprintf("grafana_user:%s grafana_dashboard:%s grafana_panel:%s", a.User, a.Dashboard, a.Panel)
}

// httpError is an answer other than 200; downstream unless furrow failed
// on its own (5xx other than a query's).
type httpError struct {
	Status int
	Msg    string
}

func (e *httpError) Error() string { return fmt.Sprintf("furrow answered %d: %s", e.Status, e.Msg) }

func (c *client) do(ctx context.Context, method, path string, q url.Values, body string) ([]byte, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The error names the URL, never the token (it is a header).
		return nil, backend.DownstreamError(fmt.Errorf("cannot reach furrow at %s: %w", c.base.Redacted(), err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
	if err != nil {
		return nil, backend.DownstreamError(fmt.Errorf("read furrow's answer: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(b))
		var j struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &j) == nil && j.Error != "" {
			msg = j.Error
		}
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return nil, backend.DownstreamError(&httpError{Status: resp.StatusCode, Msg: msg})
	}
	return b, nil
}

// sqlResult is a result in ClickHouse's JSON format.
type sqlResult struct {
	Meta []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"meta"`
	Data [][]json.RawMessage `json:"data"`
	Rows int                 `json:"rows"`
}

// sql runs one read-only statement; maxRows+1 rows at most come back, so
// the caller can tell a capped result.
func (c *client) sql(ctx context.Context, sql string, maxRows int, a attribution, tableFilters ...string) (*sqlResult, error) {
	q := url.Values{
		"default_format": {"JSONCompact"},
		"query_id":       {a.queryID()},
		"log_comment":    {a.comment()},
		// Numbers as JSON numbers; times as Unix seconds, whatever the
		// server's time zone.
		"output_format_json_quote_64bit_integers": {"0"},
		"output_format_json_quote_64bit_floats":   {"0"},
		"output_format_json_quote_decimals":       {"0"},
		"date_time_output_format":                 {"unix_timestamp"},
		"max_result_rows":                         {strconv.Itoa(maxRows + 1)},
		"result_overflow_mode":                    {"break"},
	}
	for _, f := range tableFilters {
		if f != "" {
			q.Set("additional_table_filters", f)
		}
	}
	b, err := c.do(ctx, http.MethodPost, "/clickhouse/", q, sql)
	if err != nil {
		return nil, err
	}
	var r sqlResult
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode furrow's result: %w", err)
	}
	return &r, nil
}

// report runs one of furrow's traffic reports (GET /api/v1/traffic/…) and
// decodes its JSON into out.
func (c *client) report(ctx context.Context, name string, q url.Values, out any) error {
	q.Set("format", "json")
	b, err := c.do(ctx, http.MethodGet, "/api/v1/traffic/"+name, q, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode furrow's %s report: %w", name, err)
	}
	return nil
}

// costRows are one table of furrow's cost API: rows as objects, money as
// json.Number (exact decimal text), other cells as strings.
type costRows []map[string]any

// cost runs one of furrow's cost reports (GET /api/v1/cost/…, format
// json) and returns the rows of its table key (breakdown, network,
// summary, anomalies or drivers).
func (c *client) cost(ctx context.Context, name string, q url.Values, key string) (costRows, error) {
	q.Set("format", "json")
	b, err := c.do(ctx, http.MethodGet, "/api/v1/cost/"+name, q, "")
	if err != nil {
		return nil, err
	}
	var out map[string]costRows
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("decode furrow's cost %s: %w", name, err)
	}
	rows, ok := out[key]
	if !ok {
		return nil, fmt.Errorf("furrow's cost %s has no %q table: upgrade furrow to the plugin's version", name, key)
	}
	return rows, nil
}
