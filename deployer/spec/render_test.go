package spec

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// testSecrets are what a resolver returns for the payments sample.
func testSecrets() map[string]ResolvedSecret {
	return map[string]ResolvedSecret{
		"db-password": {Name: "db-password", VersionID: "v-db-1", Values: map[string]string{
			WholeSecret: `{"password":"hunter2","user":"pay"}`, "password": "hunter2", "user": "pay",
		}},
		"stripe-key":   {Name: "stripe-key", VersionID: "v-stripe-7", Values: map[string]string{WholeSecret: "sk_test_123"}},
		"signing-cert": {Name: "signing-cert", VersionID: "v-cert-2", Values: map[string]string{WholeSecret: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}},
	}
}

func testInput() RenderInput {
	r := testRules()
	return RenderInput{Team: "team-pay", ProjectID: "prj-0042", DeployID: 42, Secrets: testSecrets(), Rules: &r}
}

func renderAll(t *testing.T, file string, in RenderInput) map[Target][]*unstructured.Unstructured {
	p, err := Load(file)
	require.NoError(t, err)
	out := map[Target][]*unstructured.Unstructured{}
	for _, env := range p.EnvironmentNames() {
		ts, err := p.Targets(env)
		require.NoError(t, err)
		for _, tg := range ts {
			objs, err := Render(p, tg, in)
			require.NoError(t, err, "%s %s", file, tg)
			out[tg] = objs
		}
	}
	return out
}

func TestRenderGolden(t *testing.T) {
	for _, f := range validSamples(t) {
		for tg, objs := range renderAll(t, f, testInput()) {
			t.Run(sampleName(f)+"/"+tg.Environment+"-"+tg.Cluster, func(t *testing.T) {
				y, err := ToYAML(objs)
				require.NoError(t, err)
				golden(t, filepath.Join("testdata/golden", sampleName(f), tg.Environment+"-"+tg.Cluster+".yaml"), y)
			})
		}
	}
}

// typedKinds are the Kubernetes kinds Render builds from typed objects.
var typedKinds = map[string]func() runtime.Object{
	"Namespace":               func() runtime.Object { return &corev1.Namespace{} },
	"ServiceAccount":          func() runtime.Object { return &corev1.ServiceAccount{} },
	"ConfigMap":               func() runtime.Object { return &corev1.ConfigMap{} },
	"Secret":                  func() runtime.Object { return &corev1.Secret{} },
	"Service":                 func() runtime.Object { return &corev1.Service{} },
	"Deployment":              func() runtime.Object { return &appsv1.Deployment{} },
	"HorizontalPodAutoscaler": func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"PodDisruptionBudget":     func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
	"CronJob":                 func() runtime.Object { return &batchv1.CronJob{} },
	"Ingress":                 func() runtime.Object { return &networkingv1.Ingress{} },
}

