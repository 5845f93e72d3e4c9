package catalog

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// HRConfiguration is where teams and people come from: a file (YAML, JSON
// or CSV) or an HTTP endpoint serving JSON, read with a field mapping.
type HRConfiguration struct {
	// File is a YAML, JSON or CSV file (by extension).
	File string `yaml:"file"`
	// URL is an HTTP endpoint answering JSON (GET).
	URL string `yaml:"url"`
	// Interval between syncs in furrow serve; 0 syncs only on demand
	// (furrow catalog sync).
	Interval time.Duration `yaml:"interval"`
	// Mapping names the source's fields (dotted paths into each record;
	// CSV: column names).
	Mapping HRMapping `yaml:"mapping"`
}

// HRMapping names the fields of the HR export.
type HRMapping struct {
	// People is the path of the list of people in a JSON/YAML document
	// ("" for a document that is the list itself).
	People string `yaml:"people"`
	// EmployeeID is the field of a person's stable employee id.
	EmployeeID string `yaml:"employee_id"`
	// Name is the field of a person's name.
	Name string `yaml:"name"`
	// Email is the field of a person's email address.
	Email string `yaml:"email"`
	// SlackUserID is the field of a person's Slack user id (U…).
	SlackUserID string `yaml:"slack_user_id"`
	// TeamCode is the field of the person's team's stable code.
	TeamCode string `yaml:"team_code"`
	// TeamName is the field of the team's display name.
	TeamName string `yaml:"team_name"`
	// ParentCode is the field of the team's parent team code.
	ParentCode string `yaml:"parent_code"`
	// SlackChannel is the field of the team's Slack channel.
	SlackChannel string `yaml:"slack_channel"`
	// Oncall is the field of the team's on-call handle.
	Oncall string `yaml:"oncall"`
}

// DefaultHRConfiguration maps the field names of furrow's own HR format
// (one record per person with their team).
func DefaultHRConfiguration() HRConfiguration {
	return HRConfiguration{Mapping: HRMapping{
		People: "people", EmployeeID: "employee_id", Name: "name", Email: "email", SlackUserID: "slack_user_id",
		TeamCode: "team.code", TeamName: "team.name", ParentCode: "team.parent", SlackChannel: "team.slack_channel", Oncall: "team.oncall",
	}}
}

// Validate checks the source.
func (c HRConfiguration) Validate() error {
	if c.File != "" && c.URL != "" {
		return errors.New("hr: set file or url, not both")
	}
	if c.Mapping.EmployeeID == "" || c.Mapping.TeamCode == "" {
		return errors.New("hr.mapping: employee_id and team_code are required")
	}
	if c.Interval < 0 {
		return errors.New("hr.interval must not be negative")
	}
	return nil
}

// Source names the configured source, or "".
func (c HRConfiguration) Source() string {
	if c.File != "" {
		return c.File
	}
	return c.URL
}

// SyncReport is what a sync did (or, dry, would do).
type SyncReport struct {
	DryRun  bool     `json:"dry_run"`
	People  int      `json:"people"`
	Teams   int      `json:"teams"`
	Changes []string `json:"changes"`
}

// hrRecord is one person of the export, with their team.
type hrRecord struct {
	person Person
	team   Team
}

// SyncHR reads the HR source and brings teams and people in line with it:
// new ones created, changed ones updated (a rename is one row, keyed by
// code), teams gone from HR archived (their projects keep them as owner,
// flagged), never deleted. Idempotent: a second run changes nothing. With
// dry, nothing is written and the report lists what would change.
func (c *Catalog) SyncHR(ctx context.Context, a Actor, dry bool) (SyncReport, error) {
	rep, err := c.syncHR(ctx, a, dry, c.cfg.HR)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	c.syncRuns.WithLabelValues(outcome).Inc()
	return rep, err
}

