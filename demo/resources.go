package demo

import (
	"fmt"
	"time"
)

// resources are a container's requests and limits as a manifest writes
// them ("" leaves one unset).
type resources struct {
	CPU, Memory           string // requests
	CPULimit, MemoryLimit string // limits
}

// requirements is the container's resources field as the API shows it:
// {} when nothing is set.
func (r resources) requirements() resourceRequirements {
	var out resourceRequirements
	set := func(m *map[string]string, k, v string) {
		if v == "" {
			return
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
	}
	set(&out.Requests, "cpu", r.CPU)
	set(&out.Requests, "memory", r.Memory)
	set(&out.Limits, "cpu", r.CPULimit)
	set(&out.Limits, "memory", r.MemoryLimit)
	return out
}

// resourceRequirements is a container's resources in kubectl's JSON.
type resourceRequirements struct {
	Limits   map[string]string `json:"limits,omitempty"`
	Requests map[string]string `json:"requests,omitempty"`
}

// workloadResources are the main containers' requests and limits, by
// "ns/name": sized the way such services usually are (memory limits, CPU
// mostly unlimited), with a few workloads that set nothing at all, as real
// clusters have (BestEffort pods, which cost allocation can only charge
// by usage).
var workloadResources = map[string]resources{
	"istio-system/istio-ingressgateway":    {"500m", "512Mi", "2", "1Gi"},
	"istio-system/istiod":                  {"500m", "2Gi", "", ""},
	"kube-system/coredns":                  {"100m", "70Mi", "", "170Mi"},
	"kube-system/metrics-server":           {"100m", "200Mi", "", ""},
	"monitoring/prometheus":                {"1", "6Gi", "", "8Gi"},
	"monitoring/node-exporter":             {"100m", "64Mi", "250m", "128Mi"},
	"monitoring/kube-state-metrics":        {"100m", "256Mi", "", "512Mi"},
	"monitoring/grafana":                   {"250m", "512Mi", "1", "1Gi"},
	"frontend/web":                         {"500m", "512Mi", "", "1Gi"},
	"frontend/mobile-bff":                  {"500m", "512Mi", "", "768Mi"},
	"checkout/checkout-api":                {"1", "1Gi", "2", "2Gi"},
	"payments/payments-api":                {"500m", "768Mi", "500m", "768Mi"},
	"catalog/catalog-api":                  {"750m", "1Gi", "", "1536Mi"},
	"search/search-api":                    {"500m", "768Mi", "", "1Gi"},
	"search/search-engine":                 {"2", "4Gi", "4", "4Gi"},
	"cart/cart-api":                        {"250m", "384Mi", "", "512Mi"},
	"users/users-api":                      {"250m", "512Mi", "", "512Mi"},
	"orders/orders-api":                    {"500m", "768Mi", "", "1Gi"},
	"notifications/notifications-api":      {"200m", "256Mi", "", "256Mi"},
	"recommendations/recommendations-api":  {"1", "2Gi", "", "3Gi"},
	"reviews/reviews-api":                  {"200m", "256Mi", "", "384Mi"},
	"inventory/inventory-api":              {"300m", "512Mi", "", "768Mi"},
	"shipping/shipping-api":                {"200m", "256Mi", "", "256Mi"},
	"cert-manager/cert-manager":            {"10m", "32Mi", "", ""},
	"cert-manager/cert-manager-webhook":    {"10m", "32Mi", "", ""},
	"argocd/argocd-server":                 {"50m", "64Mi", "", ""},
	"argocd/argocd-application-controller": {"250m", "1Gi", "", ""},
	// Not set: batch/report-export, cert-manager/cert-manager-cainjector,
	// argocd/argocd-repo-server.
}

// istioProxy is the injected sidecar's resources (Istio's defaults).
var istioProxy = resources{"100m", "128Mi", "2", "1Gi"}

// instanceSpec is what the kubelet of an EC2 instance type reports.
type instanceSpec struct {
	vCPU int
	// memoryKi is status.capacity.memory: the instance's memory less what
	// the kernel keeps (about 3.5%).
	memoryKi int64
	// maxPods is the EKS AMI's pod limit for the type (ENIs × IPs).
	maxPods int
}

var instanceSpecs = map[string]instanceSpec{
	"m6i.2xlarge": {8, 32386340, 58},
	"m6i.4xlarge": {16, 64773228, 234},
	"c6i.2xlarge": {8, 16193420, 58},
	"r6i.2xlarge": {8, 64773228, 58},
}

// capacity returns a node's status.capacity and status.allocatable. The
// reservations are the EKS AMI's: CPU 6% of the first core, 1% of the
// second, 0.5% of the next two and 0.25% of the rest; memory 255Mi +
// 11Mi per pod the type may run, plus the 100Mi hard eviction threshold.
func (s instanceSpec) capacity() (capacity, allocatable map[string]string) {
	// In tenths of a millicore: 2.5m per core above four.
	tenths := 600
	for c := 2; c <= s.vCPU; c++ {
		switch {
		case c == 2:
			tenths += 100
		case c <= 4:
			tenths += 50
		default:
			tenths += 25
		}
	}
	reserved := (tenths + 9) / 10
	memReservedKi := int64(255+11*s.maxPods+100) * 1024
	capacity = map[string]string{
		"cpu": fmt.Sprint(s.vCPU), "memory": fmt.Sprintf("%dKi", s.memoryKi), "pods": fmt.Sprint(s.maxPods),
		"ephemeral-storage": "83873772Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
	}
	allocatable = map[string]string{
		"cpu": fmt.Sprintf("%dm", s.vCPU*1000-reserved), "memory": fmt.Sprintf("%dKi", s.memoryKi-memReservedKi), "pods": fmt.Sprint(s.maxPods),
		"ephemeral-storage": "76224326324", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
	}
	return capacity, allocatable
}

// Instance is one demo node as the EC2 bill sees it: the ground truth a
// generated bill's EC2 line items must match (spec.providerID of the node
// is aws:///<Zone>/<InstanceID>).
type Instance struct {
	Node         string `json:"node"`
	InstanceID   string `json:"instance_id"`
	InstanceType string `json:"instance_type"`
	Zone         string `json:"zone"`
	ZoneID       string `json:"zone_id"`
	// Launched is the node's creation time (before the data set).
	Launched time.Time `json:"launched"`
	// From and To bound the node's life within the data set; Hours is
	// their distance in hours (the demo's nodes outlive the data set,
	// so it is the data set's length).
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Hours int       `json:"hours"`
}

// Instances lists the nodes of the data set o describes, in the order of
// nodes.json, without generating it.
func Instances(o Options) ([]Instance, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return instances(newTopology(o.Seed, o.Nodes), o), nil
}

// nodeCreated is the creationTimestamp of the i-th node: weeks before the
// data set, an hour apart.
func nodeCreated(start int64, i int) int64 { return start - 40*86400 - int64(i)*3607 }

func instances(t *topology, o Options) []Instance {
	start, end := o.Start.Unix(), o.end().Unix()
	out := make([]Instance, 0, len(t.Nodes))
	for i, n := range t.Nodes {
		z := t.Zones[n.Zone]
		from := max(nodeCreated(start, i), start)
		out = append(out, Instance{
			Node: n.Name, InstanceID: n.InstanceID, InstanceType: n.InstanceType, Zone: z.Name, ZoneID: z.ID,
			Launched: time.Unix(nodeCreated(start, i), 0).UTC(),
			From:     time.Unix(from, 0).UTC(), To: time.Unix(end, 0).UTC(),
			Hours: int((end - from) / 3600),
		})
	}
	return out
}
