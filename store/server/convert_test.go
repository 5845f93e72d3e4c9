package server

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

func TestAppendValue(t *testing.T) {
	t0 := time.Date(2026, 11, 3, 10, 20, 30, 0, time.UTC)
	t1 := t0.Add(1500 * time.Millisecond)
	ip4 := netip.MustParseAddr("10.1.2.3")
	ip6 := netip.MustParseAddr("2001:db8::1")
	u32 := uint32(7)
	str := "x"

	nullableU32 := proto.NewColNullable[uint32](new(proto.ColUInt32))
	nullableU32.Append(proto.NewNullable[uint32](7))
	nullableU32.Append(proto.Null[uint32]())

	nullableStr := proto.NewColNullable[string](new(proto.ColStr))
	nullableStr.Append(proto.NewNullable("x"))
	nullableStr.Append(proto.Null[string]())

	lowCard := proto.NewLowCardinality[string](new(proto.ColStr))
	lowCard.AppendArr([]string{"a", "b", "a"})

	arr := proto.NewArray[string](new(proto.ColStr))
	arr.Append([]string{"a", "b"})
	arr.Append(nil)

	dt64 := new(proto.ColDateTime64).WithPrecision(proto.PrecisionMilli).WithLocation(time.UTC)
	dt64.Append(t1)

	nullableIPv4 := proto.NewColNullable[proto.IPv4](new(proto.ColIPv4))
	nullableIPv4.Append(proto.NewNullable(proto.ToIPv4(ip4)))
	nullableIPv4.Append(proto.Null[proto.IPv4]())

	// name is the ClickHouse type of the target column.
	tests := []struct {
		name string
		col  proto.ColInput
		want any
	}{
		{"UInt8", &proto.ColUInt8{1, 2}, []uint8{1, 2}},
		{"UInt16", &proto.ColUInt16{1}, []uint16{1}},
		{"UInt32", proto.ColUInt32{1, 2}, []uint32{1, 2}},
		{"UInt64", &proto.ColUInt64{1 << 40}, []uint64{1 << 40}},
		{"Int8", &proto.ColInt8{-1}, []int8{-1}},
		{"Int16", &proto.ColInt16{-1}, []int16{-1}},
		{"Int32", &proto.ColInt32{-1}, []int32{-1}},
		{"Int64", &proto.ColInt64{-1}, []int64{-1}},
		{"Float32", &proto.ColFloat32{0.5}, []float32{0.5}},
		{"Float64", &proto.ColFloat64{0.25}, []float64{0.25}},
		{"String", colStr("a", "", "c"), []string{"a", "", "c"}},
		{"LowCardinality(String)", lowCard, []string{"a", "b", "a"}},
		{"Bool", &proto.ColBool{true, false}, []bool{true, false}},
		{"DateTime('UTC')", &proto.ColDateTime{Data: []proto.DateTime{proto.ToDateTime(t0)}, Location: time.UTC}, []time.Time{t0}},
		{"DateTime64(3, 'UTC')", dt64, []time.Time{t1}},
		{"IPv4", &proto.ColIPv4{proto.ToIPv4(ip4)}, []netip.Addr{ip4}},
		{"IPv6", &proto.ColIPv6{proto.ToIPv6(ip6)}, []proto.IPv6{proto.ToIPv6(ip6)}},
		{"Nullable(UInt32)", nullableU32, []*uint32{&u32, nil}},
		{"Nullable(String)", nullableStr, []*string{&str, nil}},
		{"Nullable(IPv4)", nullableIPv4, []*netip.Addr{&ip4, nil}},
		{"Array(String)", arr, [][]string{{"a", "b"}, {}}},
		{"Int64", &proto.ColInt64{}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendValue(tt.col)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)

			// What the batch does with it: clickhouse-go builds its column
			// from the server's type and appends the converted slice.
			chCol, err := column.Type(tt.name).Column("c", &column.ServerContext{Timezone: time.UTC})
			require.NoError(t, err)
			_, err = chCol.Append(got)
			require.NoError(t, err)
			require.Equal(t, tt.col.Rows(), chCol.Rows())
		})
	}
}

