package deployer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/deployer/spec"
)

// Paths of the deployer's API, relative to /api/v1.
const (
	// PathDeploys lists (GET) and starts (POST) deploys.
	PathDeploys = "/deploys"
)

// maxSpecBytes bounds a deploy request's body (a spec is a few KB).
const maxSpecBytes = 1 << 20

// DeployBody is POST /api/v1/deploys's body.
type DeployBody struct {
	// Spec is the project spec (YAML text); SpecFile its file name, for
	// the errors' positions.
	Spec        string    `json:"spec"`
	SpecFile    string    `json:"spec_file"`
	Environment string    `json:"environment"`
	Prune       []string  `json:"prune,omitempty"`
	CommitSHA   string    `json:"commit_sha,omitempty"`
	CommitTime  time.Time `json:"commit_time,omitzero"`
}

// OpBody is the body of the operations: rollback (to), scale (replicas),
// trigger (cronjob); restart needs only the project and environment.
type OpBody struct {
	Project     string `json:"project"`
	Environment string `json:"environment"`
	To          int64  `json:"to,omitempty"`
	Replicas    *int32 `json:"replicas,omitempty"`
	CronJob     string `json:"cronjob,omitempty"`
}

// ErrorBody is an error answer; a refused deploy names the running one,
// a spec's errors are listed with their positions.
type ErrorBody struct {
	Error string `json:"error"`
	// DeployID is the refused request's id; HolderID the running deploy's.
	DeployID int64 `json:"deploy_id,omitempty"`
	HolderID int64 `json:"holder_id,omitempty"`
	// Problems are a spec's errors: file, line, column, field, message.
	Problems []*spec.Error `json:"problems,omitempty"`
}

// Routes registers the API: reads with the read scope, actions with
// write (the actor is the token's subject).
func (c *Component) Routes(read, write gin.IRoutes) {
	read.GET(PathDeploys, c.list)
	read.GET(PathDeploys+"/:id", c.get)
	read.GET(PathDeploys+"/:id/stream", c.stream)
	read.GET(PathDeploys+"/:id/changes", c.changes)
	write.POST(PathDeploys, c.deploy)
	write.POST(PathDeploys+"/rollback", c.op(ActionRollback))
	write.POST(PathDeploys+"/restart", c.op(ActionRestart))
	write.POST(PathDeploys+"/scale", c.op(ActionScale))
	write.POST(PathDeploys+"/trigger", c.op(ActionTrigger))
}

func actorOf(ctx *gin.Context) Actor { return Actor{Subject: api.RequestPrincipal(ctx).Subject} }

// answer turns an action's outcome into its HTTP answer: 202 with the
// record once started, 409 naming the running deploy, 400 for a request
// that cannot be carried out.
func (c *Component) answer(ctx *gin.Context, r Record, err error) {
	var le *LockError
	var re *RequestError
	switch {
	case err == nil:
		ctx.Header("Location", fmt.Sprintf("/api/v1%s/%d", PathDeploys, r.ID))
		ctx.JSON(http.StatusAccepted, r)
	case errors.As(err, &le):
		ctx.JSON(http.StatusConflict, ErrorBody{Error: le.Error(), DeployID: le.DeployID, HolderID: le.HolderID})
	case errors.As(err, &re):
		ctx.JSON(http.StatusBadRequest, ErrorBody{Error: re.Error(), Problems: spec.Errors(re.Err)})
	default:
		c.logger.Error("deployer: request", "err", err)
		ctx.JSON(http.StatusServiceUnavailable, ErrorBody{Error: "the deployer could not record the request: " + err.Error()})
	}
}

func (c *Component) deploy(ctx *gin.Context) {
	var b DeployBody
	ctx.Request.Body = http.MaxBytesReader(ctx.Writer, ctx.Request.Body, maxSpecBytes)
	if err := json.NewDecoder(ctx.Request.Body).Decode(&b); err != nil {
		ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "body: want JSON {\"spec\", \"spec_file\", \"environment\", \"prune\"}: " + err.Error()})
		return
	}
	if b.Environment == "" || b.Spec == "" {
		ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "body: spec and environment are required"})
		return
	}
	if b.SpecFile == "" {
		b.SpecFile = "spec.yaml"
	}
	r, err := c.Deploy(ctx.Request.Context(), DeployRequest{Spec: []byte(b.Spec), SpecFile: b.SpecFile, Environment: b.Environment,
		Prune: b.Prune, CommitSHA: b.CommitSHA, CommitTime: b.CommitTime, Actor: actorOf(ctx)})
	c.answer(ctx, r, err)
}

