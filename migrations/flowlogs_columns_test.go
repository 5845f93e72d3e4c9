package migrations_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/flowlogs"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
)

// TestFlowLogsHasEveryParsedField keeps the released schema and the parser's
// field catalogue in step: migrations are static SQL (a released version never
// changes), so the raw columns are written out in 0002_flow_logs.sql; every
// field the parser produces must be a column of flow_logs with the same type.
func TestFlowLogsHasEveryParsedField(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(ctx)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, s.Query(ctx, &buf, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'flow_logs'", "TSVRaw"))
	types := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		name, typ, _ := strings.Cut(line, "\t")
		types[name] = typ
	}
	for _, f := range flowlogs.Fields() {
		want := f.Type
		if want == "DateTime" {
			want = "DateTime('UTC')" // the table pins the time zone
		}
		require.Equal(t, want, types[f.Column], "flow_logs column for field %s", f.Name)
	}
}
