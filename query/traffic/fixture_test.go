package traffic

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

const (
	za = "use1-az1"
	zb = "use1-az2"
	zc = "use1-az4"
)

// flow is one hand-made flow_logs record; ends with an empty namespace are
// not pods (their kind says what they are).
type flow struct {
	start                          string
	class                          string
	srcKind, srcNS, srcWL, srcZone string
	dstKind, dstNS, dstWL, dstZone string
	gb, cost                       float64
}

func pod(ns, wl, zone string) [4]string { return [4]string{"pod", ns, wl, zone} }

// fixture covers two days, four namespaces, three zones and five classes.
// Cross-zone: 11 GB, $0.11 (istio-system→shop 7 GB in 3 records,
// shop→shop 3 GB, monitoring→shop 1 GB).
var fixture = func() []flow {
	ing := pod("istio-system", "istio-ingressgateway", za)
	mk := func(start, class string, src, dst [4]string, gb, cost float64) flow {
		return flow{start, class, src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2], dst[3], gb, cost}
	}
	nat := [4]string{"nat-gateway", "", "", za}
	inet := [4]string{"internet", "", "", ""}
	return []flow{
		mk("2026-03-01 10:05:00", "cross-zone", ing, pod("shop", "cart", zb), 4, 0.04),
		mk("2026-03-01 10:40:00", "cross-zone", ing, pod("shop", "cart", zb), 2, 0.02),
		mk("2026-03-01 11:00:00", "cross-zone", pod("shop", "cart", zb), pod("shop", "db", zc), 1, 0.01),
		mk("2026-03-01 12:00:00", "same-zone", pod("shop", "cart", zb), pod("shop", "db", zb), 5, 0),
		mk("2026-03-01 13:00:00", "nat-gateway", pod("shop", "cart", za), nat, 3, 0.135),
		mk("2026-03-01 14:00:00", "cross-zone", pod("monitoring", "prometheus", za), pod("shop", "cart", zc), 1, 0.01),
		mk("2026-03-02 10:00:00", "cross-zone", ing, pod("shop", "cart", zb), 1, 0.01),
		mk("2026-03-02 11:00:00", "same-zone", ing, pod("shop", "cart", za), 6, 0),
		mk("2026-03-02 12:00:00", "cross-zone", pod("shop", "cart", zc), pod("shop", "db", za), 2, 0.02),
		mk("2026-03-02 15:00:00", "internet-egress", pod("shop", "cart", za), inet, 0.5, 0.045),
	}
}()

// podIP is one pod_ips row.
type podIP struct {
	ns, wl, pod, uid, zone, ip string
	from, to, updated          string // to "" = open
}

// pods: cart has one pod per zone, az2's closed at 03-02 12:00 by a newer
// version of its row (FINAL must pick it), az4's started on 03-02; an old
// cart pod ended before the window. The ingress gateway has one pod.
var pods = []podIP{
	{"shop", "cart", "cart-1", "u1", za, "10.0.1.10", "2026-02-28 00:00:00", "", "2026-02-28 00:00:00"},
	{"shop", "cart", "cart-2", "u2", zb, "10.0.2.10", "2026-02-28 00:00:00", "", "2026-02-28 00:00:00"},
	{"shop", "cart", "cart-2", "u2", zb, "10.0.2.10", "2026-02-28 00:00:00", "2026-03-02 12:00:00", "2026-03-02 12:00:00"},
	{"shop", "cart", "cart-3", "u3", zc, "10.0.3.10", "2026-03-02 00:00:00", "", "2026-03-02 00:00:00"},
	{"shop", "cart", "cart-0", "u0", za, "10.0.1.9", "2026-02-20 00:00:00", "2026-02-25 00:00:00", "2026-02-25 00:00:00"},
	{"istio-system", "istio-ingressgateway", "ing-1", "g1", za, "10.0.1.20", "2026-02-01 00:00:00", "", "2026-02-01 00:00:00"},
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// newStore returns a migrated store on a fresh database.
func newStore(t testing.TB) store.Store {
	t.Helper()
	s := chtest.Store(t)
	_, err := migrations.New(s, migrations.Options{}).Up(context.Background())
	require.NoError(t, err)
	return s
}

// loaded returns a migrated store holding the fixture. Each record is its
// own INSERT, so the rollup holds unmerged parts.
func loaded(t testing.TB) store.Store {
	t.Helper()
	s := newStore(t)
	ctx := context.Background()
	for _, f := range fixture {
		q := fmt.Sprintf(`INSERT INTO flow_logs (start, end, bytes, packets, traffic_class,
  src_kind, src_cluster, src_namespace, src_workload, src_zone,
  dst_kind, dst_cluster, dst_namespace, dst_workload, dst_zone, transfer_bytes, cost_usd)
VALUES (%s, %s, %d, 1, %s, %s, 'prod', %s, %s, %s, %s, 'prod', %s, %s, %s, %v, %v)`,
			quote(f.start), quote(f.start), int64(f.gb*1e9), quote(f.class),
			quote(f.srcKind), quote(f.srcNS), quote(f.srcWL), quote(f.srcZone),
			quote(f.dstKind), quote(f.dstNS), quote(f.dstWL), quote(f.dstZone), f.gb*1e9, f.cost)
		require.NoError(t, s.Exec(ctx, q))
	}
	for _, p := range pods {
		to := p.to
		if to == "" {
			to = "1970-01-01 00:00:00"
		}
		q := fmt.Sprintf(`INSERT INTO pod_ips (cluster, ip, namespace, pod, pod_uid, workload_kind, workload, zone, valid_from, valid_to, updated_at)
VALUES ('prod', toIPv6(%s), %s, %s, %s, 'Deployment', %s, %s, %s, %s, %s)`,
			quote("::ffff:"+p.ip), quote(p.ns), quote(p.pod), quote(p.uid), quote(p.wl), quote(p.zone),
			quote(p.from), quote(to), quote(p.updated))
		require.NoError(t, s.Exec(ctx, q))
	}
	return s
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// queryString runs q and returns its TSV output.
func queryString(ctx context.Context, s store.Store, q string, out *string) error {
	var b strings.Builder
	err := s.Query(ctx, &b, q, "TSV")
	*out = b.String()
	return err
}
