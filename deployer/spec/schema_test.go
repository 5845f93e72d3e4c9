package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// TestSchemaComments keeps the schema's descriptions equal to the doc
// comments of types.go.
func TestSchemaComments(t *testing.T) {
	r := reflector()
	require.NoError(t, r.AddGoComments("github.com/furrowdev/furrow/deployer/spec", "types.go"))
	got, err := json.MarshalIndent(r.CommentMap, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	if *update {
		require.NoError(t, os.WriteFile("schema_comments.json", got, 0o644))
		return
	}
	require.Equal(t, string(got), string(schemaComments), "types.go's comments changed: run go test ./deployer/spec -run TestSchema -update")
}

func TestSchemaGolden(t *testing.T) {
	s, err := Schema()
	require.NoError(t, err)
	golden(t, "testdata/schema.golden.json", s)
	// Every field of the spec is documented in the schema.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(s, &doc))
	defs := doc["$defs"].(map[string]any)
	for name, d := range defs {
		props, _ := d.(map[string]any)["properties"].(map[string]any)
		for field, p := range props {
			require.NotEmpty(t, p.(map[string]any)["description"], "%s.%s has no description: give the Go field a doc comment", name, field)
		}
		if d.(map[string]any)["type"] == "object" {
			require.Equal(t, false, d.(map[string]any)["additionalProperties"], "%s must reject unknown keys as Parse does", name)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	s, err := Schema()
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(s))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(SchemaID, doc))
	sch, err := c.Compile(SchemaID)
	require.NoError(t, err)
	return sch
}

// yamlToJSONValue reads a YAML file as an editor's YAML language server
// does before applying the schema.
func yamlToJSONValue(data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(j))
}

func TestSchemaAcceptsSamples(t *testing.T) {
	sch := compileSchema(t)
	for _, f := range validSamples(t) {
		t.Run(sampleName(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			v, err := yamlToJSONValue(data)
			require.NoError(t, err)
			require.NoError(t, sch.Validate(v))
		})
	}
}

// TestSchemaRejectsInvalidSamples: what the schema can see (unknown and
// mistyped keys, names, counts) fails in the editor already.
func TestSchemaRejectsInvalidSamples(t *testing.T) {
	sch := compileSchema(t)
	for _, f := range invalidSamples(t) {
		t.Run(sampleName(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			v, err := yamlToJSONValue(data)
			if err != nil {
				return // not even YAML an editor could read
			}
			require.Error(t, sch.Validate(v))
		})
	}
}
