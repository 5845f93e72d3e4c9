package server

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
)

func TestWrapError(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want *store.Error // nil: not a ClickHouse error
		is   error
	}{
		{
			name: "native exception",
			ctx:  context.Background(),
			err:  &clickhouse.Exception{Code: 60, Name: "DB::Exception", Message: "Table furrow.x does not exist"},
			want: &store.Error{Code: 60, Name: "UNKNOWN_TABLE", Message: "Table furrow.x does not exist"},
		},
		{
			name: "HTTP exception, wrapped",
			ctx:  context.Background(),
			err: &clickhouse.HTTPError{StatusCode: 400, Err: &clickhouse.Exception{
				Code: 62, Name: "DB::Exception", CodeName: "SYNTAX_ERROR",
				Message: "Syntax error: failed at position 1 (SELEC). (SYNTAX_ERROR) (version 25.9.1.1 (official build))",
			}},
			want: &store.Error{Code: 62, Name: "SYNTAX_ERROR", Message: "Syntax error: failed at position 1 (SELEC)."},
		},
		{
			name: "unknown code",
			ctx:  context.Background(),
			err:  &clickhouse.Exception{Code: 99999, Message: "new"},
			want: &store.Error{Code: 99999, Message: "new"},
		},
		{
			name: "exception and cancelled context",
			ctx:  cancelled,
			err:  fmt.Errorf("read: %w", &clickhouse.Exception{Code: 394, Message: "Query was cancelled"}),
			want: &store.Error{Code: 394, Name: "QUERY_WAS_CANCELLED", Message: "Query was cancelled"},
			is:   context.Canceled,
		},
		{
			name: "transport error after cancel",
			ctx:  cancelled,
			err:  errors.New("read tcp: use of closed network connection"),
			is:   context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapError(tt.ctx, "op", tt.err)
			require.Error(t, err)
			var se *store.Error
			if tt.want == nil {
				require.False(t, errors.As(err, &se))
				require.ErrorIs(t, err, tt.is)
				return
			}
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.want, se)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
	require.NoError(t, wrapError(context.Background(), "op", nil))
}
