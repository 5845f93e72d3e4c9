// Package k8senv runs a real Kubernetes control plane (etcd and
// kube-apiserver, plus kwok for fake nodes and running pods, plus
// kube-controller-manager and kube-scheduler so that Deployments roll out) on
// loopback ports for tests. The binaries are built once by `make setup-k8s`
// (scripts/setup-k8s.sh) into the furrow tool cache; a missing binary fails
// the test with that instruction rather than skipping it.
//
// A test that needs its own cluster calls Start. Tests of one package that
// can share a cluster call Shared and stop it from TestMain with StopShared:
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		k8senv.StopShared()
//		os.Exit(code)
//	}
package k8senv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/furrowdev/furrow/internal/testenv/toolcache"
)

// KwokNodeAnnotation marks the nodes kwok manages (it makes them Ready and
// runs the pods bound to them).
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

// Options selects what Start runs.
type Options struct {
	// Kwok also runs kwok, which turns annotated nodes Ready and gives pods
	// bound to them (spec.nodeName set) an IP and the Running phase.
	Kwok bool
	// Controllers also runs kube-controller-manager and kube-scheduler:
	// Deployments, ReplicaSets, Jobs and CronJobs are reconciled, pods are
	// scheduled onto nodes, ResourceQuotas are enforced and every namespace
	// gets its "default" ServiceAccount. With Kwok, a Deployment rolls out to
	// Running pods on kwok nodes.
	Controllers bool
	// ReadyTimeout bounds the wait for /readyz; zero means one minute.
	ReadyTimeout time.Duration
}

// Env is a running control plane.
type Env struct {
	// Dir holds the data, keys, kubeconfig and process logs.
	Dir string
	// Kubeconfig is the path of an admin kubeconfig (context "k8senv").
	Kubeconfig string
	// RESTConfig reaches the API server as an admin (system:masters).
	RESTConfig *rest.Config
	// Client is a clientset built from RESTConfig.
	Client kubernetes.Interface

	procs     []*process
	stopOnce  sync.Once
	nodeMu    sync.Mutex
	nodeCount int
}

// BinDir is where the control-plane binaries are looked up: $FURROW_K8S_BIN,
// else <cache>/tools/k8s with <cache> = $FURROW_CACHE or
// ${XDG_CACHE_HOME:-~/.cache}/furrow, as in scripts/setup-k8s.sh.
func BinDir() string {
	if d := os.Getenv("FURROW_K8S_BIN"); d != "" {
		return d
	}
	return toolcache.Tools("k8s")
}

// Start runs a control plane in t.TempDir() and stops it when the test ends.
// It fails the test, with the tail of the process logs, when a binary is
// missing or the API server does not become ready.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	env, err := Launch(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("k8senv: %v", err)
	}
	t.Cleanup(env.Stop)
	return env
}

