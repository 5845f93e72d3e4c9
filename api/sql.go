package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/query/sqlapi"
	"github.com/furrowdev/furrow/store"
)

// sqlRequest is the JSON form of POST /api/v1/sql.
type sqlRequest struct {
	Query  string            `json:"query"`
	Format string            `json:"format"`
	Params map[string]string `json:"params"`
}

// handleSQL serves POST /api/v1/sql like ClickHouse's HTTP interface: the
// body is the query, ?format= picks the output format and ?param_x=v binds
// {x:Type}. A JSON body ({"query", "format", "params"}, Content-Type
// application/json) may carry the same; its fields win over the URL's.
func (s *Server) handleSQL(c *gin.Context) {
	req, err := s.readSQLRequest(c)
	if err != nil {
		return // readSQLRequest answered
	}
	format, err := sqlapi.ParseFormat(req.Format)
	if err != nil {
		abortJSON(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	names := make([]string, 0, len(req.Params))
	for k := range req.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	// The query is logged, parameter values are not: they may be what the
	// analyst looks for (an address, a user name).
	s.logger.Debug("sql query", "query", req.Query, "format", string(format), "params", names,
		"client", clientHost(c.Request.RemoteAddr))

	w := &deferredWriter{c: c, contentType: format.ContentType()}
	err = s.sql.Run(c.Request.Context(), w, req.Query, format, req.Params)
	if err == nil {
		if !w.started {
			c.Header("Content-Type", format.ContentType())
			c.Status(http.StatusOK)
			c.Writer.WriteHeaderNow()
		}
		return
	}
	if w.started {
		// The status is gone with the first bytes: cut the connection so
		// the client sees a broken response, not a short one.
		s.logger.Warn("sql query failed after the result started", "error", err)
		panic(http.ErrAbortHandler)
	}
	status := sqlStatus(err)
	if status >= 500 {
		s.logger.Error("sql query failed", "error", err)
	}
	var se *store.Error
	if !errors.As(err, &se) {
		se = nil
	}
	abortJSON(c, status, err.Error(), se)
}

// readSQLRequest decodes the request, or answers with an error and returns
// a non-nil error.
func (s *Server) readSQLRequest(c *gin.Context) (sqlRequest, error) {
	// A JSON body may escape every character of the query (\u0027): allow
	// for it, the runner checks the decoded length.
	limit := int64(s.cfg.SQL.MaxQuerySize)*6 + 64<<10
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			abortJSON(c, http.StatusRequestEntityTooLarge, "request body too large: the query may be at most sql.max_query_size bytes", nil)
		} else {
			abortJSON(c, http.StatusBadRequest, "read request body: "+err.Error(), nil)
		}
		return sqlRequest{}, err
	}
	var req sqlRequest
	if mt, _, _ := mime.ParseMediaType(c.ContentType()); mt == "application/json" {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			abortJSON(c, http.StatusBadRequest, `invalid JSON body: send {"query": "...", "format": "...", "params": {...}}: `+err.Error(), nil)
			return sqlRequest{}, err
		}
	} else {
		req.Query = string(body)
	}
	q := c.Request.URL.Query()
	if req.Format == "" {
		req.Format = q.Get("format")
	}
	for k, v := range q {
		name, ok := strings.CutPrefix(k, "param_")
		if !ok || name == "" || len(v) == 0 {
			continue
		}
		if req.Params == nil {
			req.Params = map[string]string{}
		}
		if _, set := req.Params[name]; !set {
			req.Params[name] = v[0]
		}
	}
	return req, nil
}

// deferredWriter sends the status and Content-Type with the first bytes of
// the result, so an error found before any output still gets its own status
// and JSON body.
type deferredWriter struct {
	c           *gin.Context
	contentType string
	started     bool
}

func (w *deferredWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !w.started {
		w.started = true
		w.c.Header("Content-Type", w.contentType)
		w.c.Status(http.StatusOK)
	}
	return w.c.Writer.Write(p)
}
