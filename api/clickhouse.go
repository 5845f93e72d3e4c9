package api

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/query/sqlapi"
	"github.com/furrowdev/furrow/store"
)

// The ClickHouse HTTP interface, read-only, at /clickhouse/ (and at / on
// http.clickhouse_listen): what Grafana's ClickHouse datasource,
// clickhouse-go in HTTP mode, @clickhouse/client, clickhouse-connect and
// JDBC speak. Queries go through the same sqlapi.Runner as /api/v1/sql
// (canonicalized, classified, readonly=1 on every statement, the limits),
// with what those clients need on top (sqlapi.Runner.Prepare): a FORMAT
// clause, harmless settings, every output format, Native for the client's
// protocol revision. Errors are ClickHouse's: a status, the
// X-ClickHouse-Exception-Code header and a "Code: N. DB::Exception: …"
// body, which the clients parse into their exception types.

// protocolParams are URL parameters of the HTTP interface that are not
// settings: furrow handles or ignores them (sessions, quotas and
// compression of the request are the client's business, not the data's).
var protocolParams = map[string]bool{
	"query": true, "database": true, "default_format": true, "query_id": true, "user": true, "password": true,
	"quota_key": true, "session_id": true, "session_timeout": true, "session_check": true, "stacktrace": true,
	"compress": true, "decompress": true, "buffer_size": true, "wait_end_of_query": true, "role": true,
	"client_protocol_version": true, "enable_http_compression": true, "http_zlib_compression_level": true,
	"send_progress_in_http_headers": true, "http_headers_progress_interval_ms": true, "max_query_size": true,
	"query_kind": true, "default_session_timeout": true, "http_response_buffer_size": true,
	"http_wait_end_of_query": true, "cancel_http_readonly_queries_on_client_close": true,
}

// chServerName is what the server calls itself in headers.
const chServerName = "furrow"

// engineFacts are the engine's version and time zone, asked once.
type engineFacts struct {
	once     sync.Once
	version  string
	timezone string
}

func (s *Server) engineInfo(ctx context.Context) (string, string) {
	s.facts.once.Do(func() {
		var buf bytes.Buffer
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.deps.Store.Query(ctx, &buf, "SELECT version(), timezone()", "TSV"); err == nil {
			if v, tz, ok := strings.Cut(strings.TrimSpace(buf.String()), "\t"); ok {
				s.facts.version, s.facts.timezone = v, tz
			}
		}
	})
	if s.facts.version == "" {
		return "unknown", "UTC"
	}
	return s.facts.version, s.facts.timezone
}

// handleClickHouse serves the interface under prefix ("/clickhouse" or "").
func (s *Server) handleClickHouse(prefix string) gin.HandlerFunc {
	return func(c *gin.Context) {
		path := strings.TrimPrefix(c.Request.URL.Path, prefix)
		switch path {
		case "", "/":
			// A server answers GET / without a query as a ping (load
			// balancers and JDBC health checks use it).
			if (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) && c.Query("query") == "" {
				c.String(http.StatusOK, "Ok.\n")
				return
			}
		case "/ping", "/replicas_status":
			if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
				c.String(http.StatusOK, "Ok.\n")
				return
			}
		default:
			s.chError(c, http.StatusNotFound, &store.Error{Code: 0, Name: "", Message: "There is no handle " + path + ": use / (queries), /ping or /replicas_status"})
			return
		}
		switch c.Request.Method {
		case http.MethodGet, http.MethodPost:
		case http.MethodOptions:
			c.Status(http.StatusNoContent)
			return
		default:
			s.chError(c, http.StatusMethodNotAllowed, &store.Error{Code: 0, Message: "use GET or POST"})
			return
		}
		p, err := s.chAuthenticate(c)
		if err != nil {
			return // answered
		}
		s.chQuery(c, p)
	}
}

