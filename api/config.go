package api

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/furrowdev/furrow/query/sqlapi"
)

// Configuration is the HTTP server's configuration.
type Configuration struct {
	// Listen is the TCP address to listen on; port 0 picks a free port.
	Listen string `yaml:"listen"`
	// Tokens are bearer tokens with the read scope only (SQL, reports,
	// ingest status, metrics); their subjects are http.tokens[N]. Grant
	// ingest or admin with a line of TokensFile.
	Tokens []Secret `yaml:"tokens"`
	// TokensFile names a file of more tokens, one per line: "SUBJECT
	// SCOPE[,SCOPE] TOKEN" (scopes read, ingest, write, admin; admin implies the
	// others), or a bare token, which has the read scope only. Blank lines
	// and lines starting with # are ignored. It keeps tokens out of the main
	// configuration file (a Kubernetes Secret mounted as a file).
	TokensFile string `yaml:"tokens_file"`
	// DevMode lets loopback clients in without a token, with every scope
	// (subject "dev-loopback"). Any local reverse proxy is a loopback client
	// too, so never enable it behind one.
	DevMode bool `yaml:"dev_mode"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the response; it must exceed sql.max_execution_time.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// ShutdownTimeout bounds the wait for in-flight requests on Stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// OIDC accepts bearers from the company's identity provider.
	OIDC OIDCConfiguration `yaml:"oidc"`
	// ClickHouseListen, when set, also serves the ClickHouse HTTP interface
	// (always at /clickhouse/ on Listen) at the root of its own address,
	// for tools that cannot be given a path (e.g. "127.0.0.1:8123").
	// Same tokens and dev-mode rule as Listen.
	ClickHouseListen string `yaml:"clickhouse_listen"`
	// SQL limits the queries of POST /api/v1/sql and of the ClickHouse
	// HTTP interface.
	SQL sqlapi.Configuration `yaml:"sql"`
}

// DefaultConfiguration listens on loopback only, with no token: set tokens
// (or dev_mode for local use) to reach /api/v1.
func DefaultConfiguration() Configuration {
	return Configuration{
		Listen:          "127.0.0.1:8080",
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    5 * time.Minute,
		ShutdownTimeout: 30 * time.Second,
		SQL:             sqlapi.DefaultConfiguration(),
		OIDC:            DefaultOIDCConfiguration(),
	}
}

// Validate checks the fields that do not need the file system.
func (c Configuration) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: %w (use host:port, e.g. 127.0.0.1:8080)", c.Listen, err)
	}
	if c.ClickHouseListen != "" {
		if _, _, err := net.SplitHostPort(c.ClickHouseListen); err != nil {
			return fmt.Errorf("clickhouse_listen %q: %w (use host:port, e.g. 127.0.0.1:8123)", c.ClickHouseListen, err)
		}
	}
	if c.WriteTimeout > 0 && c.WriteTimeout <= c.SQL.MaxExecutionTime {
		return fmt.Errorf("write_timeout (%s) must exceed sql.max_execution_time (%s), or results would be cut off", c.WriteTimeout, c.SQL.MaxExecutionTime)
	}
	if c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.ShutdownTimeout < 0 {
		return errors.New("read_timeout, write_timeout and shutdown_timeout must not be negative")
	}
	if err := c.OIDC.Validate(); err != nil {
		return err
	}
	return c.SQL.Validate()
}

// loopbackListen reports whether addr only accepts local connections.
// An empty host (":8080") listens on every interface.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
