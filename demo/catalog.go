package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The demo's ownership catalog: an HR export (teams with their codes and
// people) and the projects that own the demo's namespaces. inventory,
// shipping, notifications and batch are left unowned on purpose: the
// catalog lists them as such.

type demoTeam struct {
	code, name, channel string
	people              [][2]string // employee id, name
	projects            []demoProject
}

type demoProject struct {
	id, name, tier string
	namespaces     []string
}

var demoTeams = []demoTeam{
	{"PAY", "Payments", "#team-payments", [][2]string{{"E1001", "Ada Moreau"}, {"E1002", "Bilal Haddad"}, {"E1003", "Chen Wei"}},
		[]demoProject{{"checkout", "Checkout", "1", []string{"checkout"}}, {"payments", "Payments API", "1", []string{"payments"}}}},
	{"CART", "Cart and Orders", "#team-cart", [][2]string{{"E1011", "Dana Kowalski"}, {"E1012", "Emeka Obi"}},
		[]demoProject{{"cart", "Cart", "1", []string{"cart"}}, {"orders", "Orders", "1", []string{"orders"}}}},
	{"DISC", "Discovery", "#team-discovery", [][2]string{{"E1021", "Farah Nasser"}, {"E1022", "Goran Petrov"}, {"E1023", "Hana Sato"}},
		[]demoProject{{"catalog", "Product catalog", "2", []string{"catalog"}}, {"search", "Search", "2", []string{"search"}},
			{"recommendations", "Recommendations", "3", []string{"recommendations", "reviews"}}}},
	{"WEB", "Web Frontend", "#team-web", [][2]string{{"E1031", "Ines Duarte"}, {"E1032", "Jon Berg"}},
		[]demoProject{{"frontend", "Storefront", "1", []string{"frontend"}}, {"users", "Accounts", "1", []string{"users"}}}},
	{"PLAT", "Platform", "#team-platform", [][2]string{{"E1041", "Kofi Mensah"}, {"E1042", "Lena Vogel"}},
		[]demoProject{{"mesh", "Service mesh", "0", []string{"istio-system"}}, {"observability", "Observability", "1", []string{"monitoring"}},
			{"cluster-base", "Cluster add-ons", "0", []string{"kube-system", "cert-manager", "argocd"}}}},
}

// writeCatalog writes DIR/catalog/hr.yaml and DIR/catalog/projects.yaml.
func writeCatalog(dir, cluster string) error {
	cdir := filepath.Join(dir, "catalog")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return err
	}
	var hr, projects strings.Builder
	hr.WriteString("# The demo's HR export: one record per person with their team (furrow catalog sync).\npeople:\n")
	projects.WriteString("# The demo's projects and the namespaces they run in (furrow catalog apply).\nprojects:\n")
	for _, t := range demoTeams {
		for _, p := range t.people {
			email := strings.ToLower(strings.ReplaceAll(p[1], " ", ".")) + "@example.com"
			fmt.Fprintf(&hr, "  - {employee_id: %s, name: %q, email: %s, team: {code: %s, name: %q, slack_channel: %q}}\n",
				p[0], p[1], email, t.code, t.name, t.channel)
		}
		for _, p := range t.projects {
			fmt.Fprintf(&projects, "  - id: %s\n    name: %q\n    owner_team: %s\n    tier: %q\n    namespaces:\n", p.id, p.name, t.code, p.tier)
			for _, ns := range p.namespaces {
				fmt.Fprintf(&projects, "      - {cluster: %s, namespace: %s}\n", cluster, ns)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(cdir, "hr.yaml"), []byte(hr.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cdir, "projects.yaml"), []byte(projects.String()), 0o644)
}
