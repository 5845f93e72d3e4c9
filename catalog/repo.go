package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/furrowdev/furrow/state"
)

// Errors of the catalog's writes.
var (
	// ErrNotFound: no such team, person or project.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the row changed since the version the writer read
	// (If-Match); read it again.
	ErrConflict = errors.New("changed since you read it")
	// ErrInvalid: a field is missing or malformed.
	ErrInvalid = errors.New("invalid")
)

// repo is the catalog's tables in the operational store.
type repo struct {
	db  *sql.DB
	now func() time.Time
}

func (r *repo) ts() string { return r.now().UTC().Format(time.RFC3339Nano) }

// tx runs fn in a transaction.
func (r *repo) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func audit(ctx context.Context, tx *sql.Tx, at string, a Actor, kind, key, action string, before, after any) error {
	enc := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (at, subject, source, kind, key, action, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		at, a.Subject, a.Source, kind, key, action, enc(before), enc(after))
	return err
}

// ---- teams

func scanTeams(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, where string, args ...any) ([]Team, error) {
	rows, err := q.QueryContext(ctx, `SELECT code, name, parent_code, slack_channel, oncall, archived, source, version, updated_at FROM teams `+where+` ORDER BY code`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Team
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.Code, &t.Name, &t.ParentCode, &t.SlackChannel, &t.Oncall, &t.Archived, &t.Source, &t.Version, &t.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		m, err := members(ctx, q, out[i].Code)
		if err != nil {
			return nil, err
		}
		out[i].Members = m
	}
	return out, nil
}

