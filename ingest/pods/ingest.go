package pods

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/furrowdev/furrow/store"
)

// Result summarizes an IngestSnapshots run.
type Result struct {
	// Files is the number of files read; FileErrors those that could not
	// be, which the others do not depend on.
	Files      int
	FileErrors []FileError
	// Snapshots is the number of pod snapshots applied (files of the same
	// time form one), From and To the first and last snapshot times.
	Snapshots int
	From, To  time.Time
	// Pods and Nodes are the distinct pods (by UID) and nodes written;
	// PodIntervals and NodeIntervals the rows written to pod_ips and
	// k8s_nodes.
	Pods, Nodes                 int
	PodIntervals, NodeIntervals int
	// Skipped counts the pod observations (a pod in one snapshot) and
	// nodes without a record, by reason (the Skip constants).
	Skipped map[string]int
	// Ignored counts the objects of kinds that carry no attribution, by
	// kind.
	Ignored map[string]int
}

// FileError is a file that could not be read or decoded.
type FileError struct {
	Path string
	Err  error
}

func (e FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e FileError) Unwrap() error { return e.Err }

// UnmarshalJSON reads what MarshalJSON writes.
func (e *FileError) UnmarshalJSON(b []byte) error {
	var v struct{ Path, Error string }
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	e.Path, e.Err = v.Path, errors.New(v.Error)
	return nil
}

// MarshalJSON writes the error as text (an error value has no JSON form).
func (e FileError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ Path, Error string }{e.Path, e.Err.Error()})
}

// ErrNoSnapshots is returned when the paths hold no readable file.
var ErrNoSnapshots = errors.New("no readable snapshot file (expected `kubectl get pods -A -o json` or `kubectl get nodes -o json` output, .json or .yaml)")

// snapshotNameTime finds a UTC timestamp in a file name, in basic
// (20261101T0010Z, 20261101T001000Z) or extended (2026-11-01T00:10:00Z,
// 2026-11-01T00-10Z) form.
var snapshotNameTime = regexp.MustCompile(`(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?Z`)

// SnapshotTime returns the time written in a snapshot file's name, as the
// demo and `kubectl get pods -A -o json > pods-$(date -u +%Y%m%dT%H%MZ).json`
// write it.
func SnapshotTime(path string) (time.Time, bool) {
	m := snapshotNameTime.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return time.Time{}, false
	}
	n := make([]int, 6)
	for i := range n {
		if m[i+1] != "" {
			n[i], _ = strconv.Atoi(m[i+1])
		}
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, time.UTC)
	if t.Month() != time.Month(n[1]) || t.Day() != n[2] || n[3] > 23 || n[4] > 59 || n[5] > 59 {
		return time.Time{}, false // 20261399T…: not a timestamp
	}
	return t, true
}

// snapshotFile is one input file and the time it was taken.
type snapshotFile struct {
	path string
	at   time.Time
}

