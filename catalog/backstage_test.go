package catalog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

// TestBackstageImport imports a tree of repositories' catalog-info.yaml
// files (several documents each): groups, users, components, resources;
// unknown kinds listed, not fatal; a second import changes nothing.
func TestBackstageImport(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		c, _ := newCatalog(t, st)
		files, err := catalog.ReadBackstageFiles([]string{"testdata/backstage"})
		require.NoError(t, err)
		require.Len(t, files, 2)
		a := catalog.Actor{Subject: "furrow", Source: "backstage"}

		rep, err := c.ImportBackstage(ctx, a, files, "prod", false)
		require.NoError(t, err)
		require.Empty(t, rep.Problems)
		require.Equal(t, 9, rep.Entities)
		require.Len(t, rep.Unknown, 1)
		require.Contains(t, rep.Unknown[0], "Template go-service")

		team, err := c.Team(ctx, "payments")
		require.NoError(t, err)
		require.Equal(t, "Payments", team.Name)
		require.Equal(t, "commerce", team.ParentCode)
		require.Equal(t, []string{"jdoe"}, team.Members)

		p, err := c.Project(ctx, "payments-api")
		require.NoError(t, err)
		require.Equal(t, "payments", p.OwnerTeam)
		require.Equal(t, "Payments API", p.Name)
		require.Equal(t, "1", p.Tier)
		require.Equal(t, []string{"github.com/acme/payments-api"}, p.Repos)
		require.Equal(t, "https://runbooks.acme.internal/payments", p.Links["runbook"])
		require.Equal(t, []catalog.Namespace{{Cluster: "prod", Namespace: "payments"}}, p.Namespaces)
		o, ok := c.OwnerOf("prod", "istio-system")
		require.True(t, ok)
		require.Equal(t, "commerce", o.Team)

		res, err := c.Resources(ctx)
		require.NoError(t, err)
		require.Equal(t, "arn:aws:rds:eu-west-1:123456789012:db:payments", res[0].ARN)
		require.Equal(t, "payments", res[0].TeamCode)

		before, err := c.Audit(ctx, "", "", 1000)
		require.NoError(t, err)
		_, err = c.ImportBackstage(ctx, a, files, "prod", false)
		require.NoError(t, err)
		after, err := c.Audit(ctx, "", "", 1000)
		require.NoError(t, err)
		require.Equal(t, len(before), len(after), "a second import changes nothing")

		// A component whose owner is unknown is a problem, not a failure.
		rep, err = c.ImportBackstage(ctx, a, map[string][]byte{"x.yaml": []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: orphan}\nspec: {owner: group:default/nobody}\n")}, "prod", false)
		require.NoError(t, err)
		require.Len(t, rep.Problems, 1)
		require.Contains(t, rep.Problems[0], `owner "group:default/nobody"`)
	})
}
