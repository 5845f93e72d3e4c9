package cost

import (
	"errors"
	"fmt"
	"time"
)

// Configuration says how cost is allocated to owners and when an increase
// is a finding.
type Configuration struct {
	// ProjectTagKeys are the bill's tag keys naming a catalog project, in
	// order of preference, as the bill writes them: CUR 1.0 keeps the
	// "user:" prefix (resourceTags/user:project), CUR 2.0 writes
	// user_project, FOCUS the key itself. A value that is not a catalog
	// project id is ignored.
	ProjectTagKeys []string `yaml:"project_tag_keys"`
	// TeamTagKeys are the tag keys naming a team by its HR code, tried
	// after ProjectTagKeys.
	TeamTagKeys []string `yaml:"team_tag_keys"`
	// CPUCoreHourWeight and MemoryGiBHourWeight split a node's cost between
	// its CPU and its memory: the CPU part is
	// cores×CPU / (cores×CPU + GiB×memory). The defaults are OpenCost's
	// default prices ($0.031611 per vCPU-hour, $0.004237 per GiB-hour):
	// only their ratio matters. Both positive.
	CPUCoreHourWeight float64 `yaml:"cpu_core_hour_weight"`
	// MemoryGiBHourWeight is the memory side of CPUCoreHourWeight: the
	// weight of one GiB of a node's memory for one hour. Positive.
	MemoryGiBHourWeight float64 `yaml:"memory_gib_hour_weight"`
	// SharedNamespaces are namespaces that serve everyone (system,
	// monitoring, mesh): their pods' cost is the kind "shared", spread over
	// the owners of the same cluster in proportion to their cost, or shown
	// apart (reports choose; spreading is the default).
	SharedNamespaces []string `yaml:"shared_namespaces"`
	// Interval is how often `furrow serve` allocates again the billing
	// periods whose bill, pods or usage changed since their last
	// allocation, then looks for anomalies; 0 disables it.
	Interval time.Duration `yaml:"interval"`
	// Anomalies are the thresholds of unintended increases.
	Anomalies AnomalyConfiguration `yaml:"anomalies"`
}

// AnomalyConfiguration says when a day's cost of an owner and service is an
// unintended increase: it is above its trailing baseline (the median of
// the baseline days) by more than MinScore robust deviations
// (1.4826 × the median absolute deviation), by at least MinIncrease in the
// bill's currency, and by at least MinRatio of the baseline.
type AnomalyConfiguration struct {
	// BaselineDays is the trailing window, in days, before the day
	// judged. At least 7.
	BaselineDays int `yaml:"baseline_days"`
	// WeekdayAware compares a day with the same weekdays of the last
	// BaselineWeeks weeks when at least 3 of them have cost, so a Monday
	// batch job is not an anomaly every Monday.
	WeekdayAware bool `yaml:"weekday_aware"`
	// BaselineWeeks is the number of weeks the weekday-aware baseline
	// looks back. At least 3.
	BaselineWeeks int `yaml:"baseline_weeks"`
	// MinScore is the robust z-score a finding needs. Positive.
	MinScore float64 `yaml:"min_score"`
	// MinIncrease is the smallest increase over the baseline worth a
	// finding, in the bill's currency. Not negative.
	MinIncrease float64 `yaml:"min_increase"`
	// MinRatio is the smallest relative increase (0.2: 20% above the
	// baseline). Not negative.
	MinRatio float64 `yaml:"min_ratio"`
	// Days is how many recent days each detection judges. At least 1.
	Days int `yaml:"days"`
	// MinHistoryDays is how many of the BaselineDays must have cost for a
	// series to be judged: a new series (a team's first use of a service,
	// a cluster's first days of pod data) has no baseline to rise above.
	// Between 1 and BaselineDays.
	MinHistoryDays int `yaml:"min_history_days"`
}

// DefaultConfiguration returns the defaults.
func DefaultConfiguration() Configuration {
	return Configuration{
		ProjectTagKeys:      []string{"user:project", "user_project", "project"},
		TeamTagKeys:         []string{"user:team", "user_team", "team"},
		CPUCoreHourWeight:   0.031611,
		MemoryGiBHourWeight: 0.004237,
		SharedNamespaces:    []string{"kube-system", "monitoring", "istio-system"},
		Interval:            time.Hour,
		Anomalies: AnomalyConfiguration{
			BaselineDays: 14, WeekdayAware: true, BaselineWeeks: 4,
			MinScore: 3.5, MinIncrease: 10, MinRatio: 0.2, Days: 7, MinHistoryDays: 7,
		},
	}
}

// ErrInvalidConfiguration wraps every configuration error.
var ErrInvalidConfiguration = errors.New("invalid cost configuration")

// Validate checks the bounds documented on the fields; all problems are
// reported at once.
func (c Configuration) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfiguration}, args...)...))
	}
	if !(c.CPUCoreHourWeight > 0) {
		bad("cpu_core_hour_weight: %v is not positive", c.CPUCoreHourWeight)
	}
	if !(c.MemoryGiBHourWeight > 0) {
		bad("memory_gib_hour_weight: %v is not positive", c.MemoryGiBHourWeight)
	}
	if c.Interval < 0 {
		bad("interval: %s is negative", c.Interval)
	}
	a := c.Anomalies
	if a.BaselineDays < 7 {
		bad("anomalies.baseline_days: %d is below 7", a.BaselineDays)
	}
	if a.BaselineWeeks < 3 {
		bad("anomalies.baseline_weeks: %d is below 3", a.BaselineWeeks)
	}
	if !(a.MinScore > 0) {
		bad("anomalies.min_score: %v is not positive", a.MinScore)
	}
	if a.MinIncrease < 0 || a.MinRatio < 0 {
		bad("anomalies.min_increase and min_ratio must not be negative")
	}
	if a.MinHistoryDays < 1 || a.MinHistoryDays > a.BaselineDays {
		bad("anomalies.min_history_days: %d is not between 1 and baseline_days", a.MinHistoryDays)
	}
	if a.Days < 1 {
		bad("anomalies.days: %d is below 1", a.Days)
	}
	for _, k := range append(append([]string(nil), c.ProjectTagKeys...), c.TeamTagKeys...) {
		if k == "" {
			bad("project_tag_keys, team_tag_keys: an empty key")
		}
	}
	return errors.Join(errs...)
}
