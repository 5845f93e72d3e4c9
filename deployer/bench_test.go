package deployer

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/deployer/spec"
	"github.com/furrowdev/furrow/internal/testenv/k8senv"
	fkube "github.com/furrowdev/furrow/kube"
	"github.com/furrowdev/furrow/state"
)

// benchRepoSpec is the i-th spec of a generated repository, in the shapes
// of the samples under spec/testdata: ports (some gRPC, some metrics),
// routes, 1–5 env vars, config files, secrets, CronJobs, the mesh or
// topology-aware routing, replicas or autoscaling, and two environments
// of two regions each (four targets).
func benchRepoSpec(i int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# generated service %d\nproject: proj-%03d\nservice: svc-%03d\n", i, i/2, i)
	fmt.Fprintf(&b, "image: registry.example.com/team-%d/svc-%03d:1.%d.%d\n", i%17, i, i%9, i%4)
	fmt.Fprintf(&b, "ports:\n  - name: http\n    port: %d\n", 8000+i%100)
	if i%3 == 0 {
		b.WriteString("  - name: grpc\n    port: 9090\n    protocol: grpc\n")
	}
	if i%4 == 0 {
		b.WriteString("  - name: metrics\n    port: 9102\n")
	}
	if i%2 == 0 {
		fmt.Fprintf(&b, "routes:\n  - host: svc-%03d.example.com\n    path: /api\n    port: http\n", i)
	}
	b.WriteString("env:\n")
	for j := 0; j <= i%5; j++ {
		fmt.Fprintf(&b, "  VAR_%d: \"value-%d-%d\"\n", j, i, j)
	}
	if i%3 == 1 {
		fmt.Fprintf(&b, "config:\n  mount_path: /etc/svc-%03d\n  files:\n    app.yaml: |\n      listen: :%d\n      workers: %d\n    limits.json: '{\"max\": %d}'\n", i, 8000+i%100, 1+i%8, i*100)
	}
	if i%4 == 2 {
		fmt.Fprintf(&b, "secrets:\n  - name: db\n    secret_id: svc-%03d/db\n    key: password\n    env: DB_PASSWORD\n", i)
		if i%8 == 2 {
			fmt.Fprintf(&b, "  - name: cert\n    secret_id: svc-%03d/cert\n    file: /var/run/secrets/svc/cert.pem\n", i)
		}
	}
	fmt.Fprintf(&b, "resources:\n  requests: {cpu: %dm, memory: %dMi}\n", 50+10*(i%10), 64+32*(i%4))
	b.WriteString("probes:\n  readiness:\n    http: {path: /healthz}\n")
	if i%6 == 0 {
		fmt.Fprintf(&b, "autoscaling:\n  min: 2\n  max: %d\n  cpu_target: 70\npdb:\n  min_available: 1\n", 4+i%8)
	} else {
		fmt.Fprintf(&b, "replicas: %d\n", 2+i%3)
	}
	if i%5 == 0 {
		b.WriteString("cronjobs:\n  - name: cleanup\n    schedule: \"@hourly\"\n    command: [\"/app/svc\", \"cleanup\"]\n")
		if i%10 == 0 {
			fmt.Fprintf(&b, "  - name: report\n    schedule: \"%d 2 * * *\"\n    timezone: Asia/Seoul\n    command: [\"/app/svc\", \"report\"]\n", i%60)
		}
	}
	if i%4 == 0 {
		b.WriteString("traffic:\n  mesh: istio\n  outlier_detection:\n    consecutive_5xx_errors: 3\n    interval: 5s\n")
	} else {
		b.WriteString("traffic:\n  topology_aware_routing: true\n")
	}
	b.WriteString(`environments:
  staging:
    regions:
      - region: ap-northeast-2
        clusters: [stg-apne2]
      - region: us-east-1
        clusters: [stg-use1]
    overrides:
      env:
        VAR_0: staging
  prod:
    regions:
      - region: ap-northeast-2
        clusters: [prod-apne2-a]
      - region: us-east-1
        clusters: [prod-use1]
`)
	return []byte(b.String())
}

