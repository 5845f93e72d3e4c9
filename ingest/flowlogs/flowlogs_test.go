package flowlogs

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/klauspost/compress/gzip"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// cell renders row i of column c.
func cell(c *column, i int) string {
	switch c.kind {
	case kindU8:
		return strconv.Itoa(int(c.u8[i]))
	case kindU16:
		return strconv.Itoa(int(c.u16[i]))
	case kindU64:
		return strconv.FormatUint(c.u64[i], 10)
	case kindTime:
		return strconv.FormatUint(uint64(c.dt.Data[i]), 10)
	case kindIP:
		return netip.AddrFrom16(c.ip[i]).String()
	default:
		return c.lc.Row(i)
	}
}

func isDefault(c *column, i int) bool {
	switch c.kind {
	case kindIP:
		return c.ip[i] == proto.IPv6{}
	case kindLC:
		return c.lc.Row(i) == ""
	default:
		return cell(c, i) == "0"
	}
}

// render reads the whole file and renders its records as TSV, with the
// columns that hold a non-default value, then the stats and errors.
func render(t *testing.T, rd *Reader, batchRows int) string {
	t.Helper()
	var rows [][]string
	present := make([]bool, numFields)
	b := NewBatch()
	batches := 0
	var fileErr error
	for {
		n, err := rd.Next(b)
		if err == io.EOF {
			break
		}
		if err != nil {
			fileErr = err
			break
		}
		if n != b.Rows() || n > batchRows {
			t.Fatalf("Next returned %d rows, batch has %d, limit %d", n, b.Rows(), batchRows)
		}
		checkLengths(t, b)
		batches++
		for i := range n {
			row := make([]string, numFields)
			for f := range b.cols {
				if !b.cols[f].present {
					continue // no record of the batch has the field
				}
				row[f] = cell(&b.cols[f], i)
				if !isDefault(&b.cols[f], i) {
					present[f] = true
				}
			}
			rows = append(rows, row)
		}
	}
	var out strings.Builder
	var header []string
	for f, ok := range present {
		if ok {
			header = append(header, catalogue[f].Column)
		}
	}
	out.WriteString(strings.Join(header, "\t") + "\n")
	for _, row := range rows {
		var cells []string
		for f, ok := range present {
			if ok {
				cells = append(cells, row[f])
			}
		}
		out.WriteString(strings.Join(cells, "\t") + "\n")
	}
	st := rd.Stats()
	fmt.Fprintf(&out, "# format=%s batches=%d read=%d stored=%d rejected=%d\n",
		rd.Format(), batches, st.Read, st.Stored, st.Rejected)
	for _, e := range st.Errors {
		fmt.Fprintf(&out, "# %s\n", e.Error())
	}
	if fileErr != nil {
		fmt.Fprintf(&out, "# file error: %v\n", fileErr)
	}
	return out.String()
}

