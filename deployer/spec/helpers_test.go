package spec

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files and schema_comments.json")

// testRules are the company defaults with the clusters the samples use.
func testRules() Rules {
	r := DefaultRules()
	r.Clusters = []KnownCluster{
		{Name: "dev-apne2", Region: "ap-northeast-2"},
		{Name: "stg-apne2", Region: "ap-northeast-2"},
		{Name: "prod-apne2-a", Region: "ap-northeast-2"},
		{Name: "prod-apne2-b", Region: "ap-northeast-2"},
		{Name: "prod-use1", Region: "us-east-1"},
		{Name: "prod-euw1", Region: "eu-west-1"},
	}
	return r
}

// validSamples are the sample specs that must parse, validate and render.
func validSamples(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3)
	return files
}

func invalidSamples(t testing.TB) []string {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func sampleName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".yaml")
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./deployer/spec -update to create it")
	require.Equal(t, string(want), string(got), "%s differs; if the change is intended, run go test ./deployer/spec -update", path)
}
