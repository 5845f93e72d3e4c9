package ledger

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

func migrated(t testing.TB) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

func queryTSV(t testing.TB, s store.Store, q string) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf, q, "TSV"), q)
	return strings.TrimSpace(buf.String())
}

// TestReplacePeriod walks the protocol of replacing a period on a table
// shaped like a bill, with the crashes it must survive: a reader sees one
// version of a period at every step, the newest version wins whatever
// the order objects are listed in, and a re-run changes nothing.
func TestReplacePeriod(t *testing.T) {
	ctx := context.Background()
	s := migrated(t)
	require.NoError(t, s.Exec(ctx, "CREATE TABLE bill (period String, source_id String, cost Float64) ENGINE = MergeTree ORDER BY period"))
	l := New(s, "bill", "")
	other := New(s, "other", "")
	t0 := time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC)
	const month = "123456789012/2026-11"

	insert := func(id string, costs ...string) {
		t.Helper()
		for _, c := range costs {
			require.NoError(t, s.Exec(ctx, "INSERT INTO bill VALUES ('"+month+"', '"+id+"', "+c+")"))
		}
	}
	// read is what a report sees: the holders' rows only.
	read := func() string {
		t.Helper()
		return queryTSV(t, s, "SELECT sum(cost) FROM bill WHERE "+l.HolderFilter("period", "source_id"))
	}
	cleanup := func() {
		t.Helper()
		require.NoError(t, s.Exec(ctx, "ALTER TABLE bill DELETE WHERE period = '"+month+"' AND NOT "+l.HolderFilter("period", "source_id")+
			" SETTINGS mutations_sync = 2"))
	}
	holder := func() string {
		t.Helper()
		h, err := l.Holders(ctx, []string{month, "nothing/2026-10"})
		require.NoError(t, err)
		require.NotContains(t, h, "nothing/2026-10")
		return h[month].ID
	}

	require.Equal(t, "", holder())
	require.Equal(t, "0", read())

	// The first version of the month.
	insert("v1", "10", "5")
	require.Equal(t, "0", read(), "rows count only once their version holds the period")
	ok, err := l.ReplacePeriod(ctx, Period{Period: month, ID: "v1", URL: "s3://b/v1.csv", Version: t0, Stored: 2}, t0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v1", holder())
	require.Equal(t, "15", read())

	// The second version is stored, then the run dies before switching:
	// readers still see the first version, whole.
	insert("v2", "10", "5", "7")
	require.Equal(t, "15", read())

	// The re-run switches; readers see v2 before the old rows are gone,
	// never v1 + v2.
	ok, err = l.ReplacePeriod(ctx, Period{Period: month, ID: "v2", URL: "s3://b/v2.csv", Version: t0.Add(time.Hour), Stored: 3}, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v2", holder())
	require.Equal(t, "22", read())
	cleanup()
	require.Equal(t, "22", queryTSV(t, s, "SELECT sum(cost) FROM bill"), "the replaced version's rows are deleted")
	cleanup()
	require.Equal(t, "22", read(), "cleaning up twice changes nothing")

	// An older version listed late never wins, and its rows never count.
	insert("v0", "1000")
	ok, err = l.ReplacePeriod(ctx, Period{Period: month, ID: "v0", Version: t0.Add(-time.Hour)}, t0.Add(3*time.Hour))
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, "v2", holder())
	cleanup()
	require.Equal(t, "22", queryTSV(t, s, "SELECT sum(cost) FROM bill"))

	// Recording the holder again (a re-run after a crash between the
	// switch and the cleanup) keeps it.
	ok, err = l.ReplacePeriod(ctx, Period{Period: month, ID: "v2", Version: t0.Add(time.Hour)}, t0.Add(4*time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v2", holder())

	// Kinds are apart: another source's periods of the same name.
	h, err := other.Holders(ctx, []string{month})
	require.NoError(t, err)
	require.Empty(t, h)

	_, err = l.ReplacePeriod(ctx, Period{Period: month}, t0)
	require.ErrorContains(t, err, "identity")
}
