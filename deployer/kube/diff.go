package kube

import (
	"context"
	"fmt"
	"sort"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Actions of an ObjectDiff.
const (
	DiffCreated   = "created"
	DiffChanged   = "changed"
	DiffUnchanged = "unchanged"
)

// ObjectDiff is what applying one object would do.
type ObjectDiff struct {
	Object ObjectRef
	// Action is DiffCreated, DiffChanged or DiffUnchanged.
	Action string
	// Diff is a unified diff of the live object's YAML against what the
	// server would store (for a new object, against nothing). Server-managed
	// fields (status, managedFields, resourceVersion, generation, uid,
	// creationTimestamp) are left out and Secret values are redacted.
	Diff string
}

// Diff compares each object with its live version through a server-side
// apply dry run (so defaults and other managers' fields count as the server
// would merge them), in apply order. Nothing is changed in the cluster.
func (c *Cluster) Diff(ctx context.Context, objs []*unstructured.Unstructured) ([]ObjectDiff, error) {
	var out []ObjectDiff
	for _, o := range sortForApply(objs) {
		ref := RefOf(o)
		res, _, ns, err := c.resourceFor(ref)
		if err != nil {
			return out, err
		}
		ref.Namespace = ns
		desired := o.DeepCopy()
		if ns != "" {
			desired.SetNamespace(ns)
		}
		live, err := res.Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			live = nil
		} else if err != nil {
			return out, fmt.Errorf("get %s in cluster %s: %w", ref, c.name, err)
		}
		var merged *unstructured.Unstructured
		if live != nil {
			merged, err = res.Apply(ctx, ref.Name, desired, metav1.ApplyOptions{
				FieldManager: FieldManager, Force: true, DryRun: []string{metav1.DryRunAll},
			})
			if err != nil {
				return out, fmt.Errorf("dry-run apply %s in cluster %s: %w", ref, c.name, err)
			}
		} else {
			// A new object: show what was asked for, not the server's
			// defaults, which would drown it.
			merged = desired
		}
		d, err := diffObjects(live, merged)
		if err != nil {
			return out, fmt.Errorf("diff %s: %w", ref, err)
		}
		action := DiffChanged
		switch {
		case live == nil:
			action = DiffCreated
		case d == "":
			action = DiffUnchanged
		}
		out = append(out, ObjectDiff{Object: ref, Action: action, Diff: d})
	}
	return out, nil
}

// diffObjects renders a unified diff of two objects (either may be nil),
// cleaned and redacted; "" when they are equal.
func diffObjects(live, desired *unstructured.Unstructured) (string, error) {
	var a, b map[string]any
	if live != nil {
		a = clean(live)
	}
	if desired != nil {
		b = clean(desired)
	}
	redactSecrets(a, b)
	ya, err := toYAML(a)
	if err != nil {
		return "", err
	}
	yb, err := toYAML(b)
	if err != nil {
		return "", err
	}
	if ya == yb {
		return "", nil
	}
	name := "object"
	if desired != nil {
		name = RefOf(desired).String()
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(ya), B: difflib.SplitLines(yb),
		FromFile: "live/" + name, ToFile: "desired/" + name, Context: 3,
	})
}

func toYAML(m map[string]any) (string, error) {
	if m == nil {
		return "", nil
	}
	data, err := yaml.Marshal(m)
	return string(data), err
}

// clean drops what the server manages, so that only declared state differs.
func clean(u *unstructured.Unstructured) map[string]any {
	m := u.DeepCopy().Object
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"} {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, "deployment.kubernetes.io/revision")
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	return m
}

// redactSecrets replaces the values of Secrets' data and stringData by
// markers that still tell whether a key was added, removed or changed.
func redactSecrets(live, desired map[string]any) {
	isSecret := func(m map[string]any) bool {
		return m != nil && m["kind"] == "Secret" && (m["apiVersion"] == "v1")
	}
	if !isSecret(live) && !isSecret(desired) {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		a, _ := nested(live, field)
		b, _ := nested(desired, field)
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range b {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			va, inA := a[k]
			vb, inB := b[k]
			switch {
			case inA && inB && va == vb:
				a[k], b[k] = "(redacted)", "(redacted)"
			case inA && inB:
				a[k], b[k] = "(redacted, old value)", "(redacted, new value)"
			case inA:
				a[k] = "(redacted)"
			case inB:
				b[k] = "(redacted)"
			}
		}
	}
}

func nested(m map[string]any, field string) (map[string]any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m[field].(map[string]any)
	return v, ok
}
