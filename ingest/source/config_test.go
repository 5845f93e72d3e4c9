package source

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

func TestConfigurationDecodeAndRedact(t *testing.T) {
	in := `
endpoint: http://minio:9000
region: eu-west-1
path_style: true
access_key_id: AKIAEXAMPLE
secret_access_key: hunter2-very-secret
prefixes: [s3://flows/AWSLogs/, /var/lib/flowlogs]
poll_interval: 30s
lookback: 12h
`
	cfg := DefaultConfiguration()
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg))
	require.NoError(t, cfg.Validate())
	require.Equal(t, Secret("hunter2-very-secret"), cfg.SecretAccessKey)
	require.Equal(t, 30*time.Second, cfg.PollInterval)
	require.Equal(t, 12*time.Hour, cfg.Lookback)

	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "secret", cfg.SecretAccessKey)
	for _, s := range []string{string(out), string(j), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), logged.String()} {
		require.NotContains(t, s, "hunter2")
		require.Regexp(t, `(<|\\u003c)secret(>|\\u003e)`, s)
	}
}

func TestConfigurationValidate(t *testing.T) {
	require.NoError(t, DefaultConfiguration().Validate())
	cfg := DefaultConfiguration()
	cfg.Endpoint = "minio:9000"
	cfg.AccessKeyID = "x"
	cfg.Prefixes = []string{"s3:///nobucket"}
	cfg.PollInterval = 0
	err := cfg.Validate()
	for _, key := range []string{"endpoint", "secret_access_key", "prefixes", "poll_interval"} {
		require.ErrorContains(t, err, key)
	}
}
