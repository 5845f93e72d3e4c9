// Package catalog is the ownership catalog: teams by their stable HR code,
// people, projects and the namespaces they run in, with an audit log of
// every change, kept in the operational store (package state). Cost,
// alert routing and the deployer read owners from it: the owner lookup
// ((cluster, namespace) → project → team → channel) is served from
// memory, and the mapping is mirrored into ClickHouse (namespace_owners)
// on every change so SQL joins traffic to teams. HR files are synced on a
// schedule (sync.go); the HTTP API is in routes.go.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/every"
	"github.com/furrowdev/furrow/internal/promreg"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/store"
)

// Configuration of the catalog.
type Configuration struct {
	// HR is the HR system the teams and people come from.
	HR HRConfiguration `yaml:"hr"`
	// NamespaceProjectLabel is the namespace label (or annotation) that
	// names a namespace's project, read from the clusters.
	NamespaceProjectLabel string `yaml:"namespace_project_label"`
	// Tags names the cloud resources' ownership tags and where the
	// tagging API is.
	Tags TagsConfiguration `yaml:"tags"`
}

// DefaultConfiguration syncs nothing until an HR source is set.
func DefaultConfiguration() Configuration {
	return Configuration{HR: DefaultHRConfiguration(), NamespaceProjectLabel: "katalog.io/project", Tags: DefaultTagsConfiguration()}
}

// Validate checks the configuration.
func (c Configuration) Validate() error {
	if c.Tags.ProjectTag == "" || c.Tags.TeamTag == "" {
		return errors.New("tags: project_tag and team_tag are required")
	}
	return c.HR.Validate()
}

// Dependencies of the catalog.
type Dependencies struct {
	State    *state.Store
	Store    store.Store // ClickHouse, for the mirror and the unowned namespaces
	Registry *prometheus.Registry
	Logger   *slog.Logger
	Now      func() time.Time
	// Tagger reaches the cloud's tags (nil: built from the AWS
	// configuration when a scan or a transfer first needs it).
	Tagger Tagger
}

// Catalog is the component.
type Catalog struct {
	cfg    Configuration
	deps   Dependencies
	repo   *repo
	owners atomic.Pointer[map[[2]string]Owner]
	gen    atomic.Uint64
	mirror sync.Mutex // one refresh of the ClickHouse mirror at a time

	lookups  prometheus.Counter
	changes  *prometheus.CounterVec
	syncRuns *prometheus.CounterVec

	loop *every.Loop
}

// New builds the catalog; it does nothing until Start.
func New(cfg Configuration, deps Dependencies) (*Catalog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if deps.State == nil {
		return nil, errors.New("catalog: the operational store is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	c := &Catalog{cfg: cfg, deps: deps, repo: &repo{db: deps.State.DB(), now: deps.Now}}
	c.lookups = promreg.Register(deps.Registry, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "furrow", Subsystem: "catalog", Name: "owner_lookups_total", Help: "Owner lookups answered."}))
	c.changes = promreg.Register(deps.Registry, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "furrow", Subsystem: "catalog", Name: "changes_total", Help: "Catalog rows changed, by kind and source."}, []string{"kind", "source"}))
	c.syncRuns = promreg.Register(deps.Registry, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "furrow", Subsystem: "catalog", Name: "hr_syncs_total", Help: "HR syncs, by outcome."}, []string{"outcome"}))
	c.gen.Store(uint64(deps.Now().UnixNano()))
	return c, nil
}

// Start loads the owners, mirrors them into ClickHouse and starts the HR
// sync schedule.
func (c *Catalog) Start(ctx context.Context) error {
	if err := c.refresh(ctx); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if c.cfg.HR.Source() == "" || c.cfg.HR.Interval <= 0 {
		return nil
	}
	c.loop = every.Start(ctx, c.cfg.HR.Interval, func(ctx context.Context) {
		if _, err := c.SyncHR(ctx, Actor{Subject: "furrow", Source: "hr-sync"}, false); err != nil && ctx.Err() == nil {
			c.deps.Logger.Warn("catalog: HR sync failed", "error", err)
		}
	})
	return nil
}

