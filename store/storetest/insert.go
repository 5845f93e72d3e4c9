package storetest

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// typesColumns is the DDL of a table with every column type a Block may
// carry; typesBlock fills it with two rows of edge values.
const typesColumns = `id UInt32, u8 UInt8, u16 UInt16, u64 UInt64,
	i8 Int8, i16 Int16, i32 Int32, i64 Int64, f32 Float32, f64 Float64,
	s String, lc LowCardinality(String), b Bool,
	dt DateTime('UTC'), dt64 DateTime64(3, 'UTC'), ip4 IPv4, ip6 IPv6,
	nu Nullable(UInt32), ns Nullable(String), arr Array(String)`

func typesBlock() store.Block {
	t0 := time.Date(2026, 11, 3, 10, 20, 30, 0, time.UTC)
	t1 := time.Date(2026, 11, 3, 10, 20, 30, 123e6, time.UTC)
	t2 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

	s := new(proto.ColStr)
	s.AppendArr([]string{"it's a \"tab\"\there\nand \\ backslash", ""})
	lc := proto.NewLowCardinality[string](new(proto.ColStr))
	lc.AppendArr([]string{"a", "b"})
	dt := &proto.ColDateTime{Location: time.UTC}
	dt.AppendArr([]time.Time{t0, time.Unix(0, 0)})
	dt64 := new(proto.ColDateTime64).WithPrecision(proto.PrecisionMilli).WithLocation(time.UTC)
	dt64.AppendArr([]time.Time{t1, t2})
	nu := proto.NewColNullable[uint32](new(proto.ColUInt32))
	nu.AppendArr([]proto.Nullable[uint32]{proto.NewNullable[uint32](7), proto.Null[uint32]()})
	ns := proto.NewColNullable[string](new(proto.ColStr))
	ns.AppendArr([]proto.Nullable[string]{proto.NewNullable("x"), proto.Null[string]()})
	arr := proto.NewArray[string](new(proto.ColStr))
	arr.AppendArr([][]string{{"a", "b'c"}, {}})

	return store.Block{Columns: proto.Input{
		{Name: "id", Data: &proto.ColUInt32{1, 2}},
		{Name: "u8", Data: &proto.ColUInt8{255, 0}},
		{Name: "u16", Data: &proto.ColUInt16{65535, 0}},
		{Name: "u64", Data: &proto.ColUInt64{18446744073709551615, 0}},
		{Name: "i8", Data: &proto.ColInt8{-128, 127}},
		{Name: "i16", Data: &proto.ColInt16{-32768, 0}},
		{Name: "i32", Data: &proto.ColInt32{-2147483648, 1}},
		{Name: "i64", Data: &proto.ColInt64{-9223372036854775808, 9223372036854775807}},
		{Name: "f32", Data: &proto.ColFloat32{1.5, 0}},
		{Name: "f64", Data: &proto.ColFloat64{0.5, -2.25}},
		{Name: "s", Data: s},
		{Name: "lc", Data: lc},
		{Name: "b", Data: &proto.ColBool{true, false}},
		{Name: "dt", Data: dt},
		{Name: "dt64", Data: dt64},
		{Name: "ip4", Data: &proto.ColIPv4{
			proto.ToIPv4(netip.MustParseAddr("10.1.2.3")), proto.ToIPv4(netip.MustParseAddr("255.255.255.255")),
		}},
		{Name: "ip6", Data: &proto.ColIPv6{
			proto.ToIPv6(netip.MustParseAddr("2001:db8::1")), proto.ToIPv6(netip.MustParseAddr("::ffff:10.0.0.1")),
		}},
		{Name: "nu", Data: nu},
		{Name: "ns", Data: ns},
		{Name: "arr", Data: arr},
	}}
}

