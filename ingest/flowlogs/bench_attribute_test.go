package flowlogs

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/furrowdev/furrow/demo"
)

// BenchmarkAttribute attributes demo records (pod index on) in 64k-row
// batches, without parsing or inserting: the goal is ≥ 2M records/s/core.
func BenchmarkAttribute(b *testing.B) {
	dir := b.TempDir()
	if _, err := demo.Generate(context.Background(), dir, demo.Options{Days: 1, FlowsPerHour: 60}); err != nil {
		b.Fatal(err)
	}
	idx, _ := demoIndex(b, dir)
	a, err := NewAttributor(demoTraffic(b, dir))
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := demo.WriteFlowFile(&buf, 65536, 0); err != nil {
		b.Fatal(err)
	}
	rd, err := NewReader("bench", &buf, Options{})
	if err != nil {
		b.Fatal(err)
	}
	batch := NewBatch()
	n, err := rd.Next(batch)
	if err != nil && err != io.EOF {
		b.Fatal(err)
	}
	out := NewAttribution()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		a.Attribute(batch, "s3://bucket/key?etag=x", idx, out)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
