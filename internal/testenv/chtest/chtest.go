// Package chtest gives tests a real ClickHouse: a fresh database on the
// embedded engine (chDB), dropped when the test ends. chDB runs one engine
// per process, so tests are isolated by database, never by data path: the
// engine opens once per test binary on a temporary directory.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store/embedded"
)

var (
	once    sync.Once
	dataDir string
	openErr error
)

// Store returns a Store on a new database named test_<random>; the database
// is dropped in t.Cleanup.
func Store(t testing.TB) *embedded.Store {
	t.Helper()
	once.Do(func() {
		dataDir, openErr = os.MkdirTemp("", "furrow-chtest-")
	})
	if openErr != nil {
		t.Fatalf("chtest: %v", openErr)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := "test_" + hex.EncodeToString(b[:])
	s, err := embedded.Open(context.Background(), embedded.DefaultConfiguration(), embedded.Options{
		Dir: dataDir, Database: db, Command: "go test",
	})
	if err != nil {
		t.Fatalf("chtest: open embedded store: %v", err)
	}
	t.Cleanup(func() {
		// No SYNC: DROP DATABASE … SYNC hangs in chDB 26.5 when the database
		// holds a MergeTree table (verified).
		_ = s.Exec(context.Background(), "DROP DATABASE IF EXISTS "+chsql.QuoteIdent(db))
		_ = s.Close()
	})
	return s
}
