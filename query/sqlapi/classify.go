package sqlapi

import (
	"fmt"
	"sort"
	"strings"
)

// kind is what a statement does, as far as this endpoint cares.
type kind int

const (
	kindSelect   kind = iota // SELECT, WITH, UNION, INTERSECT, EXCEPT: wrapped in a read-only subquery
	kindMetadata             // SHOW, DESCRIBE, EXISTS: run as is, read-only
)

// node is one line of EXPLAIN AST's output.
type node struct {
	depth int    // indentation: the root is 0
	typ   string // first word: SelectWithUnionQuery, Function, Set…
	name  string // second word, when there is one (a function's name)
}

// parseAST reads EXPLAIN AST's indented tree.
func parseAST(text string) []node {
	var nodes []node
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" {
			continue
		}
		f := strings.Fields(trimmed)
		n := node{depth: len(line) - len(trimmed), typ: f[0]}
		if len(f) > 1 {
			n.name = f[1]
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// metadataRoots are the SHOW, DESCRIBE and EXISTS statements analysts may
// run. SHOW PROCESSLIST, GRANTS, USERS, ACCESS… are left out: they describe
// other users and the access policy, not the data.
var metadataRoots = map[string]bool{
	"ShowTables":                true, // also SHOW DATABASES, DICTIONARIES, SETTINGS
	"ShowColumns":               true, // also SHOW INDEXES
	"ShowCreateTableQuery":      true,
	"ShowCreateViewQuery":       true,
	"ShowCreateDatabaseQuery":   true,
	"ShowCreateDictionaryQuery": true,
	"ShowFunctions":             true,
	"ShowEngineQuery":           true,
	"DescribeQuery":             true,
	"ExistsTableQuery":          true,
	"ExistsViewQuery":           true,
	"ExistsDatabaseQuery":       true,
	"ExistsDictionaryQuery":     true,
}

// deniedFunctions reach outside the database: files, URLs, object stores,
// other servers, processes. readonly=1 already makes the engine refuse them
// as table functions, except the file() scalar function, which reads a
// local file even in read-only mode (verified on chDB 26.5). Refusing them
// by name also gives one clear message on both backends.
var deniedFunctions = lowerSet(
	"file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "oss", "cosn",
	"hdfs", "hdfsCluster", "azureBlobStorage", "azureBlobStorageCluster",
	"remote", "remoteSecure", "cluster", "clusterAllReplicas", "executable",
	"mysql", "postgresql", "mongodb", "redis", "sqlite", "jdbc", "odbc", "input",
	"iceberg", "icebergS3", "icebergAzure", "icebergHDFS", "icebergLocal",
	"deltaLake", "deltaLakeS3", "deltaLakeAzure", "deltaLakeLocal", "hudi",
	"catboostEvaluate",
	// merge() and loop() read tables named by a pattern or argument, which
	// would reach system tables around the allow-list.
	"merge", "loop",
	// The server's paths and disks.
	"getServerSetting", "filesystemAvailable", "filesystemCapacity", "filesystemUnreserved",
)

// systemTables are the system tables analysts may read, each with the
// columns they may not (server paths). Everything else in the system
// database is refused: system.processes shows other clients' SQL,
// system.disks and system.server_settings the server's paths and
// configuration, system.stack_trace the server's threads. The list is in
// docs/api.md.
var systemTables = map[string][]string{
	"one": nil, "numbers": nil, "numbers_mt": nil, "zeros": nil, "zeros_mt": nil,
	"databases":          {"data_path", "metadata_path"},
	"tables":             {"data_paths", "metadata_path"},
	"parts":              {"path", "disk_name"},
	"columns":            nil,
	"settings":           nil, // clients read it when they connect
	"functions":          nil,
	"table_functions":    nil,
	"formats":            nil,
	"data_type_families": nil,
	"table_engines":      nil,
	"time_zones":         nil,
}

// checkSystemTables enforces systemTables: names in the system database
// must be listed, and when a listed table has hidden columns, the query
// may neither name them nor use '*' or COLUMNS() anywhere (the AST does not
// say which table a '*' expands).
func checkSystemTables(ast []node) error {
	hidden := map[string]bool{}
	for _, n := range ast {
		if n.typ != "TableIdentifier" && n.typ != "Identifier" {
			continue
		}
		parts := strings.Split(n.name, ".")
		if len(parts) < 2 || parts[0] != "system" {
			continue
		}
		cols, ok := systemTables[parts[1]]
		if !ok {
			return &RefusedError{Reason: fmt.Sprintf("system.%s is not readable here: analysts may read %s", parts[1], allowedSystemTables())}
		}
		for _, c := range cols {
			hidden[c] = true
		}
	}
	if len(hidden) == 0 {
		return nil
	}
	for _, n := range ast {
		switch {
		case strings.Contains(n.typ, "Asterisk") || strings.Contains(n.typ, "Matcher"):
			return &RefusedError{Reason: "name the columns: '*' and COLUMNS() are not allowed on system tables with hidden columns (" + strings.Join(sortedKeys(hidden), ", ") + ")"}
		case n.typ == "Identifier":
			parts := strings.Split(n.name, ".")
			if hidden[parts[len(parts)-1]] {
				return &RefusedError{Reason: fmt.Sprintf("the column %s is hidden: it holds the server's paths", parts[len(parts)-1])}
			}
		}
	}
	return nil
}

func allowedSystemTables() string {
	names := sortedKeys(systemTables)
	for i, n := range names {
		names[i] = "system." + n
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// withoutOwnSettings removes the Set node that the SETTINGS clause of the
// EXPLAIN statement itself adds to the tree (readonly=1): the last one, as
// that clause ends the text. Any other Set node is a SETTINGS clause of the
// user's, which classify refuses.
func withoutOwnSettings(ast []node) []node {
	for i := len(ast) - 1; i > 0; i-- { // never the root: SET is refused
		if ast[i].typ == "Set" {
			return append(ast[:i:i], ast[i+1:]...)
		}
	}
	return ast
}

var errSettingsClause = &RefusedError{Reason: "SETTINGS clauses are not allowed, even in subqueries: the server sets the limits; remove the SETTINGS clause"}

func lowerSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// classify decides from the AST (and the canonical text, for what the AST
// does not show unambiguously) whether a statement may run, and how.
func classify(ast []node, canonical string) (kind, error) {
	if len(ast) == 0 {
		return 0, ErrEmptyQuery
	}
	root := ast[0].typ
	isSelect := root == "SelectWithUnionQuery" || root == "SelectIntersectExceptQuery" || root == "SelectQuery"
	if !isSelect && root != "Explain" && !metadataRoots[root] {
		return 0, &RefusedError{Reason: statementName(canonical) + " statements are not allowed: this endpoint only runs SELECT, SHOW, DESCRIBE and EXISTS"}
	}
	for _, n := range ast {
		if n.typ == "Set" && n.depth > 0 {
			return 0, errSettingsClause
		}
		if n.typ == "Function" && deniedFunctions[strings.ToLower(n.name)] {
			return 0, &RefusedError{Reason: fmt.Sprintf("the %s() function is not allowed: it reads files, URLs, processes or other servers", n.name)}
		}
	}
	if err := checkSystemTables(ast); err != nil {
		return 0, err
	}
	switch {
	case isSelect:
		return kindSelect, checkSelectOutput(ast)
	case root == "Explain":
		return 0, &RefusedError{Reason: "EXPLAIN is not supported: it cannot run inside the read-only subquery that enforces the limits"}
	case metadataRoots[root]:
		if err := checkOutputClauses(canonical); err != nil {
			return 0, err
		}
		if root == "DescribeQuery" {
			return kindMetadata, checkDescribe(ast)
		}
		return kindMetadata, nil
	}
	return 0, &RefusedError{Reason: statementName(canonical) + " statements are not allowed: this endpoint only runs SELECT, SHOW, DESCRIBE and EXISTS"}
}

// checkSelectOutput refuses FORMAT and INTO OUTFILE, the root's only
// children besides the list of selects (SETTINGS was refused before).
func checkSelectOutput(ast []node) error {
	for _, n := range ast[1:] {
		if n.depth != 1 || n.typ == "ExpressionList" {
			continue
		}
		if n.typ == "Identifier" {
			return errFormatClause
		}
		return errOutfile
	}
	return nil
}

var (
	errFormatClause = &RefusedError{Reason: "a FORMAT clause is not allowed: choose the output format with the format parameter"}
	errOutfile      = &RefusedError{Reason: "INTO OUTFILE is not allowed: the result is returned in the response"}
)

// checkOutputClauses finds FORMAT and INTO OUTFILE in SHOW, DESCRIBE and
// EXISTS statements, where the AST shows them like any other child. The
// formatter writes keywords in upper case and keeps identifiers as written,
// so a false positive needs an upper-case identifier named FORMAT or INTO.
func checkOutputClauses(canonical string) error {
	w := words(canonical)
	for i := 0; i+1 < len(w); i++ {
		switch {
		case w[i] == "INTO" && w[i+1] == "OUTFILE":
			return errOutfile
		case w[i] == "FORMAT" && isWordByte(w[i+1][0]):
			return errFormatClause
		}
	}
	return nil
}

// checkDescribe allows DESCRIBE of a table only: DESCRIBE of a table
// function infers its schema by reading the file or URL, and readonly=1 does
// not prevent it.
func checkDescribe(ast []node) error {
	for _, n := range ast[1:] {
		switch n.typ {
		case "TableExpression", "TableIdentifier":
		default:
			return &RefusedError{Reason: "DESCRIBE is only allowed on tables, not on table functions or subqueries"}
		}
	}
	return nil
}

// statementName names a refused statement for the error message: its first
// keyword, or two for SHOW, SYSTEM, CREATE… ("SHOW GRANTS").
func statementName(canonical string) string {
	w := words(canonical)
	if len(w) == 0 {
		return "empty"
	}
	name := strings.ToUpper(w[0])
	switch name {
	case "SHOW", "SYSTEM", "CREATE", "DROP", "KILL", "ATTACH", "DETACH":
		if len(w) > 1 {
			name += " " + strings.ToUpper(w[1])
		}
	}
	return name
}
