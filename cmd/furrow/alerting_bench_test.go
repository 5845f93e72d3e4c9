package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/furrowdev/furrow/internal/testenv/pgtest"
	"github.com/furrowdev/furrow/internal/testenv/slackapi"
)

const (
	benchSlackToken = "xoxb-bench-7hQ2mZp4"
	benchAMBearer   = "am-bench-bearer-Lr8s2Vq"
	// benchWorkers is how many Alertmanager-like senders post at once.
	benchWorkers = 24
)

// BenchmarkAlertAcceptance measures alert delivery under load from a
// second process: the real furrow binary serves (SQLite operational store
// in a temporary directory, or PostgreSQL with
// FURROW_BENCH_ALERTING_PG=1; the embedded engine for the history) and
// this process sends Alertmanager webhooks of about 10 alerts across a few
// namespaces, from 24 senders at once. Groups fire, change, resolve and
// fire again, and most calls repeat what is already known, as
// Alertmanager's repeats do. FURROW_BENCH_ALERTS alerts (default 100k)
// are sent paced at the target's 2,000 alerts/s, latencies counted from
// each call's due time (a server falling behind shows), then as many again
// as fast as the senders go, next to the HTTP floor measured in the same
// run (the same senders on GET /healthz of the same server). A 202 means
// the outbox's transaction committed (synchronous=FULL: on disk). Then the
// delivery lag from acceptance to the Slack call: the server's own
// (alert_deliveries.lag_ms, read back with SQL) and the lag of each
// group's first post seen from here (the 202's arrival to the
// chat.postMessage's arrival at the local Slack API). The target
// is ≥ 2,000 alerts/s with p99 < 50 ms.
func BenchmarkAlertAcceptance(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("FURROW_BENCH_ALERTS")); err == nil && v > 0 {
		total = v
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "furrow")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("build furrow: %v", err)
	}
	sl := slackapi.New(b, benchSlackToken)
	storeName := "SQLite"
	stateCfg := fmt.Sprintf("  path: %s\n", filepath.Join(dir, "state", "state.db"))
	if os.Getenv("FURROW_BENCH_ALERTING_PG") == "1" {
		storeName = "PostgreSQL"
		stateCfg = fmt.Sprintf("  dsn: %q\n", pgtest.DSN(b))
		defer pgtest.Stop()
	}
	addr := freeAddr(b)
	cfgPath := filepath.Join(dir, "furrow.yaml")
	cfg := fmt.Sprintf(`data: %s
log:
  level: warn
http:
  listen: %s
  dev_mode: true
state:
%salerting:
  enabled: true
  slack:
    api_url: %q
    token: %q
  sources:
    alertmanager:
      bearer_token: %q
  default_channel: "#alerts"
  routes:
    - match: '{namespace=~"payments.*|checkout.*"}'
      channel: "#payments-alerts"
    - match: '{severity="critical"}'
      channel: "#incidents"
      continue: true
  mention_rules:
    - match: '{severity="warning"}'
      mention: [none]
`, filepath.Join(dir, "data"), addr, stateCfg, sl.URL(), benchSlackToken, benchAMBearer)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	srv := exec.Command(bin, "--config", cfgPath, "serve")
	srv.Env = os.Environ()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = srv.Wait(); close(exited) }()
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = srv.Process.Kill()
		}
	}()
	base := "http://" + addr
	waitReady(b, base, exited)

	// Two runs of FURROW_BENCH_ALERTS alerts each, the second continuing
	// the first's groups: paced at the target's 2,000 alerts/s, then as
	// fast as the senders go.
	gen := newAlertGen(1)
	var bodies []alertBody
	var phase [2]struct{ from, to, alerts int }
	for p := range phase {
		phase[p].from = len(bodies)
		for phase[p].alerts < total {
			a := gen.next()
			bodies = append(bodies, a)
			phase[p].alerts += a.alerts
		}
		phase[p].to = len(bodies)
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: benchWorkers}}
	firstOK := make([]time.Time, len(bodies))
	post := func(from, to int, rate float64) (loadResult, time.Duration) {
		start := time.Now()
		run := loadRun(to-from, rate, func(i int) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, base+"/api/v1/alerts/alertmanager", bytes.NewReader(bodies[from+i].body))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+benchAMBearer)
			return req, nil
		}, client, func(i int, at time.Time) { firstOK[from+i] = at })
		if run.failed > 0 {
			b.Fatalf("%d of %d webhook calls failed (first: %s)", run.failed, to-from, run.firstErr)
		}
		return run, time.Since(start)
	}

	for b.Loop() {
		n := phase[1].to - phase[1].from
		floor := loadRun(n, 0, func(i int) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, base+"/healthz", nil)
		}, client, nil)

		const target = 2000.0 // alerts/s
		p0 := phase[0]
		paced, pacedTook := post(p0.from, p0.to, target*float64(p0.to-p0.from)/float64(p0.alerts))
		fmt.Printf("alert acceptance (%s) at the target's rate: %d alerts in %d calls in %.2f s = %.0f alerts/s | p50 %.1f ms  p99 %.1f ms  max %.1f ms (from each call's due time) | target ≥ 2000 alerts/s, p99 < 50 ms\n",
			storeName, p0.alerts, p0.to-p0.from, pacedTook.Seconds(), float64(p0.alerts)/pacedTook.Seconds(), pct(paced.ms, 50), pct(paced.ms, 99), pct(paced.ms, 100))

		p1 := phase[1]
		run, took := post(p1.from, p1.to, 0)
		rate := float64(p1.alerts) / took.Seconds()
		fmt.Printf("alert acceptance (%s) flat out: %d alerts in %d calls from %d senders in %.2f s = %.0f alerts/s | p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
			storeName, p1.alerts, n, benchWorkers, took.Seconds(), rate, pct(run.ms, 50), pct(run.ms, 99), pct(run.ms, 100))
		fmt.Printf("HTTP floor (GET /healthz, same senders, same server, flat out): %d calls, %.0f calls/s | p50 %.1f ms  p99 %.1f ms\n",
			n, float64(n)/floor.took.Seconds(), pct(floor.ms, 50), pct(floor.ms, 99))
		b.ReportMetric(rate, "alerts/s")
		b.ReportMetric(pct(paced.ms, 99), "paced-p99-ms")
		b.ReportMetric(pct(run.ms, 99), "p99-ms")
		b.ReportMetric(pct(floor.ms, 99), "floor-p99-ms")
		start := time.Now().Add(-took)

		lastAccepted := start.Add(took)
		drained := waitDrained(b, base, sl, 10*time.Minute)
		calls := sl.Calls()
		// The first post of each group, seen from this process: from the
		// first 202 of a call holding the group firing to the first
		// chat.postMessage whose text names it.
		accepted := map[string]time.Time{}
		for i, p := range bodies {
			for _, h := range p.firing {
				if t, ok := accepted[h]; !ok || firstOK[i].Before(t) {
					accepted[h] = firstOK[i]
				}
			}
		}
		var firstPost []float64
		seen := map[string]bool{}
		var lastCall time.Time
		for _, c := range calls {
			if c.At.After(lastCall) {
				lastCall = c.At
			}
			if c.Method != "chat.postMessage" || c.ThreadTS != "" {
				continue
			}
			h, _, _ := strings.Cut(c.Text, " (")
			h = strings.TrimPrefix(h, "🔥 FIRING: ")
			if seen[h] {
				continue
			}
			seen[h] = true
			if t, ok := accepted[h]; ok {
				firstPost = append(firstPost, float64(c.At.Sub(t).Microseconds())/1000)
			}
		}
		time.Sleep(2 * time.Second) // the history's background writes
		lag := sqlRow(b, base, "SELECT count(), quantile(0.5)(lag_ms), quantile(0.99)(lag_ms), max(lag_ms) FROM alert_deliveries WHERE status = 'ok'")
		events := sqlRow(b, base, "SELECT count() FROM alert_events")
		fmt.Printf("delivery: %d Slack calls, the last %.1f s after the last acceptance (drained: %v) | server lag_ms over %s deliveries: p50 %s  p99 %s  max %s | first post per group (%d groups, clocks of this process): p50 %.0f ms  p99 %.0f ms | alert_events rows: %s\n",
			len(calls), lastCall.Sub(lastAccepted).Seconds(), drained, lag[0], lag[1], lag[2], lag[3], len(firstPost), pct(firstPost, 50), pct(firstPost, 99), events[0])
		if v, err := strconv.ParseFloat(lag[2], 64); err == nil {
			b.ReportMetric(v, "lag-p99-ms")
		}
	}
}

