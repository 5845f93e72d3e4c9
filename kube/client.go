// Package kube builds Kubernetes clients from kubeconfig settings, for every
// furrow component that talks to clusters (the pod watchers today, the
// deployer next).
package kube

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Cluster names a cluster and how to reach it. The YAML keys are those of
// every component's cluster list.
type Cluster struct {
	// Name is the cluster's name in furrow; empty means the context name.
	Name string `yaml:"name"`
	// Kubeconfig is the kubeconfig file; empty means the default loading
	// rules ($KUBECONFIG, then ~/.kube/config, then in-cluster).
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means its current context.
	Context string `yaml:"context"`
}

// Client returns the cluster's name (Name, else the context, else the
// kubeconfig's current context, else "default") and a clientset for it.
func Client(c Cluster) (string, kubernetes.Interface, error) {
	name, rc, err := RESTConfig(c)
	if err != nil {
		return name, nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return "", nil, fmt.Errorf("cluster %s: build client: %w", name, err)
	}
	return name, client, nil
}

// RESTConfig returns the cluster's name, as Client does, and its REST
// configuration, for clients other than the clientset (dynamic, discovery).
func RESTConfig(c Cluster) (string, *rest.Config, error) {
	name := c.Name
	if name == "" {
		name = c.Context
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if c.Kubeconfig != "" {
		rules.ExplicitPath = c.Kubeconfig
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	if name == "" {
		raw, err := loader.RawConfig()
		if err != nil {
			return "", nil, fmt.Errorf("read kubeconfig: %w", err)
		}
		name = raw.CurrentContext
		if name == "" {
			name = "default"
		}
	}
	rc, err := loader.ClientConfig()
	if err != nil {
		return "", nil, fmt.Errorf("cluster %s: load kubeconfig context %q: %w", name, c.Context, err)
	}
	return name, rc, nil
}
