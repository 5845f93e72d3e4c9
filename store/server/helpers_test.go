package server

import (
	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/furrowdev/furrow/store"
)

func blockOf(cols proto.Input) store.Block { return store.Block{Columns: cols} }

// nopConn stands in for the native pool where a test needs none.
type nopConn struct{ driver.Conn }
