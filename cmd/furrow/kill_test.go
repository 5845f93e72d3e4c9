package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIngestSIGKILLThenRerun kills `furrow ingest flowlogs` (small objects,
// ingested in groups) with SIGKILL at several points, then runs it again:
// whatever the kill interrupted (a read, a group's record, its INSERT, its
// ledger rows), each record is stored exactly once, in flow_logs and in the
// hourly rollup. The kill times only spread the interruptions; the
// assertions hold wherever a kill lands.
func TestIngestSIGKILLThenRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real ingest several times")
	}
	src := t.TempDir()
	const objects, per = 60, 3000
	for k := range objects {
		name := fmt.Sprintf("123456789012_vpcflowlogs_eu-west-1_fl-0123_20261102T%02d%02dZ_%08x.log.gz", k/12, k%12*5, k)
		require.NoError(t, writeFlowLogSeeded(filepath.Join(src, name), per, uint64(k)))
	}
	for _, after := range []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, 1200 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			data := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := furrowCmd(ctx, nil, "--data", data, "ingest", "flowlogs", src)
			require.NoError(t, cmd.Start())
			time.Sleep(after)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()

			r := runFurrow(t, nil, "--data", data, "ingest", "flowlogs", src)
			require.Equal(t, 0, r.code, r.stderr)
			r = runFurrow(t, nil, "--data", data, "sql",
				"SELECT (SELECT count() FROM flow_logs), (SELECT sum(records) FROM flow_traffic_hourly), (SELECT sum(records) FROM flow_traffic_daily), (SELECT uniqExact(source) FROM flow_logs)")
			require.Equal(t, 0, r.code, r.stderr)
			require.Equal(t, fmt.Sprintf("%d\t%d\t%d\t%d", objects*per, objects*per, objects*per, objects), strings.TrimSpace(r.stdout))
		})
	}
}
