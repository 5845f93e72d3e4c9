package catalog

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/api"
)

// Routes registers the catalog's API: reads on read (GET), writes on write
// (PUT, DELETE, POST sync), each write checked against the rule of
// docs/catalog.md (admin, or a member of the team concerned).
//
//	GET    /catalog/teams[?all=1]           GET /catalog/teams/{code}
//	PUT    /catalog/teams/{code}            DELETE /catalog/teams/{code}   (archive)
//	GET    /catalog/people                  PUT /catalog/people/{id}
//	GET    /catalog/projects                GET /catalog/projects/{id}
//	PUT    /catalog/projects/{id}           DELETE /catalog/projects/{id}  (archive)
//	GET    /catalog/namespaces              owners of the catalogued namespaces, and the unowned ones
//	GET    /catalog/resources               cloud resources and their owners
//	GET    /catalog/owner?cluster=&namespace=
//	GET    /catalog/audit?kind=&key=&limit=
//	POST   /catalog/sync[?dry_run=1]        body: an HR export (YAML, JSON or CSV by Content-Type); admin
//	POST   /catalog/backstage               {"files": {name: catalog-info.yaml…}, "cluster", "dry_run"}; admin
//
// Every GET of one row returns its version as the ETag; a PUT or DELETE of
// an existing row needs If-Match with it (412 when it changed since, 428
// without it).
func (c *Catalog) Routes(read, write *gin.RouterGroup) {
	read.GET("/catalog/teams", func(g *gin.Context) {
		ts, err := c.Teams(g.Request.Context(), g.Query("all") == "1")
		respond(g, nonNil(ts), err)
	})
	read.GET("/catalog/teams/:code", func(g *gin.Context) {
		t, err := c.Team(g.Request.Context(), g.Param("code"))
		if err == nil {
			g.Header("ETag", etag(t.Version))
		}
		respond(g, t, err)
	})
	write.PUT("/catalog/teams/:code", func(g *gin.Context) {
		var t Team
		if !decode(g, &t) {
			return
		}
		t.Code = g.Param("code")
		ifMatch, ok := precondition(g)
		if !ok {
			return
		}
		p := api.RequestPrincipal(g)
		admin := p.Scopes.Has(api.ScopeAdmin)
		if ifMatch == 0 && !admin {
			forbidden(g, "creating a team needs admin (teams come from HR)")
			return
		}
		if allowed, err := c.CanChange(g.Request.Context(), p.Subject, admin, t.Code); err != nil || !allowed {
			forbiddenOr(g, err, "only the team's members or admin may change team "+t.Code)
			return
		}
		out, err := c.PutTeam(g.Request.Context(), Actor{Subject: p.Subject, Source: "api"}, t, ifMatch)
		written(g, out.Version, out, err, ifMatch == 0)
	})
	write.DELETE("/catalog/teams/:code", func(g *gin.Context) {
		ifMatch, ok := precondition(g)
		if !ok {
			return
		}
		p := api.RequestPrincipal(g)
		if !p.Scopes.Has(api.ScopeAdmin) {
			forbidden(g, "archiving a team needs admin")
			return
		}
		t, err := c.Team(g.Request.Context(), g.Param("code"))
		if err != nil {
			respond(g, nil, err)
			return
		}
		t.Archived = true
		out, err := c.PutTeam(g.Request.Context(), Actor{Subject: p.Subject, Source: "api"}, t, ifMatch)
		written(g, out.Version, out, err, false)
	})
	read.GET("/catalog/people", func(g *gin.Context) {
		ps, err := c.People(g.Request.Context())
		respond(g, nonNil(ps), err)
	})
	write.PUT("/catalog/people/:id", func(g *gin.Context) {
		var pe Person
		if !decode(g, &pe) {
			return
		}
		pe.EmployeeID = g.Param("id")
		ifMatch, ok := precondition(g)
		if !ok {
			return
		}
		p := api.RequestPrincipal(g)
		if !p.Scopes.Has(api.ScopeAdmin) && p.Subject != pe.EmployeeID {
			forbidden(g, "only the person or admin may change a person")
			return
		}
		out, err := c.PutPerson(g.Request.Context(), Actor{Subject: p.Subject, Source: "api"}, pe, ifMatch)
		written(g, out.Version, out, err, ifMatch == 0)
	})
	read.GET("/catalog/projects", func(g *gin.Context) {
		ps, err := c.Projects(g.Request.Context())
		respond(g, nonNil(ps), err)
	})
	read.GET("/catalog/projects/:id", func(g *gin.Context) {
		pr, err := c.Project(g.Request.Context(), g.Param("id"))
		if err == nil {
			g.Header("ETag", etag(pr.Version))
		}
		respond(g, pr, err)
	})
	putProject := func(g *gin.Context, pr Project, ifMatch int64) {
		p := api.RequestPrincipal(g)
		admin := p.Scopes.Has(api.ScopeAdmin)
		teams := []string{pr.OwnerTeam}
		if ifMatch != 0 {
			if cur, err := c.Project(g.Request.Context(), pr.ID); err == nil {
				teams = append(teams, cur.OwnerTeam) // a transfer needs both sides
			}
		}
		if allowed, err := c.CanChange(g.Request.Context(), p.Subject, admin, teams...); err != nil || !allowed {
			forbiddenOr(g, err, "only members of the owning team ("+strings.Join(teams, " and ")+") or admin may change project "+pr.ID)
			return
		}
		out, err := c.PutProject(g.Request.Context(), Actor{Subject: p.Subject, Source: "api"}, pr, ifMatch)
		written(g, out.Version, out, err, ifMatch == 0)
	}
	write.PUT("/catalog/projects/:id", func(g *gin.Context) {
		var pr Project
		if !decode(g, &pr) {
			return
		}
		pr.ID = g.Param("id")
		ifMatch, ok := precondition(g)
		if !ok {
			return
		}
		putProject(g, pr, ifMatch)
	})
	write.DELETE("/catalog/projects/:id", func(g *gin.Context) {
		ifMatch, ok := precondition(g)
		if !ok {
			return
		}
		pr, err := c.Project(g.Request.Context(), g.Param("id"))
		if err != nil {
			respond(g, nil, err)
			return
		}
		pr.Archived = true
		putProject(g, pr, ifMatch)
	})
	read.GET("/catalog/namespaces", func(g *gin.Context) {
		owners, err := c.Owners(g.Request.Context())
		if err != nil {
			respond(g, nil, err)
			return
		}
		unowned, err := c.Unowned(g.Request.Context())
		respond(g, gin.H{"owned": nonNil(owners), "unowned": unowned}, err)
	})
	read.GET("/catalog/resources", func(g *gin.Context) {
		rs, err := c.Resources(g.Request.Context())
		respond(g, rs, err)
	})
	read.GET("/catalog/owner", func(g *gin.Context) {
		o, ok := c.OwnerOf(g.Query("cluster"), g.Query("namespace"))
		if !ok {
			g.JSON(http.StatusNotFound, gin.H{"error": "no project claims " + g.Query("cluster") + "/" + g.Query("namespace") + ": it is unowned"})
			return
		}
		g.JSON(http.StatusOK, o)
	})
	read.GET("/catalog/audit", func(g *gin.Context) {
		limit, _ := strconv.Atoi(g.DefaultQuery("limit", "100"))
		es, err := c.Audit(g.Request.Context(), g.Query("kind"), g.Query("key"), limit)
		respond(g, es, err)
	})
	write.POST("/catalog/backstage", func(g *gin.Context) {
		p := api.RequestPrincipal(g)
		if !p.Scopes.Has(api.ScopeAdmin) {
			forbidden(g, "a Backstage import needs admin")
			return
		}
		var req struct {
			Files   map[string]string `json:"files"`
			Cluster string            `json:"cluster"`
			DryRun  bool              `json:"dry_run"`
		}
		if err := api.DecodeJSON(g, &req); err != nil {
			g.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
			return
		}
		files := make(map[string][]byte, len(req.Files))
		for k, v := range req.Files {
			files[k] = []byte(v)
		}
		rep, err := c.ImportBackstage(g.Request.Context(), Actor{Subject: p.Subject, Source: "backstage"}, files, req.Cluster, req.DryRun)
		respond(g, rep, err)
	})
	write.POST("/catalog/sync", func(g *gin.Context) {
		p := api.RequestPrincipal(g)
		if !p.Scopes.Has(api.ScopeAdmin) {
			forbidden(g, "an HR sync needs admin")
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(g.Writer, g.Request.Body, 256<<20))
		if err != nil {
			g.JSON(http.StatusBadRequest, gin.H{"error": "read the HR export: " + err.Error()})
			return
		}
		format := "json"
		if mt, _, _ := mime.ParseMediaType(g.ContentType()); strings.Contains(mt, "csv") {
			format = "csv"
		} else if strings.Contains(mt, "yaml") {
			format = "yaml"
		}
		rep, err := c.SyncHRData(g.Request.Context(), Actor{Subject: p.Subject, Source: "hr-sync"}, g.Query("dry_run") == "1", format, data)
		respond(g, rep, err)
	})
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// precondition reads If-Match: the version the writer read (0 without the
// header: a create).
func precondition(g *gin.Context) (int64, bool) {
	h := strings.TrimSpace(g.GetHeader("If-Match"))
	if h == "" {
		return 0, true
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v <= 0 {
		g.JSON(http.StatusBadRequest, gin.H{"error": "If-Match: send the ETag of the row you read, e.g. \"3\""})
		return 0, false
	}
	return v, true
}

func decode(g *gin.Context, v any) bool {
	if err := api.DecodeJSON(g, v); err != nil {
		g.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return false
	}
	return true
}

func forbidden(g *gin.Context, msg string) {
	g.JSON(http.StatusForbidden, gin.H{"error": msg})
}

func forbiddenOr(g *gin.Context, err error, msg string) {
	if err != nil {
		respond(g, nil, err)
		return
	}
	forbidden(g, msg)
}

// written answers a PUT or DELETE.
func written(g *gin.Context, version int64, body any, err error, create bool) {
	if err != nil {
		if create && errors.Is(err, ErrConflict) && strings.Contains(err.Error(), "exists") {
			g.JSON(http.StatusPreconditionRequired, gin.H{"error": err.Error() + ": read it and send If-Match with its ETag to change it"})
			return
		}
		respond(g, nil, err)
		return
	}
	g.Header("ETag", etag(version))
	g.JSON(http.StatusOK, body)
}

// respond maps the catalog's errors to statuses.
func respond(g *gin.Context, body any, err error) {
	switch {
	case err == nil:
		g.JSON(http.StatusOK, body)
	case errors.Is(err, ErrNotFound):
		g.JSON(http.StatusNotFound, gin.H{"error": err.Error()})
	case errors.Is(err, ErrConflict):
		g.JSON(http.StatusPreconditionFailed, gin.H{"error": err.Error() + ": read it again and retry with its new ETag"})
	case errors.Is(err, ErrInvalid):
		g.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
	default:
		g.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
