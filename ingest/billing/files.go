package billing

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// column is one column of a bill file and its engine type.
type column struct {
	Name, Type string
}

// parquetMagic opens and ends every Parquet file.
var parquetMagic = []byte("PAR1")

// isParquet tells a Parquet file by its extension or, failing that, its
// first four bytes (S3 exports name them …snappy.parquet; a copy may not).
func isParquet(path string) (bool, error) {
	if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		return true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n == 4 && bytes.Equal(b[:], parquetMagic), nil
}

// bill is one file as the engine reads it.
type bill struct {
	path    string
	parquet bool
	cols    []column
}

// openBill reads a file's columns: the CSV header (every column a String),
// or the Parquet schema as the engine sees it.
func openBill(ctx context.Context, s store.Store, path string) (bill, error) {
	b := bill{path: path}
	var err error
	if b.parquet, err = isParquet(path); err != nil {
		return b, err
	}
	if !b.parquet {
		names, err := header(path)
		if err != nil {
			return b, err
		}
		for _, n := range names {
			b.cols = append(b.cols, column{Name: n, Type: "String"})
		}
		return b, nil
	}
	var out strings.Builder
	if err := s.Query(ctx, &out, "DESCRIBE file("+chsql.QuoteString(path)+", 'Parquet')", "TSVRaw"); err != nil {
		return b, fmt.Errorf("%s: read the Parquet schema: %w", path, err)
	}
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) >= 2 && f[0] != "" {
			b.cols = append(b.cols, column{Name: f[0], Type: f[1]})
		}
	}
	return b, nil
}

// names are the columns' names.
func (b bill) names() []string {
	out := make([]string, len(b.cols))
	for i, c := range b.cols {
		out[i] = c.Name
	}
	return out
}

// table is the table function reading the file with its line numbers: for
// CSV the line of the row (the header is line 1; a quoted field holding a
// newline makes later numbers one short per newline), for Parquet the
// row's number from 1.
func (b bill) table() (string, map[string]string) {
	// One stream keeps rowNumberInAllBlocks() in file order; parsing still
	// runs on two threads (parallel parsing keeps block order): 10% faster.
	// Inserts squash into blocks of at most 128k rows (the default 1M rows
	// of 20 columns held the process's peak at 1.6 GiB in the benchmark,
	// 256k at 1.16 GiB, 128k at 1.0–1.1 GiB; 64k was slower and no smaller).
	// Parquet is decoded by one thread in blocks of 16k rows: row groups
	// decoded whole by two threads held the peak at 1.9 GiB, this at 0.7.
	settings := map[string]string{"max_threads": "1", "max_parsing_threads": "2",
		"min_insert_block_size_rows": "131072", "min_insert_block_size_bytes": "67108864"}
	if b.parquet {
		settings["input_format_parquet_preserve_order"] = "1"
		settings["max_parsing_threads"] = "1"
		settings["input_format_parquet_max_block_size"] = "16384"
		return "(SELECT *, rowNumberInAllBlocks() + 1 AS line FROM file(" + chsql.QuoteString(b.path) + ", 'Parquet'))", settings
	}
	structure := make([]string, len(b.cols))
	for i, c := range b.cols {
		structure[i] = chsql.QuoteIdent(c.Name) + " String"
	}
	settings["input_format_csv_allow_variable_number_of_columns"] = "1"
	return "(SELECT *, rowNumberInAllBlocks() + 2 AS line FROM file(" + chsql.QuoteString(b.path) + ", 'CSVWithNames', " +
		chsql.QuoteString(strings.Join(structure, ", ")) + "))", settings
}

// header reads a file's first CSV record (gzip by extension, BOM removed).
func header(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	rec, err := csv.NewReader(br).Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read the header: %w", path, err)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, nil
}