// chAuthenticate accepts the credentials ClickHouse clients send: HTTP
// basic, X-ClickHouse-User/X-ClickHouse-Key, user/password in the URL, or
// a bearer token. The key (password) is a furrow token; the user, when
// given, is the token's subject or "default". Loopback clients need none
// in dev mode, as on the rest of the API.
func (s *Server) chAuthenticate(c *gin.Context) (Principal, error) {
	var p Principal
	if s.auth.devMode && loopbackClient(c.Request.RemoteAddr) {
		p = devPrincipal
	} else {
		user, key, found := chCredentials(c.Request)
		if !found {
			c.Header("WWW-Authenticate", `Basic realm="furrow"`)
			s.chError(c, http.StatusUnauthorized, &store.Error{Code: 516, Name: "AUTHENTICATION_FAILED",
				Message: "default: Authentication failed: send a furrow token as the password (basic auth or X-ClickHouse-Key) or as a bearer token"})
			return p, errors.New("unauthenticated")
		}
		var ok bool
		p, ok = s.auth.lookup(key)
		if !ok && s.auth.oidc != nil && looksLikeJWT(key) {
			if vp, err := s.auth.oidc.verify(c.Request.Context(), key); err == nil {
				p, ok = vp, true
			}
		}
		if !ok || (user != "" && user != "default" && user != p.Subject) {
			name := user
			if name == "" {
				name = "default"
			}
			s.chError(c, http.StatusUnauthorized, &store.Error{Code: 516, Name: "AUTHENTICATION_FAILED",
				Message: name + ": Authentication failed: password is incorrect, or there is no user with such name"})
			return p, errors.New("unauthenticated")
		}
	}
	c.Set(principalKey, p)
	if !p.Scopes.Has(ScopeRead) {
		s.chError(c, http.StatusForbidden, &store.Error{Code: 497, Name: "ACCESS_DENIED",
			Message: fmt.Sprintf("%s: Not enough privileges: the token has scopes %s; queries need read", p.Subject, orNone(p.Scopes))})
		return p, errors.New("forbidden")
	}
	return p, nil
}

func chCredentials(r *http.Request) (user, key string, found bool) {
	if u, k, ok := r.BasicAuth(); ok {
		return u, k, k != ""
	}
	if t, ok := bearer(r.Header.Get("Authorization")); ok {
		return "", t, true
	}
	if k := r.Header.Get("X-ClickHouse-Key"); k != "" {
		return r.Header.Get("X-ClickHouse-User"), k, true
	}
	q := r.URL.Query()
	if k := q.Get("password"); k != "" {
		return q.Get("user"), k, true
	}
	return "", "", false
}

func (s *Server) chQuery(c *gin.Context, p Principal) {
	start := time.Now()
	q := c.Request.URL.Query()
	text, err := s.chQueryText(c, q)
	if err != nil {
		return // answered
	}
	req := sqlapi.Request{
		SQL:           text,
		DefaultFormat: q.Get("default_format"),
		Database:      firstNonEmpty(c.GetHeader("X-ClickHouse-Database"), q.Get("database")),
		QueryID:       q.Get("query_id"),
		Settings:      map[string]string{},
	}
	if req.QueryID == "" {
		req.QueryID = newQueryID()
	}
	if f := c.GetHeader("X-ClickHouse-Format"); f != "" && req.DefaultFormat == "" {
		req.DefaultFormat = f
	}
	if v := q.Get("client_protocol_version"); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			req.ClientRevision = n
		}
	}
	for k, vs := range q {
		if len(vs) == 0 {
			continue
		}
		if name, ok := strings.CutPrefix(k, "param_"); ok {
			if name != "" {
				if req.Params == nil {
					req.Params = map[string]string{}
				}
				req.Params[name] = vs[0]
			}
			continue
		}
		if protocolParams[k] || strings.HasPrefix(k, "http_") {
			continue
		}
		req.Settings[k] = vs[0]
	}
	s.logger.Debug("clickhouse query", "query", text, "subject", p.Subject, "query_id", req.QueryID,
		"client", clientHost(c.Request.RemoteAddr))

	ctx := c.Request.Context()
	st, err := s.sql.Prepare(ctx, req)
	if err != nil {
		s.chFail(c, err)
		return
	}
	version, tz := s.engineInfo(ctx)
	h := c.Writer.Header()
	h.Set("X-ClickHouse-Query-Id", req.QueryID)
	h.Set("X-ClickHouse-Format", st.Format())
	h.Set("X-ClickHouse-Timezone", tz)
	h.Set("X-ClickHouse-Server-Display-Name", chServerName)
	h.Set("X-ClickHouse-Server-Version", version)
	if ig := st.Ignored(); len(ig) > 0 {
		h.Set("X-Furrow-Ignored-Settings", strings.Join(ig, ","))
	}
	w := &chResponse{c: c, contentType: chContentType(st.Format()), start: start,
		compress: q.Get("enable_http_compression") == "1", acceptEncoding: c.GetHeader("Accept-Encoding")}
	err = st.Run(ctx, w)
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err == nil {
		if !w.started {
			w.begin()
		}
		return
	}
	if w.started {
		// The status is gone with the first bytes: cut the connection so
		// the client sees a broken response, not a short one.
		s.logger.Warn("clickhouse query failed after the result started", "error", err, "query_id", req.QueryID)
		panic(http.ErrAbortHandler)
	}
	s.chFail(c, err)
}

