package catalog

import (
	"context"
	"time"
)

// ObserveNamespace (pods.NamespaceObserver, satisfied without importing
// the watchers) claims a namespace for the project its label (or
// annotation) names (catalog.namespace_project_label), as the live
// watchers of furrow serve see namespaces. A namespace another project
// already holds is left to it (logged): the catalog's own records win over
// labels. Unknown projects are logged too.
func (c *Catalog) ObserveNamespace(cluster, name string, labels, annotations map[string]string) {
	key := c.cfg.NamespaceProjectLabel
	if key == "" {
		return
	}
	project := labels[key]
	if project == "" {
		project = annotations[key]
	}
	if project == "" {
		return
	}
	if o, ok := c.OwnerOf(cluster, name); ok {
		if o.Project != project {
			c.deps.Logger.Warn("catalog: namespace label names another project than the catalog's",
				"cluster", cluster, "namespace", name, "label", project, "catalog", o.Project)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.claim(ctx, cluster, name, project); err != nil {
		c.deps.Logger.Warn("catalog: cannot claim a labelled namespace", "cluster", cluster, "namespace", name, "project", project, "err", err)
	}
}

// claim adds (cluster, name) to project, audited as source k8s-label.
func (c *Catalog) claim(ctx context.Context, cluster, name, project string) error {
	p, err := c.repo.Project(ctx, project)
	if err != nil {
		return err
	}
	for _, n := range p.Namespaces {
		if n.Cluster == cluster && n.Namespace == name {
			return nil
		}
	}
	p.Namespaces = append(p.Namespaces, Namespace{Cluster: cluster, Namespace: name})
	_, err = c.PutProject(ctx, Actor{Subject: "furrow", Source: "k8s-label"}, p, p.Version)
	return err
}
