package embedded_test

import (
	"testing"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/storetest"
)

// TestConformance runs the backend conformance suite on the embedded engine;
// store/server runs the same suite against a server when one is configured.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return chtest.Store(t) })
}
