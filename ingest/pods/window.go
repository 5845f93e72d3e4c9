package pods

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// window is a time range [lo, hi) in Unix milliseconds, the precision of
// pod_ips. math.MinInt64 and math.MaxInt64 stand for open sides.
type window struct{ lo, hi int64 }

// covers reports whether w contains [lo, hi).
func (w window) covers(lo, hi int64) bool { return w.lo <= lo && hi <= w.hi }

// overlaps reports whether the interval [from, to) of a record (to = 0:
// still open) overlaps w. A record whose interval only touches w (to ==
// w.lo) holds no time of it, since intervals are half-open.
func (w window) overlaps(from, to int64) bool { return from < w.hi && (to == 0 || to > w.lo) }

// recordKey is the record key of pod_ips (its ORDER BY): every version of a
// record has the same key, and FINAL keeps the one with the latest
// updated_at.
type recordKey struct {
	cluster, uid string
	ip           [16]byte
	from         int64 // valid_from, ms
}

// podRec is the latest version of a pod_ips record as IndexCache keeps it:
// the endpoint is allocated once and shared by every index built from it.
type podRec struct {
	to      int64 // valid_to, ms; 0 = open
	hostNet bool
	ep      *Endpoint
}

// Queries of IndexCache. Conditions on valid_from (a column of the record
// key, the same in every version) go to PREWHERE: they may run before FINAL
// picks the latest version without changing which one it picks, and they
// spare FINAL the rows outside the range. Conditions on valid_to (which a
// close changes) apply after FINAL, in WHERE, so that an interval closed
// before the window is not resurrected by its open version.
const (
	podSelect = `SELECT cluster, hex(ip), namespace, pod, pod_uid, workload_kind, workload, node, zone,
	toUInt8(host_network), toUnixTimestamp64Milli(valid_from), toUnixTimestamp64Milli(valid_to)
FROM ` + PodIPsTable + ` FINAL
`
	// podWindowQuery: every record overlapping [lo, hi).
	podWindowQuery = podSelect + `PREWHERE toUnixTimestamp64Milli(valid_from) < {hi:Int64}
WHERE toUnixTimestamp64Milli(valid_to) = 0 OR toUnixTimestamp64Milli(valid_to) > {lo:Int64}`
	// podLaterQuery: the records overlapping [lo, hi) that a window ending
	// at lo does not hold, those starting in [lo, hi).
	podLaterQuery = podSelect + `PREWHERE toUnixTimestamp64Milli(valid_from) >= {lo:Int64} AND toUnixTimestamp64Milli(valid_from) < {hi:Int64}`
	// podEarlierQuery: the records overlapping [lo, hi) that a window
	// starting at hi does not hold, those that started before hi and ended
	// in (lo, hi].
	podEarlierQuery = podSelect + `PREWHERE toUnixTimestamp64Milli(valid_from) < {hi:Int64}
WHERE toUnixTimestamp64Milli(valid_to) != 0 AND toUnixTimestamp64Milli(valid_to) > {lo:Int64} AND toUnixTimestamp64Milli(valid_to) <= {hi:Int64}`
	// podChangedQuery: the latest version of every record written since
	// {since} that started before hi, wherever its interval now lies (a
	// close may have moved it out of the window).
	podChangedQuery = podSelect + `PREWHERE toUnixTimestamp64Milli(valid_from) < {hi:Int64}
	AND (cluster, ip, pod_uid, valid_from) IN (SELECT cluster, ip, pod_uid, valid_from FROM ` + PodIPsTable + `
		WHERE toUnixTimestamp64Milli(updated_at) >= {since:Int64})`
	nodeWindowQuery = `SELECT cluster, node, arrayStringConcat(arrayMap(x -> hex(x), ips), ','), zone, region, instance_type,
	toUnixTimestamp64Milli(valid_from), toUnixTimestamp64Milli(valid_to)
FROM ` + NodesTable + ` FINAL
WHERE toUnixTimestamp64Milli(valid_from) < {hi:Int64}
	AND (toUnixTimestamp64Milli(valid_to) = 0 OR toUnixTimestamp64Milli(valid_to) > {lo:Int64})`
	// claimedQuery: which of {ips} a node or a pod-network pod had at any
	// time. A hostNetwork pod stands for its node only at IPs nothing else
	// ever had (see NewIndex); outside the window only this query can tell.
	// host_network is not read through FINAL: a pod's spec.hostNetwork
	// cannot change, so every version of a record has the same.
	claimedQuery = `SELECT DISTINCT hex(ip) FROM (
	SELECT arrayJoin(ips) AS ip FROM ` + NodesTable + ` FINAL
	UNION ALL
	SELECT ip FROM ` + PodIPsTable + ` PREWHERE ip IN {ips:Array(IPv6)} WHERE NOT host_network
) WHERE ip IN {ips:Array(IPv6)}`
	// historyVersionQuery tells whether the stored history changed: row
	// counts and the newest version of both tables.
	historyVersionQuery = `SELECT
	(SELECT count() FROM ` + PodIPsTable + `), (SELECT toUnixTimestamp64Milli(max(updated_at)) FROM ` + PodIPsTable + `),
	(SELECT count() FROM ` + NodesTable + `), (SELECT toUnixTimestamp64Milli(max(updated_at)) FROM ` + NodesTable + `)`
)

// historyVersion is what historyVersionQuery returns.
type historyVersion struct {
	podCount, podMax, nodeCount, nodeMax int64
}

