package server

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseDSN reads a Configuration from a URL such as
//
//	clickhouse://user:password@host1:9000,host2:9000/db?secure=true&cluster=main
//
// Fields the DSN does not set keep DefaultConfiguration's values. The query
// parameters are:
//
//   - secure, skip_verify (booleans): tls.enabled, tls.insecure_skip_verify
//   - ca_file, cert_file, key_file, server_name: the tls fields
//   - cluster, dial_timeout (a Go duration), max_open_conns
//   - compress: lz4, zstd or none (also true = lz4, false = none)
//   - connection_open_strategy: in_order or round_robin
//   - http_addrs: comma-separated host:port list of the HTTP interface
//   - http_port: the HTTP port on every native host (default 8123, or 8443
//     when secure), used when http_addrs is absent
//
// An unknown parameter is an error, so a typo does not silently fall back to a
// default. Errors never contain the password.
func ParseDSN(dsn string) (Configuration, error) {
	cfg := DefaultConfiguration()
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Error quotes the input, password included.
		return cfg, fmt.Errorf("parse DSN: not a URL of the form clickhouse://user:password@host:9000/database")
	}
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		return cfg, fmt.Errorf("parse DSN: scheme %q: want clickhouse://", u.Scheme)
	}
	if u.Host == "" {
		return cfg, fmt.Errorf("parse DSN: no host")
	}
	cfg.Addrs = nil
	for _, h := range strings.Split(u.Host, ",") {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "9000")
		}
		cfg.Addrs = append(cfg.Addrs, h)
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			cfg.Password = Secret(p)
		}
	}
	if db := strings.Trim(u.Path, "/"); db != "" {
		cfg.Database = db
	}

	httpPort := ""
	explicitHTTP := false
	for key, values := range u.Query() {
		v := values[len(values)-1]
		switch key {
		case "secure":
			err = parseBool(v, &cfg.TLS.Enabled)
		case "skip_verify":
			err = parseBool(v, &cfg.TLS.InsecureSkipVerify)
		case "ca_file":
			cfg.TLS.CAFile = v
		case "cert_file":
			cfg.TLS.CertFile = v
		case "key_file":
			cfg.TLS.KeyFile = v
		case "server_name":
			cfg.TLS.ServerName = v
		case "cluster":
			cfg.Cluster = v
		case "dial_timeout":
			cfg.DialTimeout, err = time.ParseDuration(v)
		case "max_open_conns":
			cfg.MaxOpenConns, err = strconv.Atoi(v)
		case "compress":
			cfg.Compression = map[string]Compression{"true": CompressionLZ4, "false": CompressionNone}[v]
			if cfg.Compression == "" {
				cfg.Compression = Compression(v)
			}
		case "connection_open_strategy":
			cfg.ConnectionStrategy = ConnectionStrategy(v)
		case "http_addrs":
			cfg.HTTPAddrs, explicitHTTP = strings.Split(v, ","), true
		case "http_port":
			httpPort = v
		default:
			err = fmt.Errorf("unknown parameter")
		}
		if err != nil {
			return cfg, fmt.Errorf("parse DSN: parameter %s: %w", key, err)
		}
	}
	if !explicitHTTP {
		if httpPort == "" {
			httpPort = map[bool]string{false: "8123", true: "8443"}[cfg.TLS.Enabled]
		}
		cfg.HTTPAddrs = nil
		for _, a := range cfg.Addrs {
			host, _, _ := net.SplitHostPort(a)
			cfg.HTTPAddrs = append(cfg.HTTPAddrs, net.JoinHostPort(host, httpPort))
		}
	}
	if err := cfg.validate(); err != nil {
		return cfg, fmt.Errorf("parse DSN: %w", err)
	}
	return cfg, nil
}

func parseBool(s string, dst *bool) error {
	v, err := strconv.ParseBool(s)
	if err == nil {
		*dst = v
	}
	return err
}
