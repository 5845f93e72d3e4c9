package demo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// small is the test configuration: both days (the locality switch), the
// full cluster, few records.
var small = Options{Seed: 7, FlowsPerHour: 2400}

func generate(t *testing.T, o Options) (string, Summary) {
	t.Helper()
	dir := t.TempDir()
	s, err := Generate(context.Background(), dir, o)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return dir, s
}

// checksum hashes every file's path and content under dir.
func checksum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	o := Options{Seed: 42, Days: 1, FlowsPerHour: 1200, Workers: 3}
	d1, s1 := generate(t, o)
	o.Workers = 1
	d2, s2 := generate(t, o)
	if c1, c2 := checksum(t, d1), checksum(t, d2); c1 != c2 {
		t.Fatalf("same seed, different output: %s != %s", c1, c2)
	}
	if s1.Records != s2.Records || s1.ReusedIPs != s2.ReusedIPs {
		t.Fatalf("summaries differ: %+v vs %+v", s1, s2)
	}
	o.Seed = 43
	d3, _ := generate(t, o)
	if checksum(t, d1) == checksum(t, d3) {
		t.Fatal("different seeds, same output")
	}
}

var keyRE = regexp.MustCompile(`^AWSLogs/123456789012/vpcflowlogs/eu-west-1/(\d{4})/(\d{2})/(\d{2})/123456789012_vpcflowlogs_eu-west-1_fl-0123456789abcdef0_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)

func TestObjectKey(t *testing.T) {
	k := ObjectKey(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), "0badcafe")
	m := keyRE.FindStringSubmatch(k)
	if m == nil || m[1]+m[2]+m[3] != "20261102" || m[4] != "20261102T0000Z" {
		t.Fatalf("bad key %q", k)
	}
}

// snapPod is what the consistency test reads from a pod snapshot.
type snapPod struct {
	Metadata struct {
		Name, Namespace, UID string
		Labels               map[string]string
		OwnerReferences      []struct{ Kind, Name string }
	}
	Spec struct {
		NodeName    string
		HostNetwork bool
	}
	Status struct {
		Phase, PodIP, HostIP, StartTime string
	}
}

type snapshot map[string]*snapPod // pod IP → pod (Running, or Succeeded when asked)

type world struct {
	times     []int64
	running   []snapshot
	finished  []snapshot
	hostZone  map[string]string // node IP → zone id
	nodeNames map[string]string // node name → zone id
}

func readWorld(t *testing.T, dir string, s Summary) *world {
	t.Helper()
	w := &world{hostZone: map[string]string{}, nodeNames: map[string]string{}}
	var nodes struct {
		Kind  string
		Items []struct {
			Metadata struct {
				Name   string
				Labels map[string]string
			}
			Status struct {
				Addresses []struct{ Type, Address string }
			}
		}
	}
	readJSON(t, filepath.Join(dir, "k8s", "nodes.json"), &nodes)
	if nodes.Kind != "List" || len(nodes.Items) != s.Nodes {
		t.Fatalf("nodes.json: kind %q, %d nodes, want %d", nodes.Kind, len(nodes.Items), s.Nodes)
	}
	for _, n := range nodes.Items {
		z := n.Metadata.Labels["topology.k8s.aws/zone-id"]
		for _, l := range []string{"topology.kubernetes.io/zone", "topology.kubernetes.io/region", "node.kubernetes.io/instance-type"} {
			if n.Metadata.Labels[l] == "" {
				t.Fatalf("node %s lacks label %s", n.Metadata.Name, l)
			}
		}
		w.nodeNames[n.Metadata.Name] = z
		for _, a := range n.Status.Addresses {
			if a.Type == "InternalIP" {
				w.hostZone[a.Address] = z
			}
		}
	}
	for ts := s.Start.Unix(); ts <= s.End.Unix(); ts += 600 {
		var list struct{ Items []*snapPod }
		readJSON(t, filepath.Join(dir, "k8s", "pods-"+time.Unix(ts, 0).UTC().Format("20060102T1504Z")+".json"), &list)
		run, fin := snapshot{}, snapshot{}
		for _, p := range list.Items {
			if p.Spec.HostNetwork {
				if p.Status.PodIP != p.Status.HostIP {
					t.Fatalf("hostNetwork pod %s has its own IP", p.Metadata.Name)
				}
				continue
			}
			if w.nodeNames[p.Spec.NodeName] != w.hostZone[p.Status.HostIP] {
				t.Fatalf("pod %s: node %s does not have host IP %s", p.Metadata.Name, p.Spec.NodeName, p.Status.HostIP)
			}
			checkNames(t, p)
			if p.Status.Phase == "Succeeded" {
				// Completed Job pods keep showing the IP they released;
				// only the latest can have run since the last snapshot.
				if q := fin[p.Status.PodIP]; q == nil || q.Status.StartTime < p.Status.StartTime {
					fin[p.Status.PodIP] = p
				}
				continue
			}
			into := run
			if q := into[p.Status.PodIP]; q != nil {
				t.Fatalf("%s: %s and %s both hold %s", time.Unix(ts, 0).UTC(), q.Metadata.Name, p.Metadata.Name, p.Status.PodIP)
			}
			into[p.Status.PodIP] = p
		}
		w.times = append(w.times, ts)
		w.running = append(w.running, run)
		w.finished = append(w.finished, fin)
	}
	return w
}

// checkNames checks the owner naming conventions readers rely on.
func checkNames(t *testing.T, p *snapPod) {
	t.Helper()
	if len(p.Metadata.OwnerReferences) != 1 {
		t.Fatalf("pod %s: %d owners", p.Metadata.Name, len(p.Metadata.OwnerReferences))
	}
	o := p.Metadata.OwnerReferences[0]
	ok := true
	switch o.Kind {
	case "ReplicaSet":
		h := p.Metadata.Labels["pod-template-hash"]
		ok = h != "" && strings.HasSuffix(o.Name, "-"+h) && strings.HasPrefix(p.Metadata.Name, o.Name+"-") && len(p.Metadata.Name) == len(o.Name)+6
	case "Job":
		i := strings.LastIndexByte(o.Name, '-')
		_, err := strconv.Atoi(o.Name[i+1:])
		ok = err == nil && p.Metadata.Labels["job-name"] == o.Name && strings.HasPrefix(p.Metadata.Name, o.Name+"-")
	case "StatefulSet":
		ok = strings.HasPrefix(p.Metadata.Name, o.Name+"-")
	}
	if !ok {
		t.Fatalf("pod %s: owner %s %s breaks the naming convention", p.Metadata.Name, o.Kind, o.Name)
	}
}

// podAt finds the pod holding ip at time ts: the running pod of the
// snapshot before, else the one of the snapshot after (it started in
// between), which may have completed already.
func (w *world) podAt(ip string, ts int64) *snapPod {
	i := sort.Search(len(w.times), func(i int) bool { return w.times[i] > ts }) - 1
	if p := w.running[i][ip]; p != nil {
		return p
	}
	if i+1 < len(w.times) {
		if p := w.running[i+1][ip]; p != nil {
			return p
		}
		return w.finished[i+1][ip]
	}
	return nil
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// eachRecord calls fn with the fields of every record of every object.
func eachRecord(t *testing.T, dir string, fn func(key string, f []string)) int {
	t.Helper()
	root := filepath.Join(dir, "s3")
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		key := filepath.ToSlash(rel)
		m := keyRE.FindStringSubmatch(key)
		if m == nil || m[1]+m[2]+m[3] != m[4][:8] {
			t.Fatalf("object key %q breaks the S3 layout", key)
		}
		files++
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(zr)
		if !sc.Scan() || sc.Text() != Header {
			t.Fatalf("%s: header missing", key)
		}
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 29 {
				t.Fatalf("%s: %d fields in %q", key, len(f), sc.Text())
			}
			fn(key, f)
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestConsistency(t *testing.T) {
	dir, s := generate(t, small)
	w := readWorld(t, dir, s)
	natIPs := map[string]bool{"10.0.200.10": true, "10.0.201.10": true, "10.0.202.10": true}
	type pair struct{ src, dst, class string }
	got := map[pair]int64{}
	var records, nodata, skip, reject, nat int64
	files := eachRecord(t, dir, func(key string, f []string) {
		records++
		switch f[13] {
		case "NODATA":
			nodata++
			return
		case "SKIPDATA":
			skip++
			return
		}
		if f[12] == "REJECT" {
			reject++
			return
		}
		start, _ := strconv.ParseInt(f[10], 10, 64)
		end, _ := strconv.ParseInt(f[11], 10, 64)
		if start/60 != end/60 && end%60 != 0 {
			t.Fatalf("%s: record spans two windows: %v", key, f)
		}
		egress := f[27] == "egress"
		local, remote := f[19], f[20] // pkt-srcaddr, pkt-dstaddr
		if !egress {
			local, remote = remote, local
		}
		if natIPs[f[3]] || natIPs[f[4]] {
			nat++
			return
		}
		// The logging ENI's side is a pod (or a hostNetwork pod) on a node
		// of the ENI's zone, and the ENI-side address is the node's.
		host := f[3]
		if !egress {
			host = f[4]
		}
		if w.hostZone[host] != f[22] {
			t.Fatalf("%s: node address %s is not in zone %s: %v", key, host, f[22], f)
		}
		zoneOf := func(ip string) (string, string) {
			if z, ok := w.hostZone[ip]; ok {
				return z, "monitoring"
			}
			p := w.podAt(ip, start)
			if p == nil {
				t.Fatalf("%s: no pod holds %s at %s: %v", key, ip, time.Unix(start, 0).UTC(), f)
			}
			return w.hostZone[p.Status.HostIP], p.Metadata.Namespace
		}
		if lz, _ := zoneOf(local); lz != f[22] {
			t.Fatalf("%s: pod %s is not in the ENI's zone %s", key, local, f[22])
		}
		if !egress || !strings.HasPrefix(remote, "10.0.") {
			return
		}
		sz, sns := zoneOf(f[19])
		dz, dns := zoneOf(f[20])
		class := ClassCrossZone
		if sz == dz {
			class = ClassSameZone
		}
		b, _ := strconv.ParseInt(f[9], 10, 64)
		got[pair{sns, dns, class}] += b
	})
	if files != s.Files || records != s.Records {
		t.Fatalf("read %d objects / %d records, summary says %d / %d", files, records, s.Files, s.Records)
	}
	if nodata == 0 || skip == 0 || reject == 0 || nat == 0 {
		t.Fatalf("missing record kinds: nodata %d skipdata %d reject %d nat %d", nodata, skip, reject, nat)
	}
	// Attribution from flow logs and snapshots gives the ground truth.
	want := map[pair]int64{}
	for _, r := range s.Namespaces() {
		if r.Class == ClassSameZone || r.Class == ClassCrossZone {
			want[pair{r.SrcNamespace, r.DstNamespace, r.Class}] += r.Bytes
		}
	}
	if len(want) < 40 {
		t.Fatalf("only %d namespace pairs in the ground truth", len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%v: flow logs give %d bytes, ground truth %d", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%v: %d bytes not in the ground truth", k, v)
		}
	}

	// IP reuse: addresses held by several pods, of different workloads.
	owners := map[string]map[string]bool{}
	for _, snap := range w.running {
		for ip, p := range snap {
			if owners[ip] == nil {
				owners[ip] = map[string]bool{}
			}
			owners[ip][p.Metadata.UID] = true
		}
	}
	reused := 0
	for _, u := range owners {
		reused += len(u) - 1
	}
	if s.ReusedIPs < 100 || s.ReusedIPsOtherWorkload < 50 || reused < 100 {
		t.Fatalf("too little IP reuse: summary %d (%d across workloads), snapshots %d", s.ReusedIPs, s.ReusedIPsOtherWorkload, reused)
	}
	if s.Pods < 1500 {
		t.Fatalf("only %d pods over two days", s.Pods)
	}

	// Locality load balancing cuts checkout's cross-zone share on day 2.
	l := s.Locality
	if c := l.CallerCrossZoneShare; c[0] < 0.5 || c[0] > 0.8 || c[1] > 0.2 {
		t.Fatalf("caller cross-zone shares %v, want about 2/3 then below 0.2", c)
	}
	if c := l.SourceCrossZoneShare; c[1] >= c[0] {
		t.Fatalf("source cross-zone shares %v do not drop", c)
	}
	t.Logf("%d records, %d pods, %d reused IPs (%d across workloads), locality %v / %v",
		s.Records, s.Pods, s.ReusedIPs, s.ReusedIPsOtherWorkload, l.CallerCrossZoneShare, l.SourceCrossZoneShare)
}

func TestNetworkConfig(t *testing.T) {
	b := networkYAML(newTopology(1, 60))
	for _, want := range []string{
		"traffic:\n  region: eu-west-1\n  vpc_cidrs: [10.0.0.0/16]\n",
		"- {cidr: 10.0.0.0/19, zone: eu-west-1a, zone_id: euw1-az1, region: eu-west-1}",
		"- {cidr: 10.0.64.0/19, zone: eu-west-1c, zone_id: euw1-az3, region: eu-west-1}",
		"ip: 10.0.200.10, zone: eu-west-1a}",
		"aws_ip_ranges: [{cidr: 52.218.0.0/17, service: S3, region: eu-west-1}, {cidr: 3.120.0.0/14, service: EC2, region: eu-central-1}]",
		"retention: {flow_logs: 0, flow_rollups: 0, pods: 0}\n",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("furrow.yaml lacks %q:\n%s", want, b)
		}
	}
}

func TestWriteFlowFile(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFlowFile(&buf, 20000, 3); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != Header || len(lines) != 20001 {
		t.Fatalf("header %q, %d lines", lines[0], len(lines))
	}
}

func BenchmarkWriteFlowFile(b *testing.B) {
	for b.Loop() {
		if err := WriteFlowFile(io.Discard, 100000, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate measures the default data set (about one million
// records, two days) as `furrow demo generate` writes it.
func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(context.Background(), b.TempDir(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
