package pods

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/furrowdev/furrow/store"
)

// Queries of LoadRecords. Times travel as Unix milliseconds and IPs as hex,
// which parse without allocating; FINAL keeps the latest version of each
// record key, and the filter applies after it, so an interval closed before
// from is not resurrected by its open version.
const (
	loadPodIPsQuery = `SELECT cluster, hex(ip), namespace, pod, pod_uid, workload_kind, workload, node, zone,
	toUInt8(host_network), toUnixTimestamp64Milli(valid_from), toUnixTimestamp64Milli(valid_to)
FROM ` + PodIPsTable + ` FINAL
WHERE toUnixTimestamp64Milli(valid_from) <= {to:Int64}
	AND (toUnixTimestamp64Milli(valid_to) = 0 OR toUnixTimestamp64Milli(valid_to) >= {from:Int64})`
	loadNodesQuery = `SELECT cluster, node, arrayStringConcat(arrayMap(x -> hex(x), ips), ','), zone, region, instance_type,
	toUnixTimestamp64Milli(valid_from), toUnixTimestamp64Milli(valid_to)
FROM ` + NodesTable + ` FINAL
WHERE toUnixTimestamp64Milli(valid_from) <= {to:Int64}
	AND (toUnixTimestamp64Milli(valid_to) = 0 OR toUnixTimestamp64Milli(valid_to) >= {from:Int64})`
)

// LoadIndex builds an Index from the pod_ips and k8s_nodes intervals of s
// that overlap [from, to]; a zero from or to leaves that side open. The
// flow ingest reloads it periodically and swaps it in.
func LoadIndex(ctx context.Context, s store.Store, from, to time.Time) (*Index, error) {
	pods, nodes, err := LoadRecords(ctx, s, from, to)
	if err != nil {
		return nil, err
	}
	return NewIndex(pods, nodes), nil
}

// LoadRecords reads the latest version of the pod_ips and k8s_nodes
// intervals of s that overlap [from, to] (a zero bound is open).
func LoadRecords(ctx context.Context, s store.Store, from, to time.Time) ([]PodIP, []NodeInfo, error) {
	params := store.WithParams(map[string]string{
		"from": strconv.FormatInt(boundMillis(from, math.MinInt64), 10),
		"to":   strconv.FormatInt(boundMillis(to, math.MaxInt64), 10),
	})
	var (
		pods  []PodIP
		nodes []NodeInfo
	)
	in := newInterner()
	pr := &tsvReader{row: func(f [][]byte) error {
		p, err := parsePodIPRow(f, in)
		if err != nil {
			return err
		}
		pods = append(pods, p)
		return nil
	}}
	if err := queryTSV(ctx, s, loadPodIPsQuery, pr, params); err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", PodIPsTable, err)
	}
	nr := &tsvReader{row: func(f [][]byte) error {
		n, err := parseNodeRow(f, in)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	}}
	if err := queryTSV(ctx, s, loadNodesQuery, nr, params); err != nil {
		return nil, nil, fmt.Errorf("load %s: %w", NodesTable, err)
	}
	return pods, nodes, nil
}

func boundMillis(t time.Time, zero int64) int64 {
	if t.IsZero() {
		return zero
	}
	return t.UnixMilli()
}

// queryTSV runs q and feeds its TSV rows to r as they arrive.
func queryTSV(ctx context.Context, s store.Store, q string, r *tsvReader, opts ...store.Option) error {
	if err := s.Query(ctx, r, q, "TSV", opts...); err != nil {
		return err
	}
	return r.close()
}

// errBadRow reports a row the loader cannot parse: the schema and the
// queries disagree, which is a bug.
var errBadRow = errors.New("unexpected row")

// tsvReader is an io.Writer splitting ClickHouse TSV output into rows of
// unescaped fields, handed to row. The fields are only valid during the
// call.
type tsvReader struct {
	row     func(fields [][]byte) error
	partial []byte
	fields  [][]byte
	line    int
	err     error
}

func (r *tsvReader) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := len(p)
	if len(r.partial) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.partial = append(r.partial, p...)
			return n, nil
		}
		r.partial = append(r.partial, p[:i]...)
		if r.err = r.parse(r.partial); r.err != nil {
			return 0, r.err
		}
		r.partial = r.partial[:0]
		p = p[i+1:]
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		if r.err = r.parse(p[:i]); r.err != nil {
			return 0, r.err
		}
		p = p[i+1:]
	}
	r.partial = append(r.partial, p...)
	return n, nil
}

