package deployer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDiffRecords(t *testing.T) {
	specA := "project: shop\nservice: web\nimage: web:1.0\nenv:\n  MODE: a\n"
	specB := "project: shop\nservice: web\nimage: web:1.1\nenv:\n  MODE: b\n"
	cases := []struct {
		name        string
		prev, r     Record
		wantSecrets []SecretChange
		wantDiff    []string
		noDiff      bool
	}{
		{"first deploy", Record{}, Record{ID: 1, Spec: specA, SpecFile: "shop.yaml", Image: "web:1.0", SecretVersions: map[string]string{"db": "v1"}},
			[]SecretChange{{Name: "db", To: "v1"}}, []string{"--- (none)", "+++ shop.yaml (deploy 1)", "+image: web:1.0"}, false},
		{"image, env and a rotated secret", Record{ID: 1, Spec: specA, SpecFile: "shop.yaml", SecretVersions: map[string]string{"db": "v1", "api": "k1"}},
			Record{ID: 2, Spec: specB, SpecFile: "shop.yaml", SecretVersions: map[string]string{"db": "v2", "api": "k1", "new": "n1"}},
			[]SecretChange{{Name: "db", From: "v1", To: "v2"}, {Name: "new", To: "n1"}},
			[]string{"-image: web:1.0", "+image: web:1.1", "-  MODE: a", "+  MODE: b"}, false},
		{"a secret dropped, spec the same", Record{ID: 3, Spec: specB, SecretVersions: map[string]string{"db": "v2"}}, Record{ID: 4, Spec: specB},
			[]SecretChange{{Name: "db", From: "v2"}}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := diffRecords(c.prev, c.r)
			require.NoError(t, err)
			require.Equal(t, c.wantSecrets, orNoChanges(ch.Secrets))
			for _, w := range c.wantDiff {
				require.Contains(t, ch.SpecDiff, w)
			}
			require.Equal(t, c.noDiff, ch.SpecDiff == "")
			require.Equal(t, c.prev.ID, ch.Against)
		})
	}
}

func orNoChanges(s []SecretChange) []SecretChange {
	if len(s) == 0 {
		return nil
	}
	return s
}
