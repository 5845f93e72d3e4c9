package datasource

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// baseType strips the wrappers that do not change how a value reads.
func baseType(t string) (base string, nullable bool) {
	for {
		switch {
		case strings.HasPrefix(t, "Nullable(") && strings.HasSuffix(t, ")"):
			t, nullable = t[len("Nullable("):len(t)-1], true
		case strings.HasPrefix(t, "LowCardinality(") && strings.HasSuffix(t, ")"):
			t = t[len("LowCardinality(") : len(t)-1]
		case strings.HasPrefix(t, "SimpleAggregateFunction("):
			args := t[len("SimpleAggregateFunction(") : len(t)-1]
			if i := strings.Index(args, ","); i >= 0 {
				t = strings.TrimSpace(args[i+1:])
			} else {
				return t, nullable
			}
		default:
			return t, nullable
		}
	}
}

// kindOf sorts a ClickHouse type into the field type Grafana gets.
func kindOf(t string) string {
	name, _, _ := strings.Cut(t, "(")
	switch name {
	case "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64", "BFloat16",
		"Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256":
		return "number"
	case "DateTime", "DateTime64":
		return "time"
	case "Date", "Date32":
		return "date"
	case "Bool":
		return "bool"
	}
	return "string"
}

// frameFromResult converts a JSONCompact result into a frame; rows past
// limit are dropped and a notice says so.
func frameFromResult(name string, r *sqlResult, limit int) (*data.Frame, error) {
	rows := r.Data
	capped := false
	if limit > 0 && len(rows) > limit {
		rows, capped = rows[:limit], true
	}
	frame := data.NewFrame(name)
	for c, col := range r.Meta {
		base, nullable := baseType(col.Type)
		kind := kindOf(base)
		var field *data.Field
		switch kind {
		case "number":
			vals := make([]*float64, len(rows))
			for i, row := range rows {
				v, err := number(row[c])
				if err != nil {
					return nil, fmt.Errorf("column %s row %d: %w", col.Name, i+1, err)
				}
				vals[i] = v
			}
			field = data.NewField(col.Name, nil, vals)
		case "time", "date":
			vals := make([]*time.Time, len(rows))
			for i, row := range rows {
				v, err := timeValue(row[c], kind == "date")
				if err != nil {
					return nil, fmt.Errorf("column %s row %d: %w", col.Name, i+1, err)
				}
				vals[i] = v
			}
			field = data.NewField(col.Name, nil, vals)
		case "bool":
			vals := make([]*bool, len(rows))
			for i, row := range rows {
				var b *bool
				if string(row[c]) != "null" {
					v := string(row[c]) == "true" || string(row[c]) == "1"
					b = &v
				}
				vals[i] = b
			}
			field = data.NewField(col.Name, nil, vals)
		default:
			vals := make([]*string, len(rows))
			for i, row := range rows {
				vals[i] = stringValue(row[c])
			}
			field = data.NewField(col.Name, nil, vals)
		}
		if !nullable {
			field = nonNullable(field)
		}
		field.Config = &data.FieldConfig{Unit: unitFor(col.Name)}
		frame.Fields = append(frame.Fields, field)
	}
	frame.Meta = &data.FrameMeta{}
	if capped {
		frame.Meta.Notices = append(frame.Meta.Notices, data.Notice{
			Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("Showing the first %d rows: the query returned more. Aggregate (GROUP BY) or add LIMIT; "+
				"the cap is the datasource's row limit.", limit),
		})
	}
	return frame, nil
}

