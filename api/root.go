// Package api is furrow's HTTP server (gin): health and readiness probes,
// Prometheus metrics, and the authenticated /api/v1 group where components
// register their routes. It serves POST /api/v1/sql itself, for analysts'
// read-only SQL (see package query/sqlapi).
//
// Authentication is a bearer token on /api/v1 and /metrics; /healthz and
// /readyz are open so probes need no secret. In dev mode, loopback clients
// need no token. Each token has a subject, logged with every request, and
// scopes (read, ingest, write, admin) that each route group checks (see Group).
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/furrowdev/furrow/query/sqlapi"
	"github.com/furrowdev/furrow/store"
)

// Dependencies are what the server needs from the rest of furrow.
type Dependencies struct {
	// Store runs the SQL endpoint's queries.
	Store store.Store
	// Registry receives the server's metrics and is what /metrics serves.
	Registry *prometheus.Registry
	// Logger receives request logs; nil discards them.
	Logger *slog.Logger
	// Ready reports whether furrow can serve (store reachable, migrations
	// applied); nil falls back to pinging the store.
	Ready func(ctx context.Context) error
}

// Server is the HTTP server. Build it with New, add routes to Group, then
// Start it; Stop drains it.
type Server struct {
	cfg     Configuration
	deps    Dependencies
	logger  *slog.Logger
	metrics *httpMetrics
	auth    *authenticator
	sql     *sqlapi.Runner
	engine  *gin.Engine
	groups  map[string]*gin.RouterGroup // by scopes, see Group
	facts   engineFacts                 // the engine's version and time zone, for the ClickHouse interface

	mu   sync.Mutex
	http *http.Server
	addr net.Addr
	done chan struct{} // closed when Serve returns

	// The ClickHouse interface's own listener (clickhouse_listen).
	chHTTP *http.Server
	chAddr net.Addr
	chDone chan struct{}
}

// New checks the configuration and builds the router. It does not listen:
// routes can be added to Group until Start. It refuses a server that would
// let anyone in: no token, no dev mode, and a listen address reachable from
// other hosts.
func New(cfg Configuration, deps Dependencies) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if deps.Store == nil || deps.Registry == nil {
		return nil, errors.New("api: Store and Registry are required")
	}
	tokens, err := cfg.AllTokens()
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if len(tokens) == 0 && cfg.OIDC.Issuer == "" && !cfg.DevMode && !loopbackListen(cfg.Listen) {
		return nil, fmt.Errorf("api: refusing to listen on %s without authentication: set tokens or tokens_file, or listen on 127.0.0.1", cfg.Listen)
	}
	if len(tokens) == 0 && !cfg.DevMode && cfg.ClickHouseListen != "" && !loopbackListen(cfg.ClickHouseListen) {
		return nil, fmt.Errorf("api: refusing to listen on %s without authentication: set tokens or tokens_file, or listen on 127.0.0.1", cfg.ClickHouseListen)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		deps:    deps,
		logger:  logger,
		metrics: newHTTPMetrics(deps.Registry),
		auth:    newAuthenticator(tokens, cfg.DevMode),
		sql:     sqlapi.New(deps.Store, cfg.SQL),
	}
	for _, t := range tokens {
		logger.Debug("api: token accepted", "subject", t.Subject, "scopes", t.Scopes.String())
	}
	if len(tokens) == 0 && !cfg.DevMode {
		logger.Warn("api: no token configured: every /api/v1 and /metrics request will be refused; set tokens or tokens_file")
	}
	if cfg.OIDC.Issuer != "" {
		s.auth.oidc = &oidcVerifier{cfg: cfg.OIDC}
	}
	s.engine = s.router()
	return s, nil
}

// router builds the gin engine. gin's mode is process-wide; release mode
// only silences gin's own debug printing, which the request log replaces.
func (s *Server) router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// The client is the TCP peer: X-Forwarded-For is set by whoever sends
	// the request, so it must not decide who is on loopback.
	_ = e.SetTrustedProxies(nil)
	e.ForwardedByClientIP = false
	e.Use(s.observe, s.recoverPanic)
	e.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	e.GET("/readyz", s.readyz)
	// Metrics name tables, tenants and error rates: not for everyone.
	e.GET("/metrics", s.auth.middleware, needScope(ScopeRead), gin.WrapH(promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{})))
	s.groups = map[string]*gin.RouterGroup{}
	s.group(e, ScopeRead).POST("/sql", s.handleSQL)
	// The ClickHouse HTTP interface authenticates as ClickHouse clients do
	// (basic auth, X-ClickHouse-Key…) and answers errors as a server does.
	e.Any("/clickhouse", s.handleClickHouse("/clickhouse"))
	e.Any("/clickhouse/*path", s.handleClickHouse("/clickhouse"))
	return e
}

