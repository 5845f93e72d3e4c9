package events

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/furrowdev/furrow/internal/promreg"
)

// Directory resolves what an external event names to the catalog's terms.
// It is defined here, where it is used; furrow serve adapts the catalog.
type Directory interface {
	// ProjectOf returns the project id and owning team of a repository
	// (owner/name) or an Argo CD application name.
	ProjectOf(ctx context.Context, key string) (project, team string, ok bool)
	// PersonOf returns the employee id and name of a login, an email or
	// "Name <email>".
	PersonOf(ctx context.Context, login string) (id, name string, ok bool)
}

// Sink stores events; *Writer is the real one.
type Sink interface {
	Write(ctx context.Context, e Event) error
}

// Dependencies are the receiver's collaborators.
type Dependencies struct {
	// Sink stores the events (a *Writer).
	Sink Sink
	// Directory resolves projects and people; nil keeps what the source
	// said (the actor as source:login).
	Directory Directory
	Registry  prometheus.Registerer
	Logger    *slog.Logger
	// Now is the clock (time.Now when nil): the receive time stands in
	// for the times a source leaves out.
	Now func() time.Time
}

// Receiver serves the external deploy event webhooks.
type Receiver struct {
	cfg      Configuration
	deps     Dependencies
	received *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// New returns an inert receiver; Routes registers its webhooks.
func New(cfg Configuration, deps Dependencies) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Sink == nil {
		return nil, errors.New("deployer events: no sink")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "furrow", Subsystem: "deploy_events", Name: name, Help: help}
	}
	return &Receiver{
		cfg:  cfg,
		deps: deps,
		received: promreg.Register(deps.Registry, prometheus.NewCounterVec(opts("received_total",
			"External deploy events accepted (a redelivery too: the table stores it once), by source and result."), []string{"source", "result"})),
		rejected: promreg.Register(deps.Registry, prometheus.NewCounterVec(opts("rejected_total",
			"External deploy event webhooks refused or ignored, by source and reason."), []string{"source", "reason"})),
	}, nil
}

// Start does nothing: the receiver only answers requests.
func (r *Receiver) Start(context.Context) error { return nil }

// Stop does nothing.
func (r *Receiver) Stop(context.Context) error { return nil }

// Routes registers the webhooks, relative to /api/v1: Argo CD's on
// ingest (furrow's API token with the ingest scope), GitHub's on public
// (it checks GitHub's signature itself).
func (r *Receiver) Routes(ingest, public gin.IRoutes) {
	if r.cfg.ArgoCD {
		ingest.POST("/deploys/events/argocd", r.argocd)
	}
	if r.cfg.GitHubSecret != "" {
		public.POST("/deploys/events/github", r.github)
	}
}

type answer struct {
	Recorded int    `json:"recorded"`
	DeployID int64  `json:"deploy_id,omitempty"`
	Result   string `json:"result,omitempty"`
	Note     string `json:"note,omitempty"`
}

type errorBody struct {
	Error string `json:"error"`
}

func (r *Receiver) reject(c *gin.Context, source, reason string, status int, msg string) {
	r.rejected.WithLabelValues(source, reason).Inc()
	c.AbortWithStatusJSON(status, errorBody{Error: msg})
}

// body reads the request body within max_body_bytes; false when it
// answered already.
func (r *Receiver) body(c *gin.Context, source string) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, r.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		r.reject(c, source, "too_large", http.StatusRequestEntityTooLarge, "body over deployer.events.max_body_bytes ("+strconv.FormatInt(r.cfg.MaxBodyBytes, 10)+" bytes)")
		return nil, false
	case err != nil:
		r.reject(c, source, "read", http.StatusBadRequest, "read the body: "+err.Error())
		return nil, false
	}
	return b, true
}

func (r *Receiver) argocd(c *gin.Context) {
	body, ok := r.body(c, SourceArgoCD)
	if !ok {
		return
	}
	e, ext, err := DecodeArgoCD(body, r.deps.Now())
	r.record(c, SourceArgoCD, e, ext, err)
}

func (r *Receiver) github(c *gin.Context) {
	body, ok := r.body(c, SourceGitHub)
	if !ok {
		return
	}
	if msg := CheckGitHubSignature(r.cfg.GitHubSecret.Reveal(), c.GetHeader(GitHubSignatureHeader), body); msg != "" {
		r.reject(c, SourceGitHub, "unauthorized", http.StatusUnauthorized, msg)
		return
	}
	e, ext, err := DecodeGitHub(c.GetHeader(GitHubEventHeader), body)
	r.record(c, SourceGitHub, e, ext, err)
}

// record resolves and stores a decoded event and answers.
func (r *Receiver) record(c *gin.Context, source string, e Event, ext External, err error) {
	switch {
	case errors.Is(err, ErrIgnored):
		r.rejected.WithLabelValues(source, "ignored").Inc()
		c.JSON(http.StatusAccepted, answer{Note: err.Error()})
		return
	case err != nil:
		r.reject(c, source, "malformed", http.StatusBadRequest, err.Error())
		return
	}
	ctx := c.Request.Context()
	e = r.resolve(ctx, e, ext)
	if err := r.deps.Sink.Write(ctx, e); err != nil {
		if errors.Is(err, ErrInvalid) {
			r.reject(c, source, "invalid", http.StatusBadRequest, err.Error())
			return
		}
		r.deps.Logger.Error("deploy events: store an external event", "source", source, "err", err)
		r.reject(c, source, "store", http.StatusServiceUnavailable, "the event was not stored; the sender retries")
		return
	}
	r.received.WithLabelValues(source, e.Result).Inc()
	c.JSON(http.StatusAccepted, answer{Recorded: 1, DeployID: e.DeployID, Result: e.Result})
}

// resolve maps the source's repository or application and login to the
// catalog's project, team and employee; an unknown login is kept as
// source:login, never mistaken for an employee id.
func (r *Receiver) resolve(ctx context.Context, e Event, ext External) Event {
	d := r.deps.Directory
	if d != nil && ext.Key != "" {
		if project, team, ok := d.ProjectOf(ctx, ext.Key); ok {
			e.Project = project
			if e.Team == "" {
				e.Team = team
			}
		}
	}
	if ext.Login != "" {
		if d != nil {
			if id, name, ok := d.PersonOf(ctx, ext.Login); ok {
				e.Actor, e.ActorName = id, name
				return e
			}
		}
		e.Actor, e.ActorName = e.Source+":"+ext.Login, ext.Login
	}
	return e
}
