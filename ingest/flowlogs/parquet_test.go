package flowlogs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// awsRow mirrors the Parquet schema AWS writes for a v5 subset: snake_case
// names, INT_32/INT_64 numbers, STRING addresses, optional everywhere.
type awsRow struct {
	Version           *int32  `parquet:"version,optional"`
	AccountID         *string `parquet:"account_id,optional"`
	InterfaceID       *string `parquet:"interface_id,optional"`
	SrcAddr           *string `parquet:"srcaddr,optional"`
	DstAddr           *string `parquet:"dstaddr,optional"`
	SrcPort           *int32  `parquet:"srcport,optional"`
	DstPort           *int32  `parquet:"dstport,optional"`
	Protocol          *int32  `parquet:"protocol,optional"`
	Packets           *int64  `parquet:"packets,optional"`
	Bytes             *int64  `parquet:"bytes,optional"`
	Start             *int64  `parquet:"start,optional"`
	End               *int64  `parquet:"end,optional"`
	Action            *string `parquet:"action,optional"`
	LogStatus         *string `parquet:"log_status,optional"`
	AZID              *string `parquet:"az_id,optional"`
	PktDstAWSService  *string `parquet:"pkt_dst_aws_service,optional"`
	FlowDirection     *string `parquet:"flow_direction,optional"`
	TrafficPath       *int32  `parquet:"traffic_path,optional"`
	PacketsLostNoRout *int64  `parquet:"packets_lost_no_route,optional"`
}

func p[T any](v T) *T { return &v }

func writeParquet(t *testing.T, rows []awsRow, rowGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[awsRow](&buf, parquet.MaxRowsPerRowGroup(int64(rowGroup)))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquet(t *testing.T) {
	ok := awsRow{
		Version: p[int32](5), AccountID: p("123456789010"), InterfaceID: p("eni-1235b8ca123456789"),
		SrcAddr: p("172.31.16.139"), DstAddr: p("52.94.133.131"), SrcPort: p[int32](20641),
		DstPort: p[int32](443), Protocol: p[int32](6), Packets: p[int64](20), Bytes: p[int64](4249),
		Start: p[int64](1418530010), End: p[int64](1418530070), Action: p("ACCEPT"), LogStatus: p("OK"),
		AZID: p("use1-az1"), PktDstAWSService: p("S3"), FlowDirection: p("egress"), TrafficPath: p[int32](8),
	}
	nodata := awsRow{
		Version: p[int32](5), AccountID: p("123456789010"), InterfaceID: p("eni-1235b8ca123456789"),
		SrcAddr: p("-"), Start: p[int64](1431280876), End: p[int64](1431280934), LogStatus: p("NODATA"),
	}
	v6 := ok
	v6.SrcAddr, v6.DstAddr, v6.PktDstAWSService = p("2001:db8::1"), p("2001:db8::2"), nil
	badPort := ok
	badPort.DstPort = p[int32](70000)
	badAddr := ok
	badAddr.SrcAddr = p("not-an-ip")
	data := writeParquet(t, []awsRow{ok, nodata, badPort, v6, badAddr, ok}, 4)

	t.Run("OpenParquet", func(t *testing.T) {
		rd, err := OpenParquet("flows.parquet", bytes.NewReader(data), int64(len(data)), Options{BatchRows: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		golden(t, filepath.Join("golden", "parquet.tsv"), render(t, rd, 4))
	})
	t.Run("NewReader", func(t *testing.T) {
		// A file is an io.ReaderAt and io.Seeker: NewReader uses it in place.
		path := filepath.Join(t.TempDir(), "flows.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for name, r := range map[string]interface{ Read([]byte) (int, error) }{
			"file": f, "stream": bytes.NewBuffer(data),
		} {
			rd, err := NewReader("flows.parquet", r, Options{BatchRows: 4})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if rd.Format() != FormatParquet {
				t.Fatalf("%s: format %s", name, rd.Format())
			}
			golden(t, filepath.Join("golden", "parquet.tsv"), render(t, rd, 4))
			rd.Close()
		}
	})
	t.Run("NotFlowLog", func(t *testing.T) {
		type other struct {
			Name string `parquet:"name"`
		}
		var buf bytes.Buffer
		if err := parquet.Write(&buf, []other{{"x"}}); err != nil {
			t.Fatal(err)
		}
		_, err := OpenParquet("other.parquet", bytes.NewReader(buf.Bytes()), int64(buf.Len()), Options{})
		if !errors.Is(err, ErrNotFlowLog) {
			t.Fatalf("got %v, want ErrNotFlowLog", err)
		}
	})
}
