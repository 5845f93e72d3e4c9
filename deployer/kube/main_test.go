package kube_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/furrowdev/furrow/deployer/kube"
	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	k8senv.StopShared()
	os.Exit(code)
}

var nodesOnce sync.Once

// env returns the package's control plane (controllers, scheduler, kwok)
// with two kwok nodes.
func env(t *testing.T) *k8senv.Env {
	t.Helper()
	e := k8senv.SharedWith(t, k8senv.Options{Kwok: true, Controllers: true})
	var err error
	nodesOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, n := range []string{"kube-a", "kube-b"} {
			if _, err = e.AddNode(ctx, n, "eu-west-1a"); err != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// testSettings keep the test's waits short; the grace is a property of the
// pods kwok plays, not a timing assertion.
func testSettings() kube.WatchSettings {
	s := kube.DefaultWatchSettings()
	s.PollInterval = 200 * time.Millisecond
	s.NotReadyGrace = 2 * time.Second
	s.LogLines = 5
	return s
}

func cluster(t *testing.T, e *k8senv.Env) *kube.Cluster {
	t.Helper()
	c, err := kube.NewCluster("test", e.RESTConfig, kube.WithWatchSettings(testSettings()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// objects parses YAML documents (printf-style with args).
func objects(t *testing.T, format string, args ...any) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range splitDocs(fmt.Sprintf(format, args...)) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("parse %s: %v", doc, err)
		}
		if m == nil {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

func splitDocs(s string) []string {
	var docs []string
	cur := ""
	for _, line := range splitLines(s) {
		if line == "---" {
			docs = append(docs, cur)
			cur = ""
			continue
		}
		cur += line + "\n"
	}
	return append(docs, cur)
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// deployment is a Deployment manifest of replicas pods with the given pod
// template annotations (a kwok fault) and extra pod spec YAML (indented by
// 6 spaces).
func deployment(ns, name string, replicas int, fault k8senv.PodFault, podSpec string) string {
	ann := ""
	if fault != "" {
		ann = "      annotations:\n"
		for k, v := range fault.Annotations() {
			ann += fmt.Sprintf("        %s: %q\n", k, v)
		}
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {furrow.dev/project: %[1]s}
spec:
  replicas: %[3]d
  selector:
    matchLabels: {app: %[2]s}
  template:
    metadata:
      labels: {app: %[2]s, furrow.dev/project: %[1]s}
%[4]s    spec:
      containers:
      - name: app
        image: registry.example/%[2]s:1
%[5]s`, ns, name, replicas, ann, podSpec)
}

func namespace(ns string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns)
}
