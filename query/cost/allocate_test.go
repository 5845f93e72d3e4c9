package cost

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/ledger"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

func migrated(t *testing.T) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

func exec(t *testing.T, s store.Store, q string) {
	t.Helper()
	require.NoError(t, s.Exec(context.Background(), q), q)
}

func query(t *testing.T, s store.Store, q string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.Query(context.Background(), &b, q, "TSV"), q)
	return strings.TrimSpace(b.String())
}

// fixture is one billing period of account 111 with every rule's case: a
// node (i-aaa, 4 cores, 16 GiB) running a pod of team t-shop and one of
// kube-system for one hour, an S3 bucket tagged with project p-shop, a
// volume owned in the catalog by p-data, an untagged load balancer, a tax
// row, a credit, a cross-zone transfer line item with two senders in the
// traffic tables, and a euro line item.
func fixture(t *testing.T, s store.Store, delivery string, nodeCost string) {
	t.Helper()
	exec(t, s, `INSERT INTO catalog_teams VALUES (1, 't-shop', 'Shop', '', 0), (1, 't-data', 'Data', '', 0), (1, 't-plat', 'Platform', '', 0)`)
	exec(t, s, `INSERT INTO catalog_projects VALUES (1, 'p-shop', 'Shop', 't-shop', 0), (1, 'p-data', 'Data', 't-data', 0)`)
	exec(t, s, `INSERT INTO catalog_resources VALUES (1, 'arn:aws:ec2:us-east-1:111:volume/vol-1', 'vol-1', 'p-data', 't-data')`)
	exec(t, s, `INSERT INTO catalog_namespace_owners VALUES (1, 'prod', 'shop', 'p-shop', 't-shop', 'Shop', '#shop', 0),
		(1, 'prod', 'kube-system', '', 't-plat', 'Platform', '', 0)`)
	exec(t, s, `INSERT INTO k8s_nodes (cluster, node, zone, region, instance_type, provider_id, instance_id, cpu_capacity_millis, memory_capacity_bytes,
		cpu_allocatable_millis, memory_allocatable_bytes, valid_from, valid_to, updated_at)
		VALUES ('prod', 'node-a', 'us-east-1a', 'us-east-1', 'm5.xlarge', 'aws:///us-east-1a/i-aaa', 'i-aaa', 4000, 17179869184, 3920, 15000000000,
		'2026-11-01 00:00:00', '1970-01-01 00:00:00', now())`)
	exec(t, s, `INSERT INTO pod_ips (cluster, ip, namespace, pod, pod_uid, workload_kind, workload, node, zone, host_network, valid_from, valid_to, updated_at,
		cpu_request_millis, memory_request_bytes) VALUES
		('prod', '10.0.0.1', 'shop', 'web-1', 'u1', 'Deployment', 'web', 'node-a', 'us-east-1a', 0, '2026-11-02 09:00:00', '1970-01-01 00:00:00', now(), 1000, 4294967296),
		('prod', 'fd00::1', 'shop', 'web-1', 'u1', 'Deployment', 'web', 'node-a', 'us-east-1a', 0, '2026-11-02 09:00:00', '1970-01-01 00:00:00', now(), 1000, 4294967296),
		('prod', '10.0.0.2', 'kube-system', 'dns-1', 'u2', 'Deployment', 'coredns', 'node-a', 'us-east-1a', 0, '2026-11-02 10:30:00', '1970-01-01 00:00:00', now(), 500, 1073741824)`)
	// web-1 used 1.5 cores (above its request) and 2 GiB (below).
	exec(t, s, `INSERT INTO pod_usage_hourly VALUES ('prod', 'shop', 'web-1', '2026-11-02 10:00:00', 5400, 2 * 1073741824 * 4, 4)`)
	exec(t, s, `INSERT INTO flow_traffic_hourly (hour, traffic_class, src_cluster, src_kind, src_namespace, src_workload, src_zone, transfer_bytes, cost_usd) VALUES
		('2026-11-02 10:00:00', 'cross-zone', 'prod', 'pod', 'shop', 'web', 'us-east-1a', 3e10, 0.30),
		('2026-11-02 11:00:00', 'cross-zone', 'prod', 'pod', 'kube-system', 'coredns', 'us-east-1b', 1e10, 0.10),
		('2026-11-02 11:00:00', 'cross-zone', 'prod', 'node', '', '', 'us-east-1b', 1e10, 0.10)`)
	exec(t, s, `INSERT INTO billing_line_items (delivery, provider, billing_account_id, sub_account_id, billing_period_start, charge_period_start, charge_period_end,
		charge_category, service_name, region_id, resource_id, billed_cost, effective_cost, billing_currency, tags, x_usage_type, x_line_item_type, source_file, source_line) VALUES
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 10:00:00', '2026-11-02 11:00:00', 'Usage', 'Amazon EC2', 'us-east-1', 'i-aaa', `+nodeCost+`, 0.15, 'USD', map(), 'BoxUsage:m5.xlarge', 'Usage', 'bill.csv', 2),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 10:00:00', '2026-11-02 11:00:00', 'Usage', 'Amazon S3', 'us-east-1', 'shop-assets', 0.05, 0.05, 'USD', map('user_project', 'p-shop'), 'TimedStorage-ByteHrs', 'Usage', 'bill.csv', 3),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 10:00:00', '2026-11-02 11:00:00', 'Usage', 'Amazon EC2', 'us-east-1', 'vol-1', 0.01, 0.01, 'USD', map(), 'EBS:VolumeUsage.gp3', 'Usage', 'bill.csv', 4),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 10:00:00', '2026-11-02 11:00:00', 'Usage', 'Elastic Load Balancing', 'us-east-1', 'lb-9', 0.0225, 0.0225, 'USD', map('user_project', 'nobody-knows'), 'LoadBalancerUsage', 'Usage', 'bill.csv', 5),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 00:00:00', '2026-11-03 00:00:00', 'Usage', 'Amazon EC2', 'us-east-1', 'i-aaa', 1.00, 1.00, 'USD', map(), 'USE1-DataTransfer-Regional-Bytes', 'Usage', 'bill.csv', 6),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-01 00:00:00', '2026-12-01 00:00:00', 'Tax', 'Amazon EC2', '', '', 0.333333333333333333, 0.333333333333333333, 'USD', map(), '', 'Tax', 'bill.csv', 7),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 00:00:00', '2026-11-03 00:00:00', 'Credit', 'Amazon EC2', '', '', -0.5, -0.5, 'USD', map(), '', 'Credit', 'bill.csv', 8),
		('`+delivery+`', 'AWS', '111', '222', '2026-11-01', '2026-11-02 10:00:00', '2026-11-02 11:00:00', 'Usage', 'Amazon S3', 'eu-central-1', 'shop-eu', 0.07, 0.07, 'EUR', map('user:project', 'p-shop'), 'EUC1-TimedStorage-ByteHrs', 'Usage', 'bill.csv', 9)`)
	_, err := ledger.New(s, "billing", "").ReplacePeriod(context.Background(), ledger.Period{Period: "111/2026-11-01", ID: delivery, URL: "bill.csv", Version: time.Now()}, time.Now())
	require.NoError(t, err)
}