// close parses a last line without a newline.
func (r *tsvReader) close() error {
	if r.err == nil && len(r.partial) > 0 {
		r.err = r.parse(r.partial)
		r.partial = nil
	}
	return r.err
}

func (r *tsvReader) parse(line []byte) error {
	r.line++
	r.fields = r.fields[:0]
	for {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			r.fields = append(r.fields, unescapeTSV(line))
			break
		}
		r.fields = append(r.fields, unescapeTSV(line[:i]))
		line = line[i+1:]
	}
	if err := r.row(r.fields); err != nil {
		return fmt.Errorf("row %d: %w", r.line, err)
	}
	return nil
}

// unescapeTSV undoes ClickHouse's TSV escaping (\t, \n, \\, …) in place.
func unescapeTSV(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := b[:0]
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			i++
			switch b[i] {
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case '0':
				c = 0
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			default:
				c = b[i] // \\, \', \"
			}
		}
		out = append(out, c)
	}
	return out
}

// interner shares the strings that repeat across rows (cluster, namespace,
// workload, node, zone): a million intervals hold a few thousand of them.
type interner map[string]string

func newInterner() interner { return interner{} }

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

func parsePodIPRow(f [][]byte, in interner) (PodIP, error) {
	if len(f) != 12 {
		return PodIP{}, fmt.Errorf("%w: %d fields in %s, want 12", errBadRow, len(f), PodIPsTable)
	}
	ip, err := parseHexIP(f[1])
	if err != nil {
		return PodIP{}, err
	}
	from, err1 := strconv.ParseInt(string(f[10]), 10, 64)
	to, err2 := strconv.ParseInt(string(f[11]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return PodIP{}, fmt.Errorf("%w: %w", errBadRow, err)
	}
	return PodIP{
		Cluster:      in.get(f[0]),
		IP:           ip,
		Namespace:    in.get(f[2]),
		Pod:          string(f[3]),
		PodUID:       string(f[4]),
		WorkloadKind: in.get(f[5]),
		Workload:     in.get(f[6]),
		Node:         in.get(f[7]),
		Zone:         in.get(f[8]),
		HostNetwork:  string(f[9]) == "1",
		ValidFrom:    fromMillis(from),
		ValidTo:      fromMillis(to),
	}, nil
}

func parseNodeRow(f [][]byte, in interner) (NodeInfo, error) {
	if len(f) != 8 {
		return NodeInfo{}, fmt.Errorf("%w: %d fields in %s, want 8", errBadRow, len(f), NodesTable)
	}
	var ips []netip.Addr
	for h := range bytes.SplitSeq(f[2], []byte(",")) {
		if len(h) == 0 {
			continue
		}
		ip, err := parseHexIP(h)
		if err != nil {
			return NodeInfo{}, err
		}
		ips = append(ips, ip)
	}
	from, err1 := strconv.ParseInt(string(f[6]), 10, 64)
	to, err2 := strconv.ParseInt(string(f[7]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return NodeInfo{}, fmt.Errorf("%w: %w", errBadRow, err)
	}
	return NodeInfo{
		Cluster:      in.get(f[0]),
		Node:         in.get(f[1]),
		IPs:          ips,
		Zone:         in.get(f[3]),
		Region:       in.get(f[4]),
		InstanceType: in.get(f[5]),
		ValidFrom:    fromMillis(from),
		ValidTo:      fromMillis(to),
	}, nil
}

// parseHexIP parses the 32 hex digits of hex(IPv6); IPv4-mapped addresses
// come back as IPv4, as the rest of the package keeps them.
func parseHexIP(h []byte) (netip.Addr, error) {
	var a [16]byte
	if len(h) != 32 {
		return netip.Addr{}, fmt.Errorf("%w: IP %q", errBadRow, h)
	}
	if _, err := hex.Decode(a[:], h); err != nil {
		return netip.Addr{}, fmt.Errorf("%w: IP %q: %w", errBadRow, h, err)
	}
	return netip.AddrFrom16(a).Unmap(), nil
}

// fromMillis is the inverse of dbMillis: 0 (1970-01-01, an open interval)
// is the zero time.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
