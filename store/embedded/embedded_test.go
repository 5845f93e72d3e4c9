package embedded_test

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
)

func TestInsertNativeTypes(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	require.NoError(t, s.Exec(ctx, `CREATE TABLE t (
		n UInt32, s String, lc LowCardinality(String), ip IPv6, ts DateTime('UTC'), f Float64
	) ENGINE = MergeTree ORDER BY n SETTINGS non_replicated_deduplication_window = 100`))

	var n proto.ColUInt32
	var str proto.ColStr
	lc := proto.NewLowCardinality[string](new(proto.ColStr))
	var ip proto.ColIPv6
	var ts proto.ColDateTime
	var f proto.ColFloat64
	for i := 0; i < 3; i++ {
		n.Append(uint32(i))
		str.Append("s" + string(rune('a'+i)))
		lc.Append([]string{"x", "y"}[i%2])
		ip.Append(proto.ToIPv6(netip.MustParseAddr("10.0.0.1").Next()))
		ts.Append(time.Unix(1_700_000_000+int64(i), 0))
		f.Append(float64(i) / 2)
	}
	b := store.Block{Columns: proto.Input{
		{Name: "n", Data: &n}, {Name: "s", Data: &str}, {Name: "lc", Data: lc},
		{Name: "ip", Data: &ip}, {Name: "ts", Data: &ts}, {Name: "f", Data: &f},
	}}
	require.NoError(t, s.Insert(ctx, "t", b, "tok-1"))
	require.NoError(t, s.Insert(ctx, "t", b, "tok-1"), "retry with the same token")
	var out bytes.Buffer
	require.NoError(t, s.Query(ctx, &out, "SELECT n, s, lc, IPv6NumToString(ip), ts, f FROM t ORDER BY n", "TSV"))
	require.Equal(t, strings.Join([]string{
		"0\tsa\tx\t::ffff:10.0.0.2\t2023-11-14 22:13:20\t0",
		"1\tsb\ty\t::ffff:10.0.0.2\t2023-11-14 22:13:21\t0.5",
		"2\tsc\tx\t::ffff:10.0.0.2\t2023-11-14 22:13:22\t1",
	}, "\n")+"\n", out.String())
}

func TestParams(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	cases := []struct {
		name, query string
		params      map[string]string
		want        string
	}{
		{"uint", "SELECT {x:UInt32} + 1", map[string]string{"x": "41"}, "42\n"},
		{"string with quote", "SELECT {s:String}", map[string]string{"s": "it's"}, "it\\'s\n"},
		{"escaped tab", "SELECT length({s:String})", map[string]string{"s": `a\tb`}, "3\n"},
		{"array", "SELECT length({a:Array(String)})", map[string]string{"a": "['a','b']"}, "2\n"},
		{"placeholder in string untouched", "SELECT '{x:UInt8}'", map[string]string{"x": "1"}, "{x:UInt8}\n"},
		{"identifier", "SELECT count() FROM system.{t:Identifier}", map[string]string{"t": "one"}, "1\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, s.Query(ctx, &out, c.query, "TSV", store.WithParams(c.params)))
			require.Equal(t, c.want, out.String())
		})
	}
	err := s.Query(ctx, &bytes.Buffer{}, "SELECT {missing:UInt8}", "TSV", store.WithParams(map[string]string{"x": "1"}))
	var se *store.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, store.CodeUnknownQueryParam, se.Code)
}

// TestIntoOutfileWritesEverything: a SELECT … INTO OUTFILE streams empty
// chunks while it writes its file; it must run to its end, through Exec
// and through Query.
func TestIntoOutfileWritesEverything(t *testing.T) {
	s := chtest.Store(t)
	for _, run := range []struct {
		name string
		do   func(q string) error
	}{
		{"Exec", func(q string) error { return s.Exec(context.Background(), q) }},
		{"Query", func(q string) error { return s.Query(context.Background(), io.Discard, q, "TSV") }},
	} {
		t.Run(run.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.tsv")
			require.NoError(t, run.do("SELECT number FROM numbers(300000) INTO OUTFILE '"+path+"' FORMAT TSV"))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, 300000, bytes.Count(data, []byte("\n")))
		})
	}
}
