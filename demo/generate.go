package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// fileInterval is the span of one flow-log object (the S3 delivery
// interval) and of the pod snapshot cadence.
const fileInterval = 600

// Summary describes a generated data set and the ground truth it encodes.
type Summary struct {
	// Dir is where the data set was written (not part of ground-truth.json,
	// which must not depend on it).
	Dir   string    `json:"-"`
	Seed  int64     `json:"seed"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Records is the number of flow-log records (header lines excluded,
	// NODATA/SKIPDATA and REJECT records included); Files the number of
	// flow-log objects.
	Records int64 `json:"records"`
	Files   int   `json:"files"`
	// Snapshots is the number of pod snapshots (one every ten minutes,
	// both ends included).
	Snapshots int `json:"snapshots"`
	Nodes     int `json:"nodes"`
	// Pods is the number of distinct pods alive during the data set;
	// PodsPerDay counts those alive at some point of each day.
	Pods       int   `json:"pods"`
	PodsPerDay []int `json:"pods_per_day"`
	// ReusedIPs is the number of pods started during the data set on an IP
	// another pod held before; ReusedIPsOtherWorkload those whose previous
	// holder belonged to another workload.
	ReusedIPs              int `json:"reused_ips"`
	ReusedIPsOtherWorkload int `json:"reused_ips_other_workload"`
	// Unlisted counts pods that lived between two snapshots (superseded
	// rollouts, quick scale-downs): they are in no snapshot and send no
	// traffic.
	Unlisted int `json:"unlisted_pods"`
	// RecordBytesPerDay sums the bytes column of all records per day;
	// TransferBytesPerDay counts each transfer once (same-node traffic
	// excluded, as flow logs never see it).
	RecordBytesPerDay   []int64 `json:"record_bytes_per_day"`
	TransferBytesPerDay []int64 `json:"transfer_bytes_per_day"`
	// FlowLogBytes and SnapshotBytes are the sizes on disk.
	FlowLogBytes  int64 `json:"flow_log_bytes"`
	SnapshotBytes int64 `json:"snapshot_bytes"`
	// Truth is what the generator sent, per day and workload pair.
	Truth    []TruthRow `json:"truth"`
	Locality Locality   `json:"locality"`
	// Instances are the nodes as EC2 instances: id, type, zone and hours
	// alive during the data set (what a bill's EC2 lines must match).
	Instances []Instance `json:"instances"`
	// Bill is the demo bills' billed cost per account, day and currency
	// (billing.go): what the allocation must add up to.
	Bill []BillTotal `json:"bill"`
	// AlertNotifications is the number of webhook bodies under
	// DIR/alerts (alerts.go).
	AlertNotifications int `json:"alert_notifications"`
	// DeployEvents is the number of rows of DIR/deploy-events.jsonl
	// (deploys.go); Deploys counts its actions by kind and result
	// ("deploy/failed"), as the deploy_actions view gives them.
	DeployEvents int            `json:"deploy_events"`
	Deploys      map[string]int `json:"deploys"`
}

// Namespaces sums Truth per day, namespace pair and class.
func (s Summary) Namespaces() []NamespaceRow { return ByNamespace(s.Truth) }

// dataset is a prepared generation: topology, timeline, traffic model.
type dataset struct {
	o    Options
	topo *topology
	cl   *cluster
	g    *gen
}

func prepare(o Options) (*dataset, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	topo := newTopology(o.Seed, o.Nodes)
	cl := simulate(o.Seed, topo, o.Start.Unix(), o.end().Unix())
	return &dataset{o: o, topo: topo, cl: cl, g: newGen(o, topo, cl)}, nil
}

// Generate writes the demo data set under dir:
//
//	dir/furrow.yaml                     network config (zones, NAT gateways, AWS ranges)
//	dir/k8s/nodes.json                  kubectl get nodes -o json
//	dir/k8s/pods-YYYYMMDDTHHMMZ.json    kubectl get pods -A -o json, every 10 minutes
//	dir/s3/AWSLogs/{acct}/vpcflowlogs/eu-west-1/YYYY/MM/DD/*.log.gz
//	dir/billing/cur2/*.csv.gz           the cluster account's bill (CUR 2.0), this month and the last
//	dir/billing/focus/*.csv             the data platform account's bill (FOCUS 1.0)
//	dir/alerts/*.json                   Alertmanager and Grafana webhook bodies, named by receive time
//	dir/deploy-events.jsonl             the deployer's history (deploy_events rows)
//	dir/ground-truth.json               the returned Summary
//
// Flow-log objects cover ten minutes each and are named (and dated) by
// their delivery time, the end of the interval, as AWS does.
func Generate(ctx context.Context, dir string, opts Options) (Summary, error) {
	d, err := prepare(opts)
	if err != nil {
		return Summary{}, err
	}
	o := d.o
	start, end := o.Start.Unix(), o.end().Unix()
	s := Summary{Dir: dir, Seed: o.Seed, Start: o.Start, End: o.end(), Nodes: len(d.topo.Nodes), Instances: instances(d.topo, o)}
	for _, sub := range []string{"k8s", "s3"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return s, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "furrow.yaml"), networkYAML(d.topo), 0o644); err != nil {
		return s, err
	}
	if err := writeCatalog(dir, ClusterName); err != nil {
		return s, err
	}
	if err := os.WriteFile(filepath.Join(dir, "k8s", "nodes.json"), nodesJSON(d.topo, start), 0o644); err != nil {
		return s, err
	}

	// Pods, their rendered objects, and the counts.
	ordered := snapshotOrder(d.cl.pods)
	running := make(map[*pod][]byte, len(ordered))
	succeeded := map[*pod][]byte{}
	s.PodsPerDay = make([]int, o.Days)
	for _, p := range ordered {
		running[p] = podJSON(p, "Running")
		if p.Done != 0 {
			succeeded[p] = podJSON(p, "Succeeded")
		}
		s.Pods++
		if !p.Listed {
			s.Unlisted++
		}
		if p.Reused {
			s.ReusedIPs++
		}
		if p.ReusedOther {
			s.ReusedIPsOtherWorkload++
		}
		for day := range o.Days {
			ds := start + int64(day)*86400
			if p.Start < ds+86400 && p.End > ds {
				s.PodsPerDay[day]++
			}
		}
	}

	files := int((end - start) / fileInterval)
	s.Files, s.Snapshots = files, files+1
	type result struct {
		t    *tally
		size int64
		snap bool
		err  error
	}
	results := make([]result, files+s.Snapshots)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Go(func() {
			for i := range jobs {
				if ctx.Err() != nil {
					results[i].err = ctx.Err()
					continue
				}
				if i < files {
					t := newTally(o.Days)
					n, err := d.writeFlowObject(dir, i, t)
					results[i] = result{t: t, size: n, err: err}
				} else {
					n, err := writeSnapshot(dir, start+int64(i-files)*fileInterval, ordered, running, succeeded)
					results[i] = result{size: n, snap: true, err: err}
				}
			}
		})
	}
	for i := range results {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	total := newTally(o.Days)
	for _, r := range results {
		if r.err != nil {
			return s, r.err
		}
		if r.snap {
			s.SnapshotBytes += r.size
			continue
		}
		s.FlowLogBytes += r.size
		total.merge(r.t)
	}
	d.summarize(&s, total)
	bill, err := d.writeBills(dir, s.Truth)
	if err != nil {
		return s, err
	}
	s.Bill = bill
	if s.AlertNotifications, err = d.writeAlerts(dir); err != nil {
		return s, err
	}
	if s.DeployEvents, err = d.writeDeployEvents(dir); err != nil {
		return s, err
	}
	s.Deploys = deployTruth(deployEvents(d.o))
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return s, err
	}
	return s, os.WriteFile(filepath.Join(dir, "ground-truth.json"), append(b, '\n'), 0o644)
}

// summarize fills the ground-truth fields of s from the merged tally.
func (d *dataset) summarize(s *Summary, t *tally) {
	s.Records = t.records
	s.RecordBytesPerDay = t.recordBytes
	s.Truth = t.rows(d.cl.ws)
	s.TransferBytesPerDay = make([]int64, d.o.Days)
	for _, r := range s.Truth {
		if r.Class != ClassSameNode {
			s.TransferBytesPerDay[r.Day] += r.Bytes
		}
	}
	s.Locality = Locality{Namespace: d.o.LocalityNamespace, From: d.o.LocalityFrom.UTC().Format(time.RFC3339)}
	for _, l := range t.locality {
		s.Locality.CallerCrossZoneShare = append(s.Locality.CallerCrossZoneShare, share(l[0], l[1]))
		s.Locality.SourceCrossZoneShare = append(s.Locality.SourceCrossZoneShare, share(l[2], l[3]))
	}
}

// ObjectKey is the S3 key of the flow-log object delivered at t, under the
// bucket's prefix.
func ObjectKey(t time.Time, suffix string) string {
	t = t.UTC()
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%s.log.gz",
		Account, Region, t.Format("2006/01/02"), Account, Region, FlowLogID, t.Format("20060102T1504Z"), suffix)
}

// writeFlowObject writes the i-th ten-minute flow-log object.
func (d *dataset) writeFlowObject(dir string, i int, t *tally) (int64, error) {
	o := d.o
	from := o.Start.Unix() + int64(i)*fileInterval
	r := newRNG(o.Seed, 1<<20+uint64(i))
	key := ObjectKey(time.Unix(from+fileInterval, 0), r.hex(8))
	path := filepath.Join(dir, "s3", filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	fh, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	cw := &countWriter{w: fh}
	bw := bufio.NewWriterSize(cw, 1<<16)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return 0, err
	}
	f := newFileGen(d.g, r, t, zw)
	f.buf = append(f.buf, Header+"\n"...)
	d.flowInterval(f, from, float64(o.FlowsPerHour)/60)
	if f.flush(true); f.err != nil {
		return 0, fmt.Errorf("write %s: %w", path, f.err)
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return cw.n, fh.Close()
}

// flowInterval generates the ten windows of [from, from+600), at perMinute
// records per minute on average, with the idle NAT gateway's NODATA record
// and an occasional SKIPDATA.
func (d *dataset) flowInterval(f *fileGen, from int64, perMinute float64) {
	f.candidates(from, from+fileInterval)
	carry := 0.0
	nodata := from + 60*int64(f.r.IntN(10))
	skip := int64(-1)
	if f.r.chance(0.15) {
		skip = from + 60*int64(f.r.IntN(10))
	}
	for m := from; m < from+fileInterval; m += 60 {
		target := perMinute*diurnal(m) - carry
		carry = float64(f.window(m, target)) - target
		if m == nodata {
			f.status(&d.topo.NATs[2].ENI, "NODATA", m)
		}
		if m == skip {
			f.status(&d.topo.Nodes[f.r.IntN(len(d.topo.Nodes))].ENI, "SKIPDATA", m)
		}
	}
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeSnapshot writes the PodList of the pods running (or completed and
// not yet deleted) at t.
func writeSnapshot(dir string, t int64, ordered []*pod, running, succeeded map[*pod][]byte) (int64, error) {
	name := filepath.Join(dir, "k8s", "pods-"+time.Unix(t, 0).UTC().Format("20060102T1504Z")+".json")
	fh, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	cw := &countWriter{w: fh}
	bw := bufio.NewWriterSize(cw, 1<<16)
	bw.WriteString(`{"apiVersion":"v1","items":[`)
	first := true
	for _, p := range ordered {
		if p.Start > t || p.End <= t {
			continue
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		if p.Done != 0 && t >= p.Done {
			bw.Write(succeeded[p])
		} else {
			bw.Write(running[p])
		}
	}
	bw.WriteString(`],"kind":"List","metadata":{"resourceVersion":""}}` + "\n")
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	return cw.n, fh.Close()
}

// networkYAML is furrow.yaml for the topology: its traffic section, and
// a retention that keeps the demo's data.
func networkYAML(t *topology) []byte {
	b := []byte("# Network layout of the demo cluster " + ClusterName + ", written by `furrow demo generate`.\n")
	b = append(b, "traffic:\n  region: "+Region+"\n  vpc_cidrs: ["+VPCCIDR+"]\n  zones:            # CIDR → zone; most specific prefix wins\n"...)
	for _, z := range t.Zones {
		for _, p := range []string{z.PodCIDR.String(), z.PubCIDR.String()} {
			b = fmt.Appendf(b, "    - {cidr: %s, zone: %s, zone_id: %s, region: %s}\n", p, z.Name, z.ID, Region)
		}
	}
	b = append(b, "  nat_gateways:\n"...)
	for _, n := range t.NATs {
		b = fmt.Appendf(b, "    - {eni: %s, ip: %s, zone: %s}\n", n.ENI.ID, ipString(n.ENI.IP), t.Zones[n.Zone].Name)
	}
	b = fmt.Appendf(b, "  aws_ip_ranges: [{cidr: %s, service: S3, region: %s}, {cidr: %s, service: EC2, region: %s}]\n",
		S3CIDR, Region, RemoteCIDR, RemoteRegion)
	// The demo's dates are fixed (DefaultStart): with the default retention
	// its flows would be deleted as soon as they are a month old.
	b = append(b, "# The demo's dates are fixed: keep its data whatever its age.\nretention: {flow_logs: 0, flow_rollups: 0, pods: 0}\n"...)
	return append(b, demoAlertingYAML...)
}

// WriteFlowFile writes one gzip flow-log object of exactly n records (plus
// the header) to w: the demo cluster's traffic from the default start on,
// at a rate that fits n records in about six hours. Benchmarks use it to
// get a large realistic file without the rest of the data set.
func WriteFlowFile(w io.Writer, n int, seed int64) error {
	d, err := prepare(Options{Seed: seed, Days: 1})
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	t := newTally(1)
	f := newFileGen(d.g, newRNG(seed, 1<<30), t, zw)
	f.limit = int64(n)
	f.buf = append(f.buf, Header+"\n"...)
	perMinute := float64(n)/360 + 1
	start := d.o.Start.Unix()
	for from := start; t.records < f.limit; from += fileInterval {
		if from >= start+86400 {
			from = start // wrap around the day's timeline
		}
		d.flowInterval(f, from, perMinute)
	}
	if f.flush(true); f.err != nil {
		return f.err
	}
	return zw.Close()
}