func readHistoryVersion(ctx context.Context, s store.Store) (historyVersion, error) {
	var v historyVersion
	var n int
	r := &tsvReader{row: func(f [][]byte) error {
		if len(f) != 4 {
			return fmt.Errorf("%w: %d fields in the history version, want 4", errBadRow, len(f))
		}
		for i, p := range []*int64{&v.podCount, &v.podMax, &v.nodeCount, &v.nodeMax} {
			x, err := strconv.ParseInt(string(f[i]), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: %w", errBadRow, err)
			}
			*p = x
		}
		n++
		return nil
	}}
	if err := queryTSV(ctx, s, historyVersionQuery, r); err != nil {
		return v, fmt.Errorf("read the version of %s and %s: %w", PodIPsTable, NodesTable, err)
	}
	if n != 1 {
		return v, fmt.Errorf("read the version of %s and %s: %w: %d rows", PodIPsTable, NodesTable, errBadRow, n)
	}
	return v, nil
}

// podRow is one row of the pod queries.
type podRow struct {
	key recordKey
	rec podRec
}

// loadPodRows runs one of the pod queries with the given bounds and
// returns its rows; strings that repeat are shared through in.
func loadPodRows(ctx context.Context, s store.Store, q string, params map[string]int64, in interner) ([]podRow, error) {
	p := make(map[string]string, len(params))
	for k, v := range params {
		p[k] = strconv.FormatInt(v, 10)
	}
	var rows []podRow
	r := &tsvReader{row: func(f [][]byte) error {
		pi, err := parsePodIPRow(f, in)
		if err != nil {
			return err
		}
		from, to := dbMillis(pi.ValidFrom), dbMillis(pi.ValidTo)
		rec := podRec{to: to, hostNet: pi.HostNetwork, ep: podEndpoint(pi)}
		if pi.HostNetwork {
			rec.ep = hostNetEndpoint(pi)
		}
		rows = append(rows, podRow{key: recordKey{cluster: pi.Cluster, uid: pi.PodUID, ip: pi.IP.Unmap().As16(), from: from}, rec: rec})
		return nil
	}}
	if err := queryTSV(ctx, s, q, r, store.WithParams(p)); err != nil {
		return nil, fmt.Errorf("load %s: %w", PodIPsTable, err)
	}
	return rows, nil
}

// loadNodeRows returns the k8s_nodes records overlapping w.
func loadNodeRows(ctx context.Context, s store.Store, w window, in interner) ([]NodeInfo, error) {
	var nodes []NodeInfo
	r := &tsvReader{row: func(f [][]byte) error {
		n, err := parseNodeRow(f, in)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	}}
	params := store.WithParams(map[string]string{"lo": strconv.FormatInt(w.lo, 10), "hi": strconv.FormatInt(w.hi, 10)})
	if err := queryTSV(ctx, s, nodeWindowQuery, r, params); err != nil {
		return nil, fmt.Errorf("load %s: %w", NodesTable, err)
	}
	return nodes, nil
}

// claimedIPs returns which of ips a node or a pod-network pod had at any
// time in the stored history.
func claimedIPs(ctx context.Context, s store.Store, ips [][16]byte) (map[[16]byte]bool, error) {
	list := make([]string, len(ips))
	for i, k := range ips {
		// IPv4 addresses print IPv4-mapped (::ffff:a.b.c.d), the form
		// of the IPv6 column.
		list[i] = netip.AddrFrom16(k).String()
	}
	claimed := map[[16]byte]bool{}
	r := &tsvReader{row: func(f [][]byte) error {
		if len(f) != 1 {
			return fmt.Errorf("%w: %d fields in claimed IPs, want 1", errBadRow, len(f))
		}
		ip, err := parseHexIP(f[0])
		if err != nil {
			return err
		}
		claimed[ip.Unmap().As16()] = true
		return nil
	}}
	if err := queryTSV(ctx, s, claimedQuery, r, store.WithParams(map[string]string{"ips": chsql.QuoteStrings(list)})); err != nil {
		return nil, fmt.Errorf("look up the hostNetwork IPs claimed in %s and %s: %w", PodIPsTable, NodesTable, err)
	}
	return claimed, nil
}

// buildWindowIndex builds the index of the records of a window. It answers
// like NewIndex over the whole history for every time inside the window:
// the intervals covering such a time all overlap the window, so they are
// all there, and the hostNetwork rule, which depends on the whole history,
// is settled by claimedIPs for the IPs the window alone cannot decide.
func buildWindowIndex(ctx context.Context, s store.Store, pods map[recordKey]podRec, nodes []NodeInfo) (*Index, error) {
	b := newBuilder(len(pods) + len(nodes))
	for _, n := range nodes {
		b.addNode(n)
	}
	var hostNet []recordKey
	for k, r := range pods {
		if r.hostNet {
			hostNet = append(hostNet, k)
			continue
		}
		b.add(k.ip, msNanos(k.from, math.MinInt64), msNanos(r.to, math.MaxInt64), r.ep)
	}
	var undecided [][16]byte
	seen := map[[16]byte]bool{}
	for _, k := range hostNet {
		if !b.has(k.ip) && !seen[k.ip] {
			seen[k.ip] = true
			undecided = append(undecided, k.ip)
		}
	}
	var claimed map[[16]byte]bool
	if len(undecided) > 0 {
		var err error
		if claimed, err = claimedIPs(ctx, s, undecided); err != nil {
			return nil, err
		}
	}
	for _, k := range hostNet {
		if (!b.has(k.ip) || b.hostNet[k.ip]) && !claimed[k.ip] {
			r := pods[k]
			b.addHostNet(k.ip, msNanos(k.from, math.MinInt64), msNanos(r.to, math.MaxInt64), r.ep)
		}
	}
	return b.index(), nil
}

// msNanos converts a stored time in milliseconds to the index's
// nanoseconds; 0 (1970-01-01, an unset bound) becomes zero, as nanos does
// for the zero time.Time.
func msNanos(ms, zero int64) int64 {
	if ms == 0 {
		return zero
	}
	return ms * 1e6
}