func TestAppendValueErrors(t *testing.T) {
	tests := []struct {
		name string
		col  proto.ColInput
	}{
		{"unsupported type", &proto.ColDecimal64{1}},
		{"DateTime64 without precision", &proto.ColDateTime64{Data: []proto.DateTime64{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := appendValue(tt.col)
			require.Error(t, err)
		})
	}
}

func TestInsertValues(t *testing.T) {
	tests := []struct {
		name      string
		table     string
		cols      proto.Input
		wantQuery string
		wantNil   bool
		wantErr   bool
	}{
		{
			name:      "two columns",
			table:     "flows",
			cols:      proto.Input{{Name: "a", Data: &proto.ColUInt8{1}}, {Name: "b", Data: colStr("x")}},
			wantQuery: "INSERT INTO flows (`a`, `b`)",
		},
		{
			name:    "no rows",
			table:   "flows",
			cols:    proto.Input{{Name: "a", Data: &proto.ColUInt8{}}},
			wantNil: true,
		},
		{name: "no columns", table: "flows", wantErr: true},
		{name: "no table", cols: proto.Input{{Name: "a", Data: &proto.ColUInt8{1}}}, wantErr: true},
		{
			name:    "ragged",
			table:   "flows",
			cols:    proto.Input{{Name: "a", Data: &proto.ColUInt8{1}}, {Name: "b", Data: &proto.ColUInt8{1, 2}}},
			wantErr: true,
		},
		{
			name:    "quote in name",
			table:   "flows",
			cols:    proto.Input{{Name: "a`b", Data: &proto.ColUInt8{1}}},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, values, err := insertValues(tt.table, blockOf(tt.cols))
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			if tt.wantNil {
				require.Nil(t, values)
				return
			}
			require.Equal(t, tt.wantQuery, q)
			require.Len(t, values, len(tt.cols))
		})
	}
}

func colStr(v ...string) *proto.ColStr {
	c := new(proto.ColStr)
	c.AppendArr(v)
	return c
}

// TestAppendValueDefaultColumn: a store.DefaultColumn, sent by a stream
// for a column a block lacks, becomes rows of defaults.
func TestAppendValueDefaultColumn(t *testing.T) {
	for _, c := range []struct {
		typ  proto.ColumnType
		want any
	}{
		{proto.ColumnTypeUInt64, []uint64{0, 0}},
		{proto.ColumnTypeIPv6, []proto.IPv6{{}, {}}},
		{proto.ColumnTypeString, []string{"", ""}},
		{proto.ColumnTypeLowCardinality.Sub(proto.ColumnTypeString), []string{"", ""}},
	} {
		v, err := appendValue(&store.DefaultColumn{Typ: c.typ, N: 2})
		require.NoError(t, err, c.typ)
		require.Equal(t, c.want, v, c.typ)
	}
	_, err := appendValue(&store.DefaultColumn{Typ: "Nullable(String)", N: 1})
	require.Error(t, err)
}

// TestInsertSettings: on a cluster every INSERT is a synchronous
// distributed insert, without which a success does not mean the shards
// stored the rows (docs/store.md, exactly once on a cluster).
func TestInsertSettings(t *testing.T) {
	single := insertSettings("", "tok", map[string]string{"min_insert_block_size_rows": "10"})
	require.NotContains(t, single, "insert_distributed_sync")
	require.Equal(t, "tok", single["insert_deduplication_token"])
	require.Equal(t, 1, single["deduplicate_blocks_in_dependent_materialized_views"])
	require.Equal(t, "10", single["min_insert_block_size_rows"])

	cluster := insertSettings("furrow", "tok", map[string]string{"insert_distributed_sync": "0"})
	require.Equal(t, 1, cluster["insert_distributed_sync"])
	require.Equal(t, "tok", cluster["insert_deduplication_token"])

	require.NotContains(t, insertSettings("furrow", "", nil), "insert_deduplication_token")
}
