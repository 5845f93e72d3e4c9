package traffic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Routes registers the traffic API on g (mounted at /api/v1 by the server):
//
//	GET /traffic/top?by=namespace|workload|zone
//	GET /traffic/cost-per-day
//	GET /traffic/before-after?at=…[&window=7d]
//	GET /traffic/zone-skew
//
// All take from, to (RFC3339 or YYYY-MM-DD; a date-only to includes that
// day), cluster, namespace, workload, class (repeatable or comma-separated;
// "all" for every class), limit and format (json, the default, csv or
// table). Bad input is answered 400 with {"error": "…"}.
func (r *Reports) Routes(g *gin.RouterGroup) {
	g.GET("/traffic/top", r.handle(func(ctx context.Context, c *gin.Context, f Filter) (Result, error) {
		by, err := ParseBy(c.DefaultQuery("by", string(ByNamespace)))
		if err != nil {
			return nil, err
		}
		return r.TopTalkers(ctx, f, by)
	}))
	g.GET("/traffic/cost-per-day", r.handle(func(ctx context.Context, _ *gin.Context, f Filter) (Result, error) {
		return r.CostPerDay(ctx, f)
	}))
	g.GET("/traffic/before-after", r.handle(func(ctx context.Context, c *gin.Context, f Filter) (Result, error) {
		at, err := ParseTime("at", c.Query("at"), false)
		if err != nil {
			return nil, err
		}
		window, err := ParseWindow(c.Query("window"))
		if err != nil {
			return nil, err
		}
		return r.BeforeAfter(ctx, f, at, window)
	}))
	g.GET("/traffic/zone-skew", r.handle(func(ctx context.Context, _ *gin.Context, f Filter) (Result, error) {
		return r.ZoneSkew(ctx, f)
	}))
}

// handle parses the common parameters, runs one report and renders it.
func (r *Reports) handle(run func(context.Context, *gin.Context, Filter) (Result, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		format, err := ParseFormat(c.DefaultQuery("format", FormatJSON))
		if err != nil {
			fail(c, err)
			return
		}
		f, err := filterFromQuery(c)
		if err != nil {
			fail(c, err)
			return
		}
		res, err := run(c.Request.Context(), c, f)
		if err != nil {
			fail(c, err)
			return
		}
		var buf bytes.Buffer
		if err := Render(&buf, res, format); err != nil {
			fail(c, err)
			return
		}
		c.Data(http.StatusOK, contentType[format], buf.Bytes())
	}
}

var contentType = map[string]string{
	FormatJSON:  "application/json; charset=utf-8",
	FormatCSV:   "text/csv; charset=utf-8",
	FormatTable: "text/plain; charset=utf-8",
}

// fail answers 400 for bad input and 500 for everything else.
func fail(c *gin.Context, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, ErrBadFilter) {
		code = http.StatusBadRequest
	}
	c.AbortWithStatusJSON(code, gin.H{"error": err.Error()})
}

// filterFromQuery reads the Filter parameters of a request.
func filterFromQuery(c *gin.Context) (Filter, error) {
	var f Filter
	var err error
	if f.From, err = ParseTime("from", c.Query("from"), false); err != nil {
		return f, err
	}
	if f.To, err = ParseTime("to", c.Query("to"), true); err != nil {
		return f, err
	}
	f.Cluster, f.Namespace, f.Workload = c.Query("cluster"), c.Query("namespace"), c.Query("workload")
	for _, v := range c.QueryArray("class") {
		for _, cl := range strings.Split(v, ",") {
			if cl = strings.TrimSpace(cl); cl != "" {
				f.Classes = append(f.Classes, cl)
			}
		}
	}
	if s := c.Query("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 {
			return f, fmt.Errorf("%w: limit must be a positive integer, not %q", ErrBadFilter, s)
		}
	}
	return f, f.validate()
}

// ParseTime reads RFC3339 or YYYY-MM-DD (UTC). A date-only end of a range
// means the end of that day. An empty value is the zero time, except for
// "at", which is required.
func ParseTime(name, s string, end bool) (time.Time, error) {
	if s == "" {
		if name == "at" {
			return time.Time{}, fmt.Errorf("%w: at is required (RFC3339 or YYYY-MM-DD)", ErrBadFilter)
		}
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s must be RFC3339 (2026-03-01T00:00:00Z) or YYYY-MM-DD, not %q", ErrBadFilter, name, s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// ParseWindow reads a Go duration ("168h") or a number of days ("7d").
func ParseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if w, err := time.ParseDuration(s); err == nil && w > 0 {
		return w, nil
	}
	return 0, fmt.Errorf("%w: window must be a positive duration such as 7d or 36h, not %q", ErrBadFilter, s)
}
