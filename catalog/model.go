package catalog

// Team is keyed by its stable code from the HR system: a rename or a
// reorganisation changes this one row, and everything keyed by the code
// (projects, alerts, cost) follows.
type Team struct {
	Code         string   `json:"code" yaml:"code"`
	Name         string   `json:"name" yaml:"name"`
	ParentCode   string   `json:"parent_code,omitempty" yaml:"parent_code"`
	SlackChannel string   `json:"slack_channel,omitempty" yaml:"slack_channel"`
	Oncall       string   `json:"oncall,omitempty" yaml:"oncall"`
	Members      []string `json:"members,omitempty" yaml:"members"` // employee ids
	Archived     bool     `json:"archived,omitempty" yaml:"-"`
	Source       string   `json:"source,omitempty" yaml:"-"`
	Version      int64    `json:"version,omitempty" yaml:"-"`
	UpdatedAt    string   `json:"updated_at,omitempty" yaml:"-"`
}

// Person is an employee: the deployer records deploys by employee id and
// alerting mentions people by their Slack id.
type Person struct {
	EmployeeID  string   `json:"employee_id" yaml:"employee_id"`
	Name        string   `json:"name" yaml:"name"`
	Email       string   `json:"email,omitempty" yaml:"email"`
	SlackUserID string   `json:"slack_user_id,omitempty" yaml:"slack_user_id"`
	Teams       []string `json:"teams,omitempty" yaml:"teams"` // team codes
	Archived    bool     `json:"archived,omitempty" yaml:"-"`
	Source      string   `json:"source,omitempty" yaml:"-"`
	Version     int64    `json:"version,omitempty" yaml:"-"`
	UpdatedAt   string   `json:"updated_at,omitempty" yaml:"-"`
}

// Namespace is a Kubernetes namespace of a cluster.
type Namespace struct {
	Cluster   string `json:"cluster" yaml:"cluster"`
	Namespace string `json:"namespace" yaml:"namespace"`
}

// Project is a service or system, owned by one team, running in
// namespaces.
type Project struct {
	ID         string            `json:"id" yaml:"id"`
	Name       string            `json:"name" yaml:"name"`
	OwnerTeam  string            `json:"owner_team" yaml:"owner_team"`
	Tier       string            `json:"tier,omitempty" yaml:"tier"`
	Language   string            `json:"language,omitempty" yaml:"language"`
	SLO        string            `json:"slo,omitempty" yaml:"slo"`
	Repos      []string          `json:"repos,omitempty" yaml:"repos"`
	Links      map[string]string `json:"links,omitempty" yaml:"links"` // dashboard, logs, runbook…
	Namespaces []Namespace       `json:"namespaces,omitempty" yaml:"namespaces"`
	Archived   bool              `json:"archived,omitempty" yaml:"-"`
	Source     string            `json:"source,omitempty" yaml:"-"`
	Version    int64             `json:"version,omitempty" yaml:"-"`
	UpdatedAt  string            `json:"updated_at,omitempty" yaml:"-"`
}

// Owner answers "who owns this namespace?": the project, its team and how
// to reach the team.
type Owner struct {
	Cluster      string `json:"cluster"`
	Namespace    string `json:"namespace"`
	Project      string `json:"project"`
	Team         string `json:"team"`
	TeamName     string `json:"team_name"`
	SlackChannel string `json:"slack_channel,omitempty"`
	Oncall       string `json:"oncall,omitempty"`
	// TeamArchived: the team left HR; the ownership needs a new owner.
	TeamArchived bool `json:"team_archived,omitempty"`
}

// AuditEntry is one change of the catalog.
type AuditEntry struct {
	ID      int64  `json:"id"`
	At      string `json:"at"`
	Subject string `json:"subject"` // who: a token's subject (employee id or service)
	Source  string `json:"source"`  // api, hr-sync, backstage, tag-scan
	Kind    string `json:"kind"`    // team, person, project
	Key     string `json:"key"`
	Action  string `json:"action"` // create, update, archive
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
}

// Actor is who makes a change and through what.
type Actor struct {
	Subject string
	Source  string
}

// Resource is a cloud resource and its owner, from its tags or an import.
type Resource struct {
	ARN       string            `json:"arn"`
	ProjectID string            `json:"project_id,omitempty"`
	TeamCode  string            `json:"team_code,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Source    string            `json:"source,omitempty"`
	Version   int64             `json:"version,omitempty"`
	UpdatedAt string            `json:"updated_at,omitempty"`
}
