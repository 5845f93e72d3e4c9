package secrets

import (
	"context"

	"github.com/furrowdev/furrow/deployer/spec"
)

// Resolve reads the secrets a config needs (spec.SecretRefs), all or
// nothing, keyed by the spec's secret name: the interface the deployer
// renders with. See ResolveConfig.
func (r *Resolver) Resolve(ctx context.Context, refs []spec.SecretRef) (map[string]spec.ResolvedSecret, error) {
	return r.ResolveConfig(ctx, "", refs)
}

// ResolveConfig is Resolve with the config's name (such as "shop/prod")
// for its errors. Each ResolvedSecret's Values holds the whole secret under
// spec.WholeSecret and, for a JSON object, each top-level key, which the
// spec's `key:` selects when rendering. Values is a plain map there: do
// not format a ResolvedSecret's Values; wrap them in Values, which prints
// <secret>.
func (r *Resolver) ResolveConfig(ctx context.Context, config string, refs []spec.SecretRef) (map[string]spec.ResolvedSecret, error) {
	in := make([]secretRef, len(refs))
	for i, ref := range refs {
		in[i] = secretRef{Name: ref.Name, SecretID: ref.SecretID, VersionStage: ref.VersionStage, VersionID: ref.VersionID}
	}
	got, err := r.resolveRefs(ctx, config, in)
	if err != nil {
		return nil, err
	}
	out := make(map[string]spec.ResolvedSecret, len(got))
	for name, res := range got {
		out[name] = spec.ResolvedSecret{Name: res.Name, VersionID: res.VersionID, Values: map[string]string(res.Values)}
	}
	return out, nil
}
