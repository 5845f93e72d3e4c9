package chnative

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
)

// decode reads every block of a Native stream at revision with the
// decoder clickhouse-go's HTTP mode uses, and prints the values.
func decode(t *testing.T, data []byte, revision uint64) string {
	t.Helper()
	br := bytes.NewReader(data)
	r := chproto.NewReader(br)
	var out strings.Builder
	for br.Len() > 0 {
		b := &proto.Block{ServerContext: &column.ServerContext{Revision: revision, VersionMajor: 26, VersionMinor: 5, Timezone: time.UTC}}
		require.NoError(t, b.Decode(r, revision), "revision %d", revision)
		for _, c := range b.Columns {
			fmt.Fprintf(&out, "%s %s:", c.Name(), c.Type())
			for i := 0; i < c.Rows(); i++ {
				// JSON follows pointers (Nullable values, in arrays too).
				v, err := json.Marshal(c.Row(i, false))
				require.NoError(t, err)
				out.WriteString(" ")
				out.Write(v)
			}
			out.WriteString("\n")
		}
	}
	return out.String()
}

// TestTranscodeEngineOutput has the engine write every column type furrow
// stores (and the usual result types) in Native, transcodes it for the
// revisions clients send, and decodes both with ch-go: same columns, same
// values; the revision-0 bytes come back unchanged.
func TestTranscodeEngineOutput(t *testing.T) {
	s := chtest.Store(t)
	ctx := context.Background()
	queries := map[string]string{
		"scalars": `SELECT toUInt8(number) AS u8, toInt16(-number) AS i16, toUInt32(number) AS u32, toInt64(number) AS i64,
    toUInt64(number) AS u64, toFloat32(number) / 2 AS f32, toFloat64(number) / 3 AS f64, toString(number) AS s,
    toFixedString('ab', 2) AS fs, toDate('2026-11-01') + number AS d, toDate32('2026-11-01') AS d32,
    toDateTime('2026-11-01 10:00:00', 'UTC') + number AS dt, toDateTime64('2026-11-01 10:00:00.123', 3, 'UTC') AS dt64,
    toIPv4('10.0.0.1') AS ip4, toIPv6('::1') AS ip6, toUUID('00000000-0000-0000-0000-000000000001') AS id,
    toDecimal64(number, 4) AS dec, number % 2 = 0 AS b, toInt128(number) AS i128, toUInt256(number) AS u256,
    CAST('a', 'Enum8(\'a\' = 1, \'b,c\' = 2)') AS e8, CAST('x', 'Enum16(\'x\' = 300)') AS e16
FROM numbers(1000)`,
		"nested": `SELECT toLowCardinality(toString(number % 7)) AS lc, CAST(if(number % 3 = 0, NULL, toString(number)), 'LowCardinality(Nullable(String))') AS lcn,
    if(number % 2 = 0, NULL, number) AS n, range(number % 4) AS arr, [toString(number)] AS sarr,
    [toLowCardinality(toString(number % 3))] AS lcarr, [[number], []] AS arr2, map('k', number) AS m,
    tuple(number, toString(number)) AS tup, CAST((1, 'x'), 'Tuple(a UInt8, b String)') AS named,
    [if(number % 2 = 0, NULL, number)] AS narr, (1.5, 2.5)::Point AS pt, [(0., 0.), (1., 1.)]::Ring AS ring,
    NULL AS nothing
FROM numbers(3000)`,
		"empty": `SELECT number, toString(number) AS s FROM numbers(10) WHERE number > 100`,
		"many":  `SELECT number, toString(number) AS s, toLowCardinality(toString(number % 100)) AS lc FROM numbers(100000)`,
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			var native bytes.Buffer
			require.NoError(t, s.Query(ctx, &native, q, "Native"))
			for _, rev := range []uint64{0, 54451, RevisionCustomSerialization, 54460, 54478} {
				var out bytes.Buffer
				rows, err := Transcode(&out, bytes.NewReader(native.Bytes()), rev)
				require.NoError(t, err, "revision %d", rev)
				if rev == 0 {
					require.Equal(t, native.Bytes(), out.Bytes(), "revision 0 is what the engine writes")
				}
				if name == "many" {
					require.EqualValues(t, 100000, rows)
				}
				want, got := decode(t, native.Bytes(), 0), decode(t, out.Bytes(), rev)
				if want != got { // the values are long: show where they part
					i := 0
					for i < len(want) && i < len(got) && want[i] == got[i] {
						i++
					}
					t.Fatalf("revision %d: values differ at byte %d: %.200q vs %.200q", rev, i, want[i:], got[i:])
				}
			}
		})
	}
}

// TestTranscodeRefusesWhatItCannotWalk: a type with a layout the
// transcoder does not know is an error naming it, not garbage.
func TestTranscodeRefusesWhatItCannotWalk(t *testing.T) {
	s := chtest.Store(t)
	var native bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &native, "SELECT sumState(number) AS st FROM numbers(10)", "Native"))
	_, err := Transcode(io.Discard, bytes.NewReader(native.Bytes()), 54460)
	require.True(t, errors.Is(err, ErrUnsupportedType), "%v", err)
	require.ErrorContains(t, err, "AggregateFunction")
}

// TestTypeNames parses the type names the engine prints.
func TestTypeNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // a short form of the parsed tree, or "error"
	}{
		{"UInt8", "UInt8/1"},
		{"Nullable(String)", "Nullable[String/0]"},
		{"Array(Nullable(UInt64))", "Array[Nullable[UInt64/8]]"},
		{"Map(String, UInt64)", "Array[Tuple[String/0 UInt64/8]]"},
		{"Tuple(a UInt8, `b c` String)", "Tuple[UInt8/1 String/0]"},
		{"Enum8('a,b' = 1, 'c)' = 2)", "Enum8/1"},
		{"DateTime64(3, 'UTC')", "DateTime64/8"},
		{"Decimal(38, 2)", "Decimal/16"},
		{"FixedString(16)", "FixedString/16"},
		{"LowCardinality(Nullable(String))", "LowCardinality[Nullable[String/0]]"},
		{"SimpleAggregateFunction(sum, UInt64)", "UInt64/8"},
		{"Point", "Tuple[Float64/8 Float64/8]"},
		{"Variant(String, UInt64)", "error"},
		{"Array(", "error"},
		{"FixedString(-1)", "error"},
		{strings.Repeat("Array(", 100) + "UInt8" + strings.Repeat(")", 100), "error"},
	} {
		got, err := parseType(tc.in)
		if tc.want == "error" {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, short(got), tc.in)
	}
}

func short(t *typ) string {
	if len(t.sub) == 0 {
		return fmt.Sprintf("%s/%d", t.name, t.size)
	}
	parts := make([]string, len(t.sub))
	for i, s := range t.sub {
		parts[i] = short(s)
	}
	return t.name + "[" + strings.Join(parts, " ") + "]"
}

// FuzzTranscode: any input ends in an error or a copy, never a panic or
// an allocation the input does not pay for.
func FuzzTranscode(f *testing.F) {
	f.Add([]byte("\x02\x01\x01a\x05UInt8\x01\x01s\x06String\x01x"))
	f.Add([]byte("\x01\x02\x01a\x16LowCardinality(String)\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x01\x01\x01a\x0dArray(String)\xff\xff\xff\xff\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		_, err := Transcode(&out, bytes.NewReader(data), 54460)
		if err == nil && len(data) > 0 && out.Len() < len(data) {
			t.Fatalf("a whole stream copied short: %d bytes in, %d out", len(data), out.Len())
		}
	})
}
