package catalog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/aws/smithy-go"
)

// Cloud resources' owners come from their tags: a scan reads the
// catalog's tag keys (and legacy keys) into the catalog, and an ownership
// transfer re-tags the project's resources through a job that resumes
// after a crash. Tagger keeps the provider out of the catalog: AWS's
// Resource Groups Tagging API today, GCP labels later.

// TagsConfiguration names the tags.
type TagsConfiguration struct {
	// ProjectTag names a resource's project (a catalog project id).
	ProjectTag string `yaml:"project_tag"`
	// TeamTag names a resource's team (a team code).
	TeamTag string `yaml:"team_tag"`
	// LegacyTeamTags are older keys holding a team, read when TeamTag is
	// absent (e.g. team, owner).
	LegacyTeamTags []string `yaml:"legacy_team_tags"`
	// LegacyTeamValues maps values of the legacy keys to team codes
	// ("payments-team" → PAY); a value not listed is taken as a code.
	LegacyTeamValues map[string]string `yaml:"legacy_team_values"`
	// AWSRegion is the region of the Resource Groups Tagging API (default:
	// the AWS configuration's).
	AWSRegion string `yaml:"aws_region"`
	// AWSEndpoint overrides the Tagging API's URL (a VPC endpoint).
	AWSEndpoint string `yaml:"aws_endpoint"`
}

// DefaultTagsConfiguration uses katalog:project and katalog:team, and
// reads the legacy keys team and owner.
func DefaultTagsConfiguration() TagsConfiguration {
	return TagsConfiguration{ProjectTag: "katalog:project", TeamTag: "katalog:team", LegacyTeamTags: []string{"team", "owner"}}
}

// Tagged is a resource and its tags.
type Tagged struct {
	ARN  string
	Tags map[string]string
}

// Tagger reads and writes resource tags.
type Tagger interface {
	// Scan calls fn for every resource carrying any of keys.
	Scan(ctx context.Context, keys []string, fn func(Tagged) error) error
	// Tag sets tags on arns (at most MaxTagBatch); failed maps the ARNs
	// the provider refused to why.
	Tag(ctx context.Context, arns []string, tags map[string]string) (failed map[string]string, err error)
}

// MaxTagBatch is the most ARNs TagResources takes at once.
const MaxTagBatch = 20

// AWSTagger is Tagger on the Resource Groups Tagging API.
type AWSTagger struct{ client *tagging.Client }

// NewAWSTagger builds the client from the default AWS configuration (the
// environment, the shared files, the instance role), with the region and
// endpoint of cfg when set.
func NewAWSTagger(ctx context.Context, cfg TagsConfiguration) (*AWSTagger, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.AWSRegion != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.AWSRegion))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return NewAWSTaggerFromConfig(ac, cfg.AWSEndpoint), nil
}

// NewAWSTaggerFromConfig builds the client from ac; endpoint, when set,
// replaces the service's URL.
func NewAWSTaggerFromConfig(ac aws.Config, endpoint string) *AWSTagger {
	return &AWSTagger{client: tagging.NewFromConfig(ac, func(o *tagging.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})}
}