// loadResult is what loadRun measured.
type loadResult struct {
	ms       []float64
	took     time.Duration
	failed   int
	firstErr string
}

// loadRun sends n requests from benchWorkers goroutines, each taking the
// next index, and returns the latencies (request to the end of the answer)
// in ms; ok, when set, is told when each 2xx answer arrived.
//
// With rate > 0 the calls are paced: call i is due at i/rate seconds from
// the start, and its latency counts from then, so that a server falling
// behind shows in the latencies rather than slowing the senders down.
func loadRun(n int, rate float64, mk func(i int) (*http.Request, error), client *http.Client, ok func(i int, at time.Time)) loadResult {
	var next atomic.Int64
	var mu sync.Mutex
	res := loadResult{}
	var wg sync.WaitGroup
	start := time.Now()
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms []float64
			var failed int
			var firstErr string
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				req, err := mk(i)
				if err != nil {
					failed++
					firstErr = err.Error()
					continue
				}
				t := time.Now()
				if rate > 0 {
					t = start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					time.Sleep(time.Until(t))
				}
				resp, err := client.Do(req)
				if err != nil {
					failed++
					firstErr = err.Error()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				at := time.Now()
				if resp.StatusCode/100 != 2 {
					failed++
					firstErr = resp.Status + ": " + string(body)
					continue
				}
				ms = append(ms, float64(at.Sub(t).Microseconds())/1000)
				if ok != nil {
					ok(i, at)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.ms = append(res.ms, ms...)
			res.failed += failed
			if firstErr != "" && res.firstErr == "" {
				res.firstErr = firstErr
			}
		}()
	}
	wg.Wait()
	res.took = time.Since(start)
	return res
}

