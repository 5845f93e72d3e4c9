package spec

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the spec's JSON Schema.
const SchemaID = "https://furrow.dev/schemas/deploy-spec.json"

// schemaComments holds the doc comments of this package's types, keyed as
// invopop/jsonschema's CommentMap wants them. It is generated from the
// source by `go test ./deployer/spec -run TestSchema -update`, and the test
// fails when it is stale, so the schema's descriptions are the field docs.
//
//go:embed schema_comments.json
var schemaComments []byte

// Schema returns the JSON Schema (draft 2020-12) of a project spec, for
// editors (`furrow deploy schema`). Unknown keys are rejected, as Parse
// rejects them.
func Schema() ([]byte, error) {
	r := reflector()
	if err := json.Unmarshal(schemaComments, &r.CommentMap); err != nil {
		return nil, fmt.Errorf("schema comments: %w", err)
	}
	s := r.Reflect(&Project{})
	s.ID = SchemaID
	s.Title = "furrow project spec"
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func reflector() *jsonschema.Reflector {
	return &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		// Every type gets its own definition so that editors show the
		// type's doc next to the field's.
		DoNotReference: false,
	}
}

// JSONSchema says that a port is named or numbered.
func (PortRef) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "string", Pattern: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`},
		{Type: "integer", Minimum: json.Number("1"), Maximum: json.Number("65535")},
	}}
}

// JSONSchema says that a budget is a count or a percentage.
func (IntOrPercent) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
		{Type: "string", Pattern: `^([0-9]+|(100|[1-9]?[0-9])%)$`},
		{Type: "integer", Minimum: json.Number("0")},
	}}
}