// Stop ends the HR sync schedule.
func (c *Catalog) Stop(ctx context.Context) error {
	return c.loop.Stop(ctx)
}

// refresh reloads the owner map and rewrites the ClickHouse mirror; every
// write calls it.
func (c *Catalog) refresh(ctx context.Context) error {
	owners, err := c.repo.Owners(ctx)
	if err != nil {
		return err
	}
	m := make(map[[2]string]Owner, len(owners))
	for _, o := range owners {
		m[[2]string{o.Cluster, o.Namespace}] = o
	}
	c.owners.Store(&m)
	if c.deps.Store == nil {
		return nil
	}
	return c.mirrorOwners(ctx, owners)
}

// mirrorOwners writes the owners, teams, projects and cloud resources as a
// new generation of the catalog's ClickHouse mirror (catalog_namespace_owners,
// catalog_teams, catalog_projects, catalog_resources: the views
// namespace_owners, teams, projects and resource_owners read the newest
// one) and deletes the older generations. Cost allocation and the
// analysts' SQL join them: a team renamed in HR is one row there.
func (c *Catalog) mirrorOwners(ctx context.Context, owners []Owner) error {
	c.mirror.Lock()
	defer c.mirror.Unlock()
	teams, err := c.repo.Teams(ctx, true)
	if err != nil {
		return err
	}
	projects, err := c.repo.Projects(ctx)
	if err != nil {
		return err
	}
	resources, err := c.repo.Resources(ctx)
	if err != nil {
		return err
	}
	gen := c.gen.Add(1)
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	tables := []mirrorTable{
		{"catalog_namespace_owners", []string{"cluster", "namespace", "project", "team", "team_name", "slack_channel", "team_archived"}, nil},
		{"catalog_teams", []string{"team", "team_name", "parent_team", "archived"}, nil},
		{"catalog_projects", []string{"project", "project_name", "team", "archived"}, nil},
		{"catalog_resources", []string{"arn", "resource_id", "project", "team"}, nil},
	}
	for _, o := range owners {
		tables[0].rows = append(tables[0].rows, []string{o.Cluster, o.Namespace, o.Project, o.Team, o.TeamName, o.SlackChannel, b(o.TeamArchived)})
	}
	for _, t := range teams {
		tables[1].rows = append(tables[1].rows, []string{t.Code, t.Name, t.ParentCode, b(t.Archived)})
	}
	for _, p := range projects {
		tables[2].rows = append(tables[2].rows, []string{p.ID, p.Name, p.OwnerTeam, b(p.Archived)})
	}
	for _, r := range resources {
		tables[3].rows = append(tables[3].rows, []string{r.ARN, ResourceID(r.ARN), r.ProjectID, r.TeamCode})
	}
	for _, t := range tables {
		if err := t.insert(ctx, c.deps.Store, gen); err != nil {
			return fmt.Errorf("mirror the catalog into ClickHouse: %w", err)
		}
	}
	// Older generations are invisible already (the views read the newest);
	// deleting them only keeps the tables small, so a failure is logged and
	// the next refresh deletes them too.
	for _, t := range tables {
		if err := c.deps.Store.Exec(ctx, "DELETE FROM "+t.name+" WHERE generation < {g:UInt64}",
			store.WithParams(map[string]string{"g": strconv.FormatUint(gen, 10)})); err != nil {
			c.deps.Logger.Warn("catalog: delete the older generations of the mirror", "table", t.name, "err", err)
		}
	}
	return nil
}

// mirrorTable is one table of the mirror: string columns, except the
// flags (archived, team_archived) written as "0"/"1" into UInt8.
type mirrorTable struct {
	name string
	cols []string
	rows [][]string
}

