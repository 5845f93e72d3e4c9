package flowlogs

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/api"
	sources "github.com/furrowdev/furrow/ingest/source"
)

// IngestRequest is the body of POST /ingest/flowlogs: a CLI hands its run
// to a running server, which owns the embedded engine.
type IngestRequest struct {
	// Sources are files, directories or s3:// prefixes, as the CLI takes.
	Sources []string `json:"sources"`
	// Since and Until bound the records' start time (RFC 3339; empty is
	// open).
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Strict fails the run on rejected lines and non-flow-log files too.
	Strict bool `json:"strict"`
	// Fields is the format of files without a header (AWS format string or
	// space-separated names), as --fields.
	Fields string `json:"fields"`
	// RetryFailed ingests again the objects that failed permanently under
	// this furrow version, as --retry-failed.
	RetryFailed bool `json:"retry_failed"`
}

// DefaultStatusLimit is how many objects GET /ingest/status lists when
// the request does not say.
const DefaultStatusLimit = 50

// HandOverRoutes registers POST /ingest/flowlogs on g (a group needing
// the ingest scope). The sources must be under the hand-over roots (see
// api.Jobs.HandOver); the run is a job of jobs, which answers 202 with it
// at once: the ingest outlives the request, and DELETE on the job cancels
// it. The job's result is the Summary; the job fails when Summary.Failed.
// A bad request is 400.
func (i *Ingester) HandOverRoutes(g *gin.RouterGroup, jobs *api.Jobs) {
	g.POST("/ingest/flowlogs", func(c *gin.Context) {
		var req IngestRequest
		if err := api.DecodeJSON(c, &req); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		if len(req.Sources) == 0 {
			c.JSON(http.StatusBadRequest, gin.H{"error": "sources is empty: list the files, directories or s3:// prefixes to ingest"})
			return
		}
		if !req.Since.IsZero() && !req.Until.IsZero() && !req.Since.Before(req.Until) {
			c.JSON(http.StatusBadRequest, gin.H{"error": "since must be before until"})
			return
		}
		in := *i
		in.opts.Strict = req.Strict
		in.opts.RetryFailed = req.RetryFailed
		if req.Fields != "" {
			f, err := ParseFormat(req.Fields)
			if err != nil {
				c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
				return
			}
			in.opts.Fields = f
		}
		w := sources.Window{Since: req.Since, Until: req.Until}
		jobs.HandOver(c, "flowlogs", req.Sources, func(srcs []string) api.RunFunc {
			return func(ctx context.Context, p *api.Progress) (any, error) {
				run := in // a copy per job: the hooks are this job's
				run.opts.OnPlanned = p.AddObjects
				run.opts.OnObject = func(r ObjectResult) { p.Done(1, r.Read, r.Stored, r.Rejected) }
				sum, err := run.Run(ctx, srcs, w)
				if err == nil && sum.Failed() {
					err = fmt.Errorf("flow-log ingest failed: %d objects not ingested, %d skipped as failed before, %d lines rejected (strict: %t); see the result", sum.FailedFiles, sum.SkippedFailed, sum.Rejected, sum.Strict)
				}
				return sum, err
			}
		})
	})
}

// Routes registers GET /ingest/status on g (a group needing the read
// scope).
func (i *Ingester) Routes(g *gin.RouterGroup) {
	// GET /ingest/status?state=done|failed&limit=N: the totals and the
	// most recent objects, with the reason of each failure.
	g.GET("/ingest/status", func(c *gin.Context) {
		limit := DefaultStatusLimit
		if v := c.Query("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100000 {
				c.JSON(http.StatusBadRequest, gin.H{"error": "limit must be a number from 0 to 100000"})
				return
			}
			limit = n
		}
		state := c.Query("state")
		if state != "" && state != "done" && state != "failed" {
			c.JSON(http.StatusBadRequest, gin.H{"error": "state must be done or failed"})
			return
		}
		rep, err := i.ledger.Status(c.Request.Context(), state, limit)
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, rep)
	})
}
