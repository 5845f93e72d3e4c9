package store

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// Instrument wraps s so that every call is counted and timed on reg:
// furrow_store_operations_total{op}, furrow_store_operation_duration_seconds{op},
// furrow_store_errors_total{op,code} (code is ClickHouse's error code, or
// "canceled" or "other") and furrow_store_inserted_rows_total{table}. op is
// exec, query, insert or ping. The wrapper is a Store itself, so it goes
// wherever the plain one did. Every component inserts through it, which
// makes furrow_store_inserted_rows_total the one count of rows stored:
// components count their own facts, not rows again. Wrapping twice on one
// registry shares the metrics.
func Instrument(s Store, reg prometheus.Registerer) Store {
	return &instrumentedStore{
		next: s,
		ops: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_operations_total",
			Help: "Store calls, by operation (exec, query, insert, ping).",
		}, []string{"op"})),
		duration: promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "furrow_store_operation_duration_seconds",
			Help:    "Time spent in store calls, by operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"op"})),
		errors: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_errors_total",
			Help: "Failed store calls, by operation and ClickHouse error code (\"canceled\" when the caller gave up, \"other\" for transport errors).",
		}, []string{"op", "code"})),
		rows: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "furrow_store_inserted_rows_total",
			Help: "Rows written by Insert, by table.",
		}, []string{"table"})),
	}
}

type instrumentedStore struct {
	next     Store
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	rows     *prometheus.CounterVec
}

func (s *instrumentedStore) observe(op string, start time.Time, err error) error {
	s.ops.WithLabelValues(op).Inc()
	s.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		s.errors.WithLabelValues(op, errorCode(err)).Inc()
	}
	return err
}

// errorCode is the label for err: ClickHouse's numeric code when it has one.
func errorCode(err error) string {
	var se *Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.As(err, &se) && se.Code != 0:
		return strconv.Itoa(se.Code)
	}
	return "other"
}

func (s *instrumentedStore) Exec(ctx context.Context, query string, opts ...Option) error {
	start := time.Now()
	return s.observe("exec", start, s.next.Exec(ctx, query, opts...))
}

func (s *instrumentedStore) Query(ctx context.Context, w io.Writer, query, format string, opts ...Option) error {
	start := time.Now()
	return s.observe("query", start, s.next.Query(ctx, w, query, format, opts...))
}

func (s *instrumentedStore) Insert(ctx context.Context, table string, b Block, token string) error {
	start := time.Now()
	err := s.observe("insert", start, s.next.Insert(ctx, table, b, token))
	if err == nil {
		s.rows.WithLabelValues(table).Add(float64(b.Rows()))
	}
	return err
}

// InsertStream counts a stream as one "insert" operation, timed from its
// opening to Close, and its rows once it is stored.
func (s *instrumentedStore) InsertStream(ctx context.Context, table, token string, opts ...Option) (BlockStream, error) {
	start := time.Now()
	st, err := s.next.InsertStream(ctx, table, token, opts...)
	if err != nil {
		return nil, s.observe("insert", start, err)
	}
	return &instrumentedStream{s: s, next: st, table: table, start: start}, nil
}

type instrumentedStream struct {
	s     *instrumentedStore
	next  BlockStream
	table string
	start time.Time
	rows  int
	ended bool
}

func (st *instrumentedStream) Send(b Block) error {
	err := st.next.Send(b)
	if err == nil {
		st.rows += b.Rows()
	}
	return err
}

func (st *instrumentedStream) Close() error {
	if st.ended {
		return st.next.Close()
	}
	st.ended = true
	err := st.s.observe("insert", st.start, st.next.Close())
	if err == nil {
		st.s.rows.WithLabelValues(st.table).Add(float64(st.rows))
	}
	return err
}

func (st *instrumentedStream) Abort() {
	if !st.ended {
		st.ended = true
		st.s.observe("insert", st.start, errStreamAborted)
	}
	st.next.Abort()
}

// errStreamAborted labels an aborted insert stream in the error counter.
var errStreamAborted = errors.New("insert stream aborted")

func (s *instrumentedStore) Ping(ctx context.Context) error {
	start := time.Now()
	return s.observe("ping", start, s.next.Ping(ctx))
}

func (s *instrumentedStore) Info() Info { return s.next.Info() }

func (s *instrumentedStore) Close() error { return s.next.Close() }
