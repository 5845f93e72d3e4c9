package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/storetest"
)

// dsnEnv names a ClickHouse server for the integration tests, e.g.
// clickhouse://default:@127.0.0.1:9000/default?http_port=8123.
const dsnEnv = "FURROW_TEST_CLICKHOUSE_DSN"

// TestServer runs the conformance suite and the server-only checks against
// a real server, each on a random database dropped afterwards.
func TestServer(t *testing.T) {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " is unset: no modern ClickHouse server can be installed on this machine, so the server backend is tested only against one named by that DSN")
	}
	base, err := ParseDSN(dsn)
	require.NoError(t, err)

	open := func(t *testing.T) *Store {
		cfg := base
		cfg.Database = "furrow_test_" + randomHex(t)
		s, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		t.Cleanup(func() {
			require.NoError(t, s.Exec(context.Background(),
				"DROP DATABASE IF EXISTS "+chsql.QuoteIdent(cfg.Database)+onCluster(cfg.Cluster)+" SYNC"))
			require.NoError(t, s.Close())
		})
		return s
	}

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
	})
	t.Run("Info", func(t *testing.T) {
		s := open(t)
		info := s.Info()
		require.Equal(t, "server", info.Kind)
		require.Equal(t, base.Cluster, info.Cluster)
		require.Contains(t, info.Database, "furrow_test_")
	})
	t.Run("Open is idempotent", func(t *testing.T) {
		s := open(t)
		again, err := Open(context.Background(), s.cfg, nil)
		require.NoError(t, err)
		require.NoError(t, again.Close())
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := base
		cfg.Password = "furrow-wrong-password"
		_, err := Open(context.Background(), cfg, nil)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "furrow-wrong-password")
	})
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
