package api

import (
	"errors"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// JobsPath is where jobs are listed; a job is at JobsPath/ID.
const JobsPath = "/api/v1/ingest/jobs"

// Routes registers the jobs API: listing and reading on view, cancelling
// on cancel (each group carries its scope check).
func (j *Jobs) Routes(view, cancel *gin.RouterGroup) {
	view.GET("/ingest/jobs", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"jobs": j.List()})
	})
	view.GET("/ingest/jobs/:id", func(c *gin.Context) {
		jb, err := j.Get(c.Param("id"))
		if err != nil {
			abortJSON(c, http.StatusNotFound, err.Error(), nil)
			return
		}
		c.JSON(http.StatusOK, jb)
	})
	cancel.DELETE("/ingest/jobs/:id", func(c *gin.Context) {
		jb, err := j.Get(c.Param("id"))
		if err != nil {
			abortJSON(c, http.StatusNotFound, err.Error(), nil)
			return
		}
		// Another holder's job is theirs to stop, unless admin says so.
		p := RequestPrincipal(c)
		if jb.Subject != p.Subject && !p.Scopes.Has(ScopeAdmin) {
			abortJSON(c, http.StatusForbidden, "job "+jb.ID+" belongs to "+jb.Subject+": only its owner or an admin token may cancel it", nil)
			return
		}
		if jb, err = j.Cancel(jb.ID); err != nil {
			abortJSON(c, http.StatusNotFound, err.Error(), nil)
			return
		}
		c.JSON(http.StatusAccepted, jb)
	})
}

// HandOver checks the sources of a hand-over request and starts its job:
// 202 with the job and its Location, 403 when a source is outside the
// roots (nothing of it is read), 400 when a source does not exist, 503
// while the server stops. run gets the sources as resolved, so what it
// reads is what was checked.
func (j *Jobs) HandOver(c *gin.Context, kind string, srcs []string, run func(srcs []string) RunFunc) {
	resolved, err := j.CheckSources(srcs)
	switch {
	case errors.Is(err, ErrOutsideRoots):
		abortJSON(c, http.StatusForbidden, err.Error(), nil)
		return
	case errors.Is(err, fs.ErrNotExist):
		abortJSON(c, http.StatusBadRequest, err.Error()+": name an existing file or directory under ingest.roots", nil)
		return
	case err != nil:
		abortJSON(c, http.StatusBadRequest, err.Error(), nil)
		return
	}
	jb, err := j.Submit(kind, RequestPrincipal(c).Subject, resolved, run(resolved))
	if errors.Is(err, ErrStopping) {
		abortJSON(c, http.StatusServiceUnavailable, err.Error(), nil)
		return
	} else if err != nil {
		abortJSON(c, http.StatusInternalServerError, err.Error(), nil)
		return
	}
	c.Header("Location", JobsPath+"/"+jb.ID)
	c.JSON(http.StatusAccepted, jb)
}