func members(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, code string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT employee_id FROM team_members WHERE team_code = $1 ORDER BY employee_id`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Teams lists the teams (archived ones too when all is set).
func (r *repo) Teams(ctx context.Context, all bool) ([]Team, error) {
	where := "WHERE NOT archived"
	if all {
		where = ""
	}
	return scanTeams(ctx, r.db, where)
}

// Team reads one team.
func (r *repo) Team(ctx context.Context, code string) (Team, error) {
	ts, err := scanTeams(ctx, r.db, "WHERE code = $1", code)
	if err != nil {
		return Team{}, err
	}
	if len(ts) == 0 {
		return Team{}, fmt.Errorf("team %q: %w", code, ErrNotFound)
	}
	return ts[0], nil
}

func validCode(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:/", c)) {
			return false
		}
	}
	return true
}

// PutTeam creates t, or updates it when ifMatch is its current version
// (0 creates only; -1 writes whatever the version, for syncs). It returns
// the stored team.
func (r *repo) PutTeam(ctx context.Context, a Actor, t Team, ifMatch int64) (Team, error) {
	if !validCode(t.Code) || strings.TrimSpace(t.Name) == "" {
		return Team{}, fmt.Errorf("%w: a team needs a code (letters, digits, - _ . : /) and a name", ErrInvalid)
	}
	at := r.ts()
	err := r.tx(ctx, func(tx *sql.Tx) error {
		cur, err := scanTeams(ctx, tx, "WHERE code = $1", t.Code)
		if err != nil {
			return err
		}
		t.Source, t.UpdatedAt = a.Source, at
		sort.Strings(t.Members)
		if len(cur) == 0 {
			if ifMatch > 0 {
				return fmt.Errorf("team %q: %w", t.Code, ErrNotFound)
			}
			t.Version = 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO teams (code, name, parent_code, slack_channel, oncall, archived, source, version, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, t.Code, t.Name, t.ParentCode, t.SlackChannel, t.Oncall, t.Archived, t.Source, t.Version, t.UpdatedAt); err != nil {
				if state.IsUniqueViolation(err) {
					return fmt.Errorf("team %q: %w", t.Code, ErrConflict)
				}
				return err
			}
			if err := setMembers(ctx, tx, t.Code, t.Members); err != nil {
				return err
			}
			return audit(ctx, tx, at, a, "team", t.Code, "create", nil, t)
		}
		old := cur[0]
		if ifMatch == 0 {
			return fmt.Errorf("team %q exists (version %d): %w", t.Code, old.Version, ErrConflict)
		}
		if ifMatch > 0 && ifMatch != old.Version {
			return fmt.Errorf("team %q is at version %d, not %d: %w", t.Code, old.Version, ifMatch, ErrConflict)
		}
		if sameTeam(old, t) {
			t = old
			return nil
		}
		t.Version = old.Version + 1
		if err := updatedOne(tx.ExecContext(ctx, `UPDATE teams SET name = $1, parent_code = $2, slack_channel = $3, oncall = $4, archived = $5, source = $6, version = $7, updated_at = $8
WHERE code = $9 AND version = $10`, t.Name, t.ParentCode, t.SlackChannel, t.Oncall, t.Archived, t.Source, t.Version, t.UpdatedAt, t.Code, old.Version)); err != nil {
			return fmt.Errorf("team %q: %w", t.Code, err)
		}
		if err := setMembers(ctx, tx, t.Code, t.Members); err != nil {
			return err
		}
		action := "update"
		if t.Archived && !old.Archived {
			action = "archive"
		}
		return audit(ctx, tx, at, a, "team", t.Code, action, old, t)
	})
	return t, err
}

// updatedOne checks that an UPDATE … WHERE version = old changed its row:
// none means another writer changed it first.
func updatedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return ErrConflict
	}
	return nil
}

func sameTeam(a, b Team) bool {
	return a.Name == b.Name && a.ParentCode == b.ParentCode && a.SlackChannel == b.SlackChannel && a.Oncall == b.Oncall &&
		a.Archived == b.Archived && strings.Join(a.Members, ",") == strings.Join(b.Members, ",")
}

func setMembers(ctx context.Context, tx *sql.Tx, code string, ids []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE team_code = $1`, code); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_code, employee_id) VALUES ($1, $2)`, code, id); err != nil {
			return err
		}
	}
	return nil
}

// ---- people

// People lists people with their teams.
func (r *repo) People(ctx context.Context) ([]Person, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT employee_id, name, email, slack_user_id, archived, source, version, updated_at FROM people ORDER BY employee_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.EmployeeID, &p.Name, &p.Email, &p.SlackUserID, &p.Archived, &p.Source, &p.Version, &p.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	teams, err := r.db.QueryContext(ctx, `SELECT employee_id, team_code FROM team_members ORDER BY team_code`)
	if err != nil {
		return nil, err
	}
	defer teams.Close()
	byID := map[string][]string{}
	for teams.Next() {
		var id, code string
		if err := teams.Scan(&id, &code); err != nil {
			return nil, err
		}
		byID[id] = append(byID[id], code)
	}
	for i := range out {
		out[i].Teams = byID[out[i].EmployeeID]
	}
	return out, teams.Err()
}

// PutPerson creates or updates a person (ifMatch as for PutTeam). Team
// memberships are the teams' (PutTeam); a person's Teams are read only.
func (r *repo) PutPerson(ctx context.Context, a Actor, p Person, ifMatch int64) (Person, error) {
	if !validCode(p.EmployeeID) || strings.TrimSpace(p.Name) == "" {
		return Person{}, fmt.Errorf("%w: a person needs an employee id and a name", ErrInvalid)
	}
	at := r.ts()
	err := r.tx(ctx, func(tx *sql.Tx) error {
		var old Person
		err := tx.QueryRowContext(ctx, `SELECT employee_id, name, email, slack_user_id, archived, source, version, updated_at FROM people WHERE employee_id = $1`, p.EmployeeID).
			Scan(&old.EmployeeID, &old.Name, &old.Email, &old.SlackUserID, &old.Archived, &old.Source, &old.Version, &old.UpdatedAt)
		p.Source, p.UpdatedAt = a.Source, at
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if ifMatch > 0 {
				return fmt.Errorf("person %q: %w", p.EmployeeID, ErrNotFound)
			}
			p.Version = 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO people (employee_id, name, email, slack_user_id, archived, source, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				p.EmployeeID, p.Name, p.Email, p.SlackUserID, p.Archived, p.Source, p.Version, p.UpdatedAt); err != nil {
				if state.IsUniqueViolation(err) {
					return fmt.Errorf("person %q was created meanwhile: %w", p.EmployeeID, ErrConflict)
				}
				return err
			}
			return audit(ctx, tx, at, a, "person", p.EmployeeID, "create", nil, p)
		case err != nil:
			return err
		}
		if ifMatch == 0 {
			return fmt.Errorf("person %q exists (version %d): %w", p.EmployeeID, old.Version, ErrConflict)
		}
		if ifMatch > 0 && ifMatch != old.Version {
			return fmt.Errorf("person %q is at version %d, not %d: %w", p.EmployeeID, old.Version, ifMatch, ErrConflict)
		}
		if old.Name == p.Name && old.Email == p.Email && old.SlackUserID == p.SlackUserID && old.Archived == p.Archived {
			p = old
			return nil
		}
		p.Version = old.Version + 1
		if err := updatedOne(tx.ExecContext(ctx, `UPDATE people SET name = $1, email = $2, slack_user_id = $3, archived = $4, source = $5, version = $6, updated_at = $7 WHERE employee_id = $8 AND version = $9`,
			p.Name, p.Email, p.SlackUserID, p.Archived, p.Source, p.Version, p.UpdatedAt, p.EmployeeID, old.Version)); err != nil {
			return fmt.Errorf("person %q: %w", p.EmployeeID, err)
		}
		return audit(ctx, tx, at, a, "person", p.EmployeeID, "update", old, p)
	})
	return p, err
}

// ---- projects

func (r *repo) scanProjects(ctx context.Context, where string, args ...any) ([]Project, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, name, owner_team, tier, language, slo, repos, links, archived, source, version, updated_at FROM projects `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		var repos, links string
		if err := rows.Scan(&p.ID, &p.Name, &p.OwnerTeam, &p.Tier, &p.Language, &p.SLO, &repos, &links, &p.Archived, &p.Source, &p.Version, &p.UpdatedAt); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(repos), &p.Repos)
		_ = json.Unmarshal([]byte(links), &p.Links)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ns, err := r.db.QueryContext(ctx, `SELECT project_id, cluster, namespace FROM project_namespaces ORDER BY cluster, namespace`)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	byID := map[string][]Namespace{}
	for ns.Next() {
		var id string
		var n Namespace
		if err := ns.Scan(&id, &n.Cluster, &n.Namespace); err != nil {
			return nil, err
		}
		byID[id] = append(byID[id], n)
	}
	for i := range out {
		out[i].Namespaces = byID[out[i].ID]
	}
	return out, ns.Err()
}

