package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/furrowdev/furrow/store"
)

// Reports runs the traffic reports on one store.
type Reports struct {
	s store.Store
}

// New returns Reports reading s, which must hold the furrow schema
// (migrations applied).
func New(s store.Store) *Reports {
	return &Reports{s: s}
}

// source is a table the reports can aggregate: the hourly rollup, or the
// raw flow_logs (for detail and for benchmarks that compare the two).
type source struct {
	table   string
	timeCol string
	records string // aggregate counting flow-log records
}

var (
	rollup = source{table: "flow_traffic_hourly", timeCol: "hour", records: "sum(records)"}
	raw    = source{table: "flow_logs", timeCol: "start", records: "count()"}
)

// jsonSettings make JSONEachRow numbers plain JSON numbers.
var jsonSettings = map[string]string{
	"output_format_json_quote_64bit_integers": "0",
	"output_format_json_quote_64bit_floats":   "0",
}

// queryRows runs q and decodes its JSONEachRow output into T values.
func queryRows[T any](ctx context.Context, s store.Store, q string, p *params) ([]T, error) {
	var buf bytes.Buffer
	if err := s.Query(ctx, &buf, q, "JSONEachRow",
		store.WithParams(p.values), store.WithSettings(jsonSettings)); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(&buf)
	var out []T
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode result row %d: %w", len(out)+1, err)
		}
		out = append(out, v)
	}
}

// bounds is the span of hours the rollup holds for f (any class), as
// [first hour, last hour + 1h); ok is false when there is none.
func (r *Reports) bounds(ctx context.Context, f Filter) (from, to time.Time, ok bool, err error) {
	p := newParams()
	o := f.rollupOpts()
	o.allClasses = true
	f.apply(p, o)
	q := `SELECT toUnixTimestamp(min(hour)) AS first, toUnixTimestamp(max(hour)) + 3600 AS end, count() AS n
FROM flow_traffic_hourly
WHERE ` + p.sql()
	rows, err := queryRows[struct {
		First int64  `json:"first"`
		End   int64  `json:"end"`
		N     uint64 `json:"n"`
	}](ctx, r.s, q, p)
	if err != nil {
		return time.Time{}, time.Time{}, false, fmt.Errorf("traffic bounds: %w", err)
	}
	if len(rows) == 0 || rows[0].N == 0 {
		return time.Time{}, time.Time{}, false, nil
	}
	return time.Unix(rows[0].First, 0).UTC(), time.Unix(rows[0].End, 0).UTC(), true, nil
}

// clip narrows [from, to) to [lo, hi) where lo/hi are set.
func clip(from, to, lo, hi time.Time) (time.Time, time.Time) {
	if !lo.IsZero() && from.Before(lo) {
		from = lo
	}
	if !hi.IsZero() && to.After(hi) {
		to = hi
	}
	return from, to
}
