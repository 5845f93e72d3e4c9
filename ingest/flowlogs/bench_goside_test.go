package flowlogs

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"

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
	fx := newBenchFile(b)
	s := migrated(b)
	var cpu, wall float64
	for b.Loop() {
		b.StopTimer()
		in := newTestIngester(b, discardStore{s}, fx.deps, IngestOptions{})
		b.StartTimer()
		c0, t0 := cpuSeconds(), time.Now()
		res, err := in.IngestObject(ctx, fx.obj)
		cpu += cpuSeconds() - c0
		wall += time.Since(t0).Seconds()
		if err != nil || res.Stored != benchRecords {
			b.Fatalf("ingest: %v, stored %d", err, res.Stored)
		}
	}
	b.ReportMetric(benchRecords*float64(b.N)/wall, "records/s")
	b.ReportMetric(cpu/float64(b.N), "CPU-s/1M-records")
}