// chQueryText is the query: the URL's query parameter, then the body
// (POST), joined by a newline, as a server reads them.
func (s *Server) chQueryText(c *gin.Context, q map[string][]string) (string, error) {
	text := ""
	if v := q["query"]; len(v) > 0 {
		text = v[0]
	}
	if c.Request.Method != http.MethodPost {
		return text, nil
	}
	limit := int64(s.cfg.SQL.MaxQuerySize) + 64<<10
	var body io.Reader = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	switch strings.ToLower(c.GetHeader("Content-Encoding")) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.chError(c, http.StatusBadRequest, &store.Error{Code: 354, Name: "CANNOT_DECOMPRESS", Message: "gzip request body: " + err.Error()})
			return "", err
		}
		body = io.LimitReader(zr, limit+1)
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			s.chError(c, http.StatusBadRequest, &store.Error{Code: 354, Name: "CANNOT_DECOMPRESS", Message: "deflate request body: " + err.Error()})
			return "", err
		}
		body = io.LimitReader(zr, limit+1)
	default:
		s.chError(c, http.StatusBadRequest, &store.Error{Code: 354, Name: "CANNOT_DECOMPRESS", Message: "unsupported Content-Encoding " + c.GetHeader("Content-Encoding") + ": send gzip, deflate or none"})
		return "", errors.New("encoding")
	}
	b, err := io.ReadAll(body)
	if err == nil && int64(len(b)) > limit {
		err = &http.MaxBytesError{Limit: limit}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.chError(c, http.StatusRequestEntityTooLarge, &store.Error{Code: store.CodeSyntaxError, Name: "SYNTAX_ERROR", Message: fmt.Sprintf("Max query size exceeded: the query may be at most %d bytes (sql.max_query_size)", s.cfg.SQL.MaxQuerySize)})
		} else {
			s.chError(c, http.StatusBadRequest, &store.Error{Code: 0, Message: "read the request body: " + err.Error()})
		}
		return "", err
	}
	if text != "" && len(b) > 0 {
		return text + "\n" + string(b), nil
	}
	return text + string(b), nil
}

