package spec

import (
	"os"
	"testing"
)

// BenchmarkParseValidateRender is one service's share of rendering a
// repository of specs: parse, check and render every target of the
// payments sample (4 targets).
func BenchmarkParseValidateRender(b *testing.B) {
	data, err := os.ReadFile("testdata/payments-mesh.yaml")
	if err != nil {
		b.Fatal(err)
	}
	in := testInput()
	b.ReportAllocs()
	for b.Loop() {
		p, err := Parse("payments-mesh.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		for _, env := range p.EnvironmentNames() {
			ts, _ := p.Targets(env)
			for _, tg := range ts {
				if _, err := Render(p, tg, in); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
