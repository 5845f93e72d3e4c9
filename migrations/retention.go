package migrations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Retention says how long each kind of data is kept. The converging step
// (converge.go) applies it as the tables' TTLs; 0 keeps the data forever.
type Retention struct {
	// FlowLogs keeps raw flow-log records (flow_logs) this long after
	// their start time, e.g. 30d; 0 keeps them forever.
	FlowLogs Days `yaml:"flow_logs"`
	// FlowRollups keeps the traffic rollups (flow_traffic_hourly and
	// flow_traffic_daily) this long after their hour or day; 0 keeps it forever. Dashboards and reports
	// over long periods read the rollup, so it outlives the raw flows.
	FlowRollups Days `yaml:"flow_rollups"`
	// Pods keeps pod and node history (pod_ips, k8s_nodes) this long
	// after an interval closed, and pods' hourly usage (pod_usage_hourly)
	// this long after its hour; open intervals (a pod still running) are
	// never deleted. Cost allocation reads both: a bill restated later
	// than this is split by what is left. Keep it longer than flow_logs: re-ingesting an old
	// flow-log object attributes its records with this history.
	Pods Days `yaml:"pods"`
}

// DefaultRetention is the retention of a new installation.
//
//   - Raw flows, 30 days: the bulk of the data (one row per record), read
//     for investigations of recent traffic; longer views use the rollup.
//   - Hourly rollup, 395 days (13 months): a month can be compared with the
//     same month a year earlier, which budget reviews ask for; it is a few
//     thousand rows per hour.
//   - Pod history, 45 days after an interval closed: longer than the raw
//     flows, so every flow still stored can be attributed again when its
//     object is re-ingested (a new furrow version, --retry-failed), with
//     two weeks of margin for flow logs delivered or replayed late.
func DefaultRetention() Retention {
	return Retention{FlowLogs: 30, FlowRollups: 395, Pods: 45}
}

// Validate checks that no retention is negative.
func (r Retention) Validate() error {
	var errs []error
	for _, f := range []struct {
		key string
		d   Days
	}{{"flow_logs", r.FlowLogs}, {"flow_rollups", r.FlowRollups}, {"pods", r.Pods}} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("%s: negative; give a number of days such as 30d, or 0 to keep forever", f.key))
		}
	}
	return errors.Join(errs...)
}

// Days is a retention period in whole days, written 30d (or 30); 0 means
// forever. ClickHouse TTLs are checked at merges, hours apart, so a finer
// unit would promise a precision the engine does not give.
type Days int

// UnmarshalText reads "30d" or "30".
func (d *Days) UnmarshalText(b []byte) error {
	s := strings.TrimSuffix(strings.TrimSpace(string(b)), "d")
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New("expected a number of days such as 30d, or 0 to keep forever")
	}
	*d = Days(n)
	return nil
}

// MarshalText writes "30d".
func (d Days) MarshalText() ([]byte, error) {
	return []byte(strconv.Itoa(int(d)) + "d"), nil
}
