package deploys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/store"
)

// Column is a result column: its name and ClickHouse type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a metric's table.
type Result struct {
	Metric  string
	Columns []Column
	// Rows hold numbers as json.Number, times and text as strings, NULL
	// as nil.
	Rows [][]any
}

// MarshalJSON writes {"metric", "columns", "rows"}, each row an object.
func (r Result) MarshalJSON() ([]byte, error) {
	rows := make([]map[string]any, len(r.Rows))
	for i, row := range r.Rows {
		m := make(map[string]any, len(row))
		for j, v := range row {
			m[r.Columns[j].Name] = v
		}
		rows[i] = m
	}
	return json.Marshal(struct {
		Metric  string           `json:"metric"`
		Columns []Column         `json:"columns"`
		Rows    []map[string]any `json:"rows"`
	}{r.Metric, r.Columns, rows})
}

// Reports runs the metrics on a store.
type Reports struct {
	s store.Store
}

// New returns the reports of s, migrated to 0016 or later.
func New(s store.Store) *Reports { return &Reports{s: s} }

// Run computes p's metric.
func (r *Reports) Run(ctx context.Context, p Params) (Result, error) {
	sql, err := SQL(p)
	if err != nil {
		return Result{}, err
	}
	var buf bytes.Buffer
	if err := r.s.Query(ctx, &buf, sql, "JSONCompact", store.WithSettings(map[string]string{
		"output_format_json_quote_64bit_integers": "0",
		"output_format_json_quote_denormals":      "0",
	})); err != nil {
		return Result{}, fmt.Errorf("deploy metric %s: %w", p.Metric, err)
	}
	var out struct {
		Meta []Column `json:"meta"`
		Data [][]any  `json:"data"`
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return Result{}, fmt.Errorf("deploy metric %s: read the result: %w", p.Metric, err)
	}
	if out.Data == nil {
		out.Data = [][]any{}
	}
	return Result{Metric: p.Metric, Columns: out.Meta, Rows: out.Data}, nil
}

// Routes registers GET /deploys/metrics on read (mounted at /api/v1):
//
//	GET /deploys/metrics?metric=M&from=T&to=T[&by=project,environment][&period=day|week][&within=24h]
//	    [&project=…][&environment=…][&team=…][&source=…]
//
// from and to are RFC 3339 or YYYY-MM-DD (a date-only to includes that
// day); the default range is the last 30 days. Filters repeat or take
// comma-separated lists. Bad input is answered 400 with {"error": "…"}.
func (r *Reports) Routes(read gin.IRoutes) {
	read.GET("/deploys/metrics", func(c *gin.Context) {
		p, err := ParseQuery(c.Request.URL.Query(), time.Now())
		if err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		res, err := r.Run(c.Request.Context(), p)
		switch {
		case errors.Is(err, ErrBadParams):
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		case err != nil:
			c.JSON(http.StatusBadGateway, gin.H{"error": err.Error()})
		default:
			c.JSON(http.StatusOK, res)
		}
	})
}

// ParseQuery reads a metrics request's query string.
func ParseQuery(q map[string][]string, now time.Time) (Params, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[len(v)-1])
		}
		return ""
	}
	list := func(k string) []string {
		var out []string
		for _, v := range q[k] {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	p := Params{Metric: get("metric"), By: list("by"), Period: get("period"),
		Project: list("project"), Environment: list("environment"), Team: list("team"), Source: list("source")}
	var err error
	if p.To, err = parseTime("to", get("to"), true); err != nil {
		return Params{}, err
	}
	if p.From, err = parseTime("from", get("from"), false); err != nil {
		return Params{}, err
	}
	if p.To.IsZero() {
		p.To = now.UTC()
	}
	if p.From.IsZero() {
		p.From = p.To.Add(-30 * 24 * time.Hour)
	}
	if w := get("within"); w != "" {
		if p.Within, err = parseWithin(w); err != nil {
			return Params{}, err
		}
	}
	return p, p.Validate()
}

func parseTime(name, s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.Add(24 * time.Hour)
		}
		return d, nil
	}
	return time.Time{}, fmt.Errorf("%w: %s %q: use RFC 3339 (2026-11-30T10:00:00Z) or a date (2026-11-30)", ErrBadParams, name, s)
}

// parseWithin reads a duration such as 24h, 90m or 2d.
func parseWithin(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: within %q: use a duration such as 24h or 2d", ErrBadParams, s)
	}
	return d, nil
}
