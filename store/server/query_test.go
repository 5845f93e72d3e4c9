package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

// fakeHTTP mimics the parts of ClickHouse's HTTP interface that Query uses,
// so the wiring (format, settings, parameters, errors) is checked without a
// server. It answers the driver's handshake and ping in Native format.
type fakeHTTP struct {
	mu   sync.Mutex
	last url.Values // URL parameters of the last format query
}

const exceptionTag = "0123456789abcdef"

func (f *fakeHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	query := string(body)
	switch {
	case strings.HasPrefix(query, "SELECT displayName()"):
		writeNative(w, []string{"name", "version", "revision", "tz"},
			[]string{"String", "String", "UInt32", "String"}, []any{"fake", "25.9.1.1", uint32(54479), "UTC"})
		return
	case query == "SELECT 1":
		writeNative(w, []string{"1"}, []string{"UInt8"}, []any{uint8(1)})
		return
	}
	f.mu.Lock()
	f.last = r.URL.Query()
	f.mu.Unlock()
	switch query {
	case "SELECT ok":
		_, _ = io.WriteString(w, "1\tit's\n")
	case "SELECT missing":
		w.Header().Set("X-ClickHouse-Exception-Code", "60")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "Code: 60. DB::Exception: Table furrow.missing does not exist. (UNKNOWN_TABLE) (version 25.9.1.1 (official build))\n")
	case "SELECT midstream":
		w.Header().Set("X-ClickHouse-Exception-Tag", exceptionTag)
		msg := "Code: 396. DB::Exception: Limit for result exceeded, max rows: 1.00. (TOO_MANY_ROWS_OR_BYTES) (version 25.9.1.1 (official build))\n"
		_, _ = io.WriteString(w, "1\n__exception__\r\n"+exceptionTag+"\r\n"+msg+"123 "+exceptionTag+"\r\n__exception__\r\n")
	case "SELECT slow":
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func writeNative(w io.Writer, names, types []string, row []any) {
	b := proto.NewBlock()
	for i := range names {
		if err := b.AddColumn(names[i], column.Type(types[i])); err != nil {
			panic(err)
		}
	}
	if err := b.Append(row...); err != nil {
		panic(err)
	}
	var buf chproto.Buffer
	if err := b.Encode(&buf, clickhouse.ClientTCPProtocolVersion); err != nil {
		panic(err)
	}
	_, _ = w.Write(buf.Buf)
}

func newFakeStore(t *testing.T) (*Store, *fakeHTTP) {
	t.Helper()
	fake := &fakeHTTP{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := DefaultConfiguration()
	cfg.HTTPAddrs = []string{strings.TrimPrefix(srv.URL, "http://")}
	conn, err := clickhouse.Open(cfg.clientOptions(clickhouse.HTTP, cfg.Database, nil, slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &Store{cfg: cfg, http: conn}, fake
}

func TestQueryOverHTTP(t *testing.T) {
	s, fake := newFakeStore(t)
	ctx := context.Background()

	var out bytes.Buffer
	err := s.Query(ctx, &out, "SELECT ok", "TSV",
		store.WithSettings(map[string]string{"max_result_rows": "10", "result_overflow_mode": "throw"}),
		store.WithParams(map[string]string{"s": `it's \\ "q"`}),
		store.WithQueryID("q-1"))
	require.NoError(t, err)
	require.Equal(t, "1\tit's\n", out.String())

	got := fake.last
	for k, v := range map[string]string{
		"default_format":       "TSV",
		"database":             "furrow",
		"max_result_rows":      "10",
		"result_overflow_mode": "throw",
		"param_s":              `it's \\ "q"`,
		"query_id":             "q-1",
		"cancel_http_readonly_queries_on_client_close": "1",
		"http_write_exception_in_output_format":        "0",
	} {
		require.Equal(t, v, got.Get(k), "URL parameter %s", k)
	}
}

func TestQueryErrorsOverHTTP(t *testing.T) {
	s, _ := newFakeStore(t)
	tests := []struct {
		name     string
		query    string
		format   string
		wantCode int
		wantName string
		wantOut  string
	}{
		{name: "error status", query: "SELECT missing", format: "TSV", wantCode: 60, wantName: "UNKNOWN_TABLE"},
		{name: "exception after the first bytes", query: "SELECT midstream", format: "TSV",
			wantCode: 396, wantName: "TOO_MANY_ROWS_OR_BYTES", wantOut: "1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := s.Query(context.Background(), &out, tt.query, tt.format)
			var se *store.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.wantCode, se.Code)
			require.Equal(t, tt.wantName, se.Name)
			require.NotContains(t, se.Message, "version")
			require.Equal(t, tt.wantOut, out.String())
		})
	}
}

func TestQueryCancelOverHTTP(t *testing.T) {
	s, _ := newFakeStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Query(ctx, io.Discard, "SELECT slow", "TSV") }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
}

func TestClosed(t *testing.T) {
	s, _ := newFakeStore(t)
	s.native = nopConn{s.http}
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	ctx := context.Background()
	for name, err := range map[string]error{
		"Exec":   s.Exec(ctx, "SELECT 1"),
		"Query":  s.Query(ctx, io.Discard, "SELECT 1", "TSV"),
		"Insert": s.Insert(ctx, "t", store.Block{}, ""),
		"Ping":   s.Ping(ctx),
	} {
		require.True(t, errors.Is(err, store.ErrClosed), "%s after Close: %v", name, err)
	}
}
