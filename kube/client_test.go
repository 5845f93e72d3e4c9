package kube

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const kubeconfig = `apiVersion: v1
kind: Config
current-context: eu
clusters:
- name: eu
  cluster: {server: "https://127.0.0.1:1"}
- name: us
  cluster: {server: "https://127.0.0.1:2"}
contexts:
- name: eu
  context: {cluster: eu, user: u}
- name: us
  context: {cluster: us, user: u}
users:
- name: u
  user: {token: not-a-real-token}
`

func TestClientNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, []byte(kubeconfig), 0o600))
	cases := []struct {
		in   Cluster
		name string
	}{
		{Cluster{Kubeconfig: path}, "eu"},                                // the current context
		{Cluster{Kubeconfig: path, Context: "us"}, "us"},                 // the context
		{Cluster{Kubeconfig: path, Context: "us", Name: "prod"}, "prod"}, // the name wins
	}
	for _, c := range cases {
		name, client, err := Client(c.in)
		require.NoError(t, err)
		require.Equal(t, c.name, name)
		require.NotNil(t, client)
	}
	_, _, err := Client(Cluster{Kubeconfig: path, Context: "nowhere"})
	require.Error(t, err)
	require.Contains(t, err.Error(), `"nowhere"`)
	require.NotContains(t, err.Error(), "not-a-real-token", "the credentials never reach an error")
}
