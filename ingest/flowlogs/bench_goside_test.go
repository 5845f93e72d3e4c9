package flowlogs

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/furrowdev/furrow/demo"
	"github.com/furrowdev/furrow/ingest/pods"
	sources "github.com/furrowdev/furrow/ingest/source"
	"github.com/furrowdev/furrow/store"
)

// discardStore is a real store whose flow_logs insert streams encode each
// block in Native format and drop it: what the ingest costs on the Go
// side, without the engine.
type discardStore struct{ store.Store }

func (d discardStore) InsertStream(ctx context.Context, table, token string, opts ...store.Option) (store.BlockStream, error) {
	if table != "flow_logs" {
		return d.Store.InsertStream(ctx, table, token, opts...)
	}
	return &discardStream{}, nil
}

type discardStream struct{ buf proto.Buffer }

func (s *discardStream) Send(b store.Block) error {
	for _, c := range b.Columns {
		if p, ok := c.Data.(proto.Preparable); ok {
			if err := p.Prepare(); err != nil {
				return err
			}
		}
		if e, ok := c.Data.(proto.StateEncoder); ok {
			e.EncodeState(&s.buf)
		}
		c.Data.EncodeColumn(&s.buf)
		s.buf.Reset()
	}
	return nil
}

func (s *discardStream) Close() error { return nil }
func (s *discardStream) Abort()       {}

// BenchmarkIngestGoSide runs the ingest of a 1M-record gzip v5 file with
// everything but the engine: decompression, parsing, attribution and
// Native encoding. Its CPU time is what the Go side adds to the engine's.
func BenchmarkIngestGoSide(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := demo.Generate(ctx, dir, demo.Options{Days: 1, FlowsPerHour: 60}); err != nil {
		b.Fatal(err)
	}
	idx, _ := demoIndex(b, dir)
	traffic := demoTraffic(b, dir)
	path := filepath.Join(dir, "flows.log.gz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := demo.WriteFlowFile(bw, benchRecords, 0); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	s := migrated(b)
	src := sources.New(sources.DefaultConfiguration(), sources.Dependencies{})
	var obj sources.Object
	if err := src.List(ctx, path, sources.Window{}, func(o sources.Object) error { obj = o; return nil }); err != nil {
		b.Fatal(err)
	}
	var cpu, wall float64
	for b.Loop() {
		b.StopTimer()
		in := newTestIngester(b, discardStore{s}, Dependencies{Source: src, Traffic: traffic, Index: func() *pods.Index { return idx }}, IngestOptions{})
		b.StartTimer()
		c0, t0 := cpuSeconds(), time.Now()
		res, err := in.IngestObject(ctx, obj)
		cpu += cpuSeconds() - c0
		wall += time.Since(t0).Seconds()
		if err != nil || res.Stored != benchRecords {
			b.Fatalf("ingest: %v, stored %d", err, res.Stored)
		}
	}
	b.ReportMetric(benchRecords*float64(b.N)/wall, "records/s")
	b.ReportMetric(cpu/float64(b.N), "CPU-s/1M-records")
}
