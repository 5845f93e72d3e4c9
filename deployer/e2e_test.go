package deployer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/deployer/events"
	"github.com/furrowdev/furrow/deployer/secrets"
	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/internal/testenv/k8senv"
	"github.com/furrowdev/furrow/internal/testenv/secretsmanager"
	fkube "github.com/furrowdev/furrow/kube"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/query/deploys"
	"github.com/furrowdev/furrow/state"
)

// directory is a catalog with one project and two people.
type directory struct{}

func (directory) Project(_ context.Context, id string) (catalog.Project, error) {
	if id == "shop" {
		return catalog.Project{ID: "shop", Name: "Shop", OwnerTeam: "T-SHOP"}, nil
	}
	return catalog.Project{}, catalog.ErrNotFound
}

func (directory) People(context.Context) ([]catalog.Person, error) {
	return []catalog.Person{
		{EmployeeID: "E100", Name: "Alice Smith", Email: "alice@example.com"},
		{EmployeeID: "E200", Name: "Bob Jones", Email: "bob@example.com"},
	}, nil
}

// shopSpec is the test's project spec: image tag, CPU request and the
// regions vary.
func shopSpec(tag, cpu string, regions ...string) []byte {
	var rs strings.Builder
	for _, r := range regions {
		cluster := map[string]string{"eu-west-1": "eu-1", "us-east-1": "us-1"}[r]
		fmt.Fprintf(&rs, "      - region: %s\n        clusters: [%s]\n", r, cluster)
	}
	return []byte(`project: shop
service: shop-web
image: registry.example.com/shop/web:` + tag + `
ports:
  - name: http
    port: 8080
replicas: 2
resources:
  requests: {cpu: "` + cpu + `", memory: 64Mi}
env:
  MODE: production
secrets:
  - name: db
    secret_id: shop/db
    key: password
    env: DB_PASSWORD
cronjobs:
  - name: cleanup
    schedule: "@hourly"
    command: ["/app/web", "cleanup"]
traffic:
  topology_aware_routing: true
environments:
  prod:
    regions:
` + rs.String())
}

