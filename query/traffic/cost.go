package traffic

import (
	"context"
	"fmt"
)

// DayCost is the traffic of one class on one UTC day.
type DayCost struct {
	// Day is the UTC date, YYYY-MM-DD.
	Day   string `json:"day"`
	Class string `json:"class"`
	// Bytes are transfer bytes (each transfer counted once).
	Bytes   float64 `json:"bytes"`
	CostUSD float64 `json:"cost_usd"`
	Records uint64  `json:"records"`
}

// DayCosts are the rows of a cost-per-day report, by day then class.
type DayCosts []DayCost

// CostPerDay sums bytes and cost per UTC day and traffic class.
func (r *Reports) CostPerDay(ctx context.Context, f Filter) (DayCosts, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	p := newParams()
	f.apply(p, f.rollupOpts())
	q := `SELECT toString(toDate(hour)) AS day, traffic_class AS class,
  round(sum(transfer_bytes)) AS bytes, round(sum(cost_usd), 9) AS cost_usd, sum(records) AS records
FROM ` + rollupFrom(p, f.From, f.To) + `
WHERE ` + p.sql() + `
GROUP BY day, class
ORDER BY day, class`
	rows, err := queryRows[DayCost](ctx, r.s, q, p)
	if err != nil {
		return nil, fmt.Errorf("cost per day: %w", err)
	}
	return nonNil(rows), nil
}
