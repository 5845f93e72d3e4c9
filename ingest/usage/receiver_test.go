package usage

import (
	"fmt"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

// TestRemoteWrite sends cAdvisor series with Prometheus' own remote-write
// client, in both protocol versions, to the receiver on a real engine, and
// reads the pod_usage view back.
func TestRemoteWrite(t *testing.T) {
	s := migratedStore(t)
	type dropped map[string]int
	cases := []struct {
		name string
		// requests are sent in order; %[1]s in a label is the cluster.
		requests func(cl string) [][]ts
		// defaultCluster is the configuration's; "-" is the case's cluster.
		defaultCluster string
		want           string
		dropped        dropped // dropped_series_total by reason
		droppedSamples dropped // samples_dropped_total by reason, for reasons not of a series
		resets, starts float64
	}{{
		name: "counter increases are CPU seconds",
		requests: func(cl string) [][]ts {
			return [][]ts{{cpu(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 115}, pt{at(10, 1, 0, 0), 130})}}
		},
		want:   "shop\tweb-1\t2026-11-02 10:00:00\t30\t0\n",
		starts: 1,
	}, {
		name: "a counter reset counts from 0",
		requests: func(cl string) [][]ts {
			return [][]ts{
				{cpu(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 110})},
				// The container restarted: 5 is what it used since.
				{cpu(cl, "shop", "web-1", "app", pt{at(10, 1, 0, 0), 5}, pt{at(10, 1, 30, 0), 15})},
			}
		},
		want:   "shop\tweb-1\t2026-11-02 10:00:00\t25\t0\n",
		resets: 1, starts: 1,
	}, {
		name: "an increase across an hour boundary is split in proportion",
		requests: func(cl string) [][]ts {
			return [][]ts{
				{cpu(cl, "shop", "web-1", "app", pt{at(10, 59, 45, 0), 100}, pt{at(11, 0, 45, 0), 140})},
				// Sample exactly on the hour: all of it before.
				{cpu(cl, "shop", "web-1", "app", pt{at(12, 0, 0, 0), 140 + 3600*0.5})},
			}
		},
		want: "shop\tweb-1\t2026-11-02 10:00:00\t10\t0\n" +
			"shop\tweb-1\t2026-11-02 11:00:00\t1830\t0\n",
		starts: 1,
	}, {
		name: "containers add up; the pod cgroup and the pause container are dropped",
		requests: func(cl string) [][]ts {
			return [][]ts{{
				cpu(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 0}, pt{at(10, 0, 30, 0), 30}),
				cpu(cl, "shop", "web-1", "istio-proxy", pt{at(10, 0, 0, 200), 0}, pt{at(10, 0, 30, 200), 15}),
				cpu(cl, "shop", "web-1", "", pt{at(10, 0, 0, 0), 0}, pt{at(10, 0, 30, 0), 45}),
				cpu(cl, "shop", "web-1", "POD", pt{at(10, 0, 0, 0), 0}, pt{at(10, 0, 30, 0), 1}),
				mem(cl, "shop", "web-1", "", pt{at(10, 0, 0, 0), 160e6}),
				mem(cl, "shop", "web-1", "POD", pt{at(10, 0, 0, 0), 1e6}),
				mem(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100e6}, pt{at(10, 0, 30, 0), 110e6}),
			}, {
				// The sidecar's working set in another request (another
				// shard of the sender), stamped 300 and 250 ms later: the
				// same two scrapes of the pod.
				mem(cl, "shop", "web-1", "istio-proxy", pt{at(10, 0, 0, 300), 50e6}, pt{at(10, 0, 30, 250), 50e6}),
			}}
		},
		// (100+50 + 110+50) / 2 scrapes.
		want:    "shop\tweb-1\t2026-11-02 10:00:00\t45\t155000000\n",
		dropped: dropped{reasonPodCgroup: 2, reasonPause: 2},
		starts:  2,
	}, {
		name: "other metrics and series without namespace or pod are dropped",
		requests: func(cl string) [][]ts {
			return [][]ts{{
				cadvisor("container_memory_rss", cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 1}),
				cpu(cl, "", "web-1", "app", pt{at(10, 0, 0, 0), 1}, pt{at(10, 0, 30, 0), 2}),
				cpu(cl, "shop", "", "app", pt{at(10, 0, 0, 0), 1}),
				{labels: []string{"__name__", metricCPU, "cluster", cl, "namespace", "shop", "pod", "web-1"}, samples: []pt{{at(10, 0, 0, 0), 1}}},
			}}
		},
		want:    "",
		dropped: dropped{reasonMetric: 1, reasonMissingLabels: 2, reasonPodCgroup: 1},
	}, {
		name: "old and repeated samples are ignored",
		requests: func(cl string) [][]ts {
			return [][]ts{
				{cpu(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 1, 0, 0), 160})},
				{cpu(cl, "shop", "web-1", "app", pt{at(10, 0, 30, 0), 130}, pt{at(10, 1, 0, 0), 160}, pt{at(10, 1, 30, 0), 190})},
			}
		},
		want:           "shop\tweb-1\t2026-11-02 10:00:00\t90\t0\n",
		droppedSamples: dropped{reasonOutOfOrder: 1, reasonDuplicate: 1},
		starts:         1,
	}, {
		name: "stale markers and impossible values are ignored",
		requests: func(cl string) [][]ts {
			return [][]ts{{
				mem(cl, "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100e6}, pt{at(10, 0, 30, 0), math.Float64frombits(value.StaleNaN)}),
				mem(cl, "shop", "web-2", "app", pt{at(10, 0, 0, 0), math.Inf(1)}, pt{at(10, 0, 30, 0), -1}, pt{at(10, 1, 0, 0), 7}),
				mem(cl, "shop", "web-3", "app", pt{at(13, 0, 0, 0), 7}),
			}}
		},
		want: "shop\tweb-1\t2026-11-02 10:00:00\t0\t100000000\n" +
			"shop\tweb-2\t2026-11-02 10:00:00\t0\t7\n",
		droppedSamples: dropped{reasonStale: 1, reasonInvalid: 2, reasonFuture: 1},
	}, {
		name: "a series without the cluster label gets default_cluster",
		requests: func(string) [][]ts {
			return [][]ts{{cpu("", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 115})}}
		},
		defaultCluster: "-",
		want:           "shop\tweb-1\t2026-11-02 10:00:00\t15\t0\n",
		starts:         1,
	}, {
		name: "without default_cluster it is dropped",
		requests: func(string) [][]ts {
			return [][]ts{{cpu("", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 100}, pt{at(10, 0, 30, 0), 115})}}
		},
		want:    "",
		dropped: dropped{reasonMissingCluster: 1},
	}}
	for i, tc := range cases {
		for _, v := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/v%d", tc.name, v), func(t *testing.T) {
				cl := fmt.Sprintf("case%d-v%d", i, v)
				cfg := DefaultConfiguration()
				if tc.defaultCluster == "-" {
					cfg.DefaultCluster = cl
				}
				e := newEnv(t, s, cfg)
				for _, req := range tc.requests(cl) {
					stats, err := e.send(t, v, req)
					require.NoError(t, err)
					if v == 2 {
						n := 0
						for _, s := range req {
							n += len(s.samples)
						}
						require.Equal(t, n, stats.Samples, "v2 answers the samples it accounted for")
					}
				}
				require.Equal(t, tc.want, usageRows(t, s, cl))
				m := e.c.metrics
				for _, r := range []string{reasonMetric, reasonPodCgroup, reasonPause, reasonMissingLabels, reasonMissingCluster, reasonHistogram, reasonSeriesLimit} {
					require.Equal(t, float64(tc.dropped[r]), testutil.ToFloat64(m.seriesDropped.WithLabelValues(r)), "dropped series %s", r)
				}
				for _, r := range []string{reasonOutOfOrder, reasonDuplicate, reasonStale, reasonInvalid, reasonFuture} {
					require.Equal(t, float64(tc.droppedSamples[r]), testutil.ToFloat64(m.samplesDropped.WithLabelValues(r)), "dropped samples %s", r)
				}
				require.Equal(t, tc.resets, testutil.ToFloat64(m.counterResets), "counter resets")
				require.Equal(t, tc.starts, testutil.ToFloat64(m.counterStarts), "counter starts")
				require.Equal(t, float64(len(tc.requests(cl))), testutil.ToFloat64(m.requests.WithLabelValues(fmt.Sprint(v))))
			})
		}
	}
}
