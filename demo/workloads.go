package demo

// kind is a pod owner kind.
type kind int

const (
	deployment kind = iota
	statefulSet
	daemonSet
	cronJob
)

// workload is one controller and how its pods behave on the network.
type workload struct {
	NS, Name string
	Kind     kind
	// Replicas is the steady replica count; Max > Replicas makes the
	// workload autoscale with the daily traffic curve.
	Replicas, Max int
	Port          uint16 // serving port (0: none)
	Mesh          bool   // has an Istio sidecar (xDS, merged metrics on 15020)
	HostNetwork   bool
	Image         string
	// Res is the main container's requests and limits (workloadResources).
	Res resources
	// Rollouts is the average number of rolling deploys per day.
	Rollouts float64
	// calls are the workload's outbound service calls.
	calls []call
	// Outbound traffic leaving the VPC, per minute weights.
	Internet, S3, Remote float64

	idx int
}

// call is an edge of the service call graph.
type call struct {
	To     string  // "ns/name" of the destination workload
	Weight float64 // share of the caller's conversations
	Req    float64 // median request bytes per call
	Resp   float64 // median response bytes per call
}

// workloads returns the demo cluster's workload catalog. The call graph is
// an ingress gateway in front of two frontends, which fan out to a dozen
// backend services.
func workloads() []*workload {
	c := func(to string, w, req, resp float64) call { return call{to, w, req, resp} }
	ws := []*workload{
		{NS: "istio-system", Name: "istio-ingressgateway", Replicas: 6, Max: 9, Port: 8080, Image: "docker.io/istio/proxyv2:1.27.3", Rollouts: 0.5, calls: []call{
			c("frontend/web", 5, 1800, 42000), c("frontend/mobile-bff", 4, 1400, 16000),
			c("checkout/checkout-api", 1.5, 2600, 5200), c("search/search-api", 1.2, 900, 24000),
			c("catalog/catalog-api", 0.8, 800, 30000),
		}},
		{NS: "istio-system", Name: "istiod", Replicas: 3, Port: 15012, Image: "docker.io/istio/pilot:1.27.3", Rollouts: 0.5},
		{NS: "kube-system", Name: "coredns", Replicas: 4, Port: 53, Image: "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.12.1-eksbuild.2"},
		{NS: "kube-system", Name: "metrics-server", Replicas: 2, Port: 10250, Image: "registry.k8s.io/metrics-server/metrics-server:v0.8.0"},
		{NS: "monitoring", Name: "prometheus", Kind: statefulSet, Replicas: 2, Port: 9090, Image: "quay.io/prometheus/prometheus:v3.7.2", Remote: 1},
		{NS: "monitoring", Name: "node-exporter", Kind: daemonSet, Port: 9100, HostNetwork: true, Image: "quay.io/prometheus/node-exporter:v1.10.2"},
		{NS: "monitoring", Name: "kube-state-metrics", Replicas: 1, Port: 8080, Image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0"},
		{NS: "monitoring", Name: "grafana", Replicas: 1, Port: 3000, Image: "docker.io/grafana/grafana:12.2.1", calls: []call{c("monitoring/prometheus", 1, 900, 60000)}},
		{NS: "frontend", Name: "web", Replicas: 12, Max: 24, Port: 8080, Mesh: true, Rollouts: 4, calls: []call{
			c("catalog/catalog-api", 4, 700, 14000), c("search/search-api", 2.5, 600, 11000),
			c("cart/cart-api", 2, 900, 3500), c("users/users-api", 2, 500, 2200),
			c("recommendations/recommendations-api", 2, 600, 9000), c("reviews/reviews-api", 1.2, 500, 7000),
			c("checkout/checkout-api", 1, 2500, 4000),
		}},
		{NS: "frontend", Name: "mobile-bff", Replicas: 9, Max: 18, Port: 8080, Mesh: true, Rollouts: 3, calls: []call{
			c("catalog/catalog-api", 3, 600, 9000), c("search/search-api", 2, 500, 8000),
			c("cart/cart-api", 1.5, 800, 2800), c("users/users-api", 2, 400, 1800),
			c("orders/orders-api", 1, 600, 5000), c("checkout/checkout-api", 1, 2200, 3600),
		}},
		{NS: "checkout", Name: "checkout-api", Replicas: 9, Port: 8080, Mesh: true, Rollouts: 3, calls: []call{
			c("payments/payments-api", 3, 3800, 2400), c("cart/cart-api", 3, 700, 5200),
			c("users/users-api", 2, 500, 2600), c("inventory/inventory-api", 3, 2600, 1800),
			c("shipping/shipping-api", 2, 2100, 3000), c("orders/orders-api", 3, 5200, 1900),
		}},
		{NS: "payments", Name: "payments-api", Replicas: 6, Port: 8080, Mesh: true, Rollouts: 2, Internet: 1.2, Remote: 0.6, calls: []call{
			c("users/users-api", 1, 400, 1500),
		}},
		{NS: "catalog", Name: "catalog-api", Replicas: 12, Max: 20, Port: 8080, Mesh: true, Rollouts: 3, S3: 2, calls: []call{
			c("inventory/inventory-api", 2, 500, 3000), c("search/search-engine", 1, 700, 16000),
		}},
		{NS: "search", Name: "search-api", Replicas: 9, Max: 15, Port: 8080, Mesh: true, Rollouts: 3, calls: []call{
			c("search/search-engine", 5, 800, 22000), c("catalog/catalog-api", 1, 500, 9000),
		}},
		{NS: "search", Name: "search-engine", Kind: statefulSet, Replicas: 6, Port: 9200, Mesh: true, Rollouts: 0.5, S3: 1},
		{NS: "cart", Name: "cart-api", Replicas: 6, Port: 8080, Mesh: true, Rollouts: 3, calls: []call{
			c("catalog/catalog-api", 1, 500, 6000), c("inventory/inventory-api", 1, 400, 1200),
		}},
		{NS: "users", Name: "users-api", Replicas: 9, Port: 8080, Mesh: true, Rollouts: 2},
		{NS: "orders", Name: "orders-api", Replicas: 6, Port: 8080, Mesh: true, Rollouts: 3, S3: 0.5, calls: []call{
			c("notifications/notifications-api", 2, 1800, 400), c("inventory/inventory-api", 1, 600, 900),
			c("payments/payments-api", 1, 900, 1200),
		}},
		{NS: "notifications", Name: "notifications-api", Replicas: 4, Port: 8080, Mesh: true, Rollouts: 2, Internet: 2},
		{NS: "recommendations", Name: "recommendations-api", Replicas: 8, Port: 8080, Mesh: true, Rollouts: 2, S3: 1, calls: []call{
			c("catalog/catalog-api", 2, 900, 18000), c("users/users-api", 1, 400, 3000),
		}},
		{NS: "reviews", Name: "reviews-api", Replicas: 4, Port: 8080, Mesh: true, Rollouts: 2, calls: []call{
			c("users/users-api", 1, 400, 2000),
		}},
		{NS: "inventory", Name: "inventory-api", Replicas: 6, Port: 8080, Mesh: true, Rollouts: 2},
		{NS: "shipping", Name: "shipping-api", Replicas: 4, Port: 8080, Mesh: true, Rollouts: 2, Internet: 1.5},
		{NS: "batch", Name: "report-export", Kind: cronJob, S3: 1.5, calls: []call{
			c("orders/orders-api", 1, 1200, 250000),
		}},
		{NS: "cert-manager", Name: "cert-manager", Replicas: 1, Port: 9402, Internet: 0.1},
		{NS: "cert-manager", Name: "cert-manager-webhook", Replicas: 1, Port: 10250},
		{NS: "cert-manager", Name: "cert-manager-cainjector", Replicas: 1},
		{NS: "argocd", Name: "argocd-server", Replicas: 2, Port: 8080, calls: []call{c("argocd/argocd-repo-server", 1, 600, 40000)}},
		{NS: "argocd", Name: "argocd-repo-server", Replicas: 2, Port: 8081, Internet: 0.6},
		{NS: "argocd", Name: "argocd-application-controller", Kind: statefulSet, Replicas: 1, Port: 8082, calls: []call{c("argocd/argocd-repo-server", 1, 900, 120000)}},
	}
	for i, w := range ws {
		w.idx = i
		w.Res = workloadResources[w.key()]
		if w.Mesh && w.Kind == deployment {
			// Service deployments: the catalog above is per zone pair;
			// production runs twice that and deploys daily or more.
			w.Replicas, w.Max, w.Rollouts = 2*w.Replicas, 2*w.Max, w.Rollouts+1
		}
		if w.Max < w.Replicas {
			w.Max = w.Replicas
		}
		if w.Image == "" {
			w.Image = Account + ".dkr.ecr." + Region + ".amazonaws.com/" + w.NS + "/" + w.Name + ":v1"
		}
	}
	return ws
}

// key is the "ns/name" reference used by call edges.
func (w *workload) key() string { return w.NS + "/" + w.Name }

// String is the owner kind as Kubernetes spells it.
func (k kind) String() string {
	return [...]string{"Deployment", "StatefulSet", "DaemonSet", "CronJob"}[k]
}
