package deployer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/furrowdev/furrow/state"
)

// Actions recorded in deploys (and deploy_events).
const (
	ActionDeploy   = "deploy"
	ActionRollback = "rollback"
	ActionRestart  = "restart"
	ActionScale    = "scale"
	ActionTrigger  = "cronjob_trigger"
	ActionPrune    = "prune"
)

// States of a deploy.
const (
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	// StateRefused: another deploy of the project and environment held
	// the lock; nothing was done.
	StateRefused = "refused"
)

// timeFormat has a fixed width so that times compare as strings, in
// SQLite as in PostgreSQL.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func ftime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func ptime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t
}

// Record is one action on a project's environment: a row of deploys.
type Record struct {
	ID          int64  `json:"id"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Action      string `json:"action"`
	State       string `json:"state"`
	// Actor is the API token's subject; ActorID and ActorName the employee
	// the catalog knows by it (empty when it knows none).
	Actor     string `json:"actor"`
	ActorID   string `json:"actor_id,omitempty"`
	ActorName string `json:"actor_name,omitempty"`
	Service   string `json:"service,omitempty"`
	Team      string `json:"team,omitempty"`
	Image     string `json:"image,omitempty"`
	// Spec is the project spec deployed (YAML), SpecFile its name.
	Spec     string `json:"-"`
	SpecFile string `json:"spec_file,omitempty"`
	// SecretVersions are the Secrets Manager version ids used, by the
	// spec's secret name: never values.
	SecretVersions map[string]string `json:"secret_versions,omitempty"`
	ConfigHash     string            `json:"config_hash,omitempty"`
	// RollbackOf is the deploy a rollback restored.
	RollbackOf int64             `json:"rollback_of,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	Cause      string            `json:"cause,omitempty"`
	Message    string            `json:"message,omitempty"`
	CommitSHA  string            `json:"commit_sha,omitempty"`
	CommitTime time.Time         `json:"commit_time,omitzero"`
	StartedAt  time.Time         `json:"started_at"`
	FinishedAt time.Time         `json:"finished_at,omitzero"`
	Targets    []TargetResult    `json:"targets,omitempty"`
}

// Who names the actor as people know them.
func (r Record) Who() string {
	if r.ActorName != "" {
		return r.ActorName
	}
	return r.Actor
}