func checkLengths(t *testing.T, b *Batch) {
	t.Helper()
	for _, c := range b.Input() {
		if c.Data.Rows() != b.Rows() {
			t.Fatalf("column %s has %d rows, batch %d", c.Name, c.Data.Rows(), b.Rows())
		}
	}
	for f := range b.cols {
		if c := &b.cols[f]; !c.present && c.data().Rows() != 0 {
			t.Fatalf("absent column %s has %d rows", catalogue[f].Column, c.data().Rows())
		}
	}
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReaderGolden(t *testing.T) {
	v2 := readTestdata(t, "v2_header.log")
	for _, tc := range []struct {
		name      string
		input     []byte
		opts      Options
		batchRows int
	}{
		{name: "v2_header", input: v2},
		{name: "v2_header_gzip", input: gzipBytes(t, v2), batchRows: 3},
		{name: "v2_headerless", input: readTestdata(t, "v2_headerless.log")},
		{name: "v5_custom", input: readTestdata(t, "v5_custom.log"), opts: Options{MaxErrorDetails: 5}},
		{name: "cloudwatch", input: readTestdata(t, "cloudwatch.jsonl")},
		{name: "cloudwatch_gzip", input: gzipBytes(t, readTestdata(t, "cloudwatch.jsonl"))},
		{
			name:  "explicit_format",
			input: []byte("10.0.0.1 10.0.0.2 1500 ACCEPT\n10.0.0.2 10.0.0.1 - REJECT\n"),
			opts:  Options{Fields: []string{"srcaddr", "dstaddr", "bytes", "action"}},
		},
		{
			name:  "header_beats_format",
			input: []byte("bytes action\n1500 ACCEPT\n"),
			opts:  Options{Fields: []string{"srcaddr", "dstaddr", "bytes", "action"}},
		},
		{name: "not_flowlog", input: readTestdata(t, "not_flowlog.txt")},
		{name: "unknown_header", input: []byte("version account-id flux-capacitor\n2 1 3\n")},
		{name: "empty", input: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.batchRows > 0 {
				tc.opts.BatchRows = tc.batchRows
			} else {
				tc.batchRows = DefaultBatchRows
			}
			rd, err := NewReader(tc.name, bytes.NewReader(tc.input), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			golden(t, filepath.Join("golden", tc.name+".tsv"), render(t, rd, tc.batchRows))
		})
	}
}

// TestGzipMatchesText checks that gzip and batching change nothing.
func TestGzipMatchesText(t *testing.T) {
	input := synthV5(5000, false)
	read := func(data []byte, batchRows int) string {
		rd, err := NewReader("x", bytes.NewReader(data), Options{BatchRows: batchRows})
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		s := render(t, rd, batchRows)
		return s[:strings.LastIndex(s, "# format")]
	}
	plain := read(input, 100000)
	if got := read(gzipBytes(t, input), 777); got != plain {
		t.Error("gzip input in batches of 777 parses differently from plain text")
	}
}

func TestNotFlowLog(t *testing.T) {
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(i*7 + i/13)
	}
	for _, tc := range []struct {
		name  string
		input []byte
	}{
		{"binary", junk},
		{"binary_gzip", gzipBytes(t, junk)},
		{"text", readTestdata(t, "not_flowlog.txt")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An endless tail proves the file is judged from its start.
			r := io.MultiReader(bytes.NewReader(tc.input), endless{})
			rd, err := NewReader(tc.name, r, Options{})
			if err == nil {
				defer rd.Close()
				_, err = rd.Next(NewBatch())
			}
			if !errors.Is(err, ErrNotFlowLog) {
				t.Fatalf("got %v, want ErrNotFlowLog", err)
			}
			if !strings.Contains(err.Error(), tc.name) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// endless is text that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "lorem ipsum\n"[i%12]
	}
	return len(p), nil
}

func TestColumnsDDL(t *testing.T) {
	golden(t, "columns.sql", ColumnsDDL()+"\n")
}

func TestCatalogue(t *testing.T) {
	want := map[int]string{
		idxVersion: "version", idxAccountID: "account-id", idxInterfaceID: "interface-id",
		idxSrcAddr: "srcaddr", idxDstAddr: "dstaddr", idxSrcPort: "srcport", idxDstPort: "dstport",
		idxProtocol: "protocol", idxPackets: "packets", idxBytes: "bytes", idxStart: "start",
		idxEnd: "end", idxAction: "action", idxLogStatus: "log-status", idxVPCID: "vpc-id",
		idxSubnetID: "subnet-id", idxInstanceID: "instance-id", idxTCPFlags: "tcp-flags",
		idxType: "type", idxPktSrcAddr: "pkt-srcaddr", idxPktDstAddr: "pkt-dstaddr",
		idxRegion: "region", idxAZID: "az-id", idxSublocationType: "sublocation-type",
		idxSublocationID: "sublocation-id", idxPktSrcAWSService: "pkt-src-aws-service",
		idxPktDstAWSService: "pkt-dst-aws-service", idxFlowDirection: "flow-direction",
		idxTrafficPath: "traffic-path",
	}
	for i, name := range want {
		if catalogue[i].Name != name {
			t.Errorf("catalogue[%d] = %s, want %s", i, catalogue[i].Name, name)
		}
	}
	if numFields > maxLineFields {
		t.Errorf("%d fields, maxLineFields %d", numFields, maxLineFields)
	}
	for _, n := range []string{"account-id", "account_id", "${account-id}"} {
		if f, ok := LookupField(n); !ok || f.Column != "account_id" {
			t.Errorf("LookupField(%q) = %v, %v", n, f, ok)
		}
	}
	for _, tc := range []struct {
		count   int
		last    string
		version int
	}{
		{14, "log-status", 2}, {21, "pkt-dstaddr", 3}, {25, "sublocation-id", 4},
		{29, "traffic-path", 5}, {36, "pkt-dst-aws-service", 6}, {39, "ecs-task-id", 7},
		{40, "reject-reason", 8}, {41, "resource-id", 9}, {42, "encryption-status", 10},
		{48, "next-hop-interface-type", 11},
	} {
		got := DefaultFields(tc.count)
		if len(got) != tc.count || got[len(got)-1] != tc.last {
			t.Errorf("DefaultFields(%d) = %v", tc.count, got)
		}
		if v := VersionFields(tc.version); len(v) != tc.count {
			t.Errorf("VersionFields(%d) has %d fields, want %d", tc.version, len(v), tc.count)
		}
	}
	if DefaultFields(15) != nil || VersionFields(1) != nil {
		t.Error("DefaultFields(15) or VersionFields(1) is not nil")
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "${version} ${account-id} ${interface-id}", want: "version account-id interface-id"},
		{in: "version account_id  interface-id\n", want: "version account-id interface-id"},
		{in: "${pkt-src-aws-service} ${flow-direction} ${traffic-path}", want: "pkt-src-aws-service flow-direction traffic-path"},
		{in: "${tgw-id} ${packets-lost-no-route}", want: "tgw-id packets-lost-no-route"},
		{in: "", wantErr: true},
		{in: "${version ${account-id}", wantErr: true},
		{in: "${version} ${flux}", wantErr: true},
		{in: "version ${version}", wantErr: true},
		{in: "${}", wantErr: true},
	} {
		got, err := ParseFormat(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseFormat(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseFormat("${flux}"); !errors.Is(err, ErrUnknownField) {
		t.Errorf("unknown field error %v is not ErrUnknownField", err)
	}
}

func TestParseIP(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"10.0.0.1", true}, {"255.255.255.255", true}, {"0.0.0.0", true},
		{"256.0.0.1", false}, {"1.2.3", false}, {"1.2.3.4.5", false}, {"1..2.3", false},
		{"1.2.3.4 ", false}, {"", false}, {"1.2.3.1234", false},
		{"::", true}, {"::1", true}, {"1::", true}, {"2001:db8::f105", true},
		{"2001:db8:1234:a100:8d6e:3477:df66:f105", true}, {"::ffff:10.1.2.3", true},
		{"64:ff9b::192.0.2.33", true}, {"1:2:3:4:5:6:7::", true}, {"::2:3:4:5:6:7:8", true},
		{"1:2:3:4:5:6:7:8::", false}, {"1:2:3:4:5:6:7:8:9", false}, {"1:::2", false},
		{"1::2::3", false}, {"12345::", false}, {":1::", false}, {"1:", false},
		{"fe80::1%eth0", false}, {"g::1", false}, {"1:2:3:4:5:6:7", false},
		{"::1.2.3.4.5", false}, {"1:2:3:4:5:6:7:1.2.3.4", false},
	} {
		var got proto.IPv6
		ok := parseIP([]byte(tc.in), &got)
		if ok != tc.ok {
			t.Errorf("parseIP(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if ok {
			want := netip.MustParseAddr(tc.in).As16()
			if got != want {
				t.Errorf("parseIP(%q) = %v, want %v", tc.in, netip.AddrFrom16(got), netip.AddrFrom16(want))
			}
		}
	}
}

func TestParseUint(t *testing.T) {
	for _, tc := range []struct {
		in  string
		max uint64
		v   uint64
		ok  bool
	}{
		{"0", 255, 0, true}, {"255", 255, 255, true}, {"256", 255, 0, false},
		{"65535", 65535, 65535, true}, {"4294967295", 1<<32 - 1, 1<<32 - 1, true},
		{"4294967296", 1<<32 - 1, 0, false}, {"18446744073709551615", 1<<64 - 1, 1<<64 - 1, true},
		{"18446744073709551616", 1<<64 - 1, 0, false}, {"", 255, 0, false}, {"-1", 255, 0, false},
		{"1e3", 1 << 20, 0, false}, {"+1", 255, 0, false},
	} {
		v, ok := parseUint([]byte(tc.in), tc.max)
		if ok != tc.ok || (ok && v != tc.v) {
			t.Errorf("parseUint(%q, %d) = %d, %v", tc.in, tc.max, v, ok)
		}
	}
}

func TestJSONMessage(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`{"message":"2 a b"}`, "2 a b", true},
		{` { "id" : "x", "n": 12, "arr":[1,{"message":"no"}], "message" : "yes" }`, "yes", true},
		{`{"a":"\"message\":\"no\"","message":"y"}`, "y", true},
		{`{"message":"tab\there"}`, "tab\there", true},
		{`{"message":12}`, "", false},
		{`{"msg":"x"}`, "", false},
		{`{"message":"unterminated}`, "", false},
		{`[1,2]`, "", false},
	} {
		got, ok := jsonMessage([]byte(tc.in))
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("jsonMessage(%s) = %q, %v", tc.in, got, ok)
		}
	}
}

