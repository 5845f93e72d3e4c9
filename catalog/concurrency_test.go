package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

// TestConcurrentWriters: many writers with the same If-Match version:
// exactly one wins, the others get ErrConflict, and the audit has one
// entry; two projects claiming one namespace at once: one gets it.
func TestConcurrentWriters(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		c, _ := newCatalog(t, st)
		_, err := c.SyncHRData(ctx, catalog.Actor{Subject: "furrow", Source: "hr-sync"}, false, "yaml", []byte(hrV1))
		require.NoError(t, err)
		a := catalog.Actor{Subject: "e1", Source: "api"}
		p, err := c.PutProject(ctx, a, catalog.Project{ID: "checkout", Name: "Checkout", OwnerTeam: "PAY"}, 0)
		require.NoError(t, err)

		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				q := p
				q.Tier = fmt.Sprint(i)
				_, errs[i] = c.PutProject(ctx, a, q, p.Version)
			}(i)
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.True(t, errors.Is(err, catalog.ErrConflict), "%v", err)
			}
		}
		require.Equal(t, 1, won, "one writer wins")
		audit, err := c.Audit(ctx, "project", "checkout", 100)
		require.NoError(t, err)
		require.Len(t, audit, 2, "create and the one update")
		cur, err := c.Project(ctx, "checkout")
		require.NoError(t, err)
		require.Equal(t, p.Version+1, cur.Version)

		// Two projects claim the same namespace at once.
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = c.PutProject(ctx, a, catalog.Project{ID: fmt.Sprintf("p%d", i), Name: "p", OwnerTeam: "PAY",
					Namespaces: []catalog.Namespace{{Cluster: "prod", Namespace: "shared"}}}, 0)
			}(i)
		}
		wg.Wait()
		won = 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.True(t, errors.Is(err, catalog.ErrConflict), "%v", err)
			}
		}
		require.Equal(t, 1, won, "one project gets the namespace")
	})
}
