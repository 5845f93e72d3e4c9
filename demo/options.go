package demo

import (
	"fmt"
	"time"
)

// Options controls the generated data set. The zero value of every field
// selects its default, so Options{} describes the standard demo.
type Options struct {
	// Seed selects the random streams; the same seed and options give
	// byte-identical output.
	Seed int64
	// Start is the first instant covered (default 2026-11-01T00:00Z). It is
	// truncated to a multiple of ten minutes.
	Start time.Time
	// Days is the number of days covered (default 2).
	Days int
	// FlowsPerHour is the average number of flow-log records per hour
	// (default 20,000, about one million records for two days). Traffic
	// follows a daily curve around this average.
	FlowsPerHour int
	// Nodes is the number of worker nodes, spread over the three zones
	// (default 60).
	Nodes int
	// LocalityNamespace is the namespace that switches on Istio locality
	// load balancing (default "checkout").
	LocalityNamespace string
	// LocalityFrom is when it does so (default Start + 24h).
	LocalityFrom time.Time
	// Workers bounds the goroutines writing flow-log files (default 4).
	Workers int
	// VolumeScale multiplies every record's bytes and packets (and the
	// ground truth alike): the records are a sample of a large platform's
	// traffic, and the scale makes its volumes and costs realistic
	// (default 1000, about 18 TB transferred a day).
	VolumeScale int64
}

// Default values of Options.
const (
	DefaultFlowsPerHour = 20000
	DefaultDays         = 2
	DefaultNodes        = 60
	DefaultLocalityNS   = "checkout"
	DefaultVolumeScale  = 1000
)

// DefaultStart is the default first instant of the data set.
var DefaultStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// withDefaults fills unset fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(10 * time.Minute)
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.FlowsPerHour == 0 {
		o.FlowsPerHour = DefaultFlowsPerHour
	}
	if o.Nodes == 0 {
		o.Nodes = DefaultNodes
	}
	if o.LocalityNamespace == "" {
		o.LocalityNamespace = DefaultLocalityNS
	}
	if o.LocalityFrom.IsZero() {
		o.LocalityFrom = o.Start.Add(24 * time.Hour)
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.VolumeScale <= 0 {
		o.VolumeScale = DefaultVolumeScale
	}
	switch {
	case o.Days < 0 || o.Days > 31:
		return o, fmt.Errorf("demo: days must be between 1 and 31, got %d", o.Days)
	case o.FlowsPerHour < 0:
		return o, fmt.Errorf("demo: flows per hour must be positive, got %d", o.FlowsPerHour)
	case o.Nodes < 6 || o.Nodes > 240:
		return o, fmt.Errorf("demo: nodes must be between 6 and 240, got %d", o.Nodes)
	}
	return o, nil
}

// end is the first instant after the data set.
func (o Options) end() time.Time { return o.Start.Add(time.Duration(o.Days) * 24 * time.Hour) }