// TestInputEncodes checks that the lead's insert can encode every column.
func TestInputEncodes(t *testing.T) {
	rd, err := NewReader("v5", bytes.NewReader(synthV5(100, true)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b := NewBatch()
	if _, err := rd.Next(b); err != nil {
		t.Fatal(err)
	}
	// The fields of the file, in catalogue order; the others are left to
	// the table's defaults.
	var want []Field
	for _, f := range catalogue {
		if slices.Contains(VersionFields(5), f.Name) {
			want = append(want, f)
		}
	}
	in := b.Input()
	if len(in) != len(want) {
		t.Fatalf("Input has %d columns, want the %d of version 5", len(in), len(want))
	}
	var buf proto.Buffer
	for i, c := range in {
		if c.Name != want[i].Column || string(c.Data.Type()) != want[i].Type {
			t.Errorf("column %d is %s %s, want %s %s", i, c.Name, c.Data.Type(), want[i].Column, want[i].Type)
		}
		if p, ok := c.Data.(proto.Preparable); ok {
			if err := p.Prepare(); err != nil {
				t.Fatal(err)
			}
		}
		c.Data.EncodeColumn(&buf)
	}
	if b.SrcAddr(0) != netip.MustParseAddr("10.1.0.0") || !b.SrcAddr(0).Is4() {
		t.Errorf("SrcAddr(0) = %v", b.SrcAddr(0))
	}
	if b.AZID(0) == "" || b.FlowDirection(0) == "" || b.Bytes(0) == 0 || b.Start(0) == 0 {
		t.Errorf("accessors: az %q dir %q bytes %d start %d", b.AZID(0), b.FlowDirection(0), b.Bytes(0), b.Start(0))
	} // Fields the file does not have read as their defaults.
	ecs, _ := lookup("ecs-cluster-name")
	if b.str(ecs, 0) != "" || b.Column("ecs-cluster-name").Rows() != 0 {
		t.Errorf("absent ecs-cluster-name: %q, %d rows", b.str(ecs, 0), b.Column("ecs-cluster-name").Rows())
	}
}

// TestParseAllocs checks that the steady-state line parser does not
// allocate.
func TestParseAllocs(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(synthV5(1000, false)), []byte("\n"))
	l := newLayout(mustLayout(VersionFields(5)))
	b := NewBatch()
	var tok [maxLineFields][]byte
	run := func() {
		b.Reset()
		for _, line := range lines {
			splitFields(line, &tok)
			if reason := parseRecord(b, &tok, l); reason != "" {
				t.Fatal(reason)
			}
		}
	}
	run()
	if a := testing.AllocsPerRun(5, run); a > 0 {
		t.Errorf("%.1f allocations per %d lines", a, len(lines))
	}
}