// Projects lists the projects with their namespaces.
func (r *repo) Projects(ctx context.Context) ([]Project, error) { return r.scanProjects(ctx, "") }

// Project reads one project.
func (r *repo) Project(ctx context.Context, id string) (Project, error) {
	ps, err := r.scanProjects(ctx, "WHERE id = $1", id)
	if err != nil {
		return Project{}, err
	}
	if len(ps) == 0 {
		return Project{}, fmt.Errorf("project %q: %w", id, ErrNotFound)
	}
	return ps[0], nil
}

// PutProject creates or updates a project and its namespaces (ifMatch as
// for PutTeam). A namespace belongs to one project: claiming one another
// project holds is a conflict.
func (r *repo) PutProject(ctx context.Context, a Actor, p Project, ifMatch int64) (Project, error) {
	if !validCode(p.ID) || strings.TrimSpace(p.Name) == "" || !validCode(p.OwnerTeam) {
		return Project{}, fmt.Errorf("%w: a project needs an id, a name and an owner team code", ErrInvalid)
	}
	for _, n := range p.Namespaces {
		if n.Cluster == "" || n.Namespace == "" {
			return Project{}, fmt.Errorf("%w: a namespace needs its cluster and its name", ErrInvalid)
		}
	}
	at := r.ts()
	err := r.tx(ctx, func(tx *sql.Tx) error {
		var team string
		if err := tx.QueryRowContext(ctx, `SELECT code FROM teams WHERE code = $1`, p.OwnerTeam).Scan(&team); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: owner team %q is not in the catalog", ErrInvalid, p.OwnerTeam)
			}
			return err
		}
		cur, err := r.scanProjectsTx(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		p.Source, p.UpdatedAt = a.Source, at
		repos, _ := json.Marshal(nonNilStrings(p.Repos))
		links, _ := json.Marshal(nonNilMap(p.Links))
		if cur == nil {
			if ifMatch > 0 {
				return fmt.Errorf("project %q: %w", p.ID, ErrNotFound)
			}
			p.Version = 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO projects (id, name, owner_team, tier, language, slo, repos, links, archived, source, version, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, p.ID, p.Name, p.OwnerTeam, p.Tier, p.Language, p.SLO, string(repos), string(links), p.Archived, p.Source, p.Version, p.UpdatedAt); err != nil {
				if state.IsUniqueViolation(err) {
					return fmt.Errorf("project %q was created meanwhile: %w", p.ID, ErrConflict)
				}
				return err
			}
			if err := setNamespaces(ctx, tx, p.ID, p.Namespaces); err != nil {
				return err
			}
			return audit(ctx, tx, at, a, "project", p.ID, "create", nil, p)
		}
		old := *cur
		if ifMatch == 0 {
			return fmt.Errorf("project %q exists (version %d): %w", p.ID, old.Version, ErrConflict)
		}
		if ifMatch > 0 && ifMatch != old.Version {
			return fmt.Errorf("project %q is at version %d, not %d: %w", p.ID, old.Version, ifMatch, ErrConflict)
		}
		if sameProject(old, p) {
			p = old
			return nil
		}
		p.Version = old.Version + 1
		if err := updatedOne(tx.ExecContext(ctx, `UPDATE projects SET name = $1, owner_team = $2, tier = $3, language = $4, slo = $5, repos = $6, links = $7, archived = $8, source = $9, version = $10, updated_at = $11
WHERE id = $12 AND version = $13`, p.Name, p.OwnerTeam, p.Tier, p.Language, p.SLO, string(repos), string(links), p.Archived, p.Source, p.Version, p.UpdatedAt, p.ID, old.Version)); err != nil {
			return fmt.Errorf("project %q: %w", p.ID, err)
		}
		if err := setNamespaces(ctx, tx, p.ID, p.Namespaces); err != nil {
			return err
		}
		action := "update"
		if p.Archived && !old.Archived {
			action = "archive"
		} else if old.OwnerTeam != p.OwnerTeam {
			action = "transfer"
		}
		return audit(ctx, tx, at, a, "project", p.ID, action, old, p)
	})
	return p, err
}