func TestRenderedObjects(t *testing.T) {
	for _, f := range validSamples(t) {
		images := map[string]bool{}
		for tg, objs := range renderAll(t, f, testInput()) {
			t.Run(sampleName(f)+"/"+tg.String(), func(t *testing.T) {
				var svcSelector labels.Selector
				var cronPods []map[string]string
				for _, o := range objs {
					id := o.GetKind() + "/" + o.GetName()
					l := o.GetLabels()
					require.Equal(t, ManagedBy, l[LabelManagedBy], id)
					require.Equal(t, "team-pay", l[LabelTeam], id)
					require.Equal(t, "prj-0042", l[LabelProject], id)
					require.Equal(t, tg.Environment, l[LabelEnvironment], id)
					require.NotEmpty(t, l[LabelName], id)
					require.Equal(t, "42", o.GetAnnotations()[AnnotationDeploy], id)
					newTyped, ok := typedKinds[o.GetKind()]
					if !ok {
						require.Equal(t, "networking.istio.io/v1", o.GetAPIVersion(), id)
						continue
					}
					typed := newTyped()
					require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, typed, true), "%s has fields its kind does not know", id)
					switch x := typed.(type) {
					case *appsv1.Deployment:
						images[x.Spec.Template.Spec.Containers[0].Image] = true
						sc := x.Spec.Template.Spec.SecurityContext
						require.True(t, *sc.RunAsNonRoot, id)
						require.False(t, *x.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation, id)
						require.False(t, x.Spec.Template.Spec.HostNetwork, id)
						for _, v := range x.Spec.Template.Spec.Volumes {
							require.Nil(t, v.HostPath, id)
						}
						require.Len(t, x.Spec.Template.Spec.TopologySpreadConstraints, 2)
						sel := labels.SelectorFromSet(x.Spec.Selector.MatchLabels)
						require.True(t, sel.Matches(labels.Set(x.Spec.Template.Labels)), "the Deployment selects its own pods")
					case *corev1.Service:
						svcSelector = labels.SelectorFromSet(x.Spec.Selector)
					case *batchv1.CronJob:
						cronPods = append(cronPods, x.Spec.JobTemplate.Spec.Template.Labels)
						images[x.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image] = true
					}
				}
				for _, l := range cronPods {
					require.NotNil(t, svcSelector)
					require.False(t, svcSelector.Matches(labels.Set(l)), "a CronJob's pods must not receive the Service's traffic")
				}
			})
		}
		require.Len(t, images, 1, "%s: one image for every environment and CronJob", f)
	}
}

func find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func get(t *testing.T, o *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	require.NoError(t, err)
	require.True(t, ok, "%s/%s has no %v", o.GetKind(), o.GetName(), path)
	return v
}

func TestRenderDefaults(t *testing.T) {
	p, err := Load("testdata/minimal.yaml")
	require.NoError(t, err)
	in := testInput()
	in.DeployID = 0
	objs, err := Render(p, Target{"dev", "ap-northeast-2", "dev-apne2"}, in)
	require.NoError(t, err)
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind())
		require.Empty(t, o.GetAnnotations()[AnnotationDeploy], "no deploy id, no annotation")
	}
	require.Equal(t, []string{"Namespace", "ServiceAccount", "Service", "Deployment", "PodDisruptionBudget"}, kinds)
	require.Equal(t, "hello-dev", objs[0].GetName())
	dep := find(objs, "Deployment")[0]
	require.EqualValues(t, 2, get(t, dep, "spec", "replicas"))
	c := get(t, dep, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{
		"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
		"limits":   map[string]any{"memory": "256Mi"},
	}, c["resources"])
	require.EqualValues(t, 1, get(t, find(objs, "PodDisruptionBudget")[0], "spec", "maxUnavailable"))
}

func TestRenderTraffic(t *testing.T) {
	mesh := renderAll(t, "testdata/payments-mesh.yaml", testInput())[Target{"prod", "us-east-1", "prod-use1"}]
	dr := find(mesh, "DestinationRule")[0]
	require.Equal(t, true, get(t, dr, "spec", "trafficPolicy", "loadBalancer", "localityLbSetting", "enabled"))
	require.EqualValues(t, 3, get(t, dr, "spec", "trafficPolicy", "outlierDetection", "consecutive5xxErrors"))
	require.Equal(t, "payments-api.payments-prod.svc.cluster.local", get(t, dr, "spec", "host"))
	require.Len(t, find(mesh, "VirtualService"), 1)
	require.Empty(t, find(mesh, "Ingress"), "on the mesh, routes are a VirtualService")
	require.Equal(t, "enabled", find(mesh, "Namespace")[0].GetLabels()["istio-injection"])
	require.Empty(t, find(mesh, "Deployment")[0].Object["spec"].(map[string]any)["replicas"], "the HPA owns the replica count")

	topo := renderAll(t, "testdata/orders-topology-cron.yaml", testInput())[Target{"prod", "ap-northeast-2", "prod-apne2-a"}]
	svc := find(topo, "Service")[0]
	require.Equal(t, "Auto", svc.GetAnnotations()[AnnotationTopologyMode])
	require.Empty(t, find(topo, "DestinationRule"))
	require.Len(t, find(topo, "Ingress"), 1)
	require.Len(t, find(topo, "CronJob"), 2)
	require.EqualValues(t, 6, get(t, find(topo, "Deployment")[0], "spec", "replicas"), "the prod override")
}

