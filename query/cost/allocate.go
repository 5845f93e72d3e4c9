package cost

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// LedgerKind names the allocation runs in ingest_periods: one run per
// (billing account, billing period) is in force, as one delivery is for
// the bill.
const LedgerKind = "cost"

// Rules: how an owner was found.
const (
	RuleTag      = "tag"
	RuleResource = "resource"
	RuleNode     = "node"
	RuleNetwork  = "network"
	RuleNone     = "none"
)

// Kinds of allocated cost.
const (
	KindAllocated = "allocated"
	KindIdle      = "idle"
	KindShared    = "shared"
	KindUnowned   = "unowned"
)

// Network classes of the bill's data-transfer line items, named as the
// traffic tables name them (internal/flowclass).
const netClassExpr = `multiIf(billing_currency != 'USD', '',
  x_usage_type LIKE '%DataTransfer-Regional-Bytes', 'cross-zone',
  x_usage_type LIKE '%NatGateway-Bytes', 'nat-gateway',
  x_usage_type LIKE '%DataTransfer-Out-Bytes', 'internet-egress',
  x_usage_type LIKE '%-AWS-Out-Bytes', 'cross-region', '')`

// allocColumns are cost_allocation's columns, in the order the statements
// below select them.
const allocColumns = `run, billing_account_id, billing_period_start, charge_period_start, charge_period_end, billing_currency,
  kind, rule, project, team, cluster, namespace, workload, service_name, sub_account_id, region_id, usage_type,
  charge_category, resource_id, line_item, billed_cost, effective_cost`

// Period is one (billing account, billing period) pair of the bill.
type Period struct {
	Account string    `json:"billing_account_id"`
	Start   time.Time `json:"billing_period_start"`
}

// Key is the period's name in ingest_periods ("account/YYYY-MM-DD"), as
// the billing ingest names it.
func (p Period) Key() string { return p.Account + "/" + p.Start.UTC().Format("2006-01-02") }

// AllocationReport says what one allocation run did.
type AllocationReport struct {
	Run     string         `json:"run"`
	Periods []PeriodReport `json:"periods"`
}

// PeriodReport is one period's allocation: its cost by kind and currency,
// which add up to the bill's.
type PeriodReport struct {
	Period string `json:"period"`
	// Rows are the allocation rows written.
	Rows int64 `json:"rows"`
	// ByKind is "kind currency" → billed cost, decimal text.
	ByKind map[string]string `json:"billed_by_kind"`
	// Bill is currency → the bill's billed cost for the period.
	Bill map[string]string `json:"bill"`
}

// Allocator splits the bill to owners.
type Allocator struct {
	s   store.Store
	cfg Configuration
	now func() time.Time
}

// NewAllocator returns an allocator on s.
func NewAllocator(s store.Store, cfg Configuration) *Allocator {
	return &Allocator{s: s, cfg: cfg, now: time.Now}
}

// Periods lists the bill's periods in force.
func (a *Allocator) Periods(ctx context.Context) ([]Period, error) {
	var b strings.Builder
	err := a.s.Query(ctx, &b, `SELECT DISTINCT billing_account_id, toUnixTimestamp(billing_period_start) FROM billing_costs ORDER BY 2, 1`, "TSV")
	if err != nil {
		return nil, fmt.Errorf("cost: list the billing periods: %w", err)
	}
	var out []Period
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			continue
		}
		sec, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cost: list the billing periods: %w", err)
		}
		out = append(out, Period{Account: f[0], Start: time.Unix(sec, 0).UTC()})
	}
	return out, nil
}

