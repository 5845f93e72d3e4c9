package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/store"
)

// InstrumentStore is store.Instrument, kept while cmd/furrow still calls it
// by this name.
//
// Deprecated: use store.Instrument.
func InstrumentStore(s store.Store, reg prometheus.Registerer) store.Store {
	return store.Instrument(s, reg)
}
