package alerting

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Grafana's HMAC headers (the contact point's defaults: the timestamp
// header has none in Grafana, furrow reads this name).
const (
	GrafanaSignatureHeader = "X-Grafana-Alerting-Signature"
	GrafanaTimestampHeader = "X-Grafana-Alerting-Signature-Timestamp"
)

// signatureWindow is how far a signed timestamp may be from now.
const signatureWindow = 5 * time.Minute

// Routes registers the webhooks and the Slack interactions, relative to
// /api/v1. tokenGroup checks furrow's API token (the ingest scope); public
// checks nothing, and its routes authenticate themselves: Slack's
// interactions (Slack's signature) and the webhooks of a source with its own
// credentials (alerting.sources), as a sender sends one Authorization
// header, its own.
func (c *Component) Routes(tokenGroup, public gin.IRoutes) {
	for _, src := range []string{SourceGrafana, SourceAlertmanager} {
		g := tokenGroup
		if c.sourceAuth(src).Configured() {
			g = public
		}
		g.POST("/alerts/"+src, c.webhook(src))
	}
	public.POST("/slack/interactions", c.interaction)
}

func (c *Component) sourceAuth(source string) SourceAuth {
	if source == SourceGrafana {
		return c.cfg.Sources.Grafana
	}
	return c.cfg.Sources.Alertmanager
}

type errorBody struct {
	Error string `json:"error"`
}

func (c *Component) reject(ctx *gin.Context, source, reason string, status int, msg string) {
	c.m.rejected.WithLabelValues(source, reason).Inc()
	ctx.AbortWithStatusJSON(status, errorBody{Error: msg})
}

func (c *Component) webhook(source string) gin.HandlerFunc {
	auth := c.sourceAuth(source)
	return func(ctx *gin.Context) {
		now := c.deps.Now()
		if msg := checkCredentials(auth, ctx.Request); msg != "" {
			c.reject(ctx, source, "unauthorized", http.StatusUnauthorized, msg)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(ctx.Writer, ctx.Request.Body, c.cfg.MaxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			c.reject(ctx, source, "too_large", http.StatusRequestEntityTooLarge, "body over alerting.max_body_bytes ("+strconv.FormatInt(c.cfg.MaxBodyBytes, 10)+" bytes)")
			return
		case err != nil:
			c.reject(ctx, source, "read", http.StatusBadRequest, "read the body: "+err.Error())
			return
		}
		if auth.HMACSecret != "" {
			if msg := checkGrafanaSignature(auth.HMACSecret.Reveal(), ctx.Request.Header, body, now); msg != "" {
				c.reject(ctx, source, "unauthorized", http.StatusUnauthorized, msg)
				return
			}
		}
		res, err := c.receive(ctx.Request.Context(), source, body, now, time.Now())
		switch {
		case errors.Is(err, ErrMalformed):
			c.reject(ctx, source, "malformed", http.StatusBadRequest, err.Error())
			return
		case err != nil:
			c.logger.Error("alerting: record a webhook", "source", source, "err", err)
			c.reject(ctx, source, "store", http.StatusServiceUnavailable, "the operational store did not record the alerts; the sender retries")
			return
		}
		ctx.JSON(http.StatusAccepted, res)
	}
}

// checkCredentials returns why the request lacks the source's bearer or
// basic credentials, "" when it has them or none are configured. The
// comparisons take the same time whatever the mismatch.
func checkCredentials(a SourceAuth, r *http.Request) string {
	switch {
	case a.BearerToken != "":
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(a.BearerToken.Reveal())) != 1 {
			return "missing or wrong bearer token (alerting.sources: bearer_token)"
		}
	case a.BasicUser != "":
		u, p, ok := r.BasicAuth()
		uok := subtle.ConstantTimeCompare([]byte(u), []byte(a.BasicUser))
		pok := subtle.ConstantTimeCompare([]byte(p), []byte(a.BasicPassword.Reveal()))
		if !ok || uok&pok != 1 {
			return "missing or wrong basic credentials (alerting.sources: basic_user, basic_password)"
		}
	}
	return ""
}

// checkGrafanaSignature verifies Grafana's HMAC: the hex HMAC-SHA256 of the
// body, or of "timestamp:body" when the timestamp header is present, whose
// time must then be within 5 minutes of now.
func checkGrafanaSignature(secret string, h http.Header, body []byte, now time.Time) string {
	sig := h.Get(GrafanaSignatureHeader)
	if sig == "" {
		return "missing " + GrafanaSignatureHeader + " (alerting.sources.grafana.hmac_secret is set)"
	}
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return GrafanaSignatureHeader + ": not hex"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	if stamp := h.Get(GrafanaTimestampHeader); stamp != "" {
		sec, err := strconv.ParseInt(strings.TrimSpace(stamp), 10, 64)
		if err != nil {
			return GrafanaTimestampHeader + ": not a Unix time"
		}
		if d := now.Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
			return GrafanaTimestampHeader + ": more than 5 minutes from now (replayed, or a clock is wrong)"
		}
		mac.Write([]byte(stamp + ":"))
	}
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return GrafanaSignatureHeader + ": does not match the body and alerting.sources.grafana.hmac_secret"
	}
	return ""
}

// interaction handles a Slack button click: a verified snooze.
func (c *Component) interaction(ctx *gin.Context) {
	const source = "slack"
	now := c.deps.Now()
	if c.signingSecret == "" {
		c.reject(ctx, source, "not_configured", http.StatusServiceUnavailable, "alerting.slack.signing_secret is not set: interactions cannot be verified")
		return
	}
	// The wall clock: slack-go's verifier checks the window against it.
	body, err := VerifyInteraction(ctx.Request, c.signingSecret.Reveal(), time.Now())
	switch {
	case errors.Is(err, ErrInteractionPayload):
		c.reject(ctx, source, "malformed", http.StatusBadRequest, err.Error())
		return
	case err != nil:
		c.reject(ctx, source, "unauthorized", http.StatusUnauthorized, err.Error())
		return
	}
	key, d, untilResolved, user, err := ParseSnooze(body)
	if err != nil {
		c.reject(ctx, source, "malformed", http.StatusBadRequest, err.Error())
		return
	}
	if err := c.outbox.Snooze(ctx.Request.Context(), key, now.Add(d), untilResolved, user, now); err != nil {
		if errors.Is(err, ErrUnknownGroup) {
			c.reject(ctx, source, "unknown_group", http.StatusNotFound, err.Error())
			return
		}
		c.logger.Error("alerting: snooze", "err", err)
		c.reject(ctx, source, "store", http.StatusServiceUnavailable, "the operational store did not record the snooze")
		return
	}
	c.logger.Info("alerting: snoozed", "group", key, "by", user, "for", d, "until_resolved", untilResolved)
	ctx.JSON(http.StatusOK, gin.H{"ok": true})
}
