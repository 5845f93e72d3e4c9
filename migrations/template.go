package migrations

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/furrowdev/furrow/internal/chsql"
	"github.com/furrowdev/furrow/store"
)

// funcs declares the template functions for parsing; bind supplies their
// real, Options-dependent bodies when a migration is rendered.
var funcs = template.FuncMap{
	"onCluster":   func() string { return "" },
	"local":       func(name string) string { return name },
	"engine":      func(e string) string { return e },
	"distributed": func(name, key string) string { return "" },
	"dedup":       func() string { return "" },
}

// bind returns the template functions for o.
func bind(o Options) template.FuncMap {
	return template.FuncMap{
		// onCluster is " ON CLUSTER `c`" on a cluster, else nothing.
		"onCluster": func() string {
			if o.Cluster == "" {
				return ""
			}
			return " ON CLUSTER " + chsql.QuoteIdent(o.Cluster)
		},
		// local names the table that stores data: name_local on a cluster
		// (with a Distributed table called name over it), else name.
		"local": func(name string) string {
			if o.Cluster == "" {
				return name
			}
			return name + "_local"
		},
		// engine turns a MergeTree-family engine into its Replicated form
		// on a cluster: SummingMergeTree((a, b)) →
		// ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', (a, b)).
		"engine": func(e string) string {
			if o.Cluster == "" {
				return e
			}
			name, args, hasArgs := strings.Cut(e, "(")
			zk := "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
			args = strings.TrimSuffix(args, ")")
			if hasArgs && strings.TrimSpace(args) != "" {
				return "Replicated" + name + "(" + zk + ", " + args + ")"
			}
			return "Replicated" + name + "(" + zk + ")"
		},
		// distributed is, on a cluster, the statement creating the
		// Distributed table name over name_local (sharded by key).
		"distributed": func(name, key string) string {
			if o.Cluster == "" {
				return ""
			}
			c := chsql.QuoteIdent(o.Cluster)
			return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s AS %s_local ENGINE = Distributed(%s, currentDatabase(), %s_local, %s)",
				name, c, name, c, name, key)
		},
		// dedup is the table setting that keeps insert deduplication on.
		"dedup": func() string {
			if o.Cluster == "" {
				return fmt.Sprintf("non_replicated_deduplication_window = %d", o.DedupWindow)
			}
			return fmt.Sprintf("replicated_deduplication_window = %d", o.DedupWindow)
		},
	}
}

func renderInline(text string, o Options) string {
	t := template.Must(template.New("inline").Funcs(bind(o)).Parse(text))
	var buf bytes.Buffer
	if err := t.Execute(&buf, o); err != nil {
		panic(err)
	}
	return buf.String()
}

func asStoreError(err error, target **store.Error) bool { return errors.As(err, target) }
