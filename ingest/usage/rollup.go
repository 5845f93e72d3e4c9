package usage

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
)

const (
	hourMillis = int64(time.Hour / time.Millisecond)
	// maxAhead is how far ahead of furrow's clock a sample may be, as
	// Prometheus' own receiver allows: a clock a little off is tolerated,
	// a sample days ahead would block its series until then.
	maxAhead = int64(10 * time.Minute / time.Millisecond)
	// firstRoundGap is how close (ms) the working-set samples of a pod's
	// containers must be to count as one scrape of the pod while the
	// series' own scrape interval is not known yet (its first sample).
	// The kubelet stamps each container's sample with the time cAdvisor
	// read it, so the containers of one scrape differ by milliseconds to
	// a few seconds.
	firstRoundGap = int64(5 * time.Second / time.Millisecond)
	// maxDateTime is the last second a DateTime column holds (2106).
	maxDateTime = int64(math.MaxUint32)
	// maxValue bounds a sample: an exabyte of working set, or CPU seconds
	// of 30 billion years, is a broken sender, and sums of such values
	// would overflow to +Inf.
	maxValue = 1e18
)

// seriesKey identifies a series by all its labels (FNV-1a, 64 bits).
type seriesKey uint64

// podKey identifies a pod.
type podKey struct{ cluster, namespace, pod string }

// seriesState is what is kept of a series between requests: its last
// sample, and when it was last seen (furrow's clock, for eviction).
type seriesState struct {
	t    int64 // timestamp of the last sample, ms
	v    float64
	seen int64 // unix ns
}

// podState is a pod's memory round: the timestamp of the last scrape of the
// pod counted in memory_samples. The working sets of its containers come in
// separate series (possibly in separate requests, as Prometheus shards
// series); the first sample of a new scrape counts it, the samples of its
// other containers add their bytes to it. memory_bytes_sum /
// memory_samples is then the mean of the pod's total, not of one
// container.
type podState struct {
	round int64 // ms
	seen  int64 // unix ns
}

// state is the committed state: the series and pods of the requests
// stored so far, minus those evicted.
type state struct {
	series map[seriesKey]seriesState
	pods   map[podKey]podState
}

func newState() state {
	return state{series: map[seriesKey]seriesState{}, pods: map[podKey]podState{}}
}

// rowKey is a row of pod_usage_hourly.
type rowKey struct {
	pod  podKey
	hour int64 // ms, a multiple of hourMillis
}

// rollup is the columns a request adds to one row.
type rollup struct {
	cpu        float64
	memSum     float64
	memSamples uint64
}

// transition is how a request moves one series, part of the insert's
// deduplication token: the same request sent again from the same state
// gives the same token, a later request (later samples) another one even
// when its rollups happen to be equal.
type transition struct {
	key      seriesKey
	from, to int64 // from is -1 for a series' first sample
}

// batch is the effect of one request: new series and pod states, rows and
// counts. It reads the committed state and writes nothing to it; commit
// applies it once its rows are stored, so a request that failed leaves the
// state as it was and its retry computes the same rows again.
type batch struct {
	cfg   *Configuration
	st    *state
	now   int64 // unix ns
	nowMs int64

	series      map[seriesKey]seriesState
	pods        map[podKey]podState
	rows        map[rowKey]*rollup
	transitions []transition

	received, keptCPU, keptMemory int
	resets, starts, newSeries     int
	droppedSamples                map[string]int
	droppedSeries                 map[string]int
}

func newBatch(cfg *Configuration, st *state, now time.Time) *batch {
	return &batch{
		cfg: cfg, st: st, now: now.UnixNano(), nowMs: now.UnixMilli(),
		series:         map[seriesKey]seriesState{},
		pods:           map[podKey]podState{},
		rows:           map[rowKey]*rollup{},
		droppedSamples: map[string]int{},
		droppedSeries:  map[string]int{},
	}
}

// commit applies the batch to the committed state.
func (b *batch) commit() {
	for k, s := range b.series {
		b.st.series[k] = s
	}
	for k, p := range b.pods {
		b.st.pods[k] = p
	}
}

func (b *batch) lookupSeries(k seriesKey) (seriesState, bool) {
	if s, ok := b.series[k]; ok {
		return s, true
	}
	s, ok := b.st.series[k]
	return s, ok
}

func (b *batch) lookupPod(k podKey) (podState, bool) {
	if p, ok := b.pods[k]; ok {
		return p, true
	}
	p, ok := b.st.pods[k]
	return p, ok
}

func (b *batch) row(pod podKey, hour int64) *rollup {
	k := rowKey{pod, hour}
	r := b.rows[k]
	if r == nil {
		r = &rollup{}
		b.rows[k] = r
	}
	return r
}

func (b *batch) dropSeries(reason string, s *series) {
	b.droppedSeries[reason]++
	if n := len(s.samples); n > 0 {
		b.droppedSamples[reason] += n
	}
}

