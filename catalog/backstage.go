package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Backstage import: catalog-info.yaml files (several documents each) from
// repositories. Groups become teams (by name) unless HR already has them,
// Users people with their groups, Components projects (owner from
// spec.owner, namespaces from the backstage.io/kubernetes-namespace
// annotation), Resources with an aws.amazon.com/arn annotation owned
// cloud resources. Systems and APIs carry no ownership furrow keeps; other
// kinds are listed as unknown, never fatal.

// backstageEntity is the part of an entity the import reads.
type backstageEntity struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Title       string            `yaml:"title"`
		Annotations map[string]string `yaml:"annotations"`
		Tags        []string          `yaml:"tags"`
		Links       []struct {
			URL   string `yaml:"url"`
			Title string `yaml:"title"`
		} `yaml:"links"`
	} `yaml:"metadata"`
	Spec struct {
		Type      string `yaml:"type"`
		Lifecycle string `yaml:"lifecycle"`
		Owner     string `yaml:"owner"`
		Parent    string `yaml:"parent"`
		Profile   struct {
			DisplayName string `yaml:"displayName"`
			Email       string `yaml:"email"`
		} `yaml:"profile"`
		MemberOf []string `yaml:"memberOf"`
	} `yaml:"spec"`
}

// BackstageReport is what an import did (or, dry, would do).
type BackstageReport struct {
	DryRun   bool     `json:"dry_run"`
	Entities int      `json:"entities"`
	Changes  []string `json:"changes"`
	// Unknown lists the entities of kinds the import does not read
	// ("Template go-service in file:line").
	Unknown []string `json:"unknown"`
	// Problems are entities that could not be imported, and why.
	Problems []string `json:"problems"`
}

// entityRef reads an entity reference ("group:default/payments",
// "group:payments", "payments") as its name.
func entityRef(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.Index(ref, ":"); i >= 0 {
		ref = ref[i+1:]
	}
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	return ref
}

// ImportBackstage imports the entities of files (name → content). cluster
// is the cluster a component's namespace annotation refers to.
func (c *Catalog) ImportBackstage(ctx context.Context, a Actor, files map[string][]byte, cluster string, dry bool) (BackstageReport, error) {
	rep := BackstageReport{DryRun: dry, Changes: []string{}, Unknown: []string{}, Problems: []string{}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var groups, users, components, resources []backstageEntity
	for _, name := range names {
		dec := yaml.NewDecoder(bytes.NewReader(files[name]))
		for doc := 1; ; doc++ {
			var e backstageEntity
			err := dec.Decode(&e)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s document %d: %v", name, doc, err))
				break // the rest of this file cannot be read reliably
			}
			if e.Kind == "" {
				continue // an empty document
			}
			rep.Entities++
			if !strings.HasPrefix(e.APIVersion, "backstage.io/") {
				rep.Unknown = append(rep.Unknown, fmt.Sprintf("%s %s (%s) in %s", e.Kind, e.Metadata.Name, e.APIVersion, name))
				continue
			}
			switch e.Kind {
			case "Group":
				groups = append(groups, e)
			case "User":
				users = append(users, e)
			case "Component":
				components = append(components, e)
			case "Resource":
				resources = append(resources, e)
			case "System", "API", "Domain", "Location":
				// No ownership furrow keeps.
			default:
				rep.Unknown = append(rep.Unknown, fmt.Sprintf("%s %s in %s", e.Kind, e.Metadata.Name, name))
			}
		}
	}
	teams, err := c.repo.Teams(ctx, true)
	if err != nil {
		return rep, err
	}
	known := map[string]Team{}
	for _, t := range teams {
		known[t.Code] = t
	}
	membersOf := map[string][]string{}
	for _, u := range users {
		for _, g := range u.Spec.MemberOf {
			membersOf[entityRef(g)] = append(membersOf[entityRef(g)], u.Metadata.Name)
		}
	}
	// People first (teams list them as members).
	for _, u := range users {
		p := Person{EmployeeID: u.Metadata.Name, Name: firstNonEmpty(u.Spec.Profile.DisplayName, u.Metadata.Name), Email: u.Spec.Profile.Email}
		rep.Changes = append(rep.Changes, "person "+p.EmployeeID+": upsert")
		if !dry {
			if _, err := c.repo.PutPerson(ctx, a, p, -1); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("User %s: %v", u.Metadata.Name, err))
			}
		}
	}
	for _, g := range groups {
		code := g.Metadata.Name
		if t, ok := known[code]; ok && t.Source == "hr-sync" {
			continue // HR is the truth for its teams
		}
		t := Team{Code: code, Name: firstNonEmpty(g.Spec.Profile.DisplayName, code), ParentCode: entityRef(g.Spec.Parent), Members: membersOf[code]}
		rep.Changes = append(rep.Changes, "team "+code+": upsert")
		if !dry {
			if _, err := c.repo.PutTeam(ctx, a, t, -1); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("Group %s: %v", code, err))
				continue
			}
		}
		known[code] = t
	}
	for _, comp := range components {
		owner := entityRef(comp.Spec.Owner)
		if _, ok := known[owner]; !ok {
			rep.Problems = append(rep.Problems, fmt.Sprintf("Component %s: owner %q is not a team of the catalog (import its Group, or sync HR first)", comp.Metadata.Name, comp.Spec.Owner))
			continue
		}
		p := Project{ID: comp.Metadata.Name, Name: firstNonEmpty(comp.Metadata.Title, comp.Metadata.Name), OwnerTeam: owner,
			Tier: tierOf(comp.Metadata.Tags), Links: map[string]string{}}
		if slug := comp.Metadata.Annotations["github.com/project-slug"]; slug != "" {
			p.Repos = []string{"github.com/" + slug}
		}
		for _, l := range comp.Metadata.Links {
			p.Links[firstNonEmpty(strings.ToLower(l.Title), l.URL)] = l.URL
		}
		if ns := comp.Metadata.Annotations["backstage.io/kubernetes-namespace"]; ns != "" && cluster != "" {
			p.Namespaces = []Namespace{{Cluster: cluster, Namespace: ns}}
		}
		rep.Changes = append(rep.Changes, fmt.Sprintf("project %s: upsert (owner %s)", p.ID, owner))
		if !dry {
			if _, err := c.repo.PutProject(ctx, a, p, -1); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("Component %s: %v", comp.Metadata.Name, err))
			}
		}
	}
	for _, r := range resources {
		arn := r.Metadata.Annotations["aws.amazon.com/arn"]
		if arn == "" {
			continue
		}
		rep.Changes = append(rep.Changes, fmt.Sprintf("resource %s: owner %s", arn, entityRef(r.Spec.Owner)))
		if !dry {
			if err := c.repo.PutResource(ctx, a, Resource{ARN: arn, TeamCode: entityRef(r.Spec.Owner)}); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("Resource %s: %v", r.Metadata.Name, err))
			}
		}
	}
	if !dry {
		if err := c.changed(ctx, "backstage", a.Source); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func tierOf(tags []string) string {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, "tier-"); ok {
			return v
		}
	}
	return ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ReadBackstageFiles reads the catalog-info.yaml files of dirs (walked)
// and any file named directly.
func ReadBackstageFiles(paths []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			out[p] = b
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (d.Name() == "catalog-info.yaml" || d.Name() == "catalog-info.yml") {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				out[path] = b
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
