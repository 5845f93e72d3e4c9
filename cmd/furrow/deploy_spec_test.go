package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const specDir = "../../deployer/spec/testdata/"

func TestDeploySchema(t *testing.T) {
	r := runFurrow(t, nil, "deploy", "schema")
	require.Equal(t, 0, r.code, r.stderr)
	want, err := os.ReadFile(specDir + "schema.golden.json")
	require.NoError(t, err)
	require.Equal(t, string(want), r.stdout)
}

func TestDeployValidate(t *testing.T) {
	r := runFurrow(t, nil, "deploy", "validate", specDir+"minimal.yaml", specDir+"invalid/rules.yaml", specDir+"orders-topology-cron.yaml", specDir+"invalid/unknown-field.yaml")
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stdout, "minimal.yaml: ok")
	require.Contains(t, r.stdout, "orders-topology-cron.yaml: ok", "a bad spec does not stop the next")
	require.Contains(t, r.stderr, specDir+"invalid/rules.yaml:3:8: image: ")
	require.Contains(t, r.stderr, specDir+"invalid/rules.yaml:22:8: autoscaling.max: ")
	require.Contains(t, r.stderr, specDir+"invalid/unknown-field.yaml:7:5: ports[0].protocl: ")
	require.Contains(t, r.stderr, "2 of 4 specs have problems")

	r = runFurrow(t, nil, "deploy", "validate", specDir+"minimal.yaml")
	require.Equal(t, 0, r.code, r.stderr)

	r = runFurrow(t, nil, "deploy", "validate", filepath.Join(t.TempDir(), "absent.yaml"))
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "absent.yaml")
}

func TestDeployRender(t *testing.T) {
	r := runFurrow(t, nil, "deploy", "render", specDir+"payments-mesh.yaml", "--env", "prod", "--region", "ap-northeast-2", "--team", "team-pay")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, 2, strings.Count(r.stdout, "# target: "), "two clusters in that region")
	dec := yaml.NewDecoder(strings.NewReader(r.stdout))
	kinds := map[string]int{}
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			break
		}
		kinds[obj["kind"].(string)]++
		require.Equal(t, "team-pay", obj["metadata"].(map[string]any)["labels"].(map[string]any)["furrow.dev/team"])
	}
	require.Equal(t, 2, kinds["Deployment"])
	require.Equal(t, 2, kinds["DestinationRule"])
	require.Zero(t, kinds["Secret"], "render does not read Secrets Manager")

	dir := t.TempDir()
	r = runFurrow(t, nil, "deploy", "render", specDir+"orders-topology-cron.yaml", "--env", "prod", "-o", dir)
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(filepath.Join(dir, "prod-ap-northeast-2-prod-apne2-a.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(data), "service.kubernetes.io/topology-mode: Auto")

	r = runFurrow(t, nil, "deploy", "render", specDir+"minimal.yaml", "--env", "prod")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, `no environment "prod"`)
	r = runFurrow(t, nil, "deploy", "render", specDir+"minimal.yaml")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "--env is required")
	r = runFurrow(t, nil, "deploy", "render", specDir+"invalid/rules.yaml", "--env", "prod")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "rules.yaml:3:8: image")
}
