package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/furrowdev/furrow/store"
)

// NamespaceSummary is what one namespace's alerts did in a window, from
// the ClickHouse history (alert_events): the /alerts page's "last 24 h".
// An alert is one firing episode (group key, fingerprint and start, as in
// alert_incidents).
type NamespaceSummary struct {
	// Namespace is "" for alerts without one (the default route).
	Namespace string `json:"namespace"`
	// Fired counts the alerts with a firing notification in the window.
	Fired int `json:"fired"`
	// Resolved counts the alerts whose resolve came in the window.
	Resolved int `json:"resolved"`
	// StillFiring counts the alerts whose last notification in the window
	// was a firing one.
	StillFiring int `json:"still_firing"`
	// Noisiest are the alert names with the most firing notifications in
	// the window, most first.
	Noisiest []NoisyAlert `json:"noisiest"`
}

// NoisyAlert is an alert name and its firing notifications.
type NoisyAlert struct {
	AlertName string `json:"alertname"`
	Fires     int    `json:"fires"`
}

// summaryQuery counts, per namespace, the episodes heard from in
// [since, until). The latest notification of an episode decides whether it
// still fires; a firing and a resolve received in the same millisecond
// count as resolved.
const summaryQuery = `SELECT namespace,
    toUInt64(countIf(fired)) AS fired, toUInt64(countIf(resolved)) AS resolved, toUInt64(countIf(still_firing)) AS still_firing
FROM (
    SELECT namespace, group_key, fingerprint, starts_at,
        countIf(status = 'firing') > 0 AS fired,
        countIf(status = 'resolved') > 0 AS resolved,
        argMax(status, (received_at, status = 'resolved')) = 'firing' AS still_firing
    FROM alert_events
    WHERE received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') AND received_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
    GROUP BY namespace, group_key, fingerprint, starts_at
)
GROUP BY namespace
ORDER BY namespace`

// noisiestQuery is the top alert names of each namespace by firing
// notifications in [since, until); LIMIT n BY is added by Summary.
const noisiestQuery = `SELECT namespace, alertname, toUInt64(countIf(status = 'firing')) AS fires
FROM alert_events
WHERE received_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') AND received_at < fromUnixTimestamp64Milli({until:Int64}, 'UTC')
GROUP BY namespace, alertname
HAVING fires > 0
ORDER BY namespace, fires DESC, alertname
LIMIT `

// Summary returns, per namespace by name, what the alerts received in
// [since, until) did, with each namespace's top noisiest alert names.
func (h *History) Summary(ctx context.Context, since, until time.Time, top int) ([]NamespaceSummary, error) {
	if top < 1 {
		top = 1
	}
	p := map[string]string{"since": strconv.FormatInt(since.UnixMilli(), 10), "until": strconv.FormatInt(until.UnixMilli(), 10)}
	counts, err := jsonRows[struct {
		Namespace   string `json:"namespace"`
		Fired       int    `json:"fired"`
		Resolved    int    `json:"resolved"`
		StillFiring int    `json:"still_firing"`
	}](ctx, h.s, summaryQuery, p)
	if err != nil {
		return nil, fmt.Errorf("alert summary: %w", err)
	}
	noisy, err := jsonRows[struct {
		Namespace string `json:"namespace"`
		AlertName string `json:"alertname"`
		Fires     int    `json:"fires"`
	}](ctx, h.s, noisiestQuery+strconv.Itoa(top)+" BY namespace", p)
	if err != nil {
		return nil, fmt.Errorf("noisiest alerts: %w", err)
	}
	out := make([]NamespaceSummary, 0, len(counts))
	at := map[string]int{}
	for _, c := range counts {
		at[c.Namespace] = len(out)
		out = append(out, NamespaceSummary{Namespace: c.Namespace, Fired: c.Fired, Resolved: c.Resolved, StillFiring: c.StillFiring})
	}
	for _, n := range noisy {
		i, ok := at[n.Namespace]
		if !ok { // inserted between the two queries
			continue
		}
		out[i].Noisiest = append(out[i].Noisiest, NoisyAlert{AlertName: n.AlertName, Fires: n.Fires})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out, nil
}

// jsonRows runs q with params p and decodes its JSONEachRow rows.
func jsonRows[T any](ctx context.Context, s store.Store, q string, p map[string]string) ([]T, error) {
	var buf bytes.Buffer
	if err := s.Query(ctx, &buf, q, "JSONEachRow", store.WithParams(p),
		store.WithSettings(map[string]string{"output_format_json_quote_64bit_integers": "0"})); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(&buf)
	var out []T
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode row %d: %w", len(out)+1, err)
		}
		out = append(out, v)
	}
}
