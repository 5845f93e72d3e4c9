package deployer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/pmezard/go-difflib/difflib"
)

// Changes is what a deploy changed against an earlier one: the image, the
// spec (a unified diff: env, config, resources, regions…) and the secrets'
// versions. Secret values are never read for it, let alone shown.
type Changes struct {
	ID      int64 `json:"id"`
	Against int64 `json:"against,omitempty"` // 0: the first deploy
	// ImageFrom and ImageTo are the images before and after.
	ImageFrom string `json:"image_from,omitempty"`
	ImageTo   string `json:"image_to"`
	// SpecDiff is the unified diff of the spec files ("" when the same).
	SpecDiff string `json:"spec_diff"`
	// Secrets lists the secrets whose version changed, appeared or went.
	Secrets []SecretChange `json:"secrets"`
}

// SecretChange is one secret's version before and after ("" when absent).
type SecretChange struct {
	Name string `json:"name"`
	From string `json:"from_version,omitempty"`
	To   string `json:"to_version,omitempty"`
}

// Changes compares deploy id with against (0: the successful deploy or
// rollback before it).
func (c *Component) Changes(ctx context.Context, id, against int64) (Changes, error) {
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return Changes{}, err
	}
	var prev Record
	switch {
	case against > 0:
		if prev, err = c.store.Get(ctx, against); err != nil {
			return Changes{}, err
		}
		if prev.Project != r.Project || prev.Environment != r.Environment {
			return Changes{}, &RequestError{fmt.Errorf("deploy %d is of %s/%s, deploy %d of %s/%s", against, prev.Project, prev.Environment, id, r.Project, r.Environment)}
		}
	default:
		prev, err = c.store.LastGood(ctx, r.Project, r.Environment, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Changes{}, err
		}
	}
	return diffRecords(prev, r)
}

func diffRecords(prev, r Record) (Changes, error) {
	ch := Changes{ID: r.ID, Against: prev.ID, ImageFrom: prev.Image, ImageTo: r.Image, Secrets: []SecretChange{}}
	from, to := "(none)", r.SpecFile
	if prev.ID != 0 {
		from = fmt.Sprintf("%s (deploy %d)", prev.SpecFile, prev.ID)
	}
	to = fmt.Sprintf("%s (deploy %d)", to, r.ID)
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(prev.Spec), B: difflib.SplitLines(r.Spec),
		FromFile: from, ToFile: to, Context: 3})
	if err != nil {
		return ch, err
	}
	ch.SpecDiff = d
	names := map[string]bool{}
	for n := range prev.SecretVersions {
		names[n] = true
	}
	for n := range r.SecretVersions {
		names[n] = true
	}
	for n := range names {
		if a, b := prev.SecretVersions[n], r.SecretVersions[n]; a != b {
			ch.Secrets = append(ch.Secrets, SecretChange{Name: n, From: a, To: b})
		}
	}
	sort.Slice(ch.Secrets, func(i, j int) bool { return ch.Secrets[i].Name < ch.Secrets[j].Name })
	return ch, nil
}

// changes answers GET /deploys/:id/changes[?against=ID].
func (c *Component) changes(ctx *gin.Context) {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "id: want a deploy id"})
		return
	}
	var against int64
	if a := ctx.Query("against"); a != "" {
		if against, err = strconv.ParseInt(a, 10, 64); err != nil {
			ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "against: want a deploy id"})
			return
		}
	}
	ch, err := c.Changes(ctx.Request.Context(), id, against)
	if errors.Is(err, ErrNotFound) {
		ctx.JSON(http.StatusNotFound, ErrorBody{Error: err.Error()})
		return
	}
	if err != nil {
		c.answer(ctx, Record{}, err)
		return
	}
	ctx.JSON(http.StatusOK, ch)
}
