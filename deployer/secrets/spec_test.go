package secrets

import (
	"context"
	"errors"
	"testing"

	"github.com/furrowdev/furrow/deployer/spec"
)

func TestResolveSpecRefs(t *testing.T) {
	e := newEnv(t)
	v2 := e.srv.PutString(t, "app/s2", `{"password":"new"}`)
	refs := []spec.SecretRef{
		{Name: "db", SecretID: "app/s1"},
		{Name: "old", SecretID: "app/s2", VersionStage: "AWSPREVIOUS"},
		{Name: "new", SecretID: e.arns["app/s2"]},
	}
	got, err := e.res.ResolveConfig(context.Background(), "shop/prod", refs)
	if err != nil {
		t.Fatal(err)
	}
	if got["db"].Values["password"] != "p1" || got["db"].Values[spec.WholeSecret] == "" || got["db"].VersionID != e.vers["app/s1"] {
		t.Fatalf("db: version %s, keys %d", got["db"].VersionID, len(got["db"].Values))
	}
	if got["old"].Values["password"] != "p2" || got["old"].VersionID != e.vers["app/s2"] {
		t.Fatalf("old: version %s", got["old"].VersionID)
	}
	if got["new"].Values["password"] != "new" || got["new"].VersionID != v2 || got["new"].Name != "new" {
		t.Fatalf("new: version %s", got["new"].VersionID)
	}
	refs = append(refs, spec.SecretRef{Name: "gone", SecretID: "app/none"})
	got, err = e.res.Resolve(context.Background(), refs)
	var se *Error
	if got != nil || !errors.As(err, &se) || se.SecretID != "app/none" {
		t.Fatalf("one missing: %v %v", got, err)
	}
}