// TestE2EDeploy runs the deployer against two real control planes (two
// regions, kube-controller-manager, kube-scheduler, kwok nodes), Secrets
// Manager's stand-in (AWS cannot run here: internal/testenv/secretsmanager
// speaks its JSON protocol to the real aws-sdk-go-v2 client), the
// operational store and the embedded engine for deploy_events: a deploy
// to both regions, two at once (one refused, naming the other), a rollout
// that fails with its cause, a rollback to the previous image, a region
// removed (refused without --prune, pruned with it), restart, scale and a
// CronJob run, each in the history and in deploy_events.
func TestE2EDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Kubernetes control planes")
	}
	ctx := context.Background()
	opts := k8senv.Options{Kwok: true, Controllers: true}
	eu, us := k8senv.Start(t, opts), k8senv.Start(t, opts)
	for i, env := range []*k8senv.Env{eu, us} {
		region := []string{"eu-west-1", "us-east-1"}[i]
		for _, zone := range []string{"a", "b"} {
			_, err := env.AddNode(ctx, fmt.Sprintf("node-%d-%s", i, zone), region+zone)
			require.NoError(t, err)
		}
	}
	sm := secretsmanager.New(t, secretsmanager.Options{})
	sm.CreateString(t, "shop/db", `{"password":"s3cr3t-Hunter2"}`)

	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ch := chtest.Store(t)
	_, err = migrations.New(ch, migrations.Options{}).Up(ctx)
	require.NoError(t, err)

	cfg := DefaultConfiguration()
	cfg.Enabled = true
	cfg.Clusters = []ClusterConfiguration{
		{Cluster: fkube.Cluster{Name: "eu-1", Kubeconfig: eu.Kubeconfig}, Region: "eu-west-1"},
		{Cluster: fkube.Cluster{Name: "us-1", Kubeconfig: us.Kubeconfig}, Region: "us-east-1"},
	}
	cfg.RolloutTimeout = 90 * time.Second
	cfg.PollInterval = 200 * time.Millisecond
	cfg.NotReadyGrace = 10 * time.Second
	cfg.LockLease = 5 * time.Second
	c, err := New(cfg, Dependencies{State: st, Catalog: directory{}, Secrets: secrets.NewResolver(sm.Client(t)),
		Events: events.NewWriter(ch), Registry: prometheus.NewRegistry()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Stop(context.Background()) })

	alice, bob := Actor{Subject: "alice@example.com"}, Actor{Subject: "bob@example.com"}
	wait := func(r Record) Record {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute) // only keeps a hang from hanging the run
		for {
			got, err := c.Store().Get(ctx, r.ID)
			require.NoError(t, err)
			if got.State != StateRunning {
				return got
			}
			if time.Now().After(deadline) {
				lines, _ := c.Store().Log(ctx, r.ID, 0)
				t.Fatalf("deploy %d still running: %+v", r.ID, lines)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	image := func(env *k8senv.Env) string {
		t.Helper()
		d, err := env.Client.AppsV1().Deployments("shop-prod").Get(ctx, "shop-web", metav1.GetOptions{})
		require.NoError(t, err)
		return d.Spec.Template.Spec.Containers[0].Image
	}
	deploy := func(body []byte, actor Actor, prune ...string) (Record, error) {
		return c.Deploy(ctx, DeployRequest{Spec: body, SpecFile: "shop.yaml", Environment: "prod", Actor: actor, Prune: prune})
	}

	// 1. A spec with a bad field: refused before anything is recorded,
	// with its position.
	_, err = deploy([]byte("project: shop\nservice: shop-web\nimage: x:1\nreplicas: many\nenvironments: {}\n"), alice)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	require.Contains(t, err.Error(), "shop.yaml:4:")

	// 2. The first deploy: both regions, Alice named from the catalog.
	r1, err := deploy(shopSpec("1.0.0", "50m", "eu-west-1", "us-east-1"), alice)
	require.NoError(t, err)
	r1 = wait(r1)
	require.Equal(t, StateSucceeded, r1.State, "%s: %s", r1.Cause, r1.Message)
	require.Equal(t, "Alice Smith", r1.ActorName)
	require.Equal(t, "T-SHOP", r1.Team)
	require.Len(t, r1.Targets, 2)
	require.Equal(t, "registry.example.com/shop/web:1.0.0", image(eu))
	require.Equal(t, "registry.example.com/shop/web:1.0.0", image(us))
	require.NotEmpty(t, r1.SecretVersions["db"], "the secret's version is recorded")
	secretsList, err := eu.Client.CoreV1().Secrets("shop-prod").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	found := false
	for _, s := range secretsList.Items {
		found = found || string(s.Data["DB_PASSWORD"]) == "s3cr3t-Hunter2" || strings.Contains(string(s.Data["db"]), "s3cr3t")
	}
	require.True(t, found, "the secret reached the cluster")
	lines, err := c.Store().Log(ctx, r1.ID, 0)
	require.NoError(t, err)
	joined := fmt.Sprint(lines)
	require.Contains(t, joined, "rolled out")
	require.NotContains(t, joined, "s3cr3t-Hunter2", "no secret in the stream")

	// 3. Two deploys at once: one runs, the other is told who runs. The
	// database password was rotated meanwhile.
	sm.PutString(t, "shop/db", `{"password":"n3w-Hunter3"}`)
	r2, err := deploy(shopSpec("1.1.0", "50m", "eu-west-1", "us-east-1"), alice)
	require.NoError(t, err)
	_, err = deploy(shopSpec("1.1.0", "50m", "eu-west-1", "us-east-1"), bob)
	var le *LockError
	require.ErrorAs(t, err, &le)
	require.Equal(t, r2.ID, le.HolderID)
	require.Contains(t, err.Error(), fmt.Sprintf("deploy %d by Alice Smith in progress since", r2.ID))
	r2 = wait(r2)
	require.Equal(t, StateSucceeded, r2.State, "%s: %s", r2.Cause, r2.Message)
	changes, err := c.Changes(ctx, r2.ID, 0)
	require.NoError(t, err)
	require.Equal(t, r1.ID, changes.Against)
	require.Contains(t, changes.SpecDiff, "+image: registry.example.com/shop/web:1.1.0")
	require.Len(t, changes.Secrets, 1)
	require.Equal(t, "db", changes.Secrets[0].Name)
	require.Equal(t, r1.SecretVersions["db"], changes.Secrets[0].From)
	require.NotEqual(t, changes.Secrets[0].From, changes.Secrets[0].To, "the rotation is a new version")
	require.NotContains(t, fmt.Sprintf("%+v", changes), "Hunter", "versions, never values")

	// 4. A rollout that cannot schedule: failed, with the scheduler's
	// reason.
	r3, err := deploy(shopSpec("1.2.0", "5000", "eu-west-1", "us-east-1"), bob)
	require.NoError(t, err)
	r3 = wait(r3)
	require.Equal(t, StateFailed, r3.State)
	require.Equal(t, "Unschedulable", r3.Cause, r3.Message)
	require.Contains(t, r3.Message, "Insufficient cpu")

	// 5. Rollback: after a failed deploy, to the last successful one (the
	// failed deploy left its pods pending in the clusters).
	require.Equal(t, "registry.example.com/shop/web:1.2.0", image(eu))
	rb, err := c.Rollback(ctx, RollbackRequest{Project: "shop", Environment: "prod", Actor: bob})
	require.NoError(t, err)
	rb = wait(rb)
	require.Equal(t, StateSucceeded, rb.State, "%s: %s", rb.Cause, rb.Message)
	require.Equal(t, r2.ID, rb.RollbackOf)
	require.Equal(t, "registry.example.com/shop/web:1.1.0", image(eu))
	require.Equal(t, "registry.example.com/shop/web:1.1.0", image(us))

	// 6. us-east-1 removed from the spec: refused while it runs there,
	// pruned with --prune.
	r4, err := deploy(shopSpec("1.1.0", "50m", "eu-west-1"), alice)
	require.NoError(t, err)
	r4 = wait(r4)
	require.Equal(t, StateFailed, r4.State)
	require.Equal(t, "PruneRequired", r4.Cause)
	require.Contains(t, r4.Message, "us-east-1")
	require.Contains(t, r4.Message, "Deployment/shop-prod/shop-web")
	require.Equal(t, "registry.example.com/shop/web:1.1.0", image(us), "nothing torn down")
	r5, err := deploy(shopSpec("1.1.0", "50m", "eu-west-1"), alice, "us-east-1")
	require.NoError(t, err)
	r5 = wait(r5)
	require.Equal(t, StateSucceeded, r5.State, "%s: %s", r5.Cause, r5.Message)
	_, err = us.Client.AppsV1().Deployments("shop-prod").Get(ctx, "shop-web", metav1.GetOptions{})
	require.Error(t, err, "pruned")

	// 7. Restart, scale, CronJob run: the same lock and history.
	rs, err := c.Restart(ctx, OpRequest{Project: "shop", Environment: "prod", Actor: bob})
	require.NoError(t, err)
	rs = wait(rs)
	require.Equal(t, StateSucceeded, rs.State, "%s: %s", rs.Cause, rs.Message)
	sc, err := c.Scale(ctx, OpRequest{Project: "shop", Environment: "prod", Replicas: 3, Actor: bob})
	require.NoError(t, err)
	sc = wait(sc)
	require.Equal(t, StateSucceeded, sc.State, "%s: %s", sc.Cause, sc.Message)
	d, err := eu.Client.AppsV1().Deployments("shop-prod").Get(ctx, "shop-web", metav1.GetOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 3, *d.Spec.Replicas)
	_, err = c.Trigger(ctx, OpRequest{Project: "shop", Environment: "prod", CronJob: "nope", Actor: bob})
	require.ErrorAs(t, err, &re)
	tr, err := c.Trigger(ctx, OpRequest{Project: "shop", Environment: "prod", CronJob: "cleanup", Actor: bob})
	require.NoError(t, err)
	tr = wait(tr)
	require.Contains(t, []string{StateSucceeded, StateFailed}, tr.State)
	jobs, err := eu.Client.BatchV1().Jobs("shop-prod").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, jobs.Items, 1, "the CronJob's Job was created")

	// 8. The history, by employee, and deploy_events.
	hist, err := c.Store().List(ctx, "shop", "prod", 100)
	require.NoError(t, err)
	actions := map[string]int{}
	for _, h := range hist {
		actions[h.Action+"/"+h.State]++
	}
	require.Equal(t, map[string]int{"deploy/succeeded": 3, "deploy/failed": 2, "deploy/refused": 1, "rollback/succeeded": 1,
		"restart/succeeded": 1, "scale/succeeded": 1, "cronjob_trigger/" + tr.State: 1}, actions)
	var out strings.Builder
	require.NoError(t, ch.Query(ctx, &out, "SELECT action, result, count() FROM deploy_events WHERE project = 'shop' GROUP BY ALL ORDER BY ALL", "TSV"))
	ev := out.String()
	for _, want := range []string{"deploy\tfailed\t", "deploy\tsucceeded\t", "rollback\tsucceeded\t", "restart\tsucceeded\t", "scale\tsucceeded\t", "prune\tsucceeded\t", "deploy\tcancelled\t1"} {
		require.Contains(t, ev, want)
	}
	out.Reset()
	require.NoError(t, ch.Query(ctx, &out, "SELECT DISTINCT failure_cause FROM deploy_events WHERE result = 'failed' ORDER BY 1", "TSV"))
	require.Contains(t, out.String(), "Unschedulable")

	// The operating metrics and the annotations see them.
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	res, err := deploys.New(ch).Run(ctx, deploys.Params{Metric: deploys.FailureCauses, From: from, To: to, Project: []string{"shop"}})
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(res.Rows), "Unschedulable")
	res, err = deploys.New(ch).Run(ctx, deploys.Params{Metric: deploys.ActionRatio, From: from, To: to, Project: []string{"shop"}})
	require.NoError(t, err)
	for _, a := range []string{"rollback", "restart", "scale", "cronjob_trigger"} {
		require.Contains(t, fmt.Sprint(res.Rows), a)
	}
	q, err := deploys.AnnotationsSQL(deploys.AnnotationParams{From: from, To: to, Project: []string{"shop"}})
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, ch.Query(ctx, &out, q, "TSV"))
	for _, a := range []string{"rollback", "restart", "scale"} {
		require.Contains(t, out.String(), a, "an annotation for each action")
	}

	// 9. The API: the history, a record, its stream.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	c.Routes(e.Group("/api/v1"), e.Group("/api/v1"))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/deploys/%d/stream", r1.ID), nil))
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), "event: log")
	require.Contains(t, w.Body.String(), "event: done")
	w = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/deploys", strings.NewReader(`{"spec":"project: shop\n","environment":"prod"}`))
	e.ServeHTTP(w, req)
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Contains(t, w.Body.String(), `"problems"`)

	// 10. Rollback by id, to any successful revision: 1.0.0.
	rb2, err := c.Rollback(ctx, RollbackRequest{Project: "shop", Environment: "prod", To: r1.ID, Actor: alice})
	require.NoError(t, err)
	rb2 = wait(rb2)
	require.Equal(t, StateSucceeded, rb2.State, "%s: %s", rb2.Cause, rb2.Message)
	require.Equal(t, "registry.example.com/shop/web:1.0.0", image(eu))
	_, err = c.Rollback(ctx, RollbackRequest{Project: "shop", Environment: "prod", To: r3.ID, Actor: alice})
	require.ErrorAs(t, err, &re, "a failed deploy cannot be restored")
}
