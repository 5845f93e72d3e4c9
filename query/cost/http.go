package cost

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

	"github.com/furrowdev/furrow/query/traffic"
)

var contentType = map[string]string{
	FormatJSON: "application/json; charset=utf-8", FormatCSV: "text/csv; charset=utf-8", FormatTable: "text/plain; charset=utf-8",
}

// Routes registers the cost API on read and write (mounted at /api/v1):
//
//	GET  /cost/breakdown?by=team,project&granularity=day&metric=billed&shared=spread
//	GET  /cost/network
//	GET  /cost/summary[?at=…]
//	GET  /cost/anomalies
//	GET  /cost/anomalies/drivers?day=…&team=…&project=…&service=…&currency=…
//	POST /cost/allocate
//
// The GETs take from and to (RFC3339 or YYYY-MM-DD; a date-only to
// includes that day) and format (json, the default, csv or table); the
// breakdown also team, project, namespace, service, currency and limit.
// Bad parameters are answered 400 with {"error": "…"}.
func (c *Component) Routes(read, write gin.IRoutes) {
	read.GET("/cost/breakdown", c.handle(func(ctx context.Context, g *gin.Context, from, to time.Time) (Table, error) {
		limit, err := intParam(g, "limit")
		if err != nil {
			return Table{}, err
		}
		q := Query{From: from, To: to, Granularity: g.Query("granularity"), Metric: g.Query("metric"), Shared: g.Query("shared"),
			Team: g.Query("team"), Project: g.Query("project"), Namespace: g.Query("namespace"), Service: g.Query("service"),
			Currency: g.Query("currency"), Limit: limit}
		for _, b := range g.QueryArray("by") {
			for _, d := range strings.Split(b, ",") {
				if d = strings.TrimSpace(d); d != "" {
					q.By = append(q.By, d)
				}
			}
		}
		return c.Breakdown(ctx, q)
	}))
	read.GET("/cost/network", c.handle(func(ctx context.Context, _ *gin.Context, from, to time.Time) (Table, error) {
		return c.Network(ctx, from, to)
	}))
	read.GET("/cost/summary", c.handle(func(ctx context.Context, g *gin.Context, _, _ time.Time) (Table, error) {
		at := c.deps.Now()
		if s := g.Query("at"); s != "" {
			t, err := traffic.ParseTime("at", s, false)
			if err != nil {
				return Table{}, err
			}
			at = t
		}
		return c.Summary(ctx, at)
	}))
	read.GET("/cost/anomalies", c.handle(func(ctx context.Context, _ *gin.Context, from, to time.Time) (Table, error) {
		return c.Anomalies(ctx, from, to)
	}))
	read.GET("/cost/anomalies/drivers", c.handle(func(ctx context.Context, g *gin.Context, _, _ time.Time) (Table, error) {
		day, err := traffic.ParseTime("day", g.Query("day"), false)
		if err != nil {
			return Table{}, err
		}
		if day.IsZero() || g.Query("service") == "" || g.Query("currency") == "" {
			return Table{}, fmt.Errorf("%w: day, service and currency are required", ErrBadRequest)
		}
		limit, err := intParam(g, "limit")
		if err != nil {
			return Table{}, err
		}
		return c.Drivers(ctx, day, g.Query("team"), g.Query("project"), g.Query("service"), g.Query("currency"), limit)
	}))
	write.POST("/cost/allocate", func(g *gin.Context) {
		rep, err := c.Allocate(g.Request.Context(), nil)
		if err != nil {
			fail(g, err)
			return
		}
		g.JSON(http.StatusOK, rep)
	})
}

func intParam(g *gin.Context, name string) (int, error) {
	s := g.Query(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s must be a whole number, not %q", ErrBadRequest, name, s)
	}
	return n, nil
}

func (c *Component) handle(run func(context.Context, *gin.Context, time.Time, time.Time) (Table, error)) gin.HandlerFunc {
	return func(g *gin.Context) {
		format := g.DefaultQuery("format", FormatJSON)
		if _, ok := contentType[format]; !ok {
			fail(g, fmt.Errorf("%w: format must be table, csv or json, not %q", ErrBadRequest, format))
			return
		}
		from, err := traffic.ParseTime("from", g.Query("from"), false)
		if err != nil {
			fail(g, err)
			return
		}
		to, err := traffic.ParseTime("to", g.Query("to"), true)
		if err != nil {
			fail(g, err)
			return
		}
		t, err := run(g.Request.Context(), g, from, to)
		if err != nil {
			fail(g, err)
			return
		}
		var buf bytes.Buffer
		if err := Render(&buf, format, t); err != nil {
			fail(g, err)
			return
		}
		g.Data(http.StatusOK, contentType[format], buf.Bytes())
	}
}

func fail(g *gin.Context, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, ErrBadRequest) || errors.Is(err, traffic.ErrBadFilter) {
		code = http.StatusBadRequest
	}
	g.AbortWithStatusJSON(code, gin.H{"error": err.Error()})
}
