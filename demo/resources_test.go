package demo

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/ingest/pods"
)

// TestResources reads the generated nodes and pods back with furrow's own
// pod ingest: every node carries an EC2 provider id whose instance id,
// type and zone are the exported Instances, with capacity and allocatable
// of its type; pods carry requests (a few none), and no node is ever asked
// for more than it can allocate, as a scheduler would ensure.
func TestResources(t *testing.T) {
	// The standard demo's seed and days (make run), few flows.
	o := Options{FlowsPerHour: 600}
	dir, s := generate(t, o)

	inst, err := Instances(o)
	require.NoError(t, err)
	require.Equal(t, s.Instances, inst, "Instances(o) is what Generate reports")
	require.Len(t, inst, DefaultNodes)
	again, err := Instances(o)
	require.NoError(t, err)
	require.Equal(t, inst, again, "deterministic")

	idRE := regexp.MustCompile(`^i-[0-9a-f]{17}$`)
	ids := map[string]bool{}
	byNode := map[string]Instance{}
	for _, in := range inst {
		require.Regexp(t, idRE, in.InstanceID)
		require.False(t, ids[in.InstanceID], "instance id %s twice", in.InstanceID)
		ids[in.InstanceID] = true
		require.Contains(t, instanceSpecs, in.InstanceType)
		require.Equal(t, DefaultDays*24, in.Hours, "%s lives through the data set", in.Node)
		require.Equal(t, s.Start, in.From)
		require.Equal(t, s.End, in.To)
		require.True(t, in.Launched.Before(s.Start))
		byNode[in.Node] = in
	}

	snap, err := pods.ReadSnapshot(ClusterName, s.Start, filepath.Join(dir, "k8s", "nodes.json"))
	require.NoError(t, err)
	_, nodes, _ := snap.Records()
	require.Len(t, nodes, len(inst))
	alloc := map[string]pods.NodeSize{}
	for _, n := range nodes {
		in, ok := byNode[n.Node]
		require.True(t, ok, "node %s not in Instances", n.Node)
		require.Equal(t, "aws:///"+in.Zone+"/"+in.InstanceID, n.ProviderID)
		require.Equal(t, in.InstanceID, n.InstanceID)
		require.Equal(t, in.InstanceType, n.InstanceType)
		require.Equal(t, in.Zone, n.Zone)
		spec := instanceSpecs[in.InstanceType]
		require.Equal(t, uint64(spec.vCPU*1000), n.CPUCapacityMillis)
		require.Equal(t, uint64(spec.memoryKi*1024), n.MemoryCapacityBytes)
		require.Less(t, n.CPUAllocatableMillis, n.CPUCapacityMillis)
		require.Greater(t, n.CPUAllocatableMillis, n.CPUCapacityMillis*95/100)
		require.Less(t, n.MemoryAllocatableBytes, n.MemoryCapacityBytes)
		require.Greater(t, n.MemoryAllocatableBytes, n.MemoryCapacityBytes*80/100)
		alloc[n.Node] = n.NodeSize
	}
	// The EKS AMI's figures for an m6i.2xlarge (8 vCPU, 58 pods): 7910m,
	// and 255Mi + 58×11Mi + 100Mi = 993Mi less than the capacity.
	c, a := instanceSpecs["m6i.2xlarge"].capacity()
	require.Equal(t, "8", c["cpu"])
	require.Equal(t, "7910m", a["cpu"])
	require.Equal(t, "31369508Ki", a["memory"])
	_, a = instanceSpecs["m6i.4xlarge"].capacity()
	require.Equal(t, "15890m", a["cpu"])

	// Every snapshot: requests per node within its allocatable.
	var withRequests, without, withLimits, hostNet int
	for ts := s.Start; !ts.After(s.End); ts = ts.Add(10 * time.Minute) {
		f, err := os.Open(filepath.Join(dir, "k8s", "pods-"+ts.Format("20060102T1504Z")+".json"))
		require.NoError(t, err)
		objs, err := pods.DecodeObjects(f)
		f.Close()
		require.NoError(t, err)
		cpu, mem := map[string]uint64{}, map[string]uint64{}
		for i := range objs.Pods {
			p := &objs.Pods[i]
			if p.Status.Phase != "Running" {
				continue
			}
			r := pods.PodResources(p)
			cpu[p.Spec.NodeName] += r.CPURequestMillis
			mem[p.Spec.NodeName] += r.MemoryRequestBytes
			if ts.Equal(s.Start) {
				switch {
				case r.CPURequestMillis > 0 && r.MemoryRequestBytes > 0:
					withRequests++
				case r.CPURequestMillis == 0 && r.MemoryRequestBytes == 0:
					without++
					require.Equal(t, "BestEffort", string(p.Status.QOSClass), p.Name)
				default:
					t.Fatalf("pod %s requests only one resource: %+v", p.Name, r)
				}
				if r.MemoryLimitBytes > 0 {
					withLimits++
				}
				if p.Spec.HostNetwork && r.CPURequestMillis > 0 {
					hostNet++
				}
			}
		}
		for node, v := range cpu {
			require.LessOrEqual(t, v, alloc[node].CPUAllocatableMillis, "%s: %s CPU requests", ts, node)
			require.LessOrEqual(t, mem[node], alloc[node].MemoryAllocatableBytes, "%s: %s memory requests", ts, node)
		}
	}
	t.Logf("first snapshot: %d pods with requests (%d with a memory limit), %d without, %d hostNetwork", withRequests, withLimits, without, hostNet)
	require.Greater(t, withRequests, 200)
	require.Greater(t, withLimits, withRequests/2)
	require.Positive(t, without)
	require.Less(t, without, withRequests/10, "a few pods without requests")
	require.Equal(t, DefaultNodes, hostNet, "node-exporter on every node, with requests")
}