// Launch runs a control plane with its files in dir. The caller must call
// Stop. Start is the usual entry point in tests; Launch serves TestMain and
// Shared, which outlive a single test.
func Launch(dir string, opts Options) (*Env, error) {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = time.Minute
	}
	bins, err := findBinaries(opts)
	if err != nil {
		return nil, err
	}
	p, err := writePKI(dir)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	env := &Env{Dir: dir}
	ok := false
	defer func() {
		if !ok {
			env.Stop()
		}
	}()

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	etcd, err := startProcess(dir, "etcd", bins["etcd"],
		"--name=k8senv",
		"--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=k8senv="+peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	env.procs = append(env.procs, etcd)

	apiserver, err := startProcess(dir, "kube-apiserver", bins["kube-apiserver"],
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--tls-cert-file="+p.certFile,
		"--tls-private-key-file="+p.keyFile,
		"--client-ca-file="+p.caFile,
		"--token-auth-file="+p.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-key-file="+p.saPubFile,
		"--service-account-signing-key-file="+p.saKeyFile,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--api-audiences=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=1",
	)
	if err != nil {
		return nil, err
	}
	env.procs = append(env.procs, apiserver)

	host := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	env.RESTConfig = &rest.Config{
		Host:            host,
		BearerToken:     p.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM},
		QPS:             200,
		Burst:           400,
	}
	if err := waitReady(host, p, opts.ReadyTimeout, etcd, apiserver); err != nil {
		return nil, err
	}
	env.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(env.Kubeconfig, host, p); err != nil {
		return nil, err
	}
	env.Client, err = kubernetes.NewForConfig(env.RESTConfig)
	if err != nil {
		return nil, fmt.Errorf("build clientset: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.ReadyTimeout)
	defer cancel()
	if err := env.EnsureNamespace(ctx, metav1.NamespaceDefault); err != nil {
		return nil, err
	}

	if opts.Controllers {
		if err := env.startControllers(dir, bins, p); err != nil {
			return nil, err
		}
	}
	if opts.Kwok {
		args := []string{
			"--kubeconfig=" + env.Kubeconfig,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
			"--node-ip=127.0.0.1",
		}
		stages, _ := filepath.Glob(filepath.Join(bins["kwok-stages"], "*.yaml"))
		sort.Strings(stages)
		faults, err := writeStages(dir)
		if err != nil {
			return nil, err
		}
		for _, s := range append(stages, faults...) {
			args = append(args, "--config="+s)
		}
		kwok, err := startProcess(dir, "kwok", bins["kwok"], args...)
		if err != nil {
			return nil, err
		}
		env.procs = append(env.procs, kwok)
	}
	ok = true
	return env, nil
}

// startControllers runs kube-controller-manager and kube-scheduler against
// the admin kubeconfig. Both serve nothing (--secure-port=0) so that several
// control planes can run on one machine.
func (e *Env) startControllers(dir string, bins map[string]string, p *pki) error {
	cm, err := startProcess(dir, "kube-controller-manager", bins["kube-controller-manager"],
		"--kubeconfig="+e.Kubeconfig,
		"--authentication-kubeconfig="+e.Kubeconfig,
		"--authorization-kubeconfig="+e.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--service-account-private-key-file="+p.saKeyFile,
		"--root-ca-file="+p.caFile,
		"--controllers=*,-nodeipam",
		"--profiling=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	e.procs = append(e.procs, cm)
	sched, err := startProcess(dir, "kube-scheduler", bins["kube-scheduler"],
		"--kubeconfig="+e.Kubeconfig,
		"--authentication-kubeconfig="+e.Kubeconfig,
		"--authorization-kubeconfig="+e.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--profiling=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	e.procs = append(e.procs, sched)
	return nil
}

// Stop kills every process group (kwok, the scheduler and controller-manager,
// the API server, etcd, in that order). It is safe to call more than once.
func (e *Env) Stop() {
	e.stopOnce.Do(func() {
		for i := len(e.procs) - 1; i >= 0; i-- {
			e.procs[i].stop(5 * time.Second)
		}
	})
}

// Logs returns the last n lines of every process log, for failure messages.
func (e *Env) Logs(n int) string {
	var s string
	for _, p := range e.procs {
		s += fmt.Sprintf("--- %s (%s)\n%s\n", p.name, p.logPath, p.tail(n))
	}
	return s
}

// EnsureNamespace creates a namespace and its "default" ServiceAccount when
// missing. Without a controller-manager nobody else creates the account, and
// the ServiceAccount admission plugin rejects pods that lack it.
func (e *Env) EnsureNamespace(ctx context.Context, name string) error {
	_, err := e.Client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	_, err = e.Client.CoreV1().ServiceAccounts(name).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service account %s/default: %w", name, err)
	}
	return nil
}

// AddNode creates a kwok-managed fake node labelled with zone (and the
// matching region, the zone minus its last letter), an InternalIP of its own
// in 10.250.0.0/16 (hostNetwork pods get it as their pod IP) and a /24 pod
// CIDR of its own in 10.200.0.0/13, so kwok allocates pod IPs per node. It
// waits until kwok reports the node Ready. It requires Options.Kwok.
func (e *Env) AddNode(ctx context.Context, name, zone string) (*corev1.Node, error) {
	labels := map[string]string{
		corev1.LabelHostname:           name,
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         "amd64",
		"type":                         "kwok",
		corev1.LabelTopologyZone:       zone,
		corev1.LabelInstanceTypeStable: "m5.large",
	}
	if len(zone) > 1 {
		labels[corev1.LabelTopologyRegion] = zone[:len(zone)-1]
	}
	e.nodeMu.Lock()
	e.nodeCount++
	n := e.nodeCount
	e.nodeMu.Unlock()
	cidr := fmt.Sprintf("10.%d.%d.0/24", 200+n/250, n%250)
	nodeIP := fmt.Sprintf("10.250.%d.%d", n/250, n%250+1)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{KwokNodeAnnotation: "fake"},
		},
		Spec: corev1.NodeSpec{PodCIDR: cidr, PodCIDRs: []string{cidr}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP},
			{Type: corev1.NodeHostName, Address: name},
		}},
	}
	if _, err := e.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create node %s: %w", name, err)
	}
	var got *corev1.Node
	err := poll(ctx, 30*time.Second, func() (bool, error) {
		var err error
		got, err = e.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("node %s not Ready (is kwok running?): %w\n%s", name, err, e.Logs(20))
	}
	return got, nil
}

// poll calls cond every 100ms until it returns true, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// findBinaries locates the binaries, failing with the command that builds them.
func findBinaries(opts Options) (map[string]string, error) {
	dir := BinDir()
	names := []string{"etcd", "kube-apiserver"}
	if opts.Controllers {
		names = append(names, "kube-controller-manager", "kube-scheduler")
	}
	if opts.Kwok {
		names = append(names, "kwok", "kwok-stages")
	}
	bins := map[string]string{}
	var missing []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
			continue
		}
		bins[n] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("control-plane binaries missing: %v; run `make setup-k8s` (scripts/setup-k8s.sh) to build them, or set FURROW_K8S_BIN", missing)
	}
	return bins, nil
}

// freePorts reserves n distinct loopback ports. They are released before the
// processes bind them, so a concurrent process could take one; the readiness
// wait then fails with the bind error in the logs.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserve a loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitReady polls /readyz until it answers 200, a process exits or timeout.
func waitReady(host string, p *pki, timeout time.Duration, procs ...*process) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		for _, pr := range procs {
			if done, err := pr.exited(); done {
				return fmt.Errorf("%s: %w (%v) before the API server was ready; log tail:\n%s", pr.name, errExited, err, logs(procs, 40))
			}
		}
		req, _ := http.NewRequest(http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+p.adminToken)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("API server at %s not ready after %s (last: %s); log tail:\n%s", host, timeout, last, logs(procs, 40))
}

func logs(procs []*process, n int) string {
	e := &Env{procs: procs}
	return e.Logs(n)
}

// writeKubeconfig writes an admin kubeconfig with context "k8senv".
func writeKubeconfig(path, host string, p *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["k8senv"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: p.adminToken}
	cfg.Contexts["k8senv"] = &clientcmdapi.Context{Cluster: "k8senv", AuthInfo: "admin"}
	cfg.CurrentContext = "k8senv"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

var errNotStarted = errors.New("shared control plane failed to start")