// Stale lists the periods whose bill changed after their allocation in
// force, or that were never allocated, and those overlapping the last
// `recent` (pods and usage of recent days still arrive).
func (a *Allocator) Stale(ctx context.Context, recent time.Duration) ([]Period, error) {
	all, err := a.Periods(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(all))
	for i, p := range all {
		keys[i] = p.Key()
	}
	bills, err := ledger.New(a.s, "billing", "").Holders(ctx, keys)
	if err != nil {
		return nil, err
	}
	runs, err := ledger.New(a.s, LedgerKind, "").Holders(ctx, keys)
	if err != nil {
		return nil, err
	}
	cut := a.now().Add(-recent)
	var out []Period
	for _, p := range all {
		run, ok := runs[p.Key()]
		// A run records the delivery it allocated as its URL; a period
		// runs to the next month's start at most.
		if !ok || run.URL != bills[p.Key()].ID || p.Start.AddDate(0, 1, 0).After(cut) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Allocate splits the bill of each period to owners (see docs/cost.md) as
// one run, and makes it the allocation in force per period.
func (a *Allocator) Allocate(ctx context.Context, periods []Period) (AllocationReport, error) {
	now := a.now().UTC()
	rep := AllocationReport{Run: "cost:" + strconv.FormatInt(now.UnixNano(), 36)}
	l := ledger.New(a.s, LedgerKind, "")
	keys := make([]string, len(periods))
	for i, p := range periods {
		keys[i] = p.Key()
	}
	bills, err := ledger.New(a.s, "billing", "").Holders(ctx, keys)
	if err != nil {
		return rep, err
	}
	for _, p := range periods {
		pr, err := a.allocatePeriod(ctx, rep.Run, p)
		if err != nil {
			return rep, fmt.Errorf("cost: allocate %s: %w", p.Key(), err)
		}
		if _, err := l.ReplacePeriod(ctx, ledger.Period{Period: p.Key(), ID: rep.Run, URL: bills[p.Key()].ID, Version: now, Stored: pr.Rows}, now); err != nil {
			return rep, err
		}
		// Older runs of the period: readers skip them already.
		for _, table := range []string{"cost_allocation", "cost_allocation_daily", "cost_allocation_owner_daily"} {
			if err := a.s.Exec(ctx, "DELETE FROM "+table+` WHERE billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')} AND run != {r:String}`,
				store.WithParams(periodParams(rep.Run, p))); err != nil {
				return rep, fmt.Errorf("cost: delete the older runs of %s: %w", p.Key(), err)
			}
		}
		rep.Periods = append(rep.Periods, pr)
	}
	return rep, nil
}

func periodParams(run string, p Period) map[string]string {
	return map[string]string{"r": run, "a": p.Account, "p": p.Start.UTC().Format("2006-01-02 15:04:05")}
}

// allocatePeriod writes one period's rows of run.
func (a *Allocator) allocatePeriod(ctx context.Context, run string, p Period) (PeriodReport, error) {
	pr := PeriodReport{Period: p.Key(), ByKind: map[string]string{}, Bill: map[string]string{}}
	params := store.WithParams(periodParams(run, p))
	// A run interrupted before: its rows are nobody's (no period names
	// it), the run id is new each time; nothing to clean here.
	for _, q := range []string{a.directSQL(), a.nodeSQL(), a.remainderSQL(RuleNode, KindIdle), a.networkSQL(), a.remainderSQL(RuleNetwork, KindUnowned), dailySQL, ownerDailySQL} {
		if err := a.s.Exec(ctx, q, params); err != nil {
			return pr, err
		}
	}
	var b strings.Builder
	err := a.s.Query(ctx, &b, `SELECT 'k', kind, billing_currency, toString(sum(billed_cost)), count() FROM cost_allocation
WHERE run = {r:String} AND billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')} GROUP BY kind, billing_currency
UNION ALL
SELECT 'b', '', billing_currency, toString(sum(billed_cost)), count() FROM billing_costs
WHERE billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')} GROUP BY billing_currency`, "TSV", params)
	if err != nil {
		return pr, err
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			continue
		}
		n, _ := strconv.ParseInt(f[4], 10, 64)
		if f[0] == "k" {
			pr.ByKind[f[1]+" "+f[2]] = f[3]
			pr.Rows += n
		} else {
			pr.Bill[f[2]] = f[3]
		}
	}
	return pr, nil
}

// catalogMaps are the catalog's owners as maps, from its mirror.
const catalogMaps = `WITH
  (SELECT mapFromArrays(groupArray(project), groupArray(team)) FROM projects) AS project_team,
  (SELECT groupArray(team) FROM teams) AS team_codes,
  (SELECT mapFromArrays(groupArray(resource_id), groupArray(project)) FROM resource_owners) AS res_project,
  (SELECT mapFromArrays(groupArray(resource_id), groupArray(team)) FROM resource_owners) AS res_team,
  (SELECT groupUniqArray(instance_id) FROM k8s_nodes FINAL WHERE instance_id != '') AS node_ids`

// items is the period's line items with their owner by tag or resource
// (rule tag, resource or none), their network class and whether they are
// a Kubernetes node's.
func (a *Allocator) items() string {
	tagList := func(keys []string) string {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = "tags[" + chsql.QuoteString(k) + "]"
		}
		if len(parts) == 0 {
			return "CAST([], 'Array(String)')"
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return `(SELECT *,
    arrayFirst(v -> v != '' AND mapContains(project_team, v), ` + tagList(a.cfg.ProjectTagKeys) + `) AS tag_project,
    arrayFirst(v -> v != '' AND has(team_codes, v), ` + tagList(a.cfg.TeamTagKeys) + `) AS tag_team,
    if(resource_id = '', '', res_project[resource_id]) AS res_p,
    if(resource_id = '', '', res_team[resource_id]) AS res_t,
    multiIf(tag_project != '' OR tag_team != '', 'tag', res_p != '' OR res_t != '', 'resource', 'none') AS owner_rule,
    multiIf(tag_project != '', tag_project, tag_team != '', '', res_p) AS owner_project,
    multiIf(tag_project != '', project_team[tag_project], tag_team != '', tag_team,
            res_p != '' AND project_team[res_p] != '', project_team[res_p], res_t) AS owner_team,
    ` + netClassExpr + ` AS net_class,
    has(node_ids, resource_id) AS on_node,
    cityHash64(source_file, source_line) AS line_item
  FROM billing_costs
  WHERE billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')})`
}

// directSQL writes the line items owned by a tag or a catalog resource,
// and the unowned ones that are neither network nor node cost.
func (a *Allocator) directSQL() string {
	return `INSERT INTO cost_allocation (` + allocColumns + `)
` + catalogMaps + `
SELECT {r:String}, billing_account_id, billing_period_start, charge_period_start, charge_period_end, billing_currency,
  if(owner_rule = 'none' OR owner_team = '' AND owner_project = '', 'unowned', 'allocated'), owner_rule, owner_project, owner_team,
  '', '', '', service_name, sub_account_id, region_id, x_usage_type, charge_category, resource_id, line_item, billed_cost, effective_cost
FROM ` + a.items() + `
WHERE owner_rule != 'none' OR (net_class = '' AND NOT on_node)`
}

// ownerKind is the kind of a share of cost that went to a namespace.
func (a *Allocator) ownerKind(namespace string) string {
	return `multiIf(has(` + chsql.QuoteStrings(a.cfg.SharedNamespaces) + `, ` + namespace + `), 'shared', o.team != '' OR o.project != '', 'allocated', 'unowned')`
}

// nodeSQL splits the cost of a Kubernetes node's line items across the
// pods that ran on it during the line item's hours, by max(request,
// usage) of CPU and memory, the node's cost split between the two by the
// configured weights. Shares are cut to 12 decimals; the node's remainder
// (capacity no pod used) is idle (remainderSQL).
func (a *Allocator) nodeSQL() string {
	cw, mw := strconv.FormatFloat(a.cfg.CPUCoreHourWeight, 'g', -1, 64), strconv.FormatFloat(a.cfg.MemoryGiBHourWeight, 'g', -1, 64)
	return `INSERT INTO cost_allocation (` + allocColumns + `)
` + catalogMaps + `,
  nodes AS (SELECT instance_id, argMax(cluster, valid_from) AS cluster, argMax(node, valid_from) AS node,
      max(greatest(cpu_capacity_millis, cpu_allocatable_millis)) / 1000 AS cap_cpu,
      toFloat64(max(greatest(memory_capacity_bytes, memory_allocatable_bytes))) AS cap_mem
    FROM k8s_nodes FINAL WHERE instance_id != '' GROUP BY instance_id),
  node_items AS (SELECT * FROM ` + a.items() + ` WHERE owner_rule = 'none' AND net_class = '' AND on_node),
  pods AS (
    SELECT i.line_item AS line_item, i.charge_period_start AS s, i.charge_period_end AS e, n.cluster AS cluster, n.cap_cpu AS cap_cpu, n.cap_mem AS cap_mem,
      p.namespace AS namespace, p.pod AS pod, p.pod_uid AS pod_uid, p.workload AS workload,
      p.cpu_request_millis / 1000 AS req_cpu, toFloat64(p.memory_request_bytes) AS req_mem,
      greatest(0, dateDiff('second', greatest(toDateTime(p.valid_from, 'UTC'), i.charge_period_start),
        least(if(toUnixTimestamp64Milli(p.valid_to) = 0, i.charge_period_end, toDateTime(p.valid_to, 'UTC')), i.charge_period_end))) AS overlap
    FROM node_items AS i
    INNER JOIN nodes AS n ON n.instance_id = i.resource_id
    INNER JOIN pod_resources AS p ON p.cluster = n.cluster AND p.node = n.node
    WHERE p.valid_from < i.charge_period_end AND (toUnixTimestamp64Milli(p.valid_to) = 0 OR p.valid_to > i.charge_period_start)),
  used AS (
    SELECT pods.line_item AS line_item, pods.pod_uid AS pod_uid, avg(u.cpu_cores) AS cpu, avg(u.memory_bytes) AS mem
    FROM pods INNER JOIN pod_usage AS u ON u.cluster = pods.cluster AND u.namespace = pods.namespace AND u.pod = pods.pod
    WHERE u.hour >= toStartOfHour(pods.s) AND u.hour < pods.e
    GROUP BY line_item, pod_uid),
  weights AS (
    SELECT pods.*, greatest(req_cpu, used.cpu) AS cpu, greatest(req_mem, used.mem) AS mem,
      greatest(dateDiff('second', s, e), 1) AS span,
      if(cap_cpu > 0 AND cap_mem > 0, cap_cpu * ` + cw + ` / (cap_cpu * ` + cw + ` + cap_mem / 1073741824 * ` + mw + `), ` + cw + ` / (` + cw + ` + ` + mw + `)) AS cpu_part,
      if(cap_cpu > 0 AND cap_mem > 0,
         cpu_part * cpu * overlap / (cap_cpu * span) + (1 - cpu_part) * mem * overlap / (cap_mem * span),
         cpu_part * cpu * overlap + (1 - cpu_part) * mem / 1073741824 * overlap) AS w,
      sum(w) OVER (PARTITION BY pods.line_item) AS w_sum,
      cap_cpu > 0 AND cap_mem > 0 AND w_sum <= 1 AS fits
    FROM pods LEFT JOIN used ON used.line_item = pods.line_item AND used.pod_uid = pods.pod_uid
    WHERE overlap > 0)
SELECT {r:String}, i.billing_account_id, i.billing_period_start, i.charge_period_start, i.charge_period_end, i.billing_currency,
  ` + a.ownerKind("w.namespace") + `, 'node', o.project, o.team, w.cluster, w.namespace, w.workload, i.service_name, i.sub_account_id, i.region_id,
  i.x_usage_type, i.charge_category, i.resource_id, i.line_item,
  toDecimal128(i.billed_cost * toDecimal128(if(w.fits, w.w, w.w / w.w_sum), 12), 12),
  toDecimal128(i.effective_cost * toDecimal128(if(w.fits, w.w, w.w / w.w_sum), 12), 12)
FROM weights AS w
INNER JOIN node_items AS i ON i.line_item = w.line_item
LEFT JOIN namespace_owners AS o ON o.cluster = w.cluster AND o.namespace = w.namespace
WHERE w.w > 0`
}

// networkSQL charges the bill's data-transfer and NAT line items (USD) to
// the namespaces that sent the traffic, from the traffic tables' estimate
// per day, class and region: a namespace is charged its estimate, scaled
// down when the estimates of the day add up to more than the bill; the
// bill's remainder is the unexplained part (remainderSQL).
func (a *Allocator) networkSQL() string {
	return `INSERT INTO cost_allocation (` + allocColumns + `)
` + catalogMaps + `,
  net_items AS (SELECT *, toDate(charge_period_start) AS day,
      sum(billed_cost) OVER (PARTITION BY day, net_class, region_id) AS group_bill
    FROM ` + a.items() + ` WHERE owner_rule = 'none' AND net_class != ''),
  est AS (
    SELECT toDate(hour) AS day, traffic_class,
      -- NAT gateways bill the bytes they process both ways: a response
      -- from the internet has no sending namespace, the pod that asked
      -- for it pays.
      src_namespace = '' AND traffic_class = 'nat-gateway' AS inbound,
      if(inbound, dst_zone, src_zone) AS zone,
      if(match(zone, '^[a-z]+-[a-z]+-[0-9]+[a-z]$'), substring(zone, 1, length(zone) - 1), '') AS region,
      if(inbound, dst_cluster, src_cluster) AS cluster, if(inbound, dst_namespace, src_namespace) AS namespace,
      if(inbound, dst_workload, src_workload) AS workload, sum(cost_usd) AS est,
      sum(est) OVER (PARTITION BY day, traffic_class, region) AS group_est
    FROM flow_traffic_hourly
    WHERE hour >= {p:DateTime('UTC')} AND hour < {p:DateTime('UTC')} + INTERVAL 1 MONTH
      AND traffic_class IN ('cross-zone', 'nat-gateway', 'internet-egress', 'cross-region')
    GROUP BY day, traffic_class, inbound, zone, region, cluster, namespace, workload
    HAVING namespace != '')
SELECT {r:String}, i.billing_account_id, i.billing_period_start, i.charge_period_start, i.charge_period_end, i.billing_currency,
  ` + a.ownerKind("e.namespace") + `, 'network', o.project, o.team, e.cluster, e.namespace, e.workload, i.service_name, i.sub_account_id, i.region_id,
  i.x_usage_type, i.charge_category, i.resource_id, i.line_item,
  toDecimal128(i.billed_cost * toDecimal128(e.est / greatest(e.group_est, toFloat64(i.group_bill)), 12), 12),
  toDecimal128(i.effective_cost * toDecimal128(e.est / greatest(e.group_est, toFloat64(i.group_bill)), 12), 12)
FROM net_items AS i
INNER JOIN est AS e ON e.day = i.day AND e.traffic_class = i.net_class AND e.region = i.region_id
LEFT JOIN namespace_owners AS o ON o.cluster = e.cluster AND o.namespace = e.namespace
WHERE e.est > 0`
}

// remainderSQL writes, for every line item split by rule, what its shares
// left: the line item's cost minus the sum of its shares, as kind.
func (a *Allocator) remainderSQL(rule, kind string) string {
	cond := "owner_rule = 'none' AND net_class = '' AND on_node"
	if rule == RuleNetwork {
		cond = "owner_rule = 'none' AND net_class != ''"
	}
	return `INSERT INTO cost_allocation (` + allocColumns + `)
` + catalogMaps + `
SELECT {r:String}, i.billing_account_id, i.billing_period_start, i.charge_period_start, i.charge_period_end, i.billing_currency,
  ` + chsql.QuoteString(kind) + `, ` + chsql.QuoteString(rule) + `, '', '', '', '', '', i.service_name, i.sub_account_id, i.region_id,
  i.x_usage_type, i.charge_category, i.resource_id, i.line_item, i.billed_cost - s.billed, i.effective_cost - s.effective
FROM (SELECT * FROM ` + a.items() + ` WHERE ` + cond + `) AS i
LEFT JOIN (SELECT line_item, sum(billed_cost) AS billed, sum(effective_cost) AS effective FROM cost_allocation
  WHERE run = {r:String} AND billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')} AND rule = ` + chsql.QuoteString(rule) + `
  GROUP BY line_item) AS s ON s.line_item = i.line_item
WHERE i.billed_cost - s.billed != 0 OR i.effective_cost - s.effective != 0 OR s.line_item = 0`
}

// dailySQL rolls the run's rows of the period up to days.
const dailySQL = `INSERT INTO cost_allocation_daily (run, billing_account_id, billing_period_start, day, billing_currency, kind, rule,
  project, team, cluster, namespace, workload, service_name, sub_account_id, region_id, usage_type, charge_category, billed_cost, effective_cost)
SELECT run, billing_account_id, billing_period_start, toDate(charge_period_start) AS day, billing_currency, kind, rule,
  project, team, cluster, namespace, workload, service_name, sub_account_id, region_id, usage_type, charge_category,
  sum(billed_cost), sum(effective_cost)
FROM cost_allocation
WHERE run = {r:String} AND billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')}
GROUP BY run, billing_account_id, billing_period_start, day, billing_currency, kind, rule,
  project, team, cluster, namespace, workload, service_name, sub_account_id, region_id, usage_type, charge_category`

// ownerDailySQL rolls the run's daily rows of the period up to owners.
const ownerDailySQL = `INSERT INTO cost_allocation_owner_daily (run, billing_account_id, billing_period_start, day, billing_currency, kind,
  cluster, team, project, billed_cost, effective_cost)
SELECT run, billing_account_id, billing_period_start, day, billing_currency, kind, cluster, team, project, sum(billed_cost), sum(effective_cost)
FROM cost_allocation_daily
WHERE run = {r:String} AND billing_account_id = {a:String} AND billing_period_start = {p:DateTime('UTC')}
GROUP BY run, billing_account_id, billing_period_start, day, billing_currency, kind, cluster, team, project`
