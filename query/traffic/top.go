package traffic

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// By is the grouping of a top-talkers report.
type By string

// The groupings TopTalkers accepts.
const (
	ByNamespace By = "namespace"
	ByWorkload  By = "workload"
	ByZone      By = "zone"
	// ByTeam groups by the owning team of each end's namespace, from the
	// ownership catalog's mirror (namespace_owners); a namespace no
	// project claims shows as "(unowned) <namespace>".
	ByTeam By = "team"
)

// ParseBy checks a grouping name from a flag or query string.
func ParseBy(s string) (By, error) {
	switch b := By(s); b {
	case ByNamespace, ByWorkload, ByZone, ByTeam:
		return b, nil
	}
	return "", fmt.Errorf("%w: by must be namespace, workload, zone or team, not %q", ErrBadFilter, s)
}

// TalkerRow is one (source, destination) pair of a top-talkers report.
// An end outside Kubernetes is named by its kind in parentheses:
// "(internet)", "(nat-gateway)", "(aws-service)", "(vpc)".
type TalkerRow struct {
	// Src and Dst are a namespace, "namespace/workload" or a zone.
	Src string `json:"src"`
	Dst string `json:"dst"`
	// Bytes are transfer bytes (each transfer counted once).
	Bytes float64 `json:"bytes"`
	// CostUSD is the transfer cost in USD.
	CostUSD float64 `json:"cost_usd"`
	// Share is Bytes over the bytes of every pair the filter selects
	// (not just the rows returned), 0..1.
	Share float64 `json:"share"`
	// Records is the number of flow-log records.
	Records uint64 `json:"records"`
}

// Talkers are the rows of a top-talkers report, largest first.
type Talkers struct {
	By   By          `json:"by"`
	Rows []TalkerRow `json:"rows"`
}

// endpoint returns the SQL naming one end (prefix "src" or "dst") for a
// grouping. Only constants go into it.
func endpoint(by By, prefix string) string {
	kind := "multiIf(" + prefix + "_kind != '', concat('(', " + prefix + "_kind, ')'), '(unknown)')"
	ns := "if(" + prefix + "_namespace != '', " + prefix + "_namespace, " + kind + ")"
	switch by {
	case ByTeam:
		return "if(" + prefix + "_o.team != '', " + prefix + "_o.team, if(" + prefix + "_namespace != '', concat('(unowned) ', " + prefix + "_namespace), " + kind + "))"
	case ByWorkload:
		return "if(" + prefix + "_workload != '', concat(" + prefix + "_namespace, '/', " + prefix + "_workload), " + ns + ")"
	case ByZone:
		return "if(" + prefix + "_zone != '', " + prefix + "_zone, " + kind + ")"
	default:
		return ns
	}
}

// keyColumns are the columns an end's label is made of, for the first,
// cheap GROUP BY on (LowCardinality) columns before labels are built.
func keyColumns(by By, prefix string) []string {
	switch by {
	case ByTeam:
		return []string{prefix + "_kind", prefix + "_cluster", prefix + "_namespace"}
	case ByWorkload:
		return []string{prefix + "_kind", prefix + "_namespace", prefix + "_workload"}
	case ByZone:
		return []string{prefix + "_kind", prefix + "_zone"}
	default:
		return []string{prefix + "_kind", prefix + "_namespace"}
	}
}

// topTalkersSQL builds the top-talkers query on src: group by the key
// columns, then by the labels made of them (several keys can share a
// label), then rank.
func topTalkersSQL(src source, f Filter, by By) (string, *params) {
	p := newParams()
	f.apply(p, filterOpts{timeCol: src.timeCol, from: f.From, to: f.To})
	limit := p.add("limit", "UInt32", strconv.Itoa(f.limit()))
	keys := strings.Join(append(keyColumns(by, "src"), keyColumns(by, "dst")...), ", ")
	table := src.table
	if src == rollup {
		table = rollupFrom(p, f.From, f.To)
	}
	q := `SELECT src, dst, round(bytes) AS bytes, round(cost_usd, 9) AS cost_usd, records,
  if(total > 0, bytes / total, 0) AS share
FROM (
  SELECT ` + endpoint(by, "src") + ` AS src,
    ` + endpoint(by, "dst") + ` AS dst,
    sum(k_bytes) AS bytes,
    sum(k_cost_usd) AS cost_usd,
    sum(k_records) AS records,
    sum(sum(k_bytes)) OVER () AS total
  FROM (
    SELECT ` + keys + `,
      sum(transfer_bytes) AS k_bytes,
      sum(cost_usd) AS k_cost_usd,
      ` + src.records + ` AS k_records
    FROM ` + table + `
    WHERE ` + p.sql() + `
    GROUP BY ` + keys + `
  ) AS k` + ownerJoins(by) + `
  GROUP BY src, dst
)
ORDER BY bytes DESC, src, dst
LIMIT ` + limit
	return q, p
}

// TopTalkers ranks (source, destination) pairs by transfer bytes.
func (r *Reports) TopTalkers(ctx context.Context, f Filter, by By) (Talkers, error) {
	return r.topTalkers(ctx, rollup, f, by)
}

func (r *Reports) topTalkers(ctx context.Context, src source, f Filter, by By) (Talkers, error) {
	if _, err := ParseBy(string(by)); err != nil {
		return Talkers{}, err
	}
	if err := f.validate(); err != nil {
		return Talkers{}, err
	}
	q, p := topTalkersSQL(src, f, by)
	rows, err := queryRows[TalkerRow](ctx, r.s, q, p)
	if err != nil {
		return Talkers{}, fmt.Errorf("top talkers by %s: %w", by, err)
	}
	return Talkers{By: by, Rows: nonNil(rows)}, nil
}

// nonNil makes empty results encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ownerJoins joins each end's namespace to its owner for ByTeam.
func ownerJoins(by By) string {
	if by != ByTeam {
		return ""
	}
	return `
  LEFT JOIN namespace_owners AS src_o ON src_o.cluster = k.src_cluster AND src_o.namespace = k.src_namespace
  LEFT JOIN namespace_owners AS dst_o ON dst_o.cluster = k.dst_cluster AND dst_o.namespace = k.dst_namespace`
}