// BenchmarkRenderRepository is `furrow deploy render` over a repository
// of 200 services (FURROW_BENCH_RENDER_SERVICES): parse, check against
// the company rules and render every target (2 environments × 2 regions)
// of every spec, next to the cost of merely reading the same files
// (yaml.Unmarshal into map[string]any), measured in the same run.
func BenchmarkRenderRepository(b *testing.B) {
	n := benchEnvInt(b, "FURROW_BENCH_RENDER_SERVICES", 200)
	files := make([][]byte, n)
	size := 0
	for i := range files {
		files[i] = benchRepoSpec(i)
		size += len(files[i])
	}
	rules := spec.DefaultRules()
	for _, c := range []spec.KnownCluster{{Name: "stg-apne2", Region: "ap-northeast-2"}, {Name: "stg-use1", Region: "us-east-1"},
		{Name: "prod-apne2-a", Region: "ap-northeast-2"}, {Name: "prod-use1", Region: "us-east-1"}} {
		rules.Clusters = append(rules.Clusters, c)
	}
	var read, render time.Duration
	objects, targets := 0, 0
	for b.Loop() {
		start := time.Now()
		for _, f := range files {
			var m map[string]any
			if err := yaml.Unmarshal(f, &m); err != nil {
				b.Fatal(err)
			}
		}
		read += time.Since(start)

		start = time.Now()
		objects, targets = 0, 0
		for i, f := range files {
			p, err := spec.Parse(fmt.Sprintf("svc-%03d.yaml", i), f)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Validate(rules); err != nil {
				b.Fatal(err)
			}
			for _, env := range p.EnvironmentNames() {
				ts, err := p.Targets(env)
				if err != nil {
					b.Fatal(err)
				}
				for _, tg := range ts {
					objs, err := spec.Render(p, tg, spec.RenderInput{Team: "T-BENCH", ProjectID: p.Project, DeployID: int64(i + 1),
						Secrets: fakeSecrets(p, env), Rules: &rules})
					if err != nil {
						b.Fatal(err)
					}
					objects += len(objs)
					targets++
				}
			}
		}
		render += time.Since(start)
	}
	runs := float64(b.N)
	perRender, perRead := render.Seconds()/runs, read.Seconds()/runs
	b.ReportMetric(perRender*1e3, "render_ms")
	b.ReportMetric(perRender*1e6/float64(n), "render_us/service")
	b.ReportMetric(perRead*1e3, "baseline_read_ms")
	b.ReportMetric(perRender/perRead, "x_baseline")
	b.Logf("%d specs (%d KiB), %d targets, %d objects: parse+validate+render %.1f ms (%.0f µs a service), reading the same YAML into maps %.1f ms (%.1f× the reading)",
		n, size/1024, targets, objects, perRender*1e3, perRender*1e6/float64(n), perRead*1e3, perRender/perRead)
}

func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// benchDeploySpec is a small service deployed to both regions.
func benchDeploySpec(run, i int) []byte {
	return []byte(fmt.Sprintf(`project: bench-%d-%03d
service: svc-%03d
image: registry.example.com/bench/svc-%03d:1.0.%d
ports:
  - name: http
    port: %d
replicas: 3
env:
  MODE: bench
  INDEX: "%d"
config:
  files:
    app.yaml: "index: %d"
traffic:
  topology_aware_routing: true
environments:
  prod:
    regions:
      - region: eu-west-1
        clusters: [eu-1]
      - region: us-east-1
        clusters: [us-1]
`, run, i, i, i, run, 8000+i%100, i, i))
}

// benchDirectory owns every project by one team.
type benchDirectory struct{}

func (benchDirectory) Project(_ context.Context, id string) (catalog.Project, error) {
	return catalog.Project{ID: id, Name: id, OwnerTeam: "T-BENCH"}, nil
}

func (benchDirectory) People(context.Context) ([]catalog.Person, error) { return nil, nil }

// benchDeployParallel is how many deploys are in flight at once: a pool
// of workers, each starting its next deploy when the last one finished.
const benchDeployParallel = 10