// TestConfigAndSecretsRollAtomically: a change of config or of a secret's
// version renames its object and the pods follow the new name, so pods
// see all new or all old values, never a mix.
func TestConfigAndSecretsRollAtomically(t *testing.T) {
	tg := Target{"prod", "us-east-1", "prod-use1"}
	render := func(edit func(p *Project, in *RenderInput)) (cm, sec string, dep *unstructured.Unstructured) {
		p, err := Load("testdata/payments-mesh.yaml")
		require.NoError(t, err)
		in := testInput()
		edit(p, &in)
		objs, err := Render(p, tg, in)
		require.NoError(t, err)
		return find(objs, "ConfigMap")[0].GetName(), find(objs, "Secret")[0].GetName(), find(objs, "Deployment")[0]
	}
	cm0, sec0, dep0 := render(func(*Project, *RenderInput) {})
	cmA, secA, _ := render(func(*Project, *RenderInput) {})
	require.Equal(t, cm0, cmA, "same content, same name")
	require.Equal(t, sec0, secA)

	cm1, sec1, dep1 := render(func(p *Project, _ *RenderInput) { p.Config.Files["app.yaml"] += "# changed\n" })
	require.NotEqual(t, cm0, cm1)
	require.Equal(t, sec0, sec1)
	require.Contains(t, fmt.Sprint(dep1.Object), cm1)
	require.NotContains(t, fmt.Sprint(dep1.Object), cm0)

	cm2, sec2, dep2 := render(func(_ *Project, in *RenderInput) {
		s := in.Secrets["stripe-key"]
		s.VersionID, s.Values = "v-stripe-8", map[string]string{WholeSecret: "sk_test_456"}
		in.Secrets["stripe-key"] = s
	})
	require.Equal(t, cm0, cm2)
	require.NotEqual(t, sec0, sec2)
	require.Contains(t, fmt.Sprint(dep2.Object), sec2)
	require.NotContains(t, fmt.Sprint(dep2.Object), sec0)
	require.Contains(t, fmt.Sprint(dep0.Object), sec0)
}

func TestRenderSecretsErrors(t *testing.T) {
	p, err := Load("testdata/payments-mesh.yaml")
	require.NoError(t, err)
	tg := Target{"staging", "ap-northeast-2", "stg-apne2"}

	in := testInput()
	delete(in.Secrets, "stripe-key")
	_, err = Render(p, tg, in)
	require.ErrorContains(t, err, "stripe-key")

	in = testInput()
	in.Secrets["db-password"] = ResolvedSecret{Name: "db-password", VersionID: "v2", Values: map[string]string{WholeSecret: "not json"}}
	_, err = Render(p, tg, in)
	require.ErrorContains(t, err, `key "password"`)
	require.NotContains(t, err.Error(), "not json", "secret values never appear in errors")

	in = testInput()
	in.Secrets, in.UnresolvedSecrets = nil, true
	objs, err := Render(p, tg, in)
	require.NoError(t, err)
	require.Empty(t, find(objs, "Secret"), "a preview has no secret values")
	require.Contains(t, fmt.Sprint(find(objs, "Deployment")[0].Object), "payments-api-secrets-")

	in = testInput()
	in.Team = ""
	_, err = Render(p, tg, in)
	require.ErrorContains(t, err, "catalog")

	_, err = Render(p, Target{"prod", "eu-west-1", "prod-euw1"}, testInput())
	require.ErrorContains(t, err, "not a target")
}