// byGroup returns "kind rule namespace team currency" → billed cost of
// the allocation in force.
func byGroup(t *testing.T, s store.Store) map[string]string {
	out := map[string]string{}
	res := query(t, s, `SELECT concat(kind, ' ', rule, ' ', namespace, ' ', team, ' ', billing_currency), toString(sum(billed_cost))
		FROM cost_allocated GROUP BY 1 ORDER BY 1`)
	for _, line := range strings.Split(res, "\n") {
		f := strings.Split(line, "\t")
		out[f[0]] = f[1]
	}
	return out
}

func rat(t *testing.T, s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	require.True(t, ok, s)
	return r
}

func TestAllocate(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	fixture(t, s, "d1", "0.192")
	a := NewAllocator(s, DefaultConfiguration())
	periods, err := a.Periods(ctx)
	require.NoError(t, err)
	require.Equal(t, []Period{{Account: "111", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}, periods)
	rep, err := a.Allocate(ctx, periods)
	require.NoError(t, err)
	require.Len(t, rep.Periods, 1)

	// Every currency's kinds add up to the bill, exactly.
	for cur, bill := range rep.Periods[0].Bill {
		sum := new(big.Rat)
		for k, v := range rep.Periods[0].ByKind {
			if strings.HasSuffix(k, " "+cur) {
				sum.Add(sum, rat(t, v))
			}
		}
		require.Equal(t, rat(t, bill).RatString(), sum.RatString(), "currency %s: %v", cur, rep.Periods[0].ByKind)
	}

	g := byGroup(t, s)
	// The node's hour, by hand: the CPU part of its cost is
	// 4×0.031611 / (4×0.031611 + 16×0.004237); web-1 ran the whole hour
	// with max(1 core request, 1.5 used) and max(4 GiB request, 2 used),
	// coredns half of it with 0.5 core and 1 GiB.
	cpuPart := 4 * 0.031611 / (4*0.031611 + 16*0.004237)
	web := cpuPart*1.5/4 + (1-cpuPart)*4.0/16
	dns := (cpuPart*0.5/4 + (1-cpuPart)*1.0/16) / 2
	near := func(key string, want float64) {
		t.Helper()
		v, ok := g[key]
		require.True(t, ok, "no %q in %v", key, g)
		got, _ := rat(t, v).Float64()
		require.InDelta(t, want, got, 1e-9, key)
	}
	near("allocated node shop t-shop USD", 0.192*web)
	near("shared node kube-system t-plat USD", 0.192*dns)
	near("idle node   USD", 0.192*(1-web-dns))
	// Tag, catalog resource, and what neither names.
	require.Equal(t, "0.05", g["allocated tag  t-shop USD"])
	require.Equal(t, "0.07", g["allocated tag  t-shop EUR"])
	require.Equal(t, "0.01", g["allocated resource  t-data USD"])
	// The bill's cross-zone dollar: shop sent $0.30 and kube-system $0.10
	// by the traffic tables (the node's own $0.10 has no namespace); the
	// rest is unexplained.
	near("allocated network shop t-shop USD", 0.30)
	near("shared network kube-system t-plat USD", 0.10)
	near("unowned network   USD", 0.60)
	// A tag naming no catalog project, the tax and the credit: unowned.
	near("unowned none   USD", 0.0225+0.333333333333-0.5)

	// The daily rollup holds the same sums.
	require.Equal(t, query(t, s, `SELECT kind, billing_currency, sum(billed_cost), sum(effective_cost) FROM cost_allocated GROUP BY ALL ORDER BY ALL`),
		query(t, s, `SELECT kind, billing_currency, sum(billed_cost), sum(effective_cost) FROM cost_daily GROUP BY ALL ORDER BY ALL`))

	// A restated bill and a new run: the new run replaces the old one, the
	// old rows go, the sums follow the new bill.
	stale, err := a.Stale(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, stale, "allocated after the bill's delivery")
	require.NoError(t, s.Exec(ctx, `INSERT INTO billing_line_items SELECT * REPLACE ('d2' AS delivery, if(source_line = 2, toDecimal128('0.384', 12), billed_cost) AS billed_cost)
		FROM (SELECT * FROM billing_line_items WHERE delivery = 'd1')`, store.WithSettings(map[string]string{"insert_deduplicate": "0"})))
	_, err = ledger.New(s, "billing", "").ReplacePeriod(ctx, ledger.Period{Period: "111/2026-11-01", ID: "d2", URL: "bill.csv", Version: time.Now()}, time.Now())
	require.NoError(t, err)
	stale, err = a.Stale(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, periods, stale, "the bill was restated after the allocation")
	rep2, err := a.Allocate(ctx, periods)
	require.NoError(t, err)
	require.NotEqual(t, rep.Run, rep2.Run)
	require.Equal(t, "1", query(t, s, `SELECT count(DISTINCT run) FROM cost_allocation`))
	g = byGroup(t, s)
	near("allocated node shop t-shop USD", 0.384*web)
	near("idle node   USD", 0.384*(1-web-dns))
}
