package api

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestConfigurationYAML(t *testing.T) {
	in := `
listen: 0.0.0.0:9000
tokens: [abc]
dev_mode: true
write_timeout: 10m
sql:
  max_execution_time: 30s
  max_result_rows: 10
`
	cfg := DefaultConfiguration()
	dec := yaml.NewDecoder(bytes.NewBufferString(in))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg))
	require.NoError(t, cfg.Validate())
	require.Equal(t, 10*time.Minute, cfg.WriteTimeout)
	require.Equal(t, 30*time.Second, cfg.SQL.MaxExecutionTime)
	require.EqualValues(t, 10, cfg.SQL.MaxResultRows)
	require.EqualValues(t, 256<<20, cfg.SQL.MaxResultBytes, "defaults stay")

	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	require.NotContains(t, string(out), "abc")
	require.NotContains(t, fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Tokens[0]), "abc")

	cfg.WriteTimeout = 20 * time.Second
	require.ErrorContains(t, cfg.Validate(), "write_timeout")
}
