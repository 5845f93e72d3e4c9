package sqlapi

import (
	"fmt"
	"strconv"
	"time"
)

// Configuration bounds what one analyst query may cost. The limits are
// enforced by ClickHouse itself, on both backends.
type Configuration struct {
	// MaxExecutionTime stops a query that runs longer (ClickHouse
	// max_execution_time, TIMEOUT_EXCEEDED).
	MaxExecutionTime time.Duration `yaml:"max_execution_time"`
	// MaxResultRows stops a query whose result has more rows (ClickHouse
	// max_result_rows with result_overflow_mode=throw).
	MaxResultRows uint64 `yaml:"max_result_rows"`
	// MaxResultBytes stops a query whose uncompressed result is larger
	// (ClickHouse max_result_bytes with result_overflow_mode=throw).
	MaxResultBytes uint64 `yaml:"max_result_bytes"`
	// MaxMemoryUsage stops a query that needs more memory on one node
	// (ClickHouse max_memory_usage, MEMORY_LIMIT_EXCEEDED).
	MaxMemoryUsage uint64 `yaml:"max_memory_usage"`
	// MaxQuerySize refuses query texts longer than this many bytes before
	// they reach ClickHouse.
	MaxQuerySize int `yaml:"max_query_size"`
}

// DefaultConfiguration returns limits fit for interactive analysis.
func DefaultConfiguration() Configuration {
	return Configuration{
		// Short: on the embedded engine a query holds the engine, and a
		// long aggregation can only be stopped by this limit.
		MaxExecutionTime: 15 * time.Second,
		MaxResultRows:    1_000_000,
		MaxResultBytes:   256 << 20,
		MaxMemoryUsage:   4 << 30,
		MaxQuerySize:     64 << 10,
	}
}

// Validate reports the first limit that is missing or out of range. Zero
// would mean "unlimited" to ClickHouse, which is never what an operator of
// this endpoint wants, so it is refused.
func (c Configuration) Validate() error {
	switch {
	case c.MaxExecutionTime < time.Second:
		return fmt.Errorf("sql.max_execution_time is %s: set at least 1s", c.MaxExecutionTime)
	case c.MaxResultRows == 0:
		return fmt.Errorf("sql.max_result_rows is 0: set a positive row count")
	case c.MaxResultBytes == 0:
		return fmt.Errorf("sql.max_result_bytes is 0: set a positive byte count")
	case c.MaxMemoryUsage == 0:
		return fmt.Errorf("sql.max_memory_usage is 0: set a positive byte count")
	case c.MaxQuerySize <= 0:
		return fmt.Errorf("sql.max_query_size is %d: set a positive byte count", c.MaxQuerySize)
	}
	return nil
}

// settings are the ClickHouse settings every user statement runs with.
// readonly=1 is what makes the engine refuse writes and table functions that
// reach outside (file, url, remote…); on the server backend it also forbids
// the query from changing any setting.
func (c Configuration) settings() map[string]string {
	return map[string]string{
		"readonly":             "1",
		"max_execution_time":   strconv.FormatFloat(c.MaxExecutionTime.Seconds(), 'f', -1, 64),
		"max_result_rows":      strconv.FormatUint(c.MaxResultRows, 10),
		"max_result_bytes":     strconv.FormatUint(c.MaxResultBytes, 10),
		"result_overflow_mode": "throw",
		"max_memory_usage":     strconv.FormatUint(c.MaxMemoryUsage, 10),
		// No addressToSymbol & co., and no server stack traces in errors.
		"allow_introspection_functions": "0",
		"calculate_text_stack_trace":    "0",
	}
}
