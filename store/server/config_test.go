package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestDefaultConfigurationIsValid(t *testing.T) {
	require.NoError(t, DefaultConfiguration().validate())
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Configuration)
		key    string // the YAML key the error must name
	}{
		{"no addrs", func(c *Configuration) { c.Addrs = nil }, "addrs"},
		{"addr without port", func(c *Configuration) { c.Addrs = []string{"ch1"} }, "addrs"},
		{"no http addrs", func(c *Configuration) { c.HTTPAddrs = nil }, "http_addrs"},
		{"no database", func(c *Configuration) { c.Database = "" }, "database"},
		{"backquote in database", func(c *Configuration) { c.Database = "a`b" }, "database"},
		{"no username", func(c *Configuration) { c.Username = "" }, "username"},
		{"zero dial timeout", func(c *Configuration) { c.DialTimeout = 0 }, "dial_timeout"},
		{"zero max open conns", func(c *Configuration) { c.MaxOpenConns = 0 }, "max_open_conns"},
		{"unknown compression", func(c *Configuration) { c.Compression = "gzip" }, "compression"},
		{"unknown strategy", func(c *Configuration) { c.ConnectionStrategy = "random" }, "connection_strategy"},
		{"cert without key", func(c *Configuration) { c.TLS = TLSConfiguration{Enabled: true, CertFile: "c.pem"} }, "tls"},
		{"TLS options while disabled", func(c *Configuration) { c.TLS.CAFile = "ca.pem" }, "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfiguration()
			tt.change(&c)
			err := c.validate()
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.key)
		})
	}
}

func TestConfigurationYAML(t *testing.T) {
	in := `
addrs: [ch1:9000, ch2:9000]
http_addrs: [ch1:8123, ch2:8123]
username: furrow
password: hunter2
cluster: main
dial_timeout: 5s
max_open_conns: 8
compression: zstd
connection_strategy: round_robin
tls: {enabled: true, ca_file: /etc/ca.pem}
`
	c := DefaultConfiguration()
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&c))
	require.NoError(t, c.validate())
	require.Equal(t, Secret("hunter2"), c.Password)
	require.Equal(t, 5*time.Second, c.DialTimeout)
	require.Equal(t, []string{"ch1:9000", "ch2:9000"}, c.Addrs)

	out, err := yaml.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), "hunter2")
	require.Contains(t, string(out), "password: <secret>")
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	c := Configuration{Password: s}
	js, err := json.Marshal(c)
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "password", s, "cfg", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "password", s)

	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %+v %#v %q", s, s, c, c, s), string(js), logs.String(),
	} {
		require.NotContains(t, out, "hunter2")
	}
}