// chFail answers a query error the way a server does.
func (s *Server) chFail(c *gin.Context, err error) {
	status := sqlStatus(err)
	if status >= 500 {
		s.logger.Error("clickhouse query failed", "error", err)
	}
	var se *store.Error
	var refused *sqlapi.RefusedError
	var limit *sqlapi.LimitError
	switch {
	case errors.As(err, &refused):
		se = &store.Error{Code: store.CodeReadonly, Name: "READONLY", Message: "furrow: " + refused.Reason}
	case errors.As(err, &limit):
		se = &store.Error{Code: store.CodeTooManyRows, Name: "TOO_MANY_ROWS_OR_BYTES", Message: limit.Error()}
		var inner *store.Error
		if errors.As(limit.Err, &inner) {
			se.Code, se.Name = inner.Code, inner.Name
		}
		if limit.Limit == "max_query_size" {
			se.Code, se.Name = store.CodeSyntaxError, "SYNTAX_ERROR"
		}
	case errors.Is(err, sqlapi.ErrEmptyQuery):
		se = &store.Error{Code: store.CodeSyntaxError, Name: "SYNTAX_ERROR", Message: "Empty query"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		se = &store.Error{Code: 394, Name: "QUERY_WAS_CANCELLED", Message: "Query was cancelled: " + err.Error()}
	case errors.As(err, &se):
	default:
		se = &store.Error{Code: 1001, Name: "STD_EXCEPTION", Message: err.Error()}
	}
	s.chError(c, status, se)
}

// chError writes a ClickHouse exception.
func (s *Server) chError(c *gin.Context, status int, se *store.Error) {
	version, _ := s.engineInfo(c.Request.Context())
	msg := strings.TrimRight(se.Message, ". ")
	body := fmt.Sprintf("Code: %d. DB::Exception: %s. ", se.Code, msg)
	if se.Name != "" {
		body += "(" + se.Name + ") "
	}
	body += "(version " + version + ")\n"
	h := c.Writer.Header()
	h.Set("X-ClickHouse-Exception-Code", strconv.Itoa(se.Code))
	if se.Name != "" {
		h.Set("X-ClickHouse-Exception-Name", se.Name)
	}
	h.Set("X-ClickHouse-Server-Display-Name", chServerName)
	c.Data(status, "text/plain; charset=UTF-8", []byte(body))
	c.Abort()
}

// chContentType is the Content-Type a server sends for a format.
func chContentType(format string) string {
	f := strings.ToLower(format)
	switch {
	case strings.HasPrefix(f, "jsoneachrow"), strings.HasPrefix(f, "jsonstringseachrow"), strings.HasPrefix(f, "jsoncompacteachrow"),
		strings.HasPrefix(f, "jsonlines"), strings.HasPrefix(f, "ndjson"), strings.HasPrefix(f, "jsoncompactstringseachrow"):
		return "application/x-ndjson; charset=UTF-8"
	case strings.HasPrefix(f, "json"):
		return "application/json; charset=UTF-8"
	case strings.HasPrefix(f, "tabseparated"), strings.HasPrefix(f, "tsv"):
		return "text/tab-separated-values; charset=UTF-8"
	case strings.HasPrefix(f, "csv"):
		return "text/csv; charset=UTF-8; header=absent"
	case strings.HasPrefix(f, "pretty"), f == "vertical", f == "markdown", f == "values", f == "xml", f == "prometheus":
		return "text/plain; charset=UTF-8"
	}
	return "application/octet-stream"
}

// chResponse sends the status and headers with the first bytes, so that
// an error found before any output gets its own status; it compresses
// when the client asked for it (enable_http_compression=1 and
// Accept-Encoding).
type chResponse struct {
	c              *gin.Context
	contentType    string
	start          time.Time
	compress       bool
	acceptEncoding string
	started        bool
	out            io.Writer
	closer         io.Closer
}

func (w *chResponse) begin() {
	w.started = true
	h := w.c.Writer.Header()
	h.Set("Content-Type", w.contentType)
	h.Set("X-ClickHouse-Summary", fmt.Sprintf(`{"read_rows":"0","read_bytes":"0","written_rows":"0","written_bytes":"0","total_rows_to_read":"0","result_rows":"0","result_bytes":"0","elapsed_ns":"%d"}`, time.Since(w.start).Nanoseconds()))
	w.out = w.c.Writer
	if w.compress {
		switch enc := preferredEncoding(w.acceptEncoding); enc {
		case "gzip":
			zw := gzip.NewWriter(w.c.Writer)
			w.out, w.closer = zw, zw
			h.Set("Content-Encoding", enc)
		case "deflate":
			zw := zlib.NewWriter(w.c.Writer)
			w.out, w.closer = zw, zw
			h.Set("Content-Encoding", enc)
		}
	}
	w.c.Status(http.StatusOK)
	w.c.Writer.WriteHeaderNow()
}

func (w *chResponse) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !w.started {
		w.begin()
	}
	return w.out.Write(p)
}

func (w *chResponse) close() error {
	if !w.started {
		if w.compress {
			w.begin() // an empty result, compressed, is still a valid stream
		} else {
			return nil
		}
	}
	if w.closer != nil {
		return w.closer.Close()
	}
	return nil
}

func preferredEncoding(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		enc, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(enc) {
		case "gzip", "deflate":
			return strings.ToLower(enc)
		}
	}
	return ""
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