// Duration is how long the action took (zero while it runs).
func (r Record) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// TargetResult is an action's outcome in one cluster.
type TargetResult struct {
	Cluster    string    `json:"cluster"`
	Region     string    `json:"region"`
	State      string    `json:"state"`
	Cause      string    `json:"cause,omitempty"`
	Message    string    `json:"message,omitempty"`
	LogTail    []string  `json:"log_tail,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// LockError says who holds a project's environment: the answer to a
// second deploy while one runs.
type LockError struct {
	// DeployID is the refused request's own id; Holder* the running one's.
	DeployID    int64
	HolderID    int64
	HolderName  string
	HolderSince time.Time
}

func (e *LockError) Error() string {
	return fmt.Sprintf("deploy %d by %s in progress since %s", e.HolderID, e.HolderName, e.HolderSince.UTC().Format(time.RFC3339))
}

// LogLine is one line of a deploy's live stream.
type LogLine struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Cluster string    `json:"cluster,omitempty"`
	Stage   string    `json:"stage"`
	Message string    `json:"message"`
}

// Store is the deployer's state in the operational store (state migration
// 00007): deploys and their ids, the locks, results per cluster and the
// live stream's lines.
type Store struct {
	db *sql.DB
}

// NewStore uses st's deployer tables.
func NewStore(st *state.Store) *Store { return &Store{db: st.DB()} }

// ErrNotFound is returned for a deploy id that does not exist.
var ErrNotFound = errors.New("no such deploy")

// Begin records an action and takes its project's environment's lock, in
// one transaction: the action gets its id (the deploys table's sequence)
// and runs, or, while another holds the lock, is recorded refused and a
// *LockError names the holder. A holder whose lease expired (its process
// died) is replaced, by an update naming it: of two takers, one wins.
func (s *Store) Begin(ctx context.Context, r Record, now time.Time, lease time.Duration) (Record, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, fmt.Errorf("deployer: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	r.State, r.StartedAt = StateRunning, now
	if r.ID, err = insertRecord(ctx, tx, r); err != nil {
		return r, fmt.Errorf("deployer: begin: %w", err)
	}
	holder := r.Who()
	res, err := tx.ExecContext(ctx, `INSERT INTO deploy_locks (project, environment, deploy_id, holder, since, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (project, environment) DO NOTHING`, r.Project, r.Environment, r.ID, holder, ftime(now), ftime(now.Add(lease)))
	if err != nil {
		return r, fmt.Errorf("deployer: lock: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var held struct {
			id             int64
			holder         string
			since, expires string
		}
		if err := tx.QueryRowContext(ctx, `SELECT deploy_id, holder, since, expires_at FROM deploy_locks WHERE project = $1 AND environment = $2`, r.Project, r.Environment).
			Scan(&held.id, &held.holder, &held.since, &held.expires); err != nil {
			return r, fmt.Errorf("deployer: lock: %w", err)
		}
		taken := false
		if held.expires < ftime(now) {
			res, err := tx.ExecContext(ctx, `UPDATE deploy_locks SET deploy_id = $1, holder = $2, since = $3, expires_at = $4 WHERE project = $5 AND environment = $6 AND deploy_id = $7 AND expires_at = $8`,
				r.ID, holder, ftime(now), ftime(now.Add(lease)), r.Project, r.Environment, held.id, held.expires)
			if err != nil {
				return r, fmt.Errorf("deployer: lock: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				taken = true
				// The dead holder's deploy never finished: say so.
				if _, err := tx.ExecContext(ctx, `UPDATE deploys SET state = $1, cause = 'Abandoned', message = $2, finished_at = $3 WHERE id = $4 AND state = $5`,
					StateFailed, fmt.Sprintf("its lock expired (the process stopped); deploy %d took over", r.ID), ftime(now), held.id, StateRunning); err != nil {
					return r, fmt.Errorf("deployer: lock: %w", err)
				}
			}
		}
		if !taken {
			le := &LockError{DeployID: r.ID, HolderID: held.id, HolderName: held.holder, HolderSince: ptime(held.since)}
			r.State, r.Cause, r.Message, r.FinishedAt = StateRefused, "LockConflict", le.Error(), now
			if _, err := tx.ExecContext(ctx, `UPDATE deploys SET state = $1, cause = $2, message = $3, finished_at = $4 WHERE id = $5`,
				r.State, r.Cause, r.Message, ftime(now), r.ID); err != nil {
				return r, fmt.Errorf("deployer: lock: %w", err)
			}
			if err := tx.Commit(); err != nil {
				return r, fmt.Errorf("deployer: lock: %w", err)
			}
			return r, le
		}
	}
	if err := tx.Commit(); err != nil {
		return r, fmt.Errorf("deployer: begin: %w", err)
	}
	return r, nil
}

func insertRecord(ctx context.Context, tx *sql.Tx, r Record) (int64, error) {
	sv, err := json.Marshal(orEmpty(r.SecretVersions))
	if err != nil {
		return 0, err
	}
	params, err := json.Marshal(orEmpty(r.Params))
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO deploys (project, environment, action, state, actor, actor_id, actor_name, service, team, image, spec, spec_file,
  secret_versions, config_hash, rollback_of, params, cause, message, commit_sha, commit_time, started_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id`,
		r.Project, r.Environment, r.Action, r.State, r.Actor, r.ActorID, r.ActorName, r.Service, r.Team, r.Image, r.Spec, r.SpecFile,
		string(sv), r.ConfigHash, r.RollbackOf, string(params), r.Cause, r.Message, r.CommitSHA, ftime(r.CommitTime), ftime(r.StartedAt), ftime(r.FinishedAt)).Scan(&id)
	return id, err
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Renew extends a running deploy's lock; false when it no longer holds it
// (its lease expired and another took it over).
func (s *Store) Renew(ctx context.Context, r Record, now time.Time, lease time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE deploy_locks SET expires_at = $1 WHERE project = $2 AND environment = $3 AND deploy_id = $4`,
		ftime(now.Add(lease)), r.Project, r.Environment, r.ID)
	if err != nil {
		return false, fmt.Errorf("deployer: renew: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Update saves what an action learnt while it ran (image, spec, secret
// versions, team…), before it finishes.
func (s *Store) Update(ctx context.Context, r Record) error {
	sv, err := json.Marshal(orEmpty(r.SecretVersions))
	if err != nil {
		return err
	}
	params, err := json.Marshal(orEmpty(r.Params))
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE deploys SET service = $1, team = $2, image = $3, spec = $4, spec_file = $5, secret_versions = $6, config_hash = $7,
rollback_of = $8, params = $9, commit_sha = $10, commit_time = $11 WHERE id = $12`,
		r.Service, r.Team, r.Image, r.Spec, r.SpecFile, string(sv), r.ConfigHash, r.RollbackOf, string(params), r.CommitSHA, ftime(r.CommitTime), r.ID)
	if err != nil {
		return fmt.Errorf("deployer: update %d: %w", r.ID, err)
	}
	return nil
}

