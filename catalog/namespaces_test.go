package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/ingest/pods"
	"github.com/furrowdev/furrow/internal/testenv/k8senv"
	"github.com/furrowdev/furrow/state"
)

type nullSink struct{}

func (nullSink) PodIPs(context.Context, []pods.PodIP) error   { return nil }
func (nullSink) Nodes(context.Context, []pods.NodeInfo) error { return nil }

func isAlreadyExists(err error) bool { return apierrors.IsAlreadyExists(err) }

// TestNamespaceLabelClaims: furrow serve's live watchers see a namespace
// labelled with a project on a real API server (kube-apiserver, kwok); the
// catalog claims it for that project, audited; a namespace another project
// holds is not taken.
func TestNamespaceLabelClaims(t *testing.T) {
	env := k8senv.Shared(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	st, err := state.Open(ctx, state.DefaultConfiguration(), t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	c, _ := newCatalog(t, st)
	_, err = c.SyncHRData(ctx, catalog.Actor{Subject: "furrow", Source: "hr-sync"}, false, "yaml", []byte(hrV1))
	require.NoError(t, err)
	a := catalog.Actor{Subject: "e1", Source: "api"}
	_, err = c.PutProject(ctx, a, catalog.Project{ID: "checkout", Name: "Checkout", OwnerTeam: "PAY"}, 0)
	require.NoError(t, err)
	_, err = c.PutProject(ctx, a, catalog.Project{ID: "search", Name: "Search", OwnerTeam: "SRCH",
		Namespaces: []catalog.Namespace{{Cluster: "kwok", Namespace: "ns-held"}}}, 0)
	require.NoError(t, err)

	for name, project := range map[string]string{"ns-labelled": "checkout", "ns-held": "checkout"} {
		_, err := env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: name, Labels: map[string]string{"katalog.io/project": project}}}, metav1.CreateOptions{})
		if err != nil && !isAlreadyExists(err) {
			require.NoError(t, err)
		}
	}
	cfg := pods.DefaultConfiguration()
	cfg.Clusters = []pods.ClusterConfiguration{{Name: "kwok"}}
	cfg.SyncTimeout = 30 * time.Second
	w, err := pods.New(cfg, pods.Dependencies{Sink: nullSink{}, Registry: prometheus.NewRegistry(), Namespaces: c,
		Clients: map[string]kubernetes.Interface{"kwok": env.Client}})
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	defer w.Stop(context.Background()) //nolint:errcheck

	require.Eventually(t, func() bool {
		o, ok := c.OwnerOf("kwok", "ns-labelled")
		return ok && o.Project == "checkout" && o.Team == "PAY"
	}, 30*time.Second, 100*time.Millisecond)
	o, _ := c.OwnerOf("kwok", "ns-held")
	require.Equal(t, "search", o.Project, "the catalog's own record wins over a label")
	audit, err := c.Audit(ctx, "project", "checkout", 1)
	require.NoError(t, err)
	require.Equal(t, "k8s-label", audit[0].Source)
}
