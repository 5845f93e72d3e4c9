package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// OIDCConfiguration accepts bearer tokens (JWTs) from the company's
// identity provider next to furrow's own tokens: each is verified against
// the issuer's keys (JWKS, from its discovery document), its audience and
// its expiry; a claim names the employee (the principal's subject, as the
// catalog and the audit log know them).
type OIDCConfiguration struct {
	// Issuer is the identity provider's issuer URL (its
	// /.well-known/openid-configuration is read on first use); empty turns
	// OIDC bearers off.
	Issuer string `yaml:"issuer"`
	// Audience is the client id the tokens must be issued for.
	Audience string `yaml:"audience"`
	// SubjectClaim is the claim naming the employee (e.g. employee_id,
	// email; default sub).
	SubjectClaim string `yaml:"subject_claim"`
	// ScopesClaim is a claim listing furrow scopes (read, ingest, write,
	// admin); tokens without it get DefaultScopes.
	ScopesClaim string `yaml:"scopes_claim"`
	// DefaultScopes are the scopes of an OIDC bearer without ScopesClaim.
	DefaultScopes []string `yaml:"default_scopes"`
}

// DefaultOIDCConfiguration is off; once on, employees read and write (the
// catalog's own rules still apply).
func DefaultOIDCConfiguration() OIDCConfiguration {
	return OIDCConfiguration{SubjectClaim: "sub", ScopesClaim: "furrow_scopes", DefaultScopes: []string{"read", "write"}}
}

// Validate checks the configuration.
func (c OIDCConfiguration) Validate() error {
	if c.Issuer == "" {
		return nil
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("oidc.issuer %q: use the issuer URL, e.g. https://login.example.com", c.Issuer)
	}
	if c.Audience == "" {
		return errors.New("oidc.audience: set the client id the tokens are issued for")
	}
	for _, s := range c.DefaultScopes {
		if !knownScopes[Scope(s)] {
			return fmt.Errorf("oidc.default_scopes: unknown scope %q", s)
		}
	}
	return nil
}

// oidcVerifier verifies bearers against the issuer, discovered lazily so
// that the server starts while the provider is down.
type oidcVerifier struct {
	cfg      OIDCConfiguration
	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

func (v *oidcVerifier) get(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, v.cfg.Issuer), v.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discover %s: %w", v.cfg.Issuer, err)
	}
	// The keys are fetched with a context that outlives this request.
	v.verifier = p.Verifier(&oidc.Config{ClientID: v.cfg.Audience})
	return v.verifier, nil
}

// looksLikeJWT: three base64url parts.
func looksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 && len(token) > 20 }

// verify returns the principal of a valid bearer.
func (v *oidcVerifier) verify(ctx context.Context, raw string) (Principal, error) {
	ver, err := v.get(context.WithoutCancel(ctx))
	if err != nil {
		return Principal{}, err
	}
	tok, err := ver.Verify(ctx, raw)
	if err != nil {
		return Principal{}, err
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, err
	}
	claim := v.cfg.SubjectClaim
	if claim == "" {
		claim = "sub"
	}
	subject, _ := claims[claim].(string)
	if subject == "" {
		return Principal{}, fmt.Errorf("the token has no %q claim", claim)
	}
	p := Principal{Subject: subject}
	if list, ok := claims[v.cfg.ScopesClaim].([]any); ok && v.cfg.ScopesClaim != "" {
		for _, s := range list {
			if name, ok := s.(string); ok && knownScopes[Scope(name)] {
				p.Scopes = append(p.Scopes, Scope(name))
			}
		}
	} else {
		for _, s := range v.cfg.DefaultScopes {
			p.Scopes = append(p.Scopes, Scope(s))
		}
	}
	return p, nil
}