// sameProject reports whether writing b over a would change nothing.
func sameProject(a, b Project) bool {
	key := func(p Project) string {
		ns := make([]string, len(p.Namespaces))
		for i, n := range p.Namespaces {
			ns[i] = n.Cluster + "/" + n.Namespace
		}
		sort.Strings(ns)
		repos, _ := json.Marshal(nonNilStrings(p.Repos))
		links, _ := json.Marshal(nonNilMap(p.Links))
		return strings.Join([]string{p.Name, p.OwnerTeam, p.Tier, p.Language, p.SLO, string(repos), string(links),
			strconv.FormatBool(p.Archived), strings.Join(ns, ",")}, "\x00")
	}
	return key(a) == key(b)
}

func (r *repo) scanProjectsTx(ctx context.Context, tx *sql.Tx, id string) (*Project, error) {
	var p Project
	var repos, links string
	err := tx.QueryRowContext(ctx, `SELECT id, name, owner_team, tier, language, slo, repos, links, archived, source, version, updated_at FROM projects WHERE id = $1`, id).
		Scan(&p.ID, &p.Name, &p.OwnerTeam, &p.Tier, &p.Language, &p.SLO, &repos, &links, &p.Archived, &p.Source, &p.Version, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(repos), &p.Repos)
	_ = json.Unmarshal([]byte(links), &p.Links)
	rows, err := tx.QueryContext(ctx, `SELECT cluster, namespace FROM project_namespaces WHERE project_id = $1 ORDER BY cluster, namespace`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n Namespace
		if err := rows.Scan(&n.Cluster, &n.Namespace); err != nil {
			return nil, err
		}
		p.Namespaces = append(p.Namespaces, n)
	}
	return &p, rows.Err()
}

func setNamespaces(ctx context.Context, tx *sql.Tx, id string, ns []Namespace) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM project_namespaces WHERE project_id = $1`, id); err != nil {
		return err
	}
	for _, n := range ns {
		var holder string
		err := tx.QueryRowContext(ctx, `SELECT project_id FROM project_namespaces WHERE cluster = $1 AND namespace = $2`, n.Cluster, n.Namespace).Scan(&holder)
		if err == nil {
			return fmt.Errorf("namespace %s/%s belongs to project %q: %w", n.Cluster, n.Namespace, holder, ErrConflict)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_namespaces (cluster, namespace, project_id) VALUES ($1, $2, $3)`, n.Cluster, n.Namespace, id); err != nil {
			if state.IsUniqueViolation(err) { // another writer claimed it meanwhile
				return fmt.Errorf("namespace %s/%s was claimed meanwhile: %w", n.Cluster, n.Namespace, ErrConflict)
			}
			return err
		}
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ---- owners and audit

