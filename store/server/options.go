package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// clientOptions builds the clickhouse-go options of one protocol. database
// may differ from c.Database: Open first connects without one to create it.
func (c Configuration) clientOptions(protocol clickhouse.Protocol, database string, tlsConfig *tls.Config, logger *slog.Logger) *clickhouse.Options {
	opts := &clickhouse.Options{
		Protocol: protocol,
		Addr:     c.Addrs,
		Auth: clickhouse.Auth{
			Database: database,
			Username: c.Username,
			Password: string(c.Password),
		},
		TLS:          tlsConfig,
		DialTimeout:  c.DialTimeout,
		MaxOpenConns: c.MaxOpenConns,
		MaxIdleConns: min(5, c.MaxOpenConns),
		Logger:       logger,
		ClientInfo: clickhouse.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "furrow", Version: "dev"}},
		},
	}
	if c.ConnectionStrategy == RoundRobin {
		opts.ConnOpenStrategy = clickhouse.ConnOpenRoundRobin
	}
	switch protocol {
	case clickhouse.HTTP:
		opts.Addr = c.HTTPAddrs
		// LZ4/ZSTD over HTTP means ClickHouse block framing, which the
		// driver skips for formatted results anyway.
		opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionNone}
		// Without this, a SELECT that has not produced output yet (a long
		// aggregation) keeps running on the server after the client
		// cancelled and closed the connection.
		opts.Settings = clickhouse.Settings{"cancel_http_readonly_queries_on_client_close": 1}
	default:
		method := map[Compression]clickhouse.CompressionMethod{
			CompressionLZ4:  clickhouse.CompressionLZ4,
			CompressionZSTD: clickhouse.CompressionZSTD,
			CompressionNone: clickhouse.CompressionNone,
		}[c.Compression]
		opts.Compression = &clickhouse.Compression{Method: method}
	}
	return opts
}

// tlsConfig loads the certificates named by the configuration; nil when TLS
// is off.
func (t TLSConfiguration) tlsConfig() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // opt-in, documented as test-only
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: no PEM certificate in %s", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file, tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