func (c *Component) op(action string) gin.HandlerFunc {
	return func(ctx *gin.Context) {
		var b OpBody
		ctx.Request.Body = http.MaxBytesReader(ctx.Writer, ctx.Request.Body, 64<<10)
		if err := json.NewDecoder(ctx.Request.Body).Decode(&b); err != nil {
			ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "body: want JSON {\"project\", \"environment\", …}: " + err.Error()})
			return
		}
		if b.Project == "" || b.Environment == "" {
			ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "body: project and environment are required"})
			return
		}
		req := OpRequest{Project: b.Project, Environment: b.Environment, CronJob: b.CronJob, Actor: actorOf(ctx)}
		var r Record
		var err error
		switch action {
		case ActionRollback:
			r, err = c.Rollback(ctx.Request.Context(), RollbackRequest{Project: b.Project, Environment: b.Environment, To: b.To, Actor: actorOf(ctx)})
		case ActionRestart:
			r, err = c.Restart(ctx.Request.Context(), req)
		case ActionScale:
			if b.Replicas == nil {
				ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "body: replicas is required"})
				return
			}
			req.Replicas = *b.Replicas
			r, err = c.Scale(ctx.Request.Context(), req)
		case ActionTrigger:
			if b.CronJob == "" {
				ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "body: cronjob is required"})
				return
			}
			r, err = c.Trigger(ctx.Request.Context(), req)
		}
		c.answer(ctx, r, err)
	}
}

func (c *Component) list(ctx *gin.Context) {
	limit, _ := strconv.Atoi(ctx.DefaultQuery("limit", "50"))
	out, err := c.store.List(ctx.Request.Context(), ctx.Query("project"), ctx.Query("environment"), min(max(limit, 1), 1000))
	if err != nil {
		c.answer(ctx, Record{}, err)
		return
	}
	if out == nil {
		out = []Record{}
	}
	ctx.JSON(http.StatusOK, out)
}

func (c *Component) record(ctx *gin.Context) (Record, bool) {
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil {
		ctx.JSON(http.StatusBadRequest, ErrorBody{Error: "id: want a deploy id"})
		return Record{}, false
	}
	r, err := c.store.Get(ctx.Request.Context(), id)
	if errors.Is(err, ErrNotFound) {
		ctx.JSON(http.StatusNotFound, ErrorBody{Error: err.Error()})
		return r, false
	}
	if err != nil {
		c.answer(ctx, r, err)
		return r, false
	}
	return r, true
}

func (c *Component) get(ctx *gin.Context) {
	if r, ok := c.record(ctx); ok {
		ctx.JSON(http.StatusOK, r)
	}
}

// streamPoll is how often the stream looks for new lines; keepAlive how
// often it writes a comment when there are none (proxies close idle
// connections).
const (
	streamPoll = 250 * time.Millisecond
	keepAlive  = 15 * time.Second
)

// stream serves a deploy's progress as Server-Sent Events: one `log`
// event per line (its id is the line's number: a client that reconnects
// with Last-Event-ID, or ?after=N, resumes after it), then one `done`
// event with the final record once the action has ended.
func (c *Component) stream(ctx *gin.Context) {
	r, ok := c.record(ctx)
	if !ok {
		return
	}
	after, _ := strconv.ParseInt(ctx.GetHeader("Last-Event-ID"), 10, 64)
	if a := ctx.Query("after"); a != "" {
		after, _ = strconv.ParseInt(a, 10, 64)
	}
	w := ctx.Writer
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	rctx := ctx.Request.Context()
	tick := time.NewTicker(streamPoll)
	defer tick.Stop()
	idle := time.Now()
	for {
		lines, err := c.store.Log(rctx, r.ID, after)
		if err != nil {
			return
		}
		for _, l := range lines {
			b, _ := json.Marshal(l)
			fmt.Fprintf(w, "id: %d\nevent: log\ndata: %s\n\n", l.Seq, b)
			after = l.Seq
		}
		if len(lines) > 0 {
			w.Flush()
			idle = time.Now()
		}
		if r.State != StateRunning && len(lines) == 0 {
			b, _ := json.Marshal(r)
			fmt.Fprintf(w, "event: done\ndata: %s\n\n", b)
			w.Flush()
			return
		}
		if time.Since(idle) > keepAlive {
			fmt.Fprint(w, ": keep-alive\n\n")
			w.Flush()
			idle = time.Now()
		}
		select {
		case <-rctx.Done():
			return
		case <-tick.C:
		}
		if r.State == StateRunning {
			if r, err = c.store.Get(rctx, r.ID); err != nil {
				return
			}
		}
	}
}