// typesJSON and typesTSV are typesBlock as ClickHouse prints it.
var (
	typesJSON = []string{
		`{"id":1,"u8":255,"u16":65535,"u64":18446744073709551615,"i8":-128,"i16":-32768,"i32":-2147483648,` +
			`"i64":-9223372036854775808,"f32":1.5,"f64":0.5,"s":"it's a \"tab\"\there\nand \\ backslash","lc":"a",` +
			`"b":true,"dt":"2026-11-03 10:20:30","dt64":"2026-11-03 10:20:30.123","ip4":"10.1.2.3","ip6":"2001:db8::1",` +
			`"nu":7,"ns":"x","arr":["a","b'c"]}`,
		`{"id":2,"u8":0,"u16":0,"u64":0,"i8":127,"i16":0,"i32":1,"i64":9223372036854775807,"f32":0,"f64":-2.25,` +
			`"s":"","lc":"b","b":false,"dt":"1970-01-01 00:00:00","dt64":"2000-01-01 00:00:00.000","ip4":"255.255.255.255",` +
			`"ip6":"::ffff:10.0.0.1","nu":null,"ns":null,"arr":[]}`,
	}
	typesTSV = strings.Join([]string{
		"1", "255", "65535", "18446744073709551615", "-128", "-32768", "-2147483648", "-9223372036854775808",
		"1.5", "0.5", `it\'s a "tab"\there\nand \\ backslash`, "a", "true", "2026-11-03 10:20:30",
		"2026-11-03 10:20:30.123", "10.1.2.3", "2001:db8::1", "7", "x", `['a','b\'c']`,
	}, "\t") + "\n" + strings.Join([]string{
		"2", "0", "0", "0", "127", "0", "1", "9223372036854775807", "0", "-2.25", "", "b", "false",
		"1970-01-01 00:00:00", "2000-01-01 00:00:00.000", "255.255.255.255", "::ffff:10.0.0.1", `\N`, `\N`, "[]",
	}, "\t") + "\n"
)

func testInsertTypes(t *testing.T, s store.Store) {
	ctx := context.Background()
	createTable(t, s, "types", typesColumns, "id")
	require.NoError(t, s.Insert(ctx, "types", typesBlock(), ""))

	t.Run("JSONEachRow", func(t *testing.T) {
		// The default of quoting 64-bit integers changed across versions.
		out := query(t, s, "SELECT * FROM types ORDER BY id", "JSONEachRow",
			store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"}))
		require.Equal(t, strings.Join(typesJSON, "\n")+"\n", out)
	})
	t.Run("TSV", func(t *testing.T) {
		require.Equal(t, typesTSV, query(t, s, "SELECT * FROM types ORDER BY id", "TSV"))
	})
	t.Run("subset of columns", func(t *testing.T) {
		b := store.Block{Columns: proto.Input{{Name: "id", Data: &proto.ColUInt32{3}}}}
		require.NoError(t, s.Insert(ctx, "types", b, ""))
		require.Equal(t, "3\t0\t\t\\N\t[]\n", query(t, s, "SELECT id, u64, s, nu, arr FROM types WHERE id = 3", "TSV"))
	})
	t.Run("empty block", func(t *testing.T) {
		b := store.Block{Columns: proto.Input{{Name: "id", Data: &proto.ColUInt32{}}}}
		require.NoError(t, s.Insert(ctx, "types", b, ""))
		require.Equal(t, "3\n", count(t, s, "types"))
	})
}

func testInsertDedup(t *testing.T, s store.Store) {
	ctx := context.Background()
	createTable(t, s, "dedup", "id UInt32, v String", "id")
	block := func(ids ...uint32) store.Block {
		v := new(proto.ColStr)
		for range ids {
			v.Append("v")
		}
		id := proto.ColUInt32(ids)
		return store.Block{Columns: proto.Input{{Name: "id", Data: &id}, {Name: "v", Data: v}}}
	}

	tests := []struct {
		name   string
		ids    []uint32
		token  string
		repeat int
		want   string // rows in the table afterwards
	}{
		{name: "same token twice", ids: []uint32{1, 2, 3}, token: "batch-1", repeat: 2, want: "3\n"},
		{name: "same token, other data", ids: []uint32{4}, token: "batch-1", repeat: 1, want: "3\n"},
		{name: "new token, same data", ids: []uint32{1, 2, 3}, token: "batch-2", repeat: 1, want: "6\n"},
		{name: "another new token", ids: []uint32{5}, token: "batch-3", repeat: 3, want: "7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range tt.repeat {
				require.NoError(t, s.Insert(ctx, "dedup", block(tt.ids...), tt.token))
			}
			require.Equal(t, tt.want, count(t, s, "dedup"))
		})
	}
}

