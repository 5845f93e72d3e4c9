package traffic

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTopTalkersByTeam groups by the owners the catalog mirrored: shop is
// PAY's, the others unowned.
func TestTopTalkersByTeam(t *testing.T) {
	s := loaded(t)
	ctx := context.Background()
	require.NoError(t, s.Exec(ctx, `INSERT INTO catalog_namespace_owners (generation, cluster, namespace, project, team, team_name)
VALUES (1, 'prod', 'shop', 'checkout', 'OLD', 'Old'), (2, 'prod', 'shop', 'checkout', 'PAY', 'Payments')`))
	top, err := New(s).TopTalkers(ctx, Filter{}, ByTeam)
	require.NoError(t, err)
	got := map[[2]string]float64{}
	for _, r := range top.Rows {
		got[[2]string{r.Src, r.Dst}] = r.Bytes
	}
	// Cross-zone: istio-system→shop 7 GB, shop→shop 3 GB, monitoring→shop 1 GB.
	require.Equal(t, map[[2]string]float64{
		{"(unowned) istio-system", "PAY"}: 7e9,
		{"PAY", "PAY"}:                    3e9,
		{"(unowned) monitoring", "PAY"}:   1e9,
	}, got, "only the newest generation of the mirror counts")
}