// Owners lists the owner of every catalogued namespace.
func (r *repo) Owners(ctx context.Context) ([]Owner, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT n.cluster, n.namespace, p.id, t.code, t.name, t.slack_channel, t.oncall, t.archived
FROM project_namespaces n JOIN projects p ON p.id = n.project_id JOIN teams t ON t.code = p.owner_team
WHERE NOT p.archived ORDER BY n.cluster, n.namespace`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Owner
	for rows.Next() {
		var o Owner
		if err := rows.Scan(&o.Cluster, &o.Namespace, &o.Project, &o.Team, &o.TeamName, &o.SlackChannel, &o.Oncall, &o.TeamArchived); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Audit lists changes, newest first, optionally of one kind and key.
func (r *repo) Audit(ctx context.Context, kind, key string, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	rows, err := r.db.QueryContext(ctx, `SELECT id, at, subject, source, kind, key, action, before, after FROM audit
WHERE (CAST($1 AS TEXT) = '' OR kind = $1) AND (CAST($2 AS TEXT) = '' OR key = $2) ORDER BY id DESC LIMIT $3`, kind, key, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Subject, &e.Source, &e.Kind, &e.Key, &e.Action, &e.Before, &e.After); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// IsMember reports whether employee is a member of team.
func (r *repo) IsMember(ctx context.Context, team, employee string) (bool, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM team_members WHERE team_code = $1 AND employee_id = $2`, team, employee).Scan(&n)
	return n > 0, err
}

// ---- resources

// PutResource records a resource's owner (upsert), audited.
func (r *repo) PutResource(ctx context.Context, a Actor, res Resource) error {
	if !strings.HasPrefix(res.ARN, "arn:") {
		return fmt.Errorf("%w: %q is not an ARN", ErrInvalid, res.ARN)
	}
	tags, _ := json.Marshal(nonNilMap(res.Tags))
	at := r.ts()
	return r.tx(ctx, func(tx *sql.Tx) error {
		var old Resource
		var oldTags string
		err := tx.QueryRowContext(ctx, `SELECT arn, project_id, team_code, tags, source, version FROM resources WHERE arn = $1`, res.ARN).
			Scan(&old.ARN, &old.ProjectID, &old.TeamCode, &oldTags, &old.Source, &old.Version)
		res.Source, res.UpdatedAt = a.Source, at
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res.Version = 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO resources (arn, project_id, team_code, tags, source, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				res.ARN, res.ProjectID, res.TeamCode, string(tags), res.Source, res.Version, res.UpdatedAt); err != nil {
				return err
			}
			return audit(ctx, tx, at, a, "resource", res.ARN, "create", nil, res)
		case err != nil:
			return err
		}
		if old.ProjectID == res.ProjectID && old.TeamCode == res.TeamCode && oldTags == string(tags) {
			return nil
		}
		res.Version = old.Version + 1
		if _, err := tx.ExecContext(ctx, `UPDATE resources SET project_id = $1, team_code = $2, tags = $3, source = $4, version = $5, updated_at = $6 WHERE arn = $7`,
			res.ProjectID, res.TeamCode, string(tags), res.Source, res.Version, res.UpdatedAt, res.ARN); err != nil {
			return err
		}
		return audit(ctx, tx, at, a, "resource", res.ARN, "update", old, res)
	})
}

// Resources lists the cloud resources and their owners.
func (r *repo) Resources(ctx context.Context) ([]Resource, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT arn, project_id, team_code, tags, source, version, updated_at FROM resources ORDER BY arn`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Resource{}
	for rows.Next() {
		var res Resource
		var tags string
		if err := rows.Scan(&res.ARN, &res.ProjectID, &res.TeamCode, &tags, &res.Source, &res.Version, &res.UpdatedAt); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(tags), &res.Tags)
		out = append(out, res)
	}
	return out, rows.Err()
}