func testInsertStream(t *testing.T, s store.Store) {
	ctx := context.Background()
	createTable(t, s, "stream", "id UInt32, v String", "id")
	block := func(from, to uint32) store.Block {
		var id proto.ColUInt32
		v := new(proto.ColStr)
		for i := from; i <= to; i++ {
			id.Append(i)
			v.Append("v")
		}
		return store.Block{Columns: proto.Input{{Name: "id", Data: &id}, {Name: "v", Data: v}}}
	}
	// Each block its own part, so that an aborted stream leaves some
	// committed, as a crash does.
	partPerBlock := store.WithSettings(map[string]string{"min_insert_block_size_rows": "1", "min_insert_block_size_bytes": "1"})
	send := func(t *testing.T, token string, blocks []store.Block, opts ...store.Option) store.BlockStream {
		t.Helper()
		st, err := s.InsertStream(ctx, "stream", token, opts...)
		require.NoError(t, err)
		for _, b := range blocks {
			require.NoError(t, st.Send(b))
		}
		return st
	}
	parts := func(t *testing.T) string {
		return query(t, s, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'stream' AND active", "TSV")
	}

	tests := []struct {
		name string
		run  func(t *testing.T)
		want string // rows in the table afterwards
	}{
		{"three blocks, one part", func(t *testing.T) {
			require.NoError(t, send(t, "s1", []store.Block{block(1, 3), block(4, 6), block(7, 9)}).Close())
			require.Equal(t, "1\n", parts(t), "the engine squashes a stream's blocks")
		}, "9\n"},
		{"same stream again", func(t *testing.T) {
			require.NoError(t, send(t, "s1", []store.Block{block(1, 3), block(4, 6), block(7, 9)}).Close())
		}, "9\n"},
		{"aborted half way, then sent whole", func(t *testing.T) {
			// The engine commits a part once the next block reached it;
			// the pause lets the first blocks through before the abort.
			st := send(t, "s2", []store.Block{block(10, 12), block(13, 15), block(16, 18)}, partPerBlock)
			time.Sleep(300 * time.Millisecond)
			st.Abort()
			st.Abort() // a second Abort does nothing
			require.NoError(t, st.Close(), "Close after Abort does nothing")
			got := count(t, s, "stream")
			require.Contains(t, []string{"9\n", "12\n", "15\n", "18\n"}, got, "only whole blocks are visible after an abort")
			require.NoError(t, send(t, "s2", []store.Block{block(10, 12), block(13, 15), block(16, 18), block(19, 21)}, partPerBlock).Close())
		}, "21\n"},
		{"no block", func(t *testing.T) {
			require.NoError(t, send(t, "s3", nil).Close())
		}, "21\n"},
		{"empty blocks are skipped", func(t *testing.T) {
			require.NoError(t, send(t, "", []store.Block{block(1, 0), block(22, 22), block(1, 0)}).Close())
		}, "22\n"},
		{"unknown column", func(t *testing.T) {
			st, err := s.InsertStream(ctx, "stream", "")
			require.NoError(t, err)
			id := proto.ColUInt32{20}
			err = st.Send(store.Block{Columns: proto.Input{{Name: "nope", Data: &id}}})
			if err == nil {
				err = st.Close()
			} else {
				st.Abort()
			}
			requireCode(t, err, 16, "NO_SUCH_COLUMN_IN_TABLE")
		}, "22\n"},
		{"a later block lacks a column: its default is sent", func(t *testing.T) {
			// Which columns a block carries may depend on which rows it
			// holds; the stream's header cannot change, so the store
			// fills the missing column, as the table would.
			st := send(t, "", []store.Block{block(23, 23)})
			id := proto.ColUInt32{24}
			require.NoError(t, st.Send(store.Block{Columns: proto.Input{{Name: "id", Data: &id}}}))
			b := block(25, 25)
			b.Columns[0], b.Columns[1] = b.Columns[1], b.Columns[0] // another order
			require.NoError(t, st.Send(b))
			require.NoError(t, st.Close())
			require.Equal(t, "23\tv\n24\t\n25\tv\n", query(t, s, "SELECT id, v FROM stream WHERE id >= 23 ORDER BY id", "TSV"))
		}, "25\n"},
		{"a later block has a column the first did not: permanent", func(t *testing.T) {
			id := proto.ColUInt32{26}
			st := send(t, "", []store.Block{{Columns: proto.Input{{Name: "id", Data: &id}}}})
			err := st.Send(block(27, 27))
			require.Error(t, err)
			require.True(t, store.Permanent(err), "a retry cannot heal it: %v", err)
			require.False(t, store.Transient(err))
			st.Abort()
		}, "25\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t)
			require.Equal(t, tt.want, count(t, s, "stream"))
		})
	}
}

