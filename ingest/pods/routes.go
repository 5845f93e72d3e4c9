package pods

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/store"
)

// SnapshotRequest is the body of POST /ingest/pods: a CLI hands its
// snapshot ingest to the server that holds the embedded engine.
type SnapshotRequest struct {
	// Cluster is the cluster the snapshots belong to.
	Cluster string `json:"cluster" binding:"required"`
	// Paths are files or directories readable by the server.
	Paths []string `json:"paths" binding:"required,min=1"`
	// At is the snapshot time of files without one in their name (zero:
	// file mtime).
	At time.Time `json:"at"`
}

// Routes registers POST /ingest/pods on g; it answers the Result as JSON
// (422 when some files could not be read).
func Routes(g *gin.RouterGroup, s store.Store) {
	g.POST("/ingest/pods", func(c *gin.Context) {
		var req SnapshotRequest
		if err := c.ShouldBindJSON(&req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		res, err := IngestSnapshots(c.Request.Context(), s, req.Cluster, req.Paths, req.At)
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		status := http.StatusOK
		if len(res.FileErrors) > 0 {
			status = http.StatusUnprocessableEntity
		}
		c.JSON(status, res)
	})
}