// waitDrained waits until the outbox has nothing pending and the Slack
// API has seen no new call for 3 s; false when it is still delivering at
// the timeout.
func waitDrained(b *testing.B, base string, sl *slackapi.Server, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	last, stable := -1, time.Now()
	for time.Now().Before(deadline) {
		n := len(sl.Calls())
		if n != last {
			last, stable = n, time.Now()
		}
		if time.Since(stable) >= 3*time.Second && metricValue(b, base, "furrow_alerting_outbox_pending") == 0 {
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	return false
}

// metricValue reads an unlabelled gauge from /metrics (-1 when absent).
func metricValue(b *testing.B, base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// sqlRow runs a one-row query through the server's SQL API and returns its
// fields.
func sqlRow(b *testing.B, base, query string) []string {
	resp, err := http.Post(base+"/api/v1/sql?format=TSV", "text/plain", strings.NewReader(query))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %s: %s", query, resp.Status, body)
	}
	return strings.Split(strings.TrimSpace(string(body)), "\t")
}

// alertBody is one webhook call: its JSON, how many alerts it holds, and
// the groups it holds firing ("namespace · alertname", as messages name
// them).
type alertBody struct {
	body   []byte
	alerts int
	firing []string
}

// alertGen makes Alertmanager notifications over 60 namespaces and 8
// alert names (480 groups of 2 to 4 pods each). A call holds 3 to 5
// groups of one alert name (Alertmanager grouping by alertname across
// namespaces), about 10 alerts. A firing group is sent again unchanged
// 90% of the time (Alertmanager's repeats), with one pod replaced 6% of
// the time, resolved 4%; a resolved group fires again half the time.
type alertGen struct {
	r      *rand.Rand
	groups map[string]*genGroup
	now    time.Time
	seq    int
}

type genGroup struct {
	firing  bool
	pods    []string
	startAt time.Time
	endAt   time.Time
}

var (
	genNamespaces = func() []string {
		var out []string
		for _, team := range []string{"payments", "checkout", "search", "catalog", "ingress-nginx", "identity", "ledger", "notifications", "media", "recommendations"} {
			for _, env := range []string{"prod", "staging", "prod-eu", "prod-us", "canary", "batch"} {
				out = append(out, team+"-"+env)
			}
		}
		return out
	}()
	genAlerts = []struct{ name, severity, summary string }{
		{"KubePodCrashLooping", "critical", "Pod is crash looping."},
		{"KubePodNotReady", "warning", "Pod has been in a non-ready state for more than 15 minutes."},
		{"KubeContainerWaiting", "warning", "Pod container waiting longer than 1 hour."},
		{"Ingress5xx", "critical", "Ingress is answering 5xx errors."},
		{"HighLatencyP99", "warning", "p99 latency above 500 ms."},
		{"CPUThrottlingHigh", "warning", "Processes experience elevated CPU throttling."},
		{"KubeDeploymentReplicasMismatch", "warning", "Deployment has not matched the expected number of replicas."},
		{"KubePersistentVolumeFillingUp", "critical", "PersistentVolume is filling up."},
	}
)

func newAlertGen(seed uint64) *alertGen {
	return &alertGen{r: rand.New(rand.NewPCG(seed, 13)), groups: map[string]*genGroup{}, now: time.Now().UTC().Add(-time.Hour)}
}

func (g *alertGen) podName(ns string) string {
	g.seq++
	return fmt.Sprintf("%s-%x-%d", strings.Split(ns, "-")[0], g.r.Uint32()&0xfffff, g.seq%97)
}

// next makes the next notification.
func (g *alertGen) next() alertBody {
	g.now = g.now.Add(50 * time.Millisecond)
	a := genAlerts[g.r.IntN(len(genAlerts))]
	type jalert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint,omitempty"`
	}
	var alerts []jalert
	var out alertBody
	used := map[string]bool{}
	for len(alerts) < 10 {
		ns := genNamespaces[g.r.IntN(len(genNamespaces))]
		if used[ns] {
			continue
		}
		used[ns] = true
		key := ns + " · " + a.name
		grp := g.groups[key]
		switch {
		case grp == nil:
			grp = &genGroup{firing: true, startAt: g.now}
			for range 2 + len(key)%3 {
				grp.pods = append(grp.pods, g.podName(ns))
			}
			g.groups[key] = grp
		case grp.firing:
			switch x := g.r.Float64(); {
			case x < 0.06:
				grp.pods[g.r.IntN(len(grp.pods))] = g.podName(ns)
			case x < 0.10:
				grp.firing, grp.endAt = false, g.now
			}
		default:
			if g.r.Float64() < 0.5 {
				grp.firing, grp.startAt = true, g.now
			}
		}
		if grp.firing {
			out.firing = append(out.firing, key)
		}
		for _, pod := range grp.pods {
			j := jalert{
				Status: "firing",
				Labels: map[string]string{
					"alertname": a.name, "namespace": ns, "pod": pod, "container": strings.Split(ns, "-")[0],
					"severity": a.severity, "cluster": "prod-eu-1", "job": "kube-state-metrics",
					"instance": "10.42.3.17:8080", "prometheus": "monitoring/k8s",
				},
				Annotations: map[string]string{
					"summary":     a.summary,
					"description": fmt.Sprintf("Pod %s/%s (%s) is in trouble.", ns, pod, a.name),
					"runbook_url": "https://runbooks.example.com/" + strings.ToLower(a.name),
				},
				StartsAt:     grp.startAt.Format(time.RFC3339Nano),
				EndsAt:       "0001-01-01T00:00:00Z",
				GeneratorURL: "http://prometheus.monitoring.svc:9090/graph?g0.expr=" + a.name,
			}
			if !grp.firing {
				j.Status, j.EndsAt = "resolved", grp.endAt.Format(time.RFC3339Nano)
			}
			alerts = append(alerts, j)
		}
	}
	status := "resolved"
	if len(out.firing) > 0 {
		status = "firing"
	}
	n := map[string]any{
		"version": "4", "groupKey": `{}:{alertname="` + a.name + `"}`, "status": status, "receiver": "slack-furrow",
		"groupLabels": map[string]string{"alertname": a.name}, "commonLabels": map[string]string{"alertname": a.name, "severity": a.severity},
		"commonAnnotations": map[string]string{"summary": a.summary}, "externalURL": "http://alertmanager.monitoring.svc:9093",
		"truncatedAlerts": 0, "alerts": alerts,
	}
	body, err := json.Marshal(n)
	if err != nil {
		panic(err)
	}
	out.body, out.alerts = body, len(alerts)
	return out
}