// Scan pages through GetResources once per key (its tag filters are
// ANDed across keys), each resource once.
func (t *AWSTagger) Scan(ctx context.Context, keys []string, fn func(Tagged) error) error {
	seen := map[string]bool{}
	for _, key := range keys {
		p := tagging.NewGetResourcesPaginator(t.client, &tagging.GetResourcesInput{
			TagFilters: []taggingtypes.TagFilter{{Key: aws.String(key)}}, ResourcesPerPage: aws.Int32(100),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("tagging API: GetResources (%s): %w", key, err)
			}
			for _, m := range page.ResourceTagMappingList {
				arn := aws.ToString(m.ResourceARN)
				if seen[arn] {
					continue
				}
				seen[arn] = true
				tags := map[string]string{}
				for _, tg := range m.Tags {
					tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
				if err := fn(Tagged{ARN: arn, Tags: tags}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Tag calls TagResources.
func (t *AWSTagger) Tag(ctx context.Context, arns []string, tags map[string]string) (map[string]string, error) {
	out, err := t.client.TagResources(ctx, &tagging.TagResourcesInput{ResourceARNList: arns, Tags: tags})
	if err != nil {
		return nil, err
	}
	failed := map[string]string{}
	for arn, f := range out.FailedResourcesMap {
		failed[arn] = fmt.Sprintf("%s: %s", f.ErrorCode, aws.ToString(f.ErrorMessage))
	}
	return failed, nil
}

// isThrottling reports whether err is the API asking to slow down.
func isThrottling(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottledException", "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
			return true
		}
	}
	return false
}

// ScanReport is what a tag scan found.
type ScanReport struct {
	Resources int      `json:"resources"`
	Owned     int      `json:"owned"`
	Changes   int      `json:"changes"`
	Problems  []string `json:"problems"`
}

// ScanTags reads the resources carrying the catalog's tag keys into the
// catalog (source tag-scan): a project tag names the project (and so its
// team), a team tag or a legacy one the team.
func (c *Catalog) ScanTags(ctx context.Context, a Actor, t Tagger) (ScanReport, error) {
	cfg := c.cfg.Tags
	rep := ScanReport{Problems: []string{}}
	keys := append([]string{cfg.ProjectTag, cfg.TeamTag}, cfg.LegacyTeamTags...)
	before, err := c.repo.Resources(ctx)
	if err != nil {
		return rep, err
	}
	versions := map[string]int64{}
	for _, r := range before {
		versions[r.ARN] = r.Version
	}
	projects, err := c.repo.Projects(ctx)
	if err != nil {
		return rep, err
	}
	owner := map[string]string{}
	for _, p := range projects {
		owner[p.ID] = p.OwnerTeam
	}
	err = t.Scan(ctx, keys, func(r Tagged) error {
		rep.Resources++
		res := Resource{ARN: r.ARN, Tags: r.Tags}
		if pid := r.Tags[cfg.ProjectTag]; pid != "" {
			if team, ok := owner[pid]; ok {
				res.ProjectID, res.TeamCode = pid, team
			} else {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %s=%s is not a project of the catalog", r.ARN, cfg.ProjectTag, pid))
			}
		}
		if res.TeamCode == "" {
			if v := r.Tags[cfg.TeamTag]; v != "" {
				res.TeamCode = v
			} else {
				for _, k := range cfg.LegacyTeamTags {
					if v := r.Tags[k]; v != "" {
						if code, ok := cfg.LegacyTeamValues[v]; ok {
							v = code
						}
						res.TeamCode = v
						break
					}
				}
			}
		}
		if res.TeamCode != "" {
			rep.Owned++
		}
		if err := c.repo.PutResource(ctx, a, res); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	after, err := c.repo.Resources(ctx)
	if err != nil {
		return rep, err
	}
	for _, r := range after {
		if versions[r.ARN] != r.Version {
			rep.Changes++
		}
	}
	return rep, nil
}

// TransferPlan is what an ownership transfer changes.
type TransferPlan struct {
	Project  string   `json:"project"`
	FromTeam string   `json:"from_team"`
	ToTeam   string   `json:"to_team"`
	Retag    []string `json:"retag"` // ARNs whose team tag changes
	Job      string   `json:"job,omitempty"`
}

// TransferProject moves a project to another team: one catalog change,
// and a re-tag job for the project's resources (their team tag), created
// in the same transaction. With dry, it only returns the plan (the
// diff). RunRetagJobs does the tagging.
func (c *Catalog) TransferProject(ctx context.Context, a Actor, projectID, toTeam string, dry bool) (TransferPlan, error) {
	p, err := c.repo.Project(ctx, projectID)
	if err != nil {
		return TransferPlan{}, err
	}
	if _, err := c.repo.Team(ctx, toTeam); err != nil {
		return TransferPlan{}, err
	}
	plan := TransferPlan{Project: projectID, FromTeam: p.OwnerTeam, ToTeam: toTeam, Retag: []string{}}
	resources, err := c.repo.Resources(ctx)
	if err != nil {
		return plan, err
	}
	for _, r := range resources {
		if r.ProjectID == projectID && r.Tags[c.cfg.Tags.TeamTag] != toTeam {
			plan.Retag = append(plan.Retag, r.ARN)
		}
	}
	sort.Strings(plan.Retag)
	if dry || p.OwnerTeam == toTeam && len(plan.Retag) == 0 {
		return plan, nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	plan.Job = "retag-" + hex.EncodeToString(id[:])
	at := c.repo.ts()
	old := p
	p.OwnerTeam = toTeam
	err = c.repo.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE projects SET owner_team = $1, version = version + 1, source = $2, updated_at = $3 WHERE id = $4 AND version = $5`,
			toTeam, a.Source, at, projectID, old.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("project %q: %w", projectID, ErrConflict)
		}
		if err := audit(ctx, tx, at, a, "project", projectID, "transfer", old, p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retag_jobs (id, project_id, from_team, to_team, subject, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'running', $6, $6)`,
			plan.Job, projectID, old.OwnerTeam, toTeam, a.Subject, at); err != nil {
			return err
		}
		for _, arn := range plan.Retag {
			if _, err := tx.ExecContext(ctx, `INSERT INTO retag_items (job_id, arn, state) VALUES ($1, $2, 'pending')`, plan.Job, arn); err != nil {
				return err
			}
		}
		return audit(ctx, tx, at, a, "retag-job", plan.Job, "create", nil, plan)
	})
	if err != nil {
		return plan, err
	}
	return plan, c.changed(ctx, "project", a.Source)
}

// RetagProgress is a job's state.
type RetagProgress struct {
	Job     string            `json:"job"`
	State   string            `json:"state"` // running, done, failed
	Done    int               `json:"done"`
	Pending int               `json:"pending"`
	Failed  map[string]string `json:"failed"`
}

// retagMaxAttempts bounds the tries of one resource.
const retagMaxAttempts = 5

// RunRetagJobs works through every running re-tag job: batches of at most
// MaxTagBatch ARNs, each batch's outcome saved and audited before the next,
// so a crash resumes at the first batch not recorded. A throttled batch
// waits (backoff doubling from one second, at most a minute) and is tried
// again; a resource the API refuses is tried again in a later pass, up to
// retagMaxAttempts, then recorded as failed with the reason.
func (c *Catalog) RunRetagJobs(ctx context.Context, a Actor, t Tagger, sleep func(context.Context, time.Duration) error) ([]RetagProgress, error) {
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
				return nil
			}
		}
	}
	rows, err := c.repo.db.QueryContext(ctx, `SELECT id, to_team FROM retag_jobs WHERE state = 'running' ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	type job struct{ id, team string }
	var jobs []job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.id, &j.team); err != nil {
			rows.Close()
			return nil, err
		}
		jobs = append(jobs, j)
	}
	rows.Close()
	var out []RetagProgress
	for _, j := range jobs {
		for {
			batch, err := c.pendingItems(ctx, j.id, MaxTagBatch)
			if err != nil {
				return out, err
			}
			if len(batch) == 0 {
				break
			}
			backoff := time.Second
			var failed map[string]string
			for {
				failed, err = t.Tag(ctx, batch, map[string]string{c.cfg.Tags.TeamTag: j.team})
				if err == nil {
					break
				}
				if !isThrottling(err) {
					return out, fmt.Errorf("re-tag job %s: %w (the job resumes where it stopped)", j.id, err)
				}
				if err := sleep(ctx, backoff); err != nil {
					return out, err
				}
				backoff = min(2*backoff, time.Minute)
			}
			if err := c.recordBatch(ctx, a, j.id, j.team, batch, failed); err != nil {
				return out, err
			}
		}
		p, err := c.finishJob(ctx, j.id)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	if len(jobs) > 0 {
		return out, c.refresh(ctx)
	}
	return out, nil
}

func (c *Catalog) pendingItems(ctx context.Context, job string, n int) ([]string, error) {
	rows, err := c.repo.db.QueryContext(ctx, `SELECT arn FROM retag_items WHERE job_id = $1 AND state = 'pending' ORDER BY attempts, arn LIMIT $2`, job, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			return nil, err
		}
		out = append(out, arn)
	}
	return out, rows.Err()
}

// recordBatch saves a batch's outcome: done items get the new team in the
// catalog too; refused ones count an attempt (failed after the last).
func (c *Catalog) recordBatch(ctx context.Context, a Actor, job, team string, batch []string, failed map[string]string) error {
	at := c.repo.ts()
	return c.repo.tx(ctx, func(tx *sql.Tx) error {
		var done []string
		for _, arn := range batch {
			if why, bad := failed[arn]; bad {
				if _, err := tx.ExecContext(ctx, `UPDATE retag_items SET attempts = attempts + 1, error = $1,
  state = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE 'pending' END WHERE job_id = $3 AND arn = $4`, why, retagMaxAttempts, job, arn); err != nil {
					return err
				}
				continue
			}
			done = append(done, arn)
			if _, err := tx.ExecContext(ctx, `UPDATE retag_items SET state = 'done', attempts = attempts + 1, error = '' WHERE job_id = $1 AND arn = $2`, job, arn); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE resources SET team_code = $1, version = version + 1, updated_at = $2 WHERE arn = $3`, team, at, arn); err != nil {
				return err
			}
		}
		return audit(ctx, tx, at, a, "retag-job", job, "batch", nil, map[string]any{"tagged": done, "refused": failed})
	})
}

func (c *Catalog) finishJob(ctx context.Context, job string) (RetagProgress, error) {
	p := RetagProgress{Job: job, Failed: map[string]string{}}
	rows, err := c.repo.db.QueryContext(ctx, `SELECT arn, state, error FROM retag_items WHERE job_id = $1`, job)
	if err != nil {
		return p, err
	}
	for rows.Next() {
		var arn, state, why string
		if err := rows.Scan(&arn, &state, &why); err != nil {
			rows.Close()
			return p, err
		}
		switch state {
		case "done":
			p.Done++
		case "failed":
			p.Failed[arn] = why
		default:
			p.Pending++
		}
	}
	rows.Close()
	p.State = "done"
	if len(p.Failed) > 0 {
		p.State = "failed"
	}
	if p.Pending > 0 {
		p.State = "running"
		return p, nil
	}
	_, err = c.repo.db.ExecContext(ctx, `UPDATE retag_jobs SET state = $1, updated_at = $2 WHERE id = $3`, p.State, c.repo.ts(), job)
	return p, err
}