// BenchmarkDeploy is the wall time of deploying FURROW_BENCH_DEPLOY_SERVICES
// services (default 50; distinct projects, so no lock is contended; 3
// replicas each) to two clusters, each a real control plane with its
// controllers and scheduler and kwok nodes in three zones, 10 deploys in
// flight at a time. It prints the total, p50/p90 of one deploy, and how
// much of the deploys' time the rollout itself took (from each deploy's
// stream: the first "apply" line to the last "rolled out" line, the two
// clusters rolling out in parallel) next to what came before (checks,
// lock, render: start to the first "render" line; the server-side apply:
// to the "apply" line) and after (the record).
func BenchmarkDeploy(b *testing.B) {
	n := benchEnvInt(b, "FURROW_BENCH_DEPLOY_SERVICES", 50)
	ctx := context.Background()
	opts := k8senv.Options{Kwok: true, Controllers: true}
	eu, us := k8senv.Start(b, opts), k8senv.Start(b, opts)
	for i, env := range []*k8senv.Env{eu, us} {
		region := []string{"eu-west-1", "us-east-1"}[i]
		for _, zone := range []string{"a", "b", "c"} {
			if _, err := env.AddNode(ctx, fmt.Sprintf("node-%d-%s", i, zone), region+zone); err != nil {
				b.Fatal(err)
			}
		}
	}
	st, err := state.Open(ctx, state.DefaultConfiguration(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	cfg := DefaultConfiguration()
	cfg.Enabled = true
	cfg.Clusters = []ClusterConfiguration{
		{Cluster: fkube.Cluster{Name: "eu-1", Kubeconfig: eu.Kubeconfig}, Region: "eu-west-1"},
		{Cluster: fkube.Cluster{Name: "us-1", Kubeconfig: us.Kubeconfig}, Region: "us-east-1"},
	}
	cfg.RolloutTimeout = 10 * time.Minute
	cfg.PollInterval = 200 * time.Millisecond
	c, err := New(cfg, Dependencies{State: st, Catalog: benchDirectory{}, Registry: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Stop(context.Background()) })

	run := 0
	for b.Loop() {
		run++
		start := time.Now()
		recs := make([]Record, n)
		errs := make([]error, n)
		next := make(chan int)
		var wg sync.WaitGroup
		for range benchDeployParallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					recs[i], errs[i] = benchDeployOne(ctx, c, benchDeploySpec(run, i))
				}
			}()
		}
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		total := time.Since(start)
		b.StopTimer()

		var durs []time.Duration
		var sumDeploy, sumBefore, sumApply, sumRollout time.Duration
		for i, r := range recs {
			if errs[i] != nil {
				b.Fatalf("deploy %d: %v", i, errs[i])
			}
			if r.State != StateSucceeded {
				lines, _ := c.Store().Log(ctx, r.ID, 0)
				b.Fatalf("deploy %d (%s): %s: %s: %s: %+v", r.ID, r.Project, r.State, r.Cause, r.Message, lines)
			}
			lines, err := c.Store().Log(ctx, r.ID, 0)
			if err != nil {
				b.Fatal(err)
			}
			st := stagesOf(lines)
			if st.applied.IsZero() || st.rolledOut.IsZero() {
				b.Fatalf("deploy %d: no apply or rolled-out line: %+v", r.ID, lines)
			}
			durs = append(durs, st.done.Sub(st.start))
			sumDeploy += st.done.Sub(st.start)
			sumBefore += st.rendered.Sub(st.start)
			sumApply += st.applied.Sub(st.rendered)
			sumRollout += st.rolledOut.Sub(st.applied)
		}
		slices.Sort(durs)
		pct := func(p float64) time.Duration { return durs[int(p*float64(len(durs)-1))] }
		share := sumRollout.Seconds() / sumDeploy.Seconds()
		b.ReportMetric(total.Seconds(), "total_s")
		b.ReportMetric(pct(0.5).Seconds(), "p50_s")
		b.ReportMetric(pct(0.9).Seconds(), "p90_s")
		b.ReportMetric(share, "rollout_share")
		b.Logf("%d services × 2 clusters × 3 replicas, %d in flight: %s in all (%.2f deploys/s); one deploy p50 %s, p90 %s, max %s",
			n, min(n, benchDeployParallel), total.Round(time.Millisecond), float64(n)/total.Seconds(),
			pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), durs[len(durs)-1].Round(time.Millisecond))
		b.Logf("of the deploys' summed %s: before the apply (history, removed regions, render) %.1f%%, server-side apply %.1f%%, rollout (apply to rolled out) %.1f%%, after (the record) %.1f%%",
			sumDeploy.Round(time.Millisecond), 100*sumBefore.Seconds()/sumDeploy.Seconds(), 100*sumApply.Seconds()/sumDeploy.Seconds(),
			100*share, 100*(1-(sumBefore+sumApply+sumRollout).Seconds()/sumDeploy.Seconds()))
		b.StartTimer()
	}
}

// benchDeployOne starts a deploy and waits for its end.
func benchDeployOne(ctx context.Context, c *Component, body []byte) (Record, error) {
	r, err := c.Deploy(ctx, DeployRequest{Spec: body, SpecFile: "bench.yaml", Environment: "prod", Actor: Actor{Subject: "bench"}})
	if err != nil {
		return r, err
	}
	deadline := time.Now().Add(15 * time.Minute) // only keeps a hang from hanging the run
	for {
		got, err := c.Store().Get(ctx, r.ID)
		if err != nil {
			return r, err
		}
		if got.State != StateRunning {
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("deploy %d still running after 15 minutes", r.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deployStages are a deploy's stream's landmarks: its start, the first
// "render" line, the first "apply" line (logged once a cluster's apply
// returned), the last "rolled out" line and the end.
type deployStages struct {
	start, rendered, applied, rolledOut, done time.Time
}

func stagesOf(lines []LogLine) deployStages {
	var s deployStages
	for _, l := range lines {
		switch {
		case l.Stage == "start":
			s.start = l.At
		case l.Stage == "render" && s.rendered.IsZero():
			s.rendered = l.At
		case l.Stage == "apply" && s.applied.IsZero():
			s.applied = l.At
		case l.Stage == "rollout" && l.Message == "rolled out":
			s.rolledOut = l.At
		case l.Stage == "done":
			s.done = l.At
		}
	}
	return s
}
