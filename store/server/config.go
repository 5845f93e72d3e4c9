package server

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Configuration describes how to reach a ClickHouse server or cluster.
type Configuration struct {
	// Addrs are the host:port endpoints of the native protocol (port 9000,
	// 9440 with TLS). Exec, Insert and Ping use them.
	Addrs []string `yaml:"addrs"`
	// HTTPAddrs are the host:port endpoints of the HTTP interface (port
	// 8123, 8443 with TLS). Query uses them: only over HTTP does the server
	// itself encode results in any output format (see query.go).
	HTTPAddrs []string `yaml:"http_addrs"`
	// Database holds every unqualified table; Open creates it if missing.
	// It comes from store.database (or the DSN), not from this section.
	Database string `yaml:"-"`
	// Username authenticates both protocols.
	Username string `yaml:"username"`
	// Password authenticates both protocols; it never appears in errors
	// or logs.
	Password Secret `yaml:"password"`
	// TLS secures both protocols.
	TLS TLSConfiguration `yaml:"tls"`
	// Cluster is the cluster name for ON CLUSTER DDL; empty for a single
	// node.
	Cluster string `yaml:"cluster"`
	// DialTimeout bounds establishing one connection.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// MaxOpenConns bounds the connections of each protocol's pool.
	MaxOpenConns int `yaml:"max_open_conns"`
	// Compression compresses native-protocol blocks: lz4, zstd or none.
	// Formatted HTTP results are not block-compressed.
	Compression Compression `yaml:"compression"`
	// ConnectionStrategy picks the address of a new connection: in_order
	// (the first that answers, the others are fallbacks) or round_robin
	// (spread over all).
	ConnectionStrategy ConnectionStrategy `yaml:"connection_strategy"`
}

// TLSConfiguration secures connections to ClickHouse.
type TLSConfiguration struct {
	// Enabled turns TLS on for both protocols.
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of authorities trusted for the server's
	// certificate; empty means the system pool.
	CAFile string `yaml:"ca_file"`
	// CertFile is the PEM client certificate for mutual TLS, with KeyFile.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key of CertFile.
	KeyFile string `yaml:"key_file"`
	// ServerName overrides the name checked against the server's
	// certificate; empty means the host of each address.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate checks; for tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Compression is a native-protocol block compression method.
type Compression string

// Compression methods.
const (
	CompressionLZ4  Compression = "lz4"
	CompressionZSTD Compression = "zstd"
	CompressionNone Compression = "none"
)

// ConnectionStrategy is how a new connection picks among Addrs.
type ConnectionStrategy string

// Connection strategies.
const (
	InOrder    ConnectionStrategy = "in_order"
	RoundRobin ConnectionStrategy = "round_robin"
)

// DefaultConfiguration is a local single-node server.
func DefaultConfiguration() Configuration {
	return Configuration{
		Addrs:              []string{"127.0.0.1:9000"},
		HTTPAddrs:          []string{"127.0.0.1:8123"},
		Database:           "furrow",
		Username:           "default",
		DialTimeout:        10 * time.Second,
		MaxOpenConns:       16,
		Compression:        CompressionLZ4,
		ConnectionStrategy: InOrder,
	}
}

// validate reports every problem at once, each naming its YAML key.
func (c Configuration) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	checkAddrs := func(key string, addrs []string) {
		if len(addrs) == 0 {
			bad("%s: at least one host:port is required", key)
		}
		for _, a := range addrs {
			if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
				bad("%s: %q is not host:port", key, a)
			}
		}
	}
	checkAddrs("addrs", c.Addrs)
	checkAddrs("http_addrs", c.HTTPAddrs)

	if c.Database == "" {
		bad("database: required")
	}
	if strings.ContainsAny(c.Database, "`\x00") || strings.ContainsAny(c.Cluster, "`\x00") {
		bad("database, cluster: backquotes and NUL are not allowed in names")
	}
	if c.Username == "" {
		bad("username: required (ClickHouse's built-in user is \"default\")")
	}
	if c.DialTimeout <= 0 {
		bad("dial_timeout: must be positive, got %s", c.DialTimeout)
	}
	if c.MaxOpenConns <= 0 {
		bad("max_open_conns: must be positive, got %d", c.MaxOpenConns)
	}
	switch c.Compression {
	case CompressionLZ4, CompressionZSTD, CompressionNone:
	default:
		bad("compression: %q is not one of lz4, zstd, none", c.Compression)
	}
	switch c.ConnectionStrategy {
	case InOrder, RoundRobin:
	default:
		bad("connection_strategy: %q is not one of in_order, round_robin", c.ConnectionStrategy)
	}

	t := c.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls: cert_file and key_file go together")
	}
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		bad("tls: options are set but tls.enabled is false; enable TLS or remove them")
	}
	return errors.Join(errs...)
}
