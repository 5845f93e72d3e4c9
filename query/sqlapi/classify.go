package sqlapi

import (
	"fmt"
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
)

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
	for _, n := range ast {
		if n.typ == "Set" && n.depth > 0 {
			return 0, &RefusedError{Reason: "SETTINGS clauses are not allowed, even in subqueries: the server sets the limits; remove the SETTINGS clause"}
		}
		if n.typ == "Function" && deniedFunctions[strings.ToLower(n.name)] {
			return 0, &RefusedError{Reason: fmt.Sprintf("the %s() function is not allowed: it reads files, URLs, processes or other servers", n.name)}
		}
	}
	root := ast[0].typ
	switch {
	case root == "SelectWithUnionQuery" || root == "SelectIntersectExceptQuery" || root == "SelectQuery":
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
