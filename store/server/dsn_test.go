package server

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want func(c *Configuration)
	}{
		{
			name: "user, password, host, database",
			dsn:  "clickhouse://alice:s3cr%40t@ch1:9000/flows?secure=false",
			want: func(c *Configuration) {
				c.Addrs, c.HTTPAddrs = []string{"ch1:9000"}, []string{"ch1:8123"}
				c.Username, c.Password, c.Database = "alice", "s3cr@t", "flows"
			},
		},
		{
			name: "defaults kept",
			dsn:  "clickhouse://ch1",
			want: func(c *Configuration) {
				c.Addrs, c.HTTPAddrs = []string{"ch1:9000"}, []string{"ch1:8123"}
			},
		},
		{
			name: "several hosts, cluster and options",
			dsn: "clickhouse://u@ch1:9440,ch2:9440/db?secure=true&skip_verify=true&cluster=main" +
				"&dial_timeout=3s&max_open_conns=4&compress=zstd&connection_open_strategy=round_robin",
			want: func(c *Configuration) {
				c.Addrs, c.HTTPAddrs = []string{"ch1:9440", "ch2:9440"}, []string{"ch1:8443", "ch2:8443"}
				c.Username, c.Database, c.Cluster = "u", "db", "main"
				c.TLS.Enabled, c.TLS.InsecureSkipVerify = true, true
				c.DialTimeout, c.MaxOpenConns = 3*time.Second, 4
				c.Compression, c.ConnectionStrategy = CompressionZSTD, RoundRobin
			},
		},
		{
			name: "http port",
			dsn:  "clickhouse://ch1:9000,ch2:9000?http_port=18123&compress=false",
			want: func(c *Configuration) {
				c.Addrs, c.HTTPAddrs = []string{"ch1:9000", "ch2:9000"}, []string{"ch1:18123", "ch2:18123"}
				c.Compression = CompressionNone
			},
		},
		{
			name: "explicit http addrs and TLS files",
			dsn:  "tcp://ch1:9440?secure=1&http_addrs=lb:443&ca_file=/ca.pem&server_name=ch.internal",
			want: func(c *Configuration) {
				c.Addrs, c.HTTPAddrs = []string{"ch1:9440"}, []string{"lb:443"}
				c.TLS.Enabled, c.TLS.CAFile, c.TLS.ServerName = true, "/ca.pem", "ch.internal"
			},
		},
		{
			name: "IPv6 host",
			dsn:  "clickhouse://[::1]:9000/db",
			want: func(c *Configuration) {
				c.Addrs, c.HTTPAddrs, c.Database = []string{"[::1]:9000"}, []string{"[::1]:8123"}, "db"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDSN(tt.dsn)
			require.NoError(t, err)
			want := DefaultConfiguration()
			tt.want(&want)
			require.Equal(t, want, got)
		})
	}
}

func TestParseDSNErrors(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
	}{
		{"wrong scheme", "http://hunter2:hunter2@ch1:8123"},
		{"no host", "clickhouse:///db"},
		{"unknown parameter", "clickhouse://u:hunter2@ch1?secur=true"},
		{"bad bool", "clickhouse://u:hunter2@ch1?secure=maybe"},
		{"bad duration", "clickhouse://u:hunter2@ch1?dial_timeout=3"},
		{"bad compression", "clickhouse://u:hunter2@ch1?compress=snappy"},
		{"bad strategy", "clickhouse://u:hunter2@ch1?connection_open_strategy=random"},
		{"not a URL", "clickhouse://u:hunter2@ch1:port:x/%zz"},
		{"TLS option without TLS", "clickhouse://u:hunter2@ch1?ca_file=/ca.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDSN(tt.dsn)
			require.Error(t, err)
			require.False(t, strings.Contains(err.Error(), "hunter2"), "error leaks the password: %v", err)
		})
	}
}
