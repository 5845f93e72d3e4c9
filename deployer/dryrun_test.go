package deployer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/furrowdev/furrow/deployer/kube"
	"github.com/furrowdev/furrow/deployer/spec"
	"github.com/furrowdev/furrow/internal/testenv/k8senv"
)

// dryRunEnv is the control plane of the dry-run tests (shared by them,
// stopped by TestMain): kwok only, nothing needs to run.
func dryRunEnv(t *testing.T) (*k8senv.Env, *kube.Cluster) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Kubernetes control plane")
	}
	env := k8senv.SharedWith(t, k8senv.Options{Kwok: true})
	installIstioCRDs(t, env)
	k, err := kube.NewCluster("dry-run", env.RESTConfig)
	require.NoError(t, err)
	return env, k
}

// installIstioCRDs installs the CustomResourceDefinitions of the Istio
// kinds the deployer renders (VirtualService, DestinationRule) and waits
// until they are served. These are minimal CRDs, not Istio's full schemas:
// networking.istio.io/v1 with a schema that keeps every field
// (x-kubernetes-preserve-unknown-fields), so the API server checks the
// objects' metadata and kind but not Istio's own fields.
func installIstioCRDs(t *testing.T, env *k8senv.Env) {
	t.Helper()
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(env.RESTConfig)
	require.NoError(t, err)
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, kind := range []string{"VirtualService", "DestinationRule"} {
		plural := strings.ToLower(kind) + "s"
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + ".networking.istio.io"},
			"spec": map[string]any{
				"group": "networking.istio.io",
				"scope": "Namespaced",
				"names": map[string]any{"kind": kind, "listKind": kind + "List", "plural": plural, "singular": strings.ToLower(kind)},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type": "object", "x-kubernetes-preserve-unknown-fields": true,
					}},
				}},
			},
		}}
		_, err := crds.Apply(ctx, crd.GetName(), crd, metav1.ApplyOptions{FieldManager: "furrow-test", Force: true})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			got, err := crds.Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil {
				return false
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true
				}
			}
			return false
		}, 30*time.Second, 100*time.Millisecond, "CRD %s not established", crd.GetName())
	}
}

// fakeSecrets resolves every secret of p to a made-up value, under its key
// and as the whole secret.
func fakeSecrets(p *spec.Project, env string) map[string]spec.ResolvedSecret {
	out := map[string]spec.ResolvedSecret{}
	for _, ref := range spec.SecretRefs(p, env) {
		vals := map[string]string{spec.WholeSecret: "not-a-real-secret"}
		for _, s := range p.Secrets {
			if s.Name == ref.Name && s.Key != "" {
				vals[s.Key] = "not-a-real-" + s.Key
			}
		}
		out[ref.Name] = spec.ResolvedSecret{Name: ref.Name, VersionID: "v-" + ref.Name, Values: vals}
	}
	return out
}

// renderSample renders one target of a sample spec as a deploy would.
func renderSample(t *testing.T, p *spec.Project, tg spec.Target) []*unstructured.Unstructured {
	t.Helper()
	objs, err := spec.Render(p, tg, spec.RenderInput{Team: "T-DRY", ProjectID: p.Project, DeployID: 42, Secrets: fakeSecrets(p, tg.Environment)})
	require.NoError(t, err)
	require.NotEmpty(t, objs)
	return objs
}

// ensureNamespaces creates the namespaces of objs: a dry run of an object
// in a namespace that does not exist is refused by the namespace's
// admission before validation (and kube.Apply then lets it pass, the
// namespace being created by the real apply), so without them nothing
// would be validated.
func ensureNamespaces(t *testing.T, env *k8senv.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			require.NoError(t, env.EnsureNamespace(context.Background(), ns))
		}
	}
}

// TestDryRunSamples applies every sample spec's every environment and
// target with a server-side dry run: the real API server's validation and
// admission accept what the deployer renders (Deployment, Service,
// ConfigMap, Secret, HPA, PDB, CronJobs, Ingress, and the mesh's
// VirtualServices and DestinationRule against minimal CRDs).
func TestDryRunSamples(t *testing.T) {
	env, k := dryRunEnv(t)
	ctx := context.Background()
	files, err := filepath.Glob("spec/testdata/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3)
	kinds := map[string]bool{}
	for _, f := range files {
		p, err := spec.Load(f)
		require.NoError(t, err)
		for _, envName := range p.EnvironmentNames() {
			targets, err := p.Targets(envName)
			require.NoError(t, err)
			require.NotEmpty(t, targets)
			for _, tg := range targets {
				t.Run(filepath.Base(f)+"/"+tg.String(), func(t *testing.T) {
					objs := renderSample(t, p, tg)
					ensureNamespaces(t, env, objs)
					refs, err := k.Apply(ctx, objs, kube.ApplyOptions{DryRun: true})
					require.NoError(t, err)
					require.Len(t, refs, len(objs), "every object went through the dry run")
					for _, r := range refs {
						kinds[r.Kind] = true
					}
				})
			}
		}
	}
	for _, want := range []string{"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler",
		"PodDisruptionBudget", "CronJob", "Ingress", "VirtualService", "DestinationRule"} {
		require.True(t, kinds[want], "no sample rendered a %s", want)
	}
}

// TestDryRunRefusesBroken shows the dry run can fail: a rendered
// Deployment with an invalid container port is refused by the API
// server's validation, and a dry run persists nothing.
func TestDryRunRefusesBroken(t *testing.T) {
	env, k := dryRunEnv(t)
	ctx := context.Background()
	p, err := spec.Load("spec/testdata/orders-topology-cron.yaml")
	require.NoError(t, err)
	targets, err := p.Targets("prod")
	require.NoError(t, err)
	objs := renderSample(t, p, targets[0])
	ensureNamespaces(t, env, objs)

	var dep *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			dep = o
		}
	}
	require.NotNil(t, dep)
	containers, _, err := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	require.NoError(t, err)
	c0 := containers[0].(map[string]any)
	ports := c0["ports"].([]any)
	ports[0].(map[string]any)["containerPort"] = int64(70000)
	require.NoError(t, unstructured.SetNestedSlice(dep.Object, containers, "spec", "template", "spec", "containers"))

	_, err = k.Apply(ctx, objs, kube.ApplyOptions{DryRun: true})
	require.Error(t, err)
	require.True(t, apierrors.IsInvalid(err), "want a validation error, got %v", err)
	require.Contains(t, err.Error(), "containerPort")
	require.Contains(t, err.Error(), "Deployment")

	_, err = env.Client.AppsV1().Deployments(dep.GetNamespace()).Get(ctx, dep.GetName(), metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "a dry run stores nothing: %v", err)
}
