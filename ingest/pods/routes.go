package pods

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/store"
)

// SnapshotRequest is the body of POST /ingest/pods: a CLI hands its
// snapshot ingest to the server that holds the embedded engine.
type SnapshotRequest struct {
	// Cluster is the cluster the snapshots belong to.
	Cluster string `json:"cluster"`
	// Paths are files or directories readable by the server, under its
	// ingest.roots.
	Paths []string `json:"paths"`
	// At is the snapshot time of files without one in their name (zero:
	// file mtime).
	At time.Time `json:"at"`
}

// Routes registers POST /ingest/pods on g (a group needing the ingest
// scope). The paths must be under the hand-over roots; the ingest runs as
// a job of jobs (202 with the job at once), whose result is the Result.
// The job fails when some files could not be read.
func Routes(g *gin.RouterGroup, s store.Store, jobs *api.Jobs) {
	g.POST("/ingest/pods", func(c *gin.Context) {
		var req SnapshotRequest
		if err := api.DecodeJSON(c, &req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		switch {
		case req.Cluster == "":
			c.JSON(http.StatusBadRequest, gin.H{"error": "cluster is empty: name the cluster the snapshots belong to"})
			return
		case len(req.Paths) == 0:
			c.JSON(http.StatusBadRequest, gin.H{"error": "paths is empty: list the snapshot files or directories"})
			return
		}
		jobs.HandOver(c, "pods", req.Paths, func(paths []string) api.RunFunc {
			return func(ctx context.Context, p *api.Progress) (any, error) {
				// Snapshots are applied in time order across all files,
				// so progress is all or nothing: the files and the
				// intervals written, at the end.
				res, err := IngestSnapshots(ctx, s, req.Cluster, paths, req.At)
				if err != nil {
					return nil, err
				}
				p.AddObjects(res.Files)
				p.Done(res.Files, 0, int64(res.PodIntervals+res.NodeIntervals), 0)
				if len(res.FileErrors) > 0 {
					return res, fmt.Errorf("%d of %d files could not be read; see the result", len(res.FileErrors), res.Files)
				}
				return res, nil
			}
		})
	})
}
