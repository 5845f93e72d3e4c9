package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: whatever the bytes, Parse returns a spec or errors that name
// the file and, when they concern a node, its position; a spec that parses
// can be validated and rendered without a panic.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("project: p\nservice: s\nimage: r/i:1\nenvironments: {dev: {regions: [{region: ap-northeast-2, clusters: [c]}]}}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("{{{{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			errs := Errors(err)
			if len(errs) == 0 {
				t.Fatalf("error without position: %v", err)
			}
			for _, e := range errs {
				if e.File != "fuzz.yaml" {
					t.Fatalf("error names file %q: %v", e.File, e)
				}
				if e.Field != "" && e.Line == 0 {
					t.Fatalf("error on field %s without a line: %v", e.Field, e)
				}
			}
			return
		}
		if err := p.Validate(DefaultRules()); err != nil {
			for _, e := range Errors(err) {
				if e.Line == 0 {
					t.Fatalf("rule violation without a line: %v", e)
				}
			}
			return
		}
		for _, env := range p.EnvironmentNames() {
			ts, _ := p.Targets(env)
			for _, tg := range ts {
				_, _ = Render(p, tg, RenderInput{Team: "t", UnresolvedSecrets: true})
			}
		}
	})
}
