package sqlapi

import (
	"fmt"
	"strings"
)

// Format is a ClickHouse output format the endpoint serves.
type Format string

// The formats analysts may ask for. Others are refused: each added format is
// one more output path to keep well-formed on both backends.
const (
	TSV         Format = "TSV"
	CSV         Format = "CSV"
	JSONEachRow Format = "JSONEachRow"
	Pretty      Format = "Pretty"
	Parquet     Format = "Parquet"
)

// Formats lists the supported formats in the order error messages show them.
var Formats = []Format{TSV, CSV, JSONEachRow, Pretty, Parquet}

// ParseFormat maps a format name, in any case, to a Format. An empty name is
// TSV, ClickHouse's default.
func ParseFormat(name string) (Format, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return TSV, nil
	}
	for _, f := range Formats {
		if strings.EqualFold(name, string(f)) {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrUnknownFormat, name, strings.Join(names, ", "))
}

// ContentType is the HTTP Content-Type of a result in f, as ClickHouse's own
// HTTP interface sends it.
func (f Format) ContentType() string {
	switch f {
	case TSV:
		return "text/tab-separated-values; charset=UTF-8"
	case CSV:
		return "text/csv; charset=UTF-8; header=absent"
	case JSONEachRow:
		return "application/x-ndjson; charset=UTF-8"
	case Pretty:
		return "text/plain; charset=UTF-8"
	default:
		return "application/octet-stream"
	}
}

func (f Format) valid() bool {
	for _, g := range Formats {
		if f == g {
			return true
		}
	}
	return false
}
