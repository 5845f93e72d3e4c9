package flowlogs

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// synthV5 generates n realistic version 5 lines in the default v5 order:
// about 3,000 pod IPs behind 300 ENIs in 3 AZs, talking to each other, to
// AWS services and to the internet. With header, a header line comes first.
func synthV5(n int, header bool) []byte {
	var buf bytes.Buffer
	if header {
		buf.WriteString(strings.Join(VersionFields(5), " ") + "\n")
	}
	azs := []string{"use1-az1", "use1-az2", "use1-az4"}
	services := []string{"-", "-", "-", "S3", "DYNAMODB", "AMAZON"}
	seed := uint64(42)
	rnd := func(m int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % m
	}
	ip := func(k int) string { return fmt.Sprintf("10.%d.%d.%d", 1+k%3, (k/3)/250, (k/3)%250) }
	for i := range n {
		src, dst := rnd(3000), rnd(3000)
		if i == 0 {
			src = 0
		}
		eni := src / 10
		az := src % 3
		dir, path := "egress", 1+rnd(8)
		dstIP := ip(dst)
		svcSrc, svcDst := "-", services[rnd(len(services))]
		if svcDst != "-" {
			dstIP = fmt.Sprintf("52.%d.%d.%d", 94+rnd(3), rnd(256), rnd(256))
		}
		if rnd(2) == 0 {
			dir = "ingress"
		}
		start := 1700000000 + i/50
		packets := 1 + rnd(5000)
		fmt.Fprintf(&buf, "5 123456789012 eni-%017x %s %s %d %d 6 %d %d %d %d ACCEPT OK "+
			"vpc-0a1b2c3d4e5f60718 subnet-%017x i-%017x %d IPv4 %s %s us-east-1 %s - - %s %s %s %d\n",
			eni, ip(src), dstIP, 1024+rnd(60000), []int{443, 80, 8080, 5432, 6379}[rnd(5)],
			packets, packets*(60+rnd(1400)), start, start+60,
			az, eni, rnd(19), ip(src), dstIP, azs[az], svcSrc, svcDst, dir, path)
	}
	return buf.Bytes()
}

func benchParse(b *testing.B, data []byte, lines int) {
	b.SetBytes(int64(len(data)))
	batch := NewBatch()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rd, err := NewReader("bench", bytes.NewReader(data), Options{})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			n, err := rd.Next(batch)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		rd.Close()
		if got != lines {
			b.Fatalf("parsed %d lines, want %d", got, lines)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseV5 parses plain version 5 text from memory.
func BenchmarkParseV5(b *testing.B) {
	const lines = 200000
	benchParse(b, synthV5(lines, true), lines)
}

// BenchmarkParseV5Gzip parses gzip-compressed version 5 text from memory.
func BenchmarkParseV5Gzip(b *testing.B) {
	const lines = 200000
	benchParse(b, gzipBytes(b, synthV5(lines, true)), lines)
}