// Finish records an action's end and releases its lock, in one
// transaction.
func (s *Store) Finish(ctx context.Context, r Record, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deployer: finish: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `UPDATE deploys SET state = $1, cause = $2, message = $3, finished_at = $4 WHERE id = $5`,
		r.State, r.Cause, r.Message, ftime(now), r.ID); err != nil {
		return fmt.Errorf("deployer: finish: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deploy_locks WHERE project = $1 AND environment = $2 AND deploy_id = $3`, r.Project, r.Environment, r.ID); err != nil {
		return fmt.Errorf("deployer: finish: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("deployer: finish: %w", err)
	}
	return nil
}

// SetTarget records (or updates) an action's outcome in one cluster.
func (s *Store) SetTarget(ctx context.Context, id int64, t TargetResult) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO deploy_targets (deploy_id, cluster, region, state, cause, message, log_tail, started_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (deploy_id, cluster) DO UPDATE SET state = excluded.state, cause = excluded.cause, message = excluded.message,
  log_tail = excluded.log_tail, finished_at = excluded.finished_at`,
		id, t.Cluster, t.Region, t.State, t.Cause, t.Message, strings.Join(t.LogTail, "\n"), ftime(t.StartedAt), ftime(t.FinishedAt))
	if err != nil {
		return fmt.Errorf("deployer: target %s: %w", t.Cluster, err)
	}
	return nil
}

// AppendLog adds a line to a deploy's stream and returns it numbered.
func (s *Store) AppendLog(ctx context.Context, id int64, l LogLine) (LogLine, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return l, fmt.Errorf("deployer: log: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM deploy_log WHERE deploy_id = $1`, id).Scan(&l.Seq); err != nil {
		return l, fmt.Errorf("deployer: log: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deploy_log (deploy_id, seq, at, cluster, stage, message) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, l.Seq, ftime(l.At), l.Cluster, l.Stage, l.Message); err != nil {
		return l, fmt.Errorf("deployer: log: %w", err)
	}
	return l, tx.Commit()
}

// Log returns a deploy's stream after line seq.
func (s *Store) Log(ctx context.Context, id, after int64) ([]LogLine, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, cluster, stage, message FROM deploy_log WHERE deploy_id = $1 AND seq > $2 ORDER BY seq`, id, after)
	if err != nil {
		return nil, fmt.Errorf("deployer: log: %w", err)
	}
	defer rows.Close()
	var out []LogLine
	for rows.Next() {
		var l LogLine
		var at string
		if err := rows.Scan(&l.Seq, &at, &l.Cluster, &l.Stage, &l.Message); err != nil {
			return nil, fmt.Errorf("deployer: log: %w", err)
		}
		l.At = ptime(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

const recordColumns = `id, project, environment, action, state, actor, actor_id, actor_name, service, team, image, spec, spec_file,
  secret_versions, config_hash, rollback_of, params, cause, message, commit_sha, commit_time, started_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (Record, error) {
	var r Record
	var sv, params, commitTime, started, finished string
	if err := sc.Scan(&r.ID, &r.Project, &r.Environment, &r.Action, &r.State, &r.Actor, &r.ActorID, &r.ActorName, &r.Service, &r.Team, &r.Image,
		&r.Spec, &r.SpecFile, &sv, &r.ConfigHash, &r.RollbackOf, &params, &r.Cause, &r.Message, &r.CommitSHA, &commitTime, &started, &finished); err != nil {
		return r, err
	}
	_ = json.Unmarshal([]byte(sv), &r.SecretVersions)
	_ = json.Unmarshal([]byte(params), &r.Params)
	r.CommitTime, r.StartedAt, r.FinishedAt = ptime(commitTime), ptime(started), ptime(finished)
	return r, nil
}

// Get returns a deploy with its results per cluster.
func (s *Store) Get(ctx context.Context, id int64) (Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM deploys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("deployer: deploy %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("deployer: deploy %d: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT cluster, region, state, cause, message, log_tail, started_at, finished_at FROM deploy_targets WHERE deploy_id = $1 ORDER BY cluster`, id)
	if err != nil {
		return r, fmt.Errorf("deployer: deploy %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t TargetResult
		var tail, started, finished string
		if err := rows.Scan(&t.Cluster, &t.Region, &t.State, &t.Cause, &t.Message, &tail, &started, &finished); err != nil {
			return r, fmt.Errorf("deployer: deploy %d: %w", id, err)
		}
		if tail != "" {
			t.LogTail = strings.Split(tail, "\n")
		}
		t.StartedAt, t.FinishedAt = ptime(started), ptime(finished)
		r.Targets = append(r.Targets, t)
	}
	return r, rows.Err()
}

// List returns a project's actions, newest first (all projects when
// project is empty; all environments when env is).
func (s *Store) List(ctx context.Context, project, env string, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+recordColumns+` FROM deploys
WHERE (CAST($1 AS TEXT) = '' OR project = $1) AND (CAST($2 AS TEXT) = '' OR environment = $2) ORDER BY id DESC LIMIT $3`, project, env, limit)
	if err != nil {
		return nil, fmt.Errorf("deployer: history: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("deployer: history: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestDeploy returns the newest deploy or rollback of a project's
// environment that ran (refused requests left out), whatever its outcome.
func (s *Store) LatestDeploy(ctx context.Context, project, env string) (Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM deploys
WHERE project = $1 AND environment = $2 AND action IN ('deploy', 'rollback') AND state <> 'refused' ORDER BY id DESC LIMIT 1`, project, env))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("deployer: no deploy of %s/%s: %w", project, env, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("deployer: latest deploy: %w", err)
	}
	return r, nil
}

// LastGood returns the newest successful deploy or rollback of a project's
// environment older than before (0: any), the revision a rollback goes
// back to; ErrNotFound when there is none.
func (s *Store) LastGood(ctx context.Context, project, env string, before int64) (Record, error) {
	if before <= 0 {
		before = 1 << 62
	}
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM deploys
WHERE project = $1 AND environment = $2 AND action IN ('deploy', 'rollback') AND state = 'succeeded' AND id < $3 ORDER BY id DESC LIMIT 1`, project, env, before))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("deployer: no successful deploy of %s/%s before %d: %w", project, env, before, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("deployer: last good: %w", err)
	}
	return s.Get(ctx, r.ID) // with its targets
}
