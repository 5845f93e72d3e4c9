package api

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
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

func TestInstrumentStore(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := InstrumentStore(chtest.Store(t), reg)
	ctx := context.Background()
	require.NoError(t, s.Exec(ctx, "CREATE TABLE r (a UInt32) ENGINE = MergeTree ORDER BY a"))
	col := new(proto.ColUInt32)
	col.Append(1)
	col.Append(2)
	require.NoError(t, s.Insert(ctx, "r", store.Block{Columns: proto.Input{{Name: "a", Data: col}}}, ""))
	require.Error(t, s.Exec(ctx, "SELECT * FROM nope"))
	require.NoError(t, s.Ping(ctx))

	_ = InstrumentStore(s, reg) // registering twice reuses the metrics
	require.Equal(t, 2.0, testutil.ToFloat64(s.(*instrumentedStore).rows.WithLabelValues("r")))
	require.Equal(t, 1.0, testutil.ToFloat64(s.(*instrumentedStore).errors.WithLabelValues("exec", "60")))
	require.Equal(t, 2.0, testutil.ToFloat64(s.(*instrumentedStore).ops.WithLabelValues("exec")))
}
