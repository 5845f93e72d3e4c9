package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

// deploySpecText is the test's project spec (no secrets: none is needed
// to deploy, and the diff never reads Secrets Manager).
func deploySpecText(tag string) string {
	return `project: shop
service: shop-web
image: registry.example.com/shop/web:` + tag + `
ports:
  - name: http
    port: 8080
replicas: 2
resources:
  requests: {cpu: 50m, memory: 64Mi}
env:
  MODE: production
cronjobs:
  - name: cleanup
    schedule: "@hourly"
    command: ["/app/web", "cleanup"]
traffic:
  topology_aware_routing: true
environments:
  prod:
    regions:
      - region: eu-west-1
        clusters: [eu-1]
`
}

// TestDeployCLI runs the deploy commands as a user does (the real binary,
// as subprocesses) against a real furrow serve with the deployer on, its
// catalog synced from an HR file, and a real Kubernetes control plane
// (kube-apiserver, controller-manager, scheduler, kwok nodes in two
// zones): a deploy followed to its end, the history naming who deployed,
// a second deploy refused while one runs, a bad spec's position, a
// rollback followed to its end, and the local diff: unchanged (exit 0),
// then a new image (exit 2).
func TestDeployCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Kubernetes control plane and furrow serve")
	}
	ctx := context.Background()
	kenv := k8senv.Start(t, k8senv.Options{Kwok: true, Controllers: true})
	for _, zone := range []string{"a", "b"} {
		_, err := kenv.AddNode(ctx, "node-"+zone, "eu-west-1"+zone)
		require.NoError(t, err)
	}

	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	const aliceToken, adminToken = "tok-alice-deploy-5Rk2", "tok-admin-deploy-8Jd1"
	tokens := write("tokens", "alice@example.com read,write "+aliceToken+"\nops admin "+adminToken+"\n")
	cfg := write("furrow.yaml", fmt.Sprintf(`http:
  listen: 127.0.0.1:0
  tokens_file: %s
deployer:
  enabled: true
  rollout_timeout: 90s
  poll_interval: 200ms
  not_ready_grace: 10s
  lock_lease: 5s
  clusters:
    - name: eu-1
      kubeconfig: %s
      region: eu-west-1
`, tokens, kenv.Kubeconfig))
	hr := write("hr.yaml", "people:\n  - {employee_id: E100, name: Alice Smith, email: alice@example.com, team: {code: T-SHOP, name: Shop}}\n")
	projects := write("projects.yaml", "projects:\n  - {id: shop, name: Shop, owner_team: T-SHOP}\n")
	v1 := write("shop.yaml", deploySpecText("1.0.0"))
	v2 := write("shop-v2.yaml", deploySpecText("2.0.0"))
	v3 := write("shop-v3.yaml", deploySpecText("3.0.0"))
	bad := write("bad.yaml", "project: shop\nservice: shop-web\nimage: x:1\nreplicas: many\nenvironments: {}\n")

	data := filepath.Join(dir, "data")
	_, addr := startServe(t, data, cfg)
	base := []string{"--data", data, "--config", cfg}
	furrow := func(env []string, args ...string) result {
		t.Helper()
		return runFurrow(t, env, append(append([]string{}, base...), args...)...)
	}
	admin := []string{"FURROW_TOKEN=" + adminToken}
	r := furrow(admin, "catalog", "sync", "--file", hr)
	require.Equal(t, 0, r.code, r.stderr)
	r = furrow(admin, "catalog", "apply", projects)
	require.Equal(t, 0, r.code, r.stderr)

	started := regexp.MustCompile(`(?m)^(\w+) (\d+) started$`)
	idOf := func(r result) string {
		t.Helper()
		m := started.FindStringSubmatch(r.stdout)
		require.NotNil(t, m, "no \"ACTION N started\" in %q", r.stdout)
		return m[2]
	}
	image := func() string {
		t.Helper()
		d, err := kenv.Client.AppsV1().Deployments("shop-prod").Get(ctx, "shop-web", metav1.GetOptions{})
		require.NoError(t, err)
		return d.Spec.Template.Spec.Containers[0].Image
	}

	// 1. A deploy, followed: its steps as "HH:MM:SS [cluster] stage:
	// message", then its outcome. --server given explicitly (the others
	// find the server holding --data).
	r = furrow(nil, "deploy", "run", v1, "--env", "prod", "--follow", "--server", "http://"+addr)
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	first := idOf(r)
	t.Logf("furrow deploy run --follow:\n%s", r.stdout)
	require.Regexp(t, `(?m)^\d\d:\d\d:\d\d \[eu-1\] rollout: rolled out$`, r.stdout)
	require.Regexp(t, `(?m)^\d\d:\d\d:\d\d start: deploy of shop to prod by Alice Smith$`, r.stdout)
	require.Regexp(t, `(?m)^deploy `+first+` succeeded in \S+$`, r.stdout)
	require.Equal(t, "registry.example.com/shop/web:1.0.0", image())
	// Every line once, in order (no line printed twice by a reconnection).
	require.Equal(t, 1, strings.Count(r.stdout, "rolled out\n"))

	// 2. The history names who deployed (the catalog's name for the
	// token's subject).
	r = furrow(nil, "deploy", "history", "shop", "--env", "prod")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^ID\s+ACTION\s+STATE\s+PROJECT\s+ENV\s+IMAGE\s+BY\s+STARTED\s+DURATION\s+CAUSE$`, r.stdout)
	require.Regexp(t, `(?m)^`+first+`\s+deploy\s+succeeded\s+shop\s+prod\s+registry.example.com/shop/web:1.0.0\s+Alice Smith\s`, r.stdout)

	// 3. Two at once: the first starts (not followed), the second is told
	// who runs, with exit 1.
	r = furrow(nil, "deploy", "run", v2, "--env", "prod")
	require.Equal(t, 0, r.code, r.stderr)
	second := idOf(r)
	r2 := furrow(nil, "deploy", "run", v2, "--env", "prod")
	require.Equal(t, 1, r2.code, "stdout: %s\nstderr: %s", r2.stdout, r2.stderr)
	require.Contains(t, r2.stderr, "deploy "+second+" by Alice Smith in progress since ")
	require.NotContains(t, r2.stdout, "started")
	// The running one, followed from its record's id to its end.
	r = furrow(nil, "deploy", "status", second, "--follow")
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Contains(t, r.stdout, "[eu-1] rollout: rolled out")
	require.Equal(t, "registry.example.com/shop/web:2.0.0", image())
	r = furrow(nil, "deploy", "status", second)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"state": "succeeded"`)
	require.Contains(t, r.stdout, `"actor": "alice@example.com"`)
	// The refused one is in the history too.
	r = furrow(nil, "deploy", "history", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"state": "refused"`)

	// 4. A bad spec: each problem at its position, exit 1, nothing started.
	r = furrow(nil, "deploy", "run", bad, "--env", "prod")
	require.Equal(t, 1, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Regexp(t, `(?m)^bad\.yaml:4:\d+: replicas: `, r.stderr)
	require.NotContains(t, r.stdout, "started")

	// 5. A rollback, followed: back to 1.0.0.
	r = furrow(nil, "deploy", "rollback", "shop", "--env", "prod", "--follow")
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	rb := idOf(r)
	require.Contains(t, r.stdout, "rollback "+rb+" started")
	require.Contains(t, r.stdout, "rolling back to deploy "+first)
	require.Regexp(t, `(?m)^rollback `+rb+` succeeded in `, r.stdout)
	require.Equal(t, "registry.example.com/shop/web:1.0.0", image())

	// An operation on a project never deployed: refused, exit 1.
	r = furrow(nil, "deploy", "restart", "nothing", "--env", "prod")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "no successful deploy")

	// 6. The local diff: what runs is the spec (exit 0), then a new image
	// (exit 2, the Deployment changed, its image in the unified diff).
	r = furrow(nil, "deploy", "diff", v1, "--env", "prod")
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Contains(t, r.stdout, "unchanged Deployment/shop-prod/shop-web")
	require.NotRegexp(t, `(?m)^(created|changed) `, r.stdout)
	r = furrow(nil, "deploy", "diff", v3, "--env", "prod")
	require.Equal(t, 2, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	t.Logf("furrow deploy diff:\n%s", r.stdout)
	require.Regexp(t, `(?m)^changed Deployment/shop-prod/shop-web$`, r.stdout)
	require.Regexp(t, `(?m)^-\s+image: registry.example.com/shop/web:1.0.0$`, r.stdout)
	require.Regexp(t, `(?m)^\+\s+image: registry.example.com/shop/web:3.0.0$`, r.stdout)
	require.Equal(t, "registry.example.com/shop/web:1.0.0", image(), "the diff changed nothing")

	// The whole history, newest first: rollback, the refused deploy, the
	// two deploys.
	r = furrow(nil, "deploy", "history", "shop", "--limit", "10")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 5, r.stdout)
	require.Regexp(t, `^`+rb+`\s+rollback\s+succeeded`, lines[1])
	require.Regexp(t, `refused\s.*LockConflict$`, lines[2])
}