// SyncHRData syncs from data in the given format (yaml, json or csv)
// instead of the configured source (furrow catalog sync --file).
func (c *Catalog) SyncHRData(ctx context.Context, a Actor, dry bool, format string, data []byte) (SyncReport, error) {
	recs, err := parseHR(format, data, c.cfg.HR.Mapping)
	if err != nil {
		return SyncReport{DryRun: dry}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return c.apply(ctx, a, dry, recs)
}

func (c *Catalog) syncHR(ctx context.Context, a Actor, dry bool, cfg HRConfiguration) (SyncReport, error) {
	var data []byte
	var format string
	switch {
	case cfg.File != "":
		b, err := os.ReadFile(cfg.File)
		if err != nil {
			return SyncReport{}, fmt.Errorf("hr: %w", err)
		}
		data, format = b, strings.TrimPrefix(strings.ToLower(filepath.Ext(cfg.File)), ".")
	case cfg.URL != "":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL, nil)
		if err != nil {
			return SyncReport{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return SyncReport{}, fmt.Errorf("hr: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return SyncReport{}, fmt.Errorf("hr: %s answered %s", cfg.URL, resp.Status)
		}
		if data, err = io.ReadAll(io.LimitReader(resp.Body, 256<<20)); err != nil {
			return SyncReport{}, fmt.Errorf("hr: %w", err)
		}
		format = "json"
	default:
		return SyncReport{}, errors.New("hr: no source: set catalog.hr.file or catalog.hr.url")
	}
	return c.SyncHRData(ctx, a, dry, format, data)
}

// parseHR reads the export into records.
func parseHR(format string, data []byte, m HRMapping) ([]hrRecord, error) {
	var rows []map[string]any
	switch format {
	case "csv":
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		all, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("hr: CSV: %w", err)
		}
		if len(all) == 0 {
			return nil, errors.New("hr: CSV without a header")
		}
		head := all[0]
		for i, line := range all[1:] {
			if len(line) != len(head) {
				return nil, fmt.Errorf("hr: CSV line %d: %d fields, the header has %d", i+2, len(line), len(head))
			}
			row := map[string]any{}
			for j, h := range head {
				row[strings.TrimSpace(h)] = line[j]
			}
			rows = append(rows, row)
		}
	case "json", "yaml", "yml":
		var doc any
		var err error
		if format == "json" {
			err = json.Unmarshal(data, &doc)
		} else {
			err = yaml.Unmarshal(data, &doc)
		}
		if err != nil {
			return nil, fmt.Errorf("hr: %s: %w", format, err)
		}
		list := doc
		if m.People != "" {
			list = lookup(doc, m.People)
		}
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("hr: %q is not a list of people", m.People)
		}
		for _, it := range items {
			row, ok := it.(map[string]any)
			if !ok {
				return nil, errors.New("hr: a person is not an object")
			}
			rows = append(rows, row)
		}
	default:
		return nil, fmt.Errorf("hr: format %q: use yaml, json or csv", format)
	}
	get := func(row map[string]any, path string) string {
		if path == "" {
			return ""
		}
		if v, ok := row[path]; ok { // CSV columns and flat keys
			return strings.TrimSpace(fmt.Sprint(v))
		}
		v := lookup(row, path)
		if v == nil {
			return ""
		}
		return strings.TrimSpace(fmt.Sprint(v))
	}
	var out []hrRecord
	for i, row := range rows {
		r := hrRecord{
			person: Person{EmployeeID: get(row, m.EmployeeID), Name: get(row, m.Name), Email: get(row, m.Email), SlackUserID: get(row, m.SlackUserID)},
			team:   Team{Code: get(row, m.TeamCode), Name: get(row, m.TeamName), ParentCode: get(row, m.ParentCode), SlackChannel: get(row, m.SlackChannel), Oncall: get(row, m.Oncall)},
		}
		if r.person.EmployeeID == "" {
			return nil, fmt.Errorf("hr: record %d has no employee id (%s)", i+1, m.EmployeeID)
		}
		if r.person.Name == "" {
			r.person.Name = r.person.EmployeeID
		}
		if r.team.Name == "" {
			r.team.Name = r.team.Code
		}
		out = append(out, r)
	}
	return out, nil
}

// lookup follows a dotted path through maps.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// apply brings the catalog in line with recs.
func (c *Catalog) apply(ctx context.Context, a Actor, dry bool, recs []hrRecord) (SyncReport, error) {
	rep := SyncReport{DryRun: dry, Changes: []string{}}
	teams := map[string]Team{}
	for _, r := range recs {
		if r.team.Code == "" {
			continue
		}
		t, ok := teams[r.team.Code]
		if !ok {
			t = r.team
		}
		t.Members = append(t.Members, r.person.EmployeeID)
		teams[r.team.Code] = t
	}
	current, err := c.repo.Teams(ctx, true)
	if err != nil {
		return rep, err
	}
	byCode := map[string]Team{}
	for _, t := range current {
		byCode[t.Code] = t
	}
	people, err := c.repo.People(ctx)
	if err != nil {
		return rep, err
	}
	byID := map[string]Person{}
	for _, p := range people {
		byID[p.EmployeeID] = p
	}
	// People first, then teams (whose members they are).
	seenPeople := map[string]bool{}
	for _, r := range recs {
		p := r.person
		if seenPeople[p.EmployeeID] {
			continue
		}
		seenPeople[p.EmployeeID] = true
		old, exists := byID[p.EmployeeID]
		if exists && old.Name == p.Name && old.Email == p.Email && old.SlackUserID == p.SlackUserID && !old.Archived {
			continue
		}
		rep.Changes = append(rep.Changes, describe("person", p.EmployeeID, exists, fmt.Sprintf("%s <%s>", p.Name, p.Email)))
		if !dry {
			if _, err := c.repo.PutPerson(ctx, a, p, -1); err != nil {
				return rep, err
			}
		}
	}
	codes := make([]string, 0, len(teams))
	for code := range teams {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		t := teams[code]
		sort.Strings(t.Members)
		old, exists := byCode[code]
		if exists && sameTeam(old, t) {
			continue
		}
		what := t.Name
		if exists && old.Name != t.Name {
			what = fmt.Sprintf("renamed %q → %q", old.Name, t.Name)
		}
		rep.Changes = append(rep.Changes, describe("team", code, exists, what))
		if !dry {
			if _, err := c.repo.PutTeam(ctx, a, t, -1); err != nil {
				return rep, err
			}
		}
	}
	// Teams gone from HR are archived, with their members cleared; the
	// projects they own keep them as owner and show team_archived.
	for _, t := range current {
		if _, still := teams[t.Code]; still || t.Archived || t.Source != a.Source {
			continue
		}
		rep.Changes = append(rep.Changes, fmt.Sprintf("team %s: archived (gone from HR)", t.Code))
		if !dry {
			t.Archived, t.Members = true, nil
			if _, err := c.repo.PutTeam(ctx, a, t, -1); err != nil {
				return rep, err
			}
		}
	}
	rep.People, rep.Teams = len(seenPeople), len(teams)
	if !dry && len(rep.Changes) > 0 {
		if err := c.changed(ctx, "hr", a.Source); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func describe(kind, key string, exists bool, what string) string {
	if exists {
		return fmt.Sprintf("%s %s: update (%s)", kind, key, what)
	}
	return fmt.Sprintf("%s %s: create (%s)", kind, key, what)
}