// group is Group on e, for router, which runs before s.engine is set.
func (s *Server) group(e *gin.Engine, scopes ...Scope) *gin.RouterGroup {
	if len(scopes) == 0 {
		panic("api: a route group needs at least one scope")
	}
	key := Scopes(scopes).String()
	if g, ok := s.groups[key]; ok {
		return g
	}
	g := e.Group("/api/v1", s.auth.middleware, needScope(scopes...))
	s.groups[key] = g
	return g
}

// Router is the gin engine, for routes outside /api/v1 (add them before
// Start).
func (s *Server) Router() *gin.Engine { return s.engine }

// Group is the authenticated /api/v1 group whose routes need a token with
// one of scopes (or admin); components register their routes there
// (before Start). There is no group without a scope, so that no route can
// be registered for every token by omission.
func (s *Server) Group(scopes ...Scope) *gin.RouterGroup { return s.group(s.engine, scopes...) }

// SelfAuthenticated is the /api/v1 group without the token check, for the
// routes whose callers cannot send a furrow token and that check their
// requests themselves: Slack's interactions (Slack signs them) and the
// alert webhooks of a sender with credentials of its own. A route
// registered here must refuse, with 401, a request it cannot authenticate.
func (s *Server) SelfAuthenticated() *gin.RouterGroup { return s.engine.Group("/api/v1") }

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	check := s.deps.Ready
	if check == nil {
		check = s.deps.Store.Ping
	}
	if err := check(ctx); err != nil {
		c.String(http.StatusServiceUnavailable, "not ready: %v", err)
		return
	}
	c.String(http.StatusOK, "ok")
}

// Start listens on the configured address and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.http != nil {
		return errors.New("api: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr = ln.Addr()
	s.http = &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	if s.cfg.ClickHouseListen != "" {
		chLn, err := lc.Listen(ctx, "tcp", s.cfg.ClickHouseListen)
		if err != nil {
			_ = ln.Close()
			s.http = nil
			return fmt.Errorf("api: listen on %s (clickhouse_listen): %w", s.cfg.ClickHouseListen, err)
		}
		e := gin.New()
		_ = e.SetTrustedProxies(nil)
		e.ForwardedByClientIP = false
		e.Use(s.observe, s.recoverPanic)
		e.Any("/*path", s.handleClickHouse(""))
		s.chAddr = chLn.Addr()
		s.chHTTP = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: s.cfg.ReadTimeout,
			WriteTimeout: s.cfg.WriteTimeout, ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
		s.chDone = make(chan struct{})
		s.logger.Info("api: ClickHouse HTTP interface listening", "address", s.chAddr.String())
		go func() {
			defer close(s.chDone)
			if err := s.chHTTP.Serve(chLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.logger.Error("api: ClickHouse interface stopped", "error", err)
			}
		}()
	}
	if s.cfg.DevMode {
		s.logger.Warn("api: dev mode: requests from loopback clients need no token (any local reverse proxy counts as loopback)", "address", s.addr.String())
	}
	s.logger.Info("api: listening", "address", s.addr.String())
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("api: server stopped", "error", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on (the real port when the
// configuration asked for port 0), or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == nil {
		return ""
	}
	return s.addr.String()
}

// ClickHouseAddr is the address of the ClickHouse interface's own
// listener, or "" when there is none (or before Start).
func (s *Server) ClickHouseAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chAddr == nil {
		return ""
	}
	return s.chAddr.String()
}

// Stop stops accepting connections and waits for in-flight requests, at
// most shutdown_timeout (or until ctx is done); then it closes what is
// left.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.http, s.done
	chSrv, chDone := s.chHTTP, s.chDone
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if s.cfg.ShutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
		defer cancel()
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("api: graceful shutdown: %w", err), srv.Close())
	}
	if chSrv != nil {
		if cerr := chSrv.Shutdown(ctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("api: graceful shutdown of the ClickHouse interface: %w", cerr), chSrv.Close())
		}
		<-chDone
	}
	<-done
	s.logger.Info("api: stopped")
	return err
}