// nonNullable copies a field of pointers without nulls into a field of
// values (zero for a null the engine sent anyway).
func nonNullable(f *data.Field) *data.Field {
	n := f.Len()
	switch f.Type() {
	case data.FieldTypeNullableFloat64:
		v := make([]float64, n)
		for i := range v {
			if p, ok := f.At(i).(*float64); ok && p != nil {
				v[i] = *p
			}
		}
		return data.NewField(f.Name, f.Labels, v)
	case data.FieldTypeNullableTime:
		v := make([]time.Time, n)
		for i := range v {
			if p, ok := f.At(i).(*time.Time); ok && p != nil {
				v[i] = *p
			}
		}
		return data.NewField(f.Name, f.Labels, v)
	case data.FieldTypeNullableBool:
		v := make([]bool, n)
		for i := range v {
			if p, ok := f.At(i).(*bool); ok && p != nil {
				v[i] = *p
			}
		}
		return data.NewField(f.Name, f.Labels, v)
	case data.FieldTypeNullableString:
		v := make([]string, n)
		for i := range v {
			if p, ok := f.At(i).(*string); ok && p != nil {
				v[i] = *p
			}
		}
		return data.NewField(f.Name, f.Labels, v)
	}
	return f
}

func number(raw json.RawMessage) (*float64, error) {
	s := string(raw)
	if s == "null" {
		return nil, nil
	}
	s = strings.Trim(s, `"`)
	switch s {
	case "nan", "NaN":
		v := math.NaN()
		return &v, nil
	case "inf", "+inf":
		v := math.Inf(1)
		return &v, nil
	case "-inf":
		v := math.Inf(-1)
		return &v, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func timeValue(raw json.RawMessage, date bool) (*time.Time, error) {
	s := string(raw)
	if s == "null" {
		return nil, nil
	}
	s = strings.Trim(s, `"`)
	if date {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, err
		}
		return &t, nil
	}
	f, err := strconv.ParseFloat(s, 64) // date_time_output_format = unix_timestamp
	if err != nil {
		t, err2 := time.Parse(time.DateTime, s)
		if err2 != nil {
			return nil, err
		}
		return &t, nil
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
	return &t, nil
}

func stringValue(raw json.RawMessage) *string {
	if string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &s
	}
	v := string(raw) // arrays, maps, tuples: as JSON
	return &v
}

// unitFor guesses a column's unit from furrow's names.
func unitFor(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "cost") || strings.Contains(n, "usd"):
		return "currencyUSD"
	case strings.Contains(n, "share") || strings.HasSuffix(n, "_ratio"):
		return "percentunit"
	case strings.Contains(n, "bytes") || n == "gb":
		return "bytes"
	}
	return ""
}

// toTimeSeries makes a long frame (time, labels…, values…) wide: one
// series per label combination, as Grafana's graphs want.
func toTimeSeries(f *data.Frame) (*data.Frame, error) {
	ts := f.TimeSeriesSchema()
	if ts.Type == data.TimeSeriesTypeNot {
		return nil, fmt.Errorf("a time series needs a time column (e.g. $__timeInterval(start) AS time)")
	}
	if ts.Type == data.TimeSeriesTypeLong {
		sorted, err := sortByTime(f)
		if err != nil {
			return nil, err
		}
		return data.LongToWide(sorted, &data.FillMissing{Mode: data.FillModeNull})
	}
	return f, nil
}

// sortByTime orders a long frame by its time field, as LongToWide needs.
func sortByTime(f *data.Frame) (*data.Frame, error) {
	idx := -1
	for i, fl := range f.Fields {
		if fl.Type() == data.FieldTypeNullableTime || fl.Type() == data.FieldTypeTime {
			idx = i
			break
		}
	}
	if idx < 0 {
		return f, nil
	}
	n, _ := f.RowLen()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	tf := f.Fields[idx]
	at := func(i int) time.Time {
		if v, ok := tf.ConcreteAt(i); ok {
			return v.(time.Time)
		}
		return time.Time{}
	}
	sort.SliceStable(order, func(a, b int) bool { return at(order[a]).Before(at(order[b])) })
	out := f.EmptyCopy()
	for _, i := range order {
		out.AppendRow(f.RowCopy(i)...)
	}
	return out, nil
}