// IngestSnapshots reads kubectl dumps (`kubectl get pods -A -o json`, `get
// nodes -o json`, also with ReplicaSets and Jobs) from files or
// directories (their .json, .yaml and .yml files, recursively), and writes
// the pod and node intervals they show into s.
//
// Files are grouped into snapshots by time: a timestamp in the file name
// (pods-20261101T0010Z.json), else at when it is not zero, else the file's
// modification time. Snapshots are applied in time order: a pod IP interval
// opens at the pod's start time and closes at the first later snapshot that
// lacks the pod (or shows it terminated); pods of the last snapshot stay
// open. Files holding only nodes apply to every snapshot; nodes in a file
// with pods form that snapshot's node state.
//
// Running it again on the same files writes nothing new: rows are upserts
// on their key and blocks carry content tokens. A file that cannot be read
// is reported in Result.FileErrors and the others are still ingested.
func IngestSnapshots(ctx context.Context, s store.Store, cluster string, paths []string, at time.Time) (Result, error) {
	res := Result{Skipped: map[string]int{}, Ignored: map[string]int{}}
	if cluster == "" {
		return res, errors.New("pods: a cluster name is required to ingest snapshots")
	}
	files, errs := listSnapshotFiles(paths, at)
	res.FileErrors = errs
	if len(files) == 0 {
		return res, ErrNoSnapshots
	}
	groups := groupByTime(files)

	hist := NewHistory()
	pods := newPodCollector()
	var histNodes []NodeInfo
	globalNodes := map[string]NodeInfo{} // node-only files, the latest wins
	err := decodeGroups(ctx, cluster, groups, func(g decodedGroup) error {
		res.Files += g.files
		res.FileErrors = append(res.FileErrors, g.errs...)
		if g.snap == nil {
			return nil
		}
		for k, n := range g.snap.Ignored {
			res.Ignored[k] += n
		}
		if !g.hasPodList {
			// Nodes alone (or only ReplicaSets and Jobs): not a pod
			// snapshot, which would close every pod.
			_, nodes, skipped := g.snap.Records()
			for k, n := range skipped {
				res.Skipped[k] += n
			}
			for _, n := range nodes {
				globalNodes[n.Node] = n
			}
			return nil
		}
		changed, nodes, skipped := hist.Apply(g.snap)
		for k, n := range skipped {
			res.Skipped[k] += n
		}
		pods.add(changed)
		histNodes = append(histNodes, nodes...)
		if res.Snapshots == 0 {
			res.From = g.snap.Time
		}
		res.To = g.snap.Time
		res.Snapshots++
		return nil
	})
	if err != nil {
		return res, err
	}

	// Node records: those the snapshots tracked, then those of node-only
	// files for nodes the snapshots never showed.
	tracked := map[string]bool{}
	for _, n := range histNodes {
		tracked[n.Node] = true
	}
	nodes := histNodes
	for name, n := range globalNodes {
		if !tracked[name] {
			nodes = append(nodes, n)
		}
	}
	nodes = lastNodes(nodes)
	podRecs := lastPodIPs(pods.records)
	// Pods of snapshots without nodes get their zone from the node records.
	zones := make(map[string]string, len(nodes))
	for _, n := range nodes {
		if n.Zone != "" {
			zones[n.Node] = n.Zone
		}
	}
	uids := map[string]bool{}
	for i := range podRecs {
		if podRecs[i].Zone == "" {
			podRecs[i].Zone = zones[podRecs[i].Node]
		}
		uids[podRecs[i].PodUID] = true
	}

	sink, err := NewClickHouseSink(s, nil)
	if err != nil {
		return res, err
	}
	// Nodes first, as the Watcher does: a reader finds the node of a pod.
	if err := sink.Nodes(ctx, nodes); err != nil {
		return res, err
	}
	names := map[string]bool{}
	for _, n := range nodes {
		names[n.Node] = true
	}
	res.Nodes, res.NodeIntervals = len(names), len(nodes)
	if err := sink.PodIPs(ctx, podRecs); err != nil {
		return res, err
	}
	res.Pods, res.PodIntervals = len(uids), len(podRecs)
	return res, nil
}

// memPodKey identifies a pod record: one interval of one pod's IP. A later
// version of the record (its interval closed) has the same key.
type memPodKey struct {
	cluster, uid string
	ip           [16]byte
	from         int64
}

// podCollector keeps the latest version of every pod record key, so that a
// run writes each interval once, in its final state.
type podCollector struct {
	pos     map[memPodKey]int
	records []PodIP
}

func newPodCollector() *podCollector { return &podCollector{pos: map[memPodKey]int{}} }

func (c *podCollector) add(records []PodIP) {
	for _, r := range records {
		k := memPodKey{r.Cluster, r.PodUID, r.IP.As16(), r.ValidFrom.UnixNano()}
		if i, ok := c.pos[k]; ok {
			c.records[i] = r
			continue
		}
		c.pos[k] = len(c.records)
		c.records = append(c.records, r)
	}
}

