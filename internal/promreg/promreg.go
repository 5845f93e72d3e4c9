// Package promreg is the one way furrow's components register their
// Prometheus metrics: on the registry they are given, sharing the
// collectors an earlier instance registered there. Two instances of a
// component on one registry (two ingesters, a test server started twice)
// then add to the same series instead of panicking on the second.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg and returns it, or returns the collector
// already registered with the same description, which the caller must use
// in place of c. A nil reg registers nothing (a component built without a
// registry counts into collectors nobody scrapes).
//
// It panics when reg holds a different collector under c's name (other
// labels or help text), or the existing one is of another type: that is
// two pieces of code disagreeing about one metric, a programming error no
// configuration can cause, which any test constructing the component finds.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}