// add folds one series of the request into the batch.
func (b *batch) add(s *series) {
	b.received += len(s.samples)
	var name, namespace, pod, container, cluster string
	var hasContainer, hasCluster bool
	for _, l := range s.labels {
		switch l.Name {
		case labelName:
			name = l.Value
		case labelNamespace:
			namespace = l.Value
		case labelPod:
			pod = l.Value
		case labelContainer:
			container, hasContainer = l.Value, true
		case b.cfg.ClusterLabel:
			cluster, hasCluster = l.Value, true
		}
	}
	cpu := name == metricCPU
	switch {
	case !cpu && name != metricMemory:
		b.dropSeries(reasonMetric, s)
		return
	case len(s.samples) == 0 && s.histograms > 0:
		b.dropSeries(reasonHistogram, s)
		return
	case !hasContainer || container == "":
		b.dropSeries(reasonPodCgroup, s)
		return
	case container == pauseContainer:
		b.dropSeries(reasonPause, s)
		return
	case namespace == "" || pod == "":
		b.dropSeries(reasonMissingLabels, s)
		return
	}
	if !hasCluster || cluster == "" {
		cluster = b.cfg.DefaultCluster
		if cluster == "" {
			b.dropSeries(reasonMissingCluster, s)
			return
		}
	}
	if len(s.samples) == 0 {
		return
	}
	key := hashLabels(s.labels)
	prev, known := b.lookupSeries(key)
	if !known && len(b.st.series)+b.newSeries >= b.cfg.MaxSeries {
		b.dropSeries(reasonSeriesLimit, s)
		return
	}
	pk := podKey{cluster, namespace, pod}
	first := int64(-1)
	if known {
		first = prev.t
	}
	cur, have, moved := prev, known, false
	ttl := b.cfg.SeriesTTL.Milliseconds()
	for _, smp := range s.samples {
		t, v := smp.Timestamp, smp.Value
		switch {
		case value.IsStaleNaN(v):
			b.droppedSamples[reasonStale]++
			continue
		case math.IsNaN(v) || v < 0 || v > maxValue:
			b.droppedSamples[reasonInvalid]++
			continue
		case t < 0 || t/1000 > maxDateTime:
			b.droppedSamples[reasonInvalid]++
			continue
		case t > b.nowMs+maxAhead:
			b.droppedSamples[reasonFuture]++
			continue
		case have && t == cur.t:
			b.droppedSamples[reasonDuplicate]++
			continue
		case have && t < cur.t:
			b.droppedSamples[reasonOutOfOrder]++
			continue
		}
		// A gap longer than the TTL is what eviction would have made of
		// it: a new start, not an increase spread over the whole gap.
		gapOK := have && t-cur.t <= ttl
		if cpu {
			if gapOK {
				inc := v - cur.v
				if v < cur.v {
					inc = v // a reset: the counter started again from 0
					b.resets++
				}
				b.cpu(pk, cur.t, t, inc)
			} else {
				b.starts++
			}
			b.keptCPU++
		} else {
			prevT := int64(-1)
			if gapOK {
				prevT = cur.t
			}
			b.memory(pk, prevT, t, v)
			b.keptMemory++
		}
		cur, have, moved = seriesState{t: t, v: v}, true, true
	}
	if !have {
		return
	}
	if !known {
		b.newSeries++
	}
	cur.seen = b.now
	b.series[key] = cur
	if moved {
		b.transitions = append(b.transitions, transition{key: key, from: first, to: cur.t})
	}
}

// cpu spreads a counter increase over the hours of (from, to] in
// proportion to the time each holds.
func (b *batch) cpu(pod podKey, from, to int64, inc float64) {
	span := float64(to - from)
	for h := floorHour(from); h < to; h += hourMillis {
		lo, hi := max(from, h), min(to, h+hourMillis)
		b.row(pod, h).cpu += inc * float64(hi-lo) / span
	}
}

// memory adds a working-set sample of one of pod's containers taken at t;
// prevT is the series' previous sample (-1 when unknown), whose distance
// sets how close the other containers' samples of the same scrape are.
func (b *batch) memory(pod podKey, prevT, t int64, v float64) {
	gap := firstRoundGap
	if prevT >= 0 {
		gap = max((t-prevT)/2, 1)
	}
	ps, ok := b.lookupPod(pod)
	hour := floorHour(t)
	r := (*rollup)(nil)
	switch {
	case !ok || t >= ps.round+gap:
		// A new scrape of the pod.
		ps.round = t
		r = b.row(pod, hour)
		r.memSamples++
	case t > ps.round-gap:
		// Another container of the scrape counted last: its hour.
		r = b.row(pod, floorHour(ps.round))
	default:
		// A container of an earlier scrape, late (another shard): that
		// scrape was counted when its first container came.
		r = b.row(pod, hour)
	}
	r.memSum += v
	ps.seen = b.now
	b.pods[pod] = ps
}

// floorHour is the start of t's hour, in ms.
func floorHour(t int64) int64 {
	h := t - t%hourMillis
	if t < 0 && t%hourMillis != 0 {
		h -= hourMillis
	}
	return h
}

// hashLabels is FNV-1a over the label pairs, sorted by name whatever the
// order sent (the protocol asks for sorted labels; not every sender does).
func hashLabels(labels []prompb.Label) seriesKey {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	sorted := true
	for i := 1; i < len(labels); i++ {
		if labels[i].Name < labels[i-1].Name {
			sorted = false
			break
		}
	}
	if !sorted {
		labels = append([]prompb.Label(nil), labels...)
		sortLabels(labels)
	}
	h := uint64(offset)
	for _, l := range labels {
		for i := 0; i < len(l.Name); i++ {
			h = (h ^ uint64(l.Name[i])) * prime
		}
		h = (h ^ 0xff) * prime
		for i := 0; i < len(l.Value); i++ {
			h = (h ^ uint64(l.Value[i])) * prime
		}
		h = (h ^ 0xfe) * prime
	}
	return seriesKey(h)
}

// sortLabels sorts label pairs by name.
func sortLabels(ls []prompb.Label) {
	slices.SortFunc(ls, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
}