// listSnapshotFiles expands paths into files with their snapshot time.
func listSnapshotFiles(paths []string, at time.Time) ([]snapshotFile, []FileError) {
	var files []snapshotFile
	var errs []FileError
	add := func(path string, info fs.FileInfo) {
		t, ok := SnapshotTime(path)
		switch {
		case ok:
		case !at.IsZero():
			t = at.UTC()
		default:
			t = info.ModTime().UTC()
		}
		files = append(files, snapshotFile{path: path, at: t})
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, FileError{Path: p, Err: err})
			continue
		}
		if !info.IsDir() {
			add(p, info)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, FileError{Path: path, Err: err})
				return nil
			}
			name := d.Name()
			if d.IsDir() {
				if strings.HasPrefix(name, ".") && path != p {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(name)) {
			case ".json", ".yaml", ".yml":
			default:
				return nil
			}
			info, err := d.Info()
			if err != nil {
				errs = append(errs, FileError{Path: path, Err: err})
				return nil
			}
			add(path, info)
			return nil
		})
		if err != nil {
			errs = append(errs, FileError{Path: p, Err: err})
		}
	}
	return files, errs
}

// groupByTime groups files of the same time, in time order.
func groupByTime(files []snapshotFile) [][]snapshotFile {
	sort.SliceStable(files, func(i, j int) bool {
		if !files[i].at.Equal(files[j].at) {
			return files[i].at.Before(files[j].at)
		}
		return files[i].path < files[j].path
	})
	var groups [][]snapshotFile
	for i, f := range files {
		if i == 0 || !f.at.Equal(files[i-1].at) {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], f)
	}
	return groups
}

// decodedGroup is the snapshot of one time; snap is nil when none of its
// files could be read.
type decodedGroup struct {
	snap  *Snapshot
	files int
	errs  []FileError
	// hasPodList is set when a file held a PodList or Pod, even an empty
	// one: an empty pod list is a snapshot in which every pod is gone.
	hasPodList bool
}

// decodeGroups decodes groups on several goroutines and hands them to fn in
// order; at most a few decoded groups wait in memory.
func decodeGroups(ctx context.Context, cluster string, groups [][]snapshotFile, fn func(decodedGroup) error) error {
	workers := max(1, runtime.GOMAXPROCS(0))
	results := make([]chan decodedGroup, len(groups))
	for i := range results {
		results[i] = make(chan decodedGroup, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, workers)
	go func() {
		for i, g := range groups {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() { results[i] <- decodeGroup(cluster, g) }()
		}
	}()
	for i := range groups {
		var g decodedGroup
		select {
		case g = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-sem
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

func decodeGroup(cluster string, files []snapshotFile) decodedGroup {
	var g decodedGroup
	snap := &Snapshot{Cluster: cluster, Time: files[0].at, Objects: Objects{Ignored: map[string]int{}}}
	for _, f := range files {
		objs, podList, err := decodeFile(f.path)
		if err != nil {
			g.errs = append(g.errs, FileError{Path: f.path, Err: err})
			continue
		}
		g.files++
		g.hasPodList = g.hasPodList || podList
		snap.Pods = append(snap.Pods, objs.Pods...)
		snap.Nodes = append(snap.Nodes, objs.Nodes...)
		snap.ReplicaSets = append(snap.ReplicaSets, objs.ReplicaSets...)
		snap.Jobs = append(snap.Jobs, objs.Jobs...)
		for k, n := range objs.Ignored {
			snap.Ignored[k] += n
		}
	}
	if g.files > 0 {
		g.snap = snap
	}
	return g
}

// decodeFile decodes one file and tells whether it is a pod dump: it holds
// pods, or no object at all (an empty list: no pod left). A file of nodes,
// ReplicaSets or Jobs only is not.
func decodeFile(path string) (*Objects, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	objs, err := DecodeObjects(f)
	if err != nil {
		return nil, false, err
	}
	podDump := len(objs.Pods) > 0 ||
		len(objs.Nodes)+len(objs.ReplicaSets)+len(objs.Jobs)+len(objs.Ignored) == 0
	return objs, podDump, nil
}
