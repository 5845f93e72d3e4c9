package demo

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// Kubernetes objects as `kubectl get -o json` prints them, reduced to the
// fields furrow reads plus enough of the rest to look real.

type objectMeta struct {
	Name              string            `json:"name"`
	GenerateName      string            `json:"generateName,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid"`
	ResourceVersion   string            `json:"resourceVersion"`
	CreationTimestamp string            `json:"creationTimestamp"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	OwnerReferences   []ownerRef        `json:"ownerReferences,omitempty"`
}

type ownerRef struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         bool   `json:"controller"`
	BlockOwnerDeletion bool   `json:"blockOwnerDeletion"`
}

type containerPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

type container struct {
	Name      string               `json:"name"`
	Image     string               `json:"image"`
	Ports     []containerPort      `json:"ports,omitempty"`
	Resources resourceRequirements `json:"resources"`
}

type podSpec struct {
	Containers         []container `json:"containers"`
	DNSPolicy          string      `json:"dnsPolicy"`
	HostNetwork        bool        `json:"hostNetwork,omitempty"`
	NodeName           string      `json:"nodeName"`
	RestartPolicy      string      `json:"restartPolicy"`
	SchedulerName      string      `json:"schedulerName"`
	ServiceAccountName string      `json:"serviceAccountName"`
}

type ipEntry struct {
	IP string `json:"ip"`
}

type podStatus struct {
	Phase             string            `json:"phase"`
	HostIP            string            `json:"hostIP"`
	HostIPs           []ipEntry         `json:"hostIPs"`
	PodIP             string            `json:"podIP"`
	PodIPs            []ipEntry         `json:"podIPs"`
	QOSClass          string            `json:"qosClass"`
	StartTime         string            `json:"startTime"`
	ContainerStatuses []containerStatus `json:"containerStatuses"`
}

type containerStatus struct {
	Name         string         `json:"name"`
	Image        string         `json:"image"`
	Ready        bool           `json:"ready"`
	RestartCount int            `json:"restartCount"`
	Started      bool           `json:"started"`
	State        containerState `json:"state"`
}

type containerState struct {
	Running *struct {
		StartedAt string `json:"startedAt"`
	} `json:"running,omitempty"`
	Terminated *terminatedState `json:"terminated,omitempty"`
}

type terminatedState struct {
	ExitCode   int    `json:"exitCode"`
	Reason     string `json:"reason"`
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
}

type podObject struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       podSpec    `json:"spec"`
	Status     podStatus  `json:"status"`
}

// rfc3339 formats unix seconds the way the API server does.
func rfc3339(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

// podJSON renders p as the API would show it in the given phase.
func podJSON(p *pod, phase string) []byte {
	w := p.W
	labels := map[string]string{"app": w.Name, "app.kubernetes.io/name": w.Name}
	var own ownerRef
	gen := ""
	restart := "Always"
	switch w.Kind {
	case deployment:
		labels["pod-template-hash"] = p.Hash
		own = ownerRef{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: p.Owner}
		gen = p.Owner + "-"
	case statefulSet:
		labels["controller-revision-hash"] = p.Hash
		labels["statefulset.kubernetes.io/pod-name"] = p.Name
		labels["apps.kubernetes.io/pod-index"] = strconv.Itoa(p.Ordinal)
		own = ownerRef{APIVersion: "apps/v1", Kind: "StatefulSet", Name: p.Owner}
		gen = p.Owner + "-"
	case daemonSet:
		labels["controller-revision-hash"] = p.Hash
		labels["pod-template-generation"] = "1"
		own = ownerRef{APIVersion: "apps/v1", Kind: "DaemonSet", Name: p.Owner}
		gen = p.Owner + "-"
	case cronJob:
		for _, k := range []string{"batch.kubernetes.io/controller-uid", "controller-uid"} {
			labels[k] = p.OwnerUID
		}
		for _, k := range []string{"batch.kubernetes.io/job-name", "job-name"} {
			labels[k] = p.Owner
		}
		own = ownerRef{APIVersion: "batch/v1", Kind: "Job", Name: p.Owner}
		gen = p.Owner + "-"
		restart = "Never"
	}
	own.UID, own.Controller, own.BlockOwnerDeletion = p.OwnerUID, true, true
	var ann map[string]string
	ctrs := []container{{Name: w.Name, Image: w.Image, Resources: w.Res.requirements()}}
	if w.Port != 0 {
		proto := "TCP"
		if w.Port == 53 {
			proto = "UDP"
		}
		ctrs[0].Ports = []containerPort{{Name: "main", ContainerPort: w.Port, Protocol: proto}}
	}
	if w.Mesh {
		labels["security.istio.io/tlsMode"] = "istio"
		labels["service.istio.io/canonical-name"] = w.Name
		labels["service.istio.io/canonical-revision"] = "latest"
		ann = map[string]string{
			"prometheus.io/scrape": "true", "prometheus.io/port": "15020", "prometheus.io/path": "/stats/prometheus",
			"istio.io/rev": "default",
		}
		ctrs = append(ctrs, container{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.27.3",
			Ports:     []containerPort{{Name: "http-envoy-prom", ContainerPort: 15090, Protocol: "TCP"}},
			Resources: istioProxy.requirements()})
	}
	if w.Name == "istio-ingressgateway" {
		labels["istio"] = "ingressgateway"
	}
	host := ipString(p.Node.ENI.IP)
	ip := ipString(p.IP)
	dns := "ClusterFirst"
	if w.HostNetwork {
		dns = "ClusterFirstWithHostNet"
	}
	o := podObject{
		APIVersion: "v1", Kind: "Pod",
		Metadata: objectMeta{
			Name: p.Name, GenerateName: gen, Namespace: w.NS, UID: p.UID,
			ResourceVersion:   strconv.FormatInt(p.Start%100000000+int64(len(phase))*7, 10),
			CreationTimestamp: rfc3339(p.Created), Labels: labels, Annotations: ann,
			OwnerReferences: []ownerRef{own},
		},
		Spec: podSpec{
			Containers: ctrs, DNSPolicy: dns, HostNetwork: w.HostNetwork, NodeName: p.Node.Name,
			RestartPolicy: restart, SchedulerName: "default-scheduler", ServiceAccountName: w.Name,
		},
		Status: podStatus{
			Phase: phase, HostIP: host, HostIPs: []ipEntry{{host}}, PodIP: ip, PodIPs: []ipEntry{{ip}},
			QOSClass: qosClass(ctrs), StartTime: rfc3339(p.Start),
		},
	}
	for _, c := range ctrs {
		cs := containerStatus{Name: c.Name, Image: c.Image}
		if phase == "Succeeded" {
			// A completed Job pod: the finish time is when it released its
			// IP, which is how attribution closes its interval.
			cs.State.Terminated = &terminatedState{Reason: "Completed", StartedAt: rfc3339(p.Start), FinishedAt: rfc3339(p.Done)}
		} else {
			cs.Ready, cs.Started = true, true
			cs.State.Running = &struct {
				StartedAt string `json:"startedAt"`
			}{rfc3339(p.Start)}
		}
		o.Status.ContainerStatuses = append(o.Status.ContainerStatuses, cs)
	}
	if w.Kind == statefulSet {
		o.Metadata.GenerateName = ""
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return b
}

// qosClass is the pod's QoS class as the API server sets it: BestEffort
// without any request or limit, Guaranteed when every container's CPU and
// memory requests equal their limits, else Burstable.
func qosClass(ctrs []container) string {
	anySet, guaranteed := false, true
	for _, c := range ctrs {
		r := c.Resources
		if len(r.Requests)+len(r.Limits) > 0 {
			anySet = true
		}
		for _, k := range []string{"cpu", "memory"} {
			lim, ok := r.Limits[k]
			if req, set := r.Requests[k]; !ok || (set && req != lim) {
				guaranteed = false
			}
		}
	}
	switch {
	case !anySet:
		return "BestEffort"
	case guaranteed:
		return "Guaranteed"
	}
	return "Burstable"
}

// nodesJSON renders the NodeList of `kubectl get nodes -o json` for the
// data set starting at start.
func nodesJSON(t *topology, start int64) []byte {
	type address struct {
		Type    string `json:"type"`
		Address string `json:"address"`
	}
	type node struct {
		APIVersion string     `json:"apiVersion"`
		Kind       string     `json:"kind"`
		Metadata   objectMeta `json:"metadata"`
		Spec       struct {
			ProviderID string `json:"providerID"`
		} `json:"spec"`
		Status struct {
			Addresses   []address         `json:"addresses"`
			Allocatable map[string]string `json:"allocatable"`
			Capacity    map[string]string `json:"capacity"`
			NodeInfo    map[string]string `json:"nodeInfo"`
		} `json:"status"`
	}
	items := make([]node, 0, len(t.Nodes))
	for i, n := range t.Nodes {
		z := t.Zones[n.Zone]
		var o node
		o.APIVersion, o.Kind = "v1", "Node"
		o.Metadata = objectMeta{
			Name: n.Name, UID: n.UID, ResourceVersion: strconv.Itoa(4000000 + i*131),
			CreationTimestamp: rfc3339(nodeCreated(start, i)),
			Labels: map[string]string{
				"kubernetes.io/hostname":                   n.Name,
				"kubernetes.io/os":                         "linux",
				"kubernetes.io/arch":                       "amd64",
				"topology.kubernetes.io/zone":              z.Name,
				"topology.kubernetes.io/region":            Region,
				"topology.k8s.aws/zone-id":                 z.ID,
				"node.kubernetes.io/instance-type":         n.InstanceType,
				"failure-domain.beta.kubernetes.io/zone":   z.Name,
				"failure-domain.beta.kubernetes.io/region": Region,
				"beta.kubernetes.io/instance-type":         n.InstanceType,
				"eks.amazonaws.com/nodegroup":              "general-" + z.Name[len(z.Name)-1:],
				"eks.amazonaws.com/capacityType":           "ON_DEMAND",
			},
			Annotations: map[string]string{"alpha.kubernetes.io/provided-node-ip": ipString(n.ENI.IP)},
		}
		o.Spec.ProviderID = "aws:///" + z.Name + "/" + n.InstanceID
		o.Status.Addresses = []address{
			{"InternalIP", ipString(n.ENI.IP)},
			{"InternalDNS", n.Name},
			{"Hostname", n.Name},
		}
		o.Status.Capacity, o.Status.Allocatable = instanceSpecs[n.InstanceType].capacity()
		o.Status.NodeInfo = map[string]string{
			"kubeletVersion": "v1.34.1-eks-113cf36", "osImage": "Amazon Linux 2023.9.20251110",
			"containerRuntimeVersion": "containerd://2.1.4", "architecture": "amd64", "operatingSystem": "linux",
		}
		items = append(items, o)
	}
	b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]string{"resourceVersion": ""}}, "", "    ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// snapshotOrder sorts pods as kubectl lists them: namespace, then name.
func snapshotOrder(ps []*pod) []*pod {
	out := append([]*pod(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].W.NS != out[j].W.NS {
			return out[i].W.NS < out[j].W.NS
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Start < out[j].Start
	})
	return out
}