func (t mirrorTable) insert(ctx context.Context, s store.Store, gen uint64) error {
	if len(t.rows) == 0 {
		return nil
	}
	var g proto.ColUInt64
	in := proto.Input{{Name: "generation", Data: &g}}
	strs := make([]*proto.ColStr, len(t.cols))
	flags := make([]*proto.ColUInt8, len(t.cols))
	for i, name := range t.cols {
		if strings.HasSuffix(name, "archived") {
			flags[i] = new(proto.ColUInt8)
			in = append(in, proto.InputColumn{Name: name, Data: flags[i]})
		} else {
			strs[i] = new(proto.ColStr)
			in = append(in, proto.InputColumn{Name: name, Data: strs[i]})
		}
	}
	for _, r := range t.rows {
		g.Append(gen)
		for i, v := range r {
			if flags[i] != nil {
				var f uint8
				if v == "1" {
					f = 1
				}
				flags[i].Append(f)
			} else {
				strs[i].Append(v)
			}
		}
	}
	return s.Insert(ctx, t.name, store.Block{Columns: in}, t.name+"-"+strconv.FormatUint(gen, 10))
}

// ResourceID is the id a bill gives a resource named by arn: the part
// after the last "/" of the resource (i-0abc…, vol-…), or after the last
// ":" (an S3 bucket); an id that is not an ARN is itself.
func ResourceID(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return arn
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	res := parts[5]
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return res[i+1:]
	}
	if i := strings.LastIndexByte(res, ':'); i >= 0 {
		return res[i+1:]
	}
	return res
}

// tagger is the configured Tagger, built on first use.
func (c *Catalog) tagger(ctx context.Context) (Tagger, error) {
	if c.deps.Tagger != nil {
		return c.deps.Tagger, nil
	}
	t, err := NewAWSTagger(ctx, c.cfg.Tags)
	if err != nil {
		return nil, err
	}
	c.deps.Tagger = t
	return t, nil
}

// ScanCloudTags scans the configured cloud's tags into the catalog.
func (c *Catalog) ScanCloudTags(ctx context.Context, a Actor) (ScanReport, error) {
	t, err := c.tagger(ctx)
	if err != nil {
		return ScanReport{}, err
	}
	return c.ScanTags(ctx, a, t)
}

// Transfer moves a project to another team and, unless dry, runs the
// re-tag job (see TransferProject, RunRetagJobs).
func (c *Catalog) Transfer(ctx context.Context, a Actor, project, team string, dry bool) (TransferPlan, []RetagProgress, error) {
	plan, err := c.TransferProject(ctx, a, project, team, dry)
	if err != nil || dry || plan.Job == "" {
		return plan, nil, err
	}
	t, err := c.tagger(ctx)
	if err != nil {
		return plan, nil, fmt.Errorf("the project moved; re-tagging needs the tagging API (it resumes with furrow catalog retag): %w", err)
	}
	progress, err := c.RunRetagJobs(ctx, a, t, nil)
	return plan, progress, err
}

// ResumeRetagJobs runs the re-tag jobs a crash left running.
func (c *Catalog) ResumeRetagJobs(ctx context.Context, a Actor) ([]RetagProgress, error) {
	t, err := c.tagger(ctx)
	if err != nil {
		return nil, err
	}
	return c.RunRetagJobs(ctx, a, t, nil)
}

// OwnerOf is the owner lookup, the hot path of alert routing and cost: a
// map read, no query.
func (c *Catalog) OwnerOf(cluster, namespace string) (Owner, bool) {
	c.lookups.Inc()
	m := c.owners.Load()
	if m == nil {
		return Owner{}, false
	}
	o, ok := (*m)[[2]string{cluster, namespace}]
	return o, ok
}

// changed records a write and refreshes the owners.
func (c *Catalog) changed(ctx context.Context, kind, source string) error {
	c.changes.WithLabelValues(kind, source).Inc()
	return c.refresh(ctx)
}