// testInsertDefaults sends store.DefaultColumn for every type it encodes:
// the rows hold each type's default, as if the INSERT had omitted them.
func testInsertDefaults(t *testing.T, s store.Store) {
	ctx := context.Background()
	createTable(t, s, "defaults", `id UInt32, u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64,
		i8 Int8, i16 Int16, i32 Int32, i64 Int64, f32 Float32, f64 Float64, b Bool,
		d Date, d32 Date32, dt DateTime('UTC'), ip4 IPv4, ip6 IPv6, s String, lc LowCardinality(String)`, "id")
	types := []struct{ name, typ string }{
		{"u8", "UInt8"}, {"u16", "UInt16"}, {"u32", "UInt32"}, {"u64", "UInt64"},
		{"i8", "Int8"}, {"i16", "Int16"}, {"i32", "Int32"}, {"i64", "Int64"},
		{"f32", "Float32"}, {"f64", "Float64"}, {"b", "Bool"}, {"d", "Date"}, {"d32", "Date32"},
		{"dt", "DateTime"}, {"ip4", "IPv4"}, {"ip6", "IPv6"}, {"s", "String"}, {"lc", "LowCardinality(String)"},
	}
	st, err := s.InsertStream(ctx, "defaults", "")
	require.NoError(t, err)
	for blk, rows := range []int{3, 70000} { // the second longer than a pipe buffer
		id := new(proto.ColUInt32)
		for i := range rows {
			id.Append(uint32(blk*100000 + i))
		}
		in := proto.Input{{Name: "id", Data: id}}
		for _, c := range types {
			require.True(t, store.DefaultSupported(proto.ColumnType(c.typ)), c.typ)
			in = append(in, proto.InputColumn{Name: c.name, Data: &store.DefaultColumn{Typ: proto.ColumnType(c.typ), N: rows}})
		}
		require.NoError(t, st.Send(store.Block{Columns: in}))
	}
	require.NoError(t, st.Close())
	require.Equal(t, "70003\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\tfalse\t1970-01-01\t1970-01-01\t1970-01-01 00:00:00\t0.0.0.0\t::\t\t\n",
		query(t, s, `SELECT count(), any(u8), any(u16), any(u32), any(u64), any(i8), any(i16), any(i32), any(i64),
			any(f32), any(f64), any(b), any(d), any(d32), any(dt), any(ip4), any(ip6), any(s), any(lc) FROM defaults`, "TSV"))
	require.Equal(t, "1\n", query(t, s, `SELECT uniqExact(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, b, d, d32, dt, ip4, ip6, s, lc) FROM defaults`, "TSV"))
	require.False(t, store.DefaultSupported("Nullable(String)"))
}
