package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parse decodes a spec strictly: unknown or repeated keys, wrong types,
// several documents and oversized input are errors. Every error is an
// *Error carrying file, line, column and field path; several are joined
// with errors.Join. Parse does not apply company rules: see Validate.
func Parse(file string, data []byte) (p *Project, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input in the past; a spec
		// is user input, so a panic becomes an error at the file.
		if r := recover(); r != nil {
			p, err = nil, &Error{File: file, Msg: fmt.Sprintf("cannot read the YAML: %v", r)}
		}
	}()
	if len(data) > maxSpecBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("%d bytes: a spec is at most %d", len(data), maxSpecBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty spec: want at least project, service, image and environments"}
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "a second YAML document: a spec file holds one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	p = &Project{file: file, pos: map[string]position{"": {root.Line, root.Column}}}
	d := &decoder{file: file, pos: p.pos}
	d.decode(root, reflect.ValueOf(p).Elem(), "", 0)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	var errs []error
	for _, f := range []struct{ name, v string }{{"project", p.Project}, {"service", p.Service}, {"image", p.Image}} {
		if f.v == "" {
			errs = append(errs, p.errAt(f.name, "required"))
		}
	}
	if len(p.Environments) == 0 {
		errs = append(errs, p.errAt("environments", "required: at least one environment with its regions and clusters"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

func yamlError(file string, err error) error {
	msg := err.Error()
	e := &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = 1
		e.Msg = msg[len(m[0]):]
	}
	return e
}

// Load reads and parses the spec at path.
func Load(path string) (*Project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return Parse(path, data)
}

// File is the name the spec was parsed from.
func (p *Project) File() string { return p.file }

// errAt builds an error at field, placed at the field's node or, when the
// field is absent, at its nearest present parent.
func (p *Project) errAt(field, format string, args ...any) *Error {
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	for path := field; ; {
		if pos, ok := p.pos[path]; ok {
			e.Line, e.Column = pos.line, pos.column
			break
		}
		if path == "" {
			break
		}
		path = parent(path)
	}
	return e
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// Target is one place a spec is deployed to.
type Target struct {
	Environment string `json:"environment"`
	Region      string `json:"region"`
	Cluster     string `json:"cluster"`
}

func (t Target) String() string { return t.Environment + "/" + t.Region + "/" + t.Cluster }

// EnvironmentNames lists the spec's environments, sorted.
func (p *Project) EnvironmentNames() []string {
	names := make([]string, 0, len(p.Environments))
	for n := range p.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Targets lists the clusters of an environment, in the spec's order.
func (p *Project) Targets(env string) ([]Target, error) {
	e, ok := p.Environments[env]
	if !ok {
		return nil, fmt.Errorf("%s: no environment %q; the spec has %s", p.file, env, strings.Join(p.EnvironmentNames(), ", "))
	}
	var out []Target
	for _, r := range e.Regions {
		for _, c := range r.Clusters {
			out = append(out, Target{Environment: env, Region: r.Region, Cluster: c})
		}
	}
	return out, nil
}

// NamespaceFor is the namespace of the service in env.
func (p *Project) NamespaceFor(env string) string {
	if e, ok := p.Environments[env]; ok && e.Namespace != "" {
		return e.Namespace
	}
	if p.Namespace != "" {
		return p.Namespace
	}
	return p.Project + "-" + env
}

// SecretRef is one Secrets Manager secret a spec needs.
type SecretRef struct {
	// Name is the secret's name in the spec.
	Name string `json:"name"`
	// SecretID is the ARN or name in Secrets Manager.
	SecretID string `json:"secret_id"`
	// VersionStage and VersionID select the version (both empty: AWSCURRENT).
	VersionStage string `json:"version_stage,omitempty"`
	VersionID    string `json:"version_id,omitempty"`
}

// ResolvedSecret is a secret's value as read from Secrets Manager.
type ResolvedSecret struct {
	// Name is the secret's name in the spec.
	Name string
	// VersionID is the version that was read; it goes into the rendered
	// Secret's name, so a new version is a new object.
	VersionID string
	// Values holds the secret: under the key "" (WholeSecret) the secret
	// string as stored and, when it is a JSON object, each top-level key's
	// value as a string. A spec secret with `key: k` uses Values[k].
	Values map[string]string
}

// WholeSecret is the key of ResolvedSecret.Values that holds the secret
// string as stored.
const WholeSecret = ""

// SecretRefs lists the Secrets Manager references of the spec, in the
// spec's order. Every environment uses the same secrets; env is accepted
// so that callers need not change when environments may override them.
func SecretRefs(p *Project, env string) []SecretRef {
	_ = env
	out := make([]SecretRef, 0, len(p.Secrets))
	for _, s := range p.Secrets {
		out = append(out, SecretRef{Name: s.Name, SecretID: s.SecretID, VersionStage: s.VersionStage, VersionID: s.VersionID})
	}
	return out
}

// effective is the spec as it applies in one environment.
type effective struct {
	replicas    *int32
	autoscaling *Autoscaling
	resources   Resources
	env         map[string]string
	routes      []Route
	pdb         *PDB
}

func (p *Project) effective(env string) effective {
	e := effective{replicas: p.Replicas, autoscaling: p.Autoscaling, routes: p.Routes, pdb: p.PDB, env: map[string]string{}}
	if p.Resources != nil {
		e.resources = *p.Resources
	}
	for k, v := range p.Env {
		e.env[k] = v
	}
	o := p.Environments[env].Overrides
	if o == nil {
		return e
	}
	if o.Replicas != nil {
		e.replicas, e.autoscaling = o.Replicas, nil
	}
	if o.Autoscaling != nil {
		e.autoscaling, e.replicas = o.Autoscaling, nil
	}
	if o.Resources != nil {
		e.resources = mergeResources(e.resources, *o.Resources)
	}
	for k, v := range o.Env {
		e.env[k] = v
	}
	if o.Routes != nil {
		e.routes = o.Routes
	}
	if o.PDB != nil {
		e.pdb = o.PDB
	}
	return e
}

func mergeResources(base, o Resources) Resources {
	merge := func(a, b *ResourceList) *ResourceList {
		if b == nil {
			return a
		}
		out := ResourceList{}
		if a != nil {
			out = *a
		}
		if b.CPU != "" {
			out.CPU = b.CPU
		}
		if b.Memory != "" {
			out.Memory = b.Memory
		}
		return &out
	}
	return Resources{Requests: merge(base.Requests, o.Requests), Limits: merge(base.Limits, o.Limits)}
}