// Teams, People, Projects, Audit: the catalog's lists.
func (c *Catalog) Teams(ctx context.Context, all bool) ([]Team, error) { return c.repo.Teams(ctx, all) }

// Team reads one team.
func (c *Catalog) Team(ctx context.Context, code string) (Team, error) { return c.repo.Team(ctx, code) }

// People lists the people.
func (c *Catalog) People(ctx context.Context) ([]Person, error) { return c.repo.People(ctx) }

// Projects lists the projects.
func (c *Catalog) Projects(ctx context.Context) ([]Project, error) { return c.repo.Projects(ctx) }

// Project reads one project.
func (c *Catalog) Project(ctx context.Context, id string) (Project, error) {
	return c.repo.Project(ctx, id)
}

// Audit lists changes, newest first.
func (c *Catalog) Audit(ctx context.Context, kind, key string, limit int) ([]AuditEntry, error) {
	return c.repo.Audit(ctx, kind, key, limit)
}

// Resources lists the cloud resources and their owners.
func (c *Catalog) Resources(ctx context.Context) ([]Resource, error) { return c.repo.Resources(ctx) }

// Owners lists every catalogued namespace's owner.
func (c *Catalog) Owners(ctx context.Context) ([]Owner, error) { return c.repo.Owners(ctx) }

// PutTeam writes a team (see repo.PutTeam for ifMatch).
func (c *Catalog) PutTeam(ctx context.Context, a Actor, t Team, ifMatch int64) (Team, error) {
	t, err := c.repo.PutTeam(ctx, a, t, ifMatch)
	if err != nil {
		return t, err
	}
	return t, c.changed(ctx, "team", a.Source)
}

// PutPerson writes a person.
func (c *Catalog) PutPerson(ctx context.Context, a Actor, p Person, ifMatch int64) (Person, error) {
	p, err := c.repo.PutPerson(ctx, a, p, ifMatch)
	if err != nil {
		return p, err
	}
	c.changes.WithLabelValues("person", a.Source).Inc()
	return p, nil
}

// PutProject writes a project and its namespaces.
func (c *Catalog) PutProject(ctx context.Context, a Actor, p Project, ifMatch int64) (Project, error) {
	p, err := c.repo.PutProject(ctx, a, p, ifMatch)
	if err != nil {
		return p, err
	}
	return p, c.changed(ctx, "project", a.Source)
}

// CanChange reports whether subject may change what team owns: admins
// may, and so may the team's members (the rule documented in
// docs/catalog.md).
func (c *Catalog) CanChange(ctx context.Context, subject string, admin bool, teams ...string) (bool, error) {
	if admin {
		return true, nil
	}
	for _, t := range teams {
		if t == "" {
			continue
		}
		ok, err := c.repo.IsMember(ctx, t, subject)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// Unowned are the namespaces ClickHouse has seen (pod history and flow
// rollups) that no project claims.
func (c *Catalog) Unowned(ctx context.Context) ([]Namespace, error) {
	if c.deps.Store == nil {
		return nil, errors.New("unowned namespaces need the ClickHouse store")
	}
	var b strings.Builder
	err := c.deps.Store.Query(ctx, &b, `SELECT DISTINCT cluster, namespace FROM (
    SELECT cluster, namespace FROM pod_ips WHERE namespace != ''
    UNION ALL SELECT src_cluster, src_namespace FROM flow_traffic_daily WHERE src_kind = 'pod' AND src_namespace != ''
    UNION ALL SELECT dst_cluster, dst_namespace FROM flow_traffic_daily WHERE dst_kind = 'pod' AND dst_namespace != ''
) ORDER BY cluster, namespace`, "TSV")
	if err != nil {
		return nil, err
	}
	out := []Namespace{}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		cl, ns, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if _, owned := c.OwnerOf(cl, ns); !owned {
			out = append(out, Namespace{Cluster: cl, Namespace: ns})
		}
	}
	return out, nil
}
