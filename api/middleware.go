package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// routeLabel is the matched route pattern, bounded for metrics: unmatched
// paths all count as one.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// observe logs and counts each request once it is served. The log carries
// the token's subject, but neither headers (Authorization) nor the query
// string (SQL parameters).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	// Deferred, so that a request cut by http.ErrAbortHandler counts too.
	defer s.record(c, start)
	c.Next()
}

func (s *Server) record(c *gin.Context, start time.Time) {
	elapsed := time.Since(start)
	route := routeLabel(c)
	status := c.Writer.Status()
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
	level := slog.LevelInfo
	if route == "/healthz" || route == "/readyz" || route == "/metrics" {
		level = slog.LevelDebug // probes and scrapes would drown the log
	}
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.Int("bytes", c.Writer.Size()),
		slog.String("client", clientHost(c.Request.RemoteAddr)),
		slog.String("subject", RequestPrincipal(c).Subject))
}

// recoverPanic turns a handler's panic into a 500, except
// http.ErrAbortHandler, which handlers raise on purpose to cut a response
// whose body is already partly sent.
func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(v)
		}
		s.logger.Error("handler panicked", "route", routeLabel(c), "panic", v)
		if !c.Writer.Written() {
			abortJSON(c, http.StatusInternalServerError, "internal error", nil)
		}
	}()
	c.Next()
}
