package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// ApplyOptions tunes Apply.
type ApplyOptions struct {
	// DryRun asks the API server to validate and default every object
	// (dryRun=All) without persisting anything.
	DryRun bool
	// Force takes over fields owned by other field managers instead of
	// failing with a conflict.
	Force bool
}

// Apply applies objs with server-side apply, in dependency order
// (namespaces, service accounts, config maps, secrets, services, then the
// workloads, then the rest). Every kind is mapped before anything is applied,
// so a missing CRD fails the whole apply (ErrUnknownKind, naming the kinds)
// with nothing changed. It returns the references of the applied objects, in
// apply order; on an error, those applied before it.
func (c *Cluster) Apply(ctx context.Context, objs []*unstructured.Unstructured, opts ApplyOptions) ([]ObjectRef, error) {
	ordered := sortForApply(objs)
	var unknown []error
	for _, o := range ordered {
		if _, err := c.mapping(o.GroupVersionKind()); err != nil {
			if !errors.Is(err, ErrUnknownKind) {
				return nil, err
			}
			unknown = append(unknown, err)
		}
	}
	if len(unknown) > 0 {
		return nil, errors.Join(unknown...)
	}
	po := metav1.ApplyOptions{FieldManager: FieldManager, Force: opts.Force}
	if opts.DryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	newNamespaces := map[string]bool{} // created by this dry run, so absent
	var refs []ObjectRef
	for _, o := range ordered {
		ref := RefOf(o)
		res, _, ns, err := c.resourceFor(ref)
		if err != nil {
			return refs, err
		}
		ref.Namespace = ns
		obj := o.DeepCopy()
		if ns != "" {
			obj.SetNamespace(ns)
		}
		if opts.DryRun && ref.Kind == "Namespace" && ref.Group == "" {
			if _, err := c.client.CoreV1().Namespaces().Get(ctx, ref.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				newNamespaces[ref.Name] = true
			}
		}
		_, err = res.Apply(ctx, obj.GetName(), obj, po)
		if err != nil && opts.DryRun && newNamespaces[ns] && apierrors.IsNotFound(err) {
			// The namespace is only created by the real apply: nothing more
			// can be checked server-side for the objects in it.
			err = nil
		}
		if err != nil {
			return refs, fmt.Errorf("apply %s in cluster %s: %w", ref, c.name, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// Delete deletes the objects (workloads first, namespaces last), letting the
// garbage collector remove what they own in the background. Objects already
// gone are not an error.
func (c *Cluster) Delete(ctx context.Context, refs []ObjectRef) error {
	var errs []error
	policy := metav1.DeletePropagationBackground
	for _, ref := range sortRefsForDelete(refs) {
		res, _, _, err := c.resourceFor(ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		err = res.Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s in cluster %s: %w", ref, c.name, err))
		}
	}
	return errors.Join(errs...)
}

// skipOrphanResources are listed by nobody: they are written by controllers
// (with the labels of what they derive from but no owner) or are not objects
// furrow applies.
var skipOrphanResources = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:                    true,
	{Group: "events.k8s.io", Resource: "events"}:       true,
	{Group: "", Resource: "endpoints"}:                 true,
	{Group: "", Resource: "componentstatuses"}:         true,
	{Group: "coordination.k8s.io", Resource: "leases"}: true,
}

// Orphans lists the objects that match selector (furrow.dev/project=…, …)
// in every listable resource of the cluster, except those in keep and those
// owned by a controller (the ReplicaSets and Pods of a Deployment carry its
// template's labels), sorted by reference.
func (c *Cluster) Orphans(ctx context.Context, selector map[string]string, keep []ObjectRef) ([]ObjectRef, error) {
	if len(selector) == 0 {
		return nil, errors.New("orphans: an empty selector would match every object")
	}
	lists, err := c.disc.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discover resources of cluster %s: %w", c.name, err)
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[orphanKey(k.Group, k.Kind, k.Namespace, k.Name)] = true
	}
	sel := labels.SelectorFromSet(selector).String()
	var out []ObjectRef
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
				continue
			}
			if skipOrphanResources[schema.GroupResource{Group: gv.Group, Resource: r.Name}] {
				continue
			}
			items, err := c.dyn.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) || apierrors.IsForbidden(err) {
					continue
				}
				return nil, fmt.Errorf("list %s in cluster %s: %w", r.Name, c.name, err)
			}
			for _, it := range items.Items {
				if metav1.GetControllerOf(&it) != nil {
					continue
				}
				if kept[orphanKey(gv.Group, r.Kind, it.GetNamespace(), it.GetName())] {
					continue
				}
				out = append(out, ObjectRef{Group: gv.Group, Version: gv.Version, Kind: r.Kind, Namespace: it.GetNamespace(), Name: it.GetName()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// orphanKey ignores the version: a kept apps/v1 Deployment is the same
// object whatever version discovery prefers.
func orphanKey(group, kind, ns, name string) string {
	return group + "|" + kind + "|" + ns + "|" + name
}
