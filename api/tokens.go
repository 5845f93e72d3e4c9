package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Scope is what a token may do. Scopes do not nest, except that admin
// implies every other one.
type Scope string

// The scopes of a token.
const (
	// ScopeRead runs SQL and reports, reads ingest status and jobs, and
	// scrapes /metrics.
	ScopeRead Scope = "read"
	// ScopeIngest hands ingests to the server (POST /api/v1/ingest/…) and
	// cancels ingest jobs. It does not imply read: a loader's token cannot
	// query the data it loads.
	ScopeIngest Scope = "ingest"
	// ScopeWrite changes the ownership catalog (teams, people, projects),
	// within the rules of docs/catalog.md (a team's own members, or admin).
	ScopeWrite Scope = "write"
	// ScopeAdmin grants everything.
	ScopeAdmin Scope = "admin"
)

var knownScopes = map[Scope]bool{ScopeRead: true, ScopeIngest: true, ScopeWrite: true, ScopeAdmin: true}

// Scopes is the set of scopes of one token.
type Scopes []Scope

// Has reports whether the set grants s (admin grants everything).
func (ss Scopes) Has(s Scope) bool {
	for _, x := range ss {
		if x == s || x == ScopeAdmin {
			return true
		}
	}
	return false
}

// String is the comma-separated list, as in the tokens file.
func (ss Scopes) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// Token is one accepted bearer token with who it is and what it may do.
type Token struct {
	// Subject names the token's holder in request logs and as the owner of
	// the jobs it starts. It is never derived from the secret.
	Subject string
	// Scopes are what the token may do.
	Scopes Scopes
	// Secret is the bearer token itself.
	Secret Secret
}

// subjectPattern keeps subjects printable and free of blanks, so that a
// line of the tokens file splits one way only and logs stay parseable.
var subjectPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:/-]{0,127}$`)

// AllTokens returns the tokens of Tokens, then those of TokensFile.
//
// A token of Tokens, and a bare token on a line of TokensFile, has the read
// scope only: before scopes existed every token granted everything, and
// read is the part of that which cannot touch the server's disk. Their
// subjects are "http.tokens[N]" and "tokens_file:LINE". A line of three
// fields, "SUBJECT SCOPE[,SCOPE…] TOKEN", grants the scopes listed.
//
// Errors name the file, the line and the field, never a field's value: a
// token written in the wrong place must not reach a log.
func (c Configuration) AllTokens() ([]Token, error) {
	var out []Token
	for i, t := range c.Tokens {
		if t = Secret(strings.TrimSpace(string(t))); t != "" {
			out = append(out, Token{Subject: fmt.Sprintf("http.tokens[%d]", i), Scopes: Scopes{ScopeRead}, Secret: t})
		}
	}
	if c.TokensFile == "" {
		return out, checkDuplicates(out)
	}
	data, err := os.ReadFile(c.TokensFile)
	if err != nil {
		return nil, fmt.Errorf("tokens_file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tok, err := parseTokenLine(line, n)
		if err != nil {
			return nil, fmt.Errorf("tokens_file %s line %d: %w", c.TokensFile, n, err)
		}
		out = append(out, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens_file %s: %w", c.TokensFile, err)
	}
	return out, checkDuplicates(out)
}

// MinScopedTokenLength is the shortest token a "SUBJECT SCOPES TOKEN"
// line accepts.
const MinScopedTokenLength = 16

const tokenLineHelp = `write "SUBJECT SCOPES TOKEN" (e.g. "ci-loader ingest,read <token>"; scopes: read, ingest, write, admin) or a bare token (read only), one per line`

func parseTokenLine(line string, n int) (Token, error) {
	fields := strings.Fields(line)
	switch len(fields) {
	case 1:
		return Token{Subject: fmt.Sprintf("tokens_file:%d", n), Scopes: Scopes{ScopeRead}, Secret: Secret(fields[0])}, nil
	case 3:
	default:
		// A YAML item ("- tok") or mapping ("name: tok") lands here.
		return Token{}, fmt.Errorf("%d fields separated by blanks (a YAML list or mapping is not the format): %s", len(fields), tokenLineHelp)
	}
	if !subjectPattern.MatchString(fields[0]) {
		return Token{}, fmt.Errorf("field 1 (subject) must be letters, digits and . _ @ : / - (at most 128): %s", tokenLineHelp)
	}
	var scopes Scopes
	for _, s := range strings.Split(fields[1], ",") {
		if !knownScopes[Scope(s)] {
			// The value is not quoted: if the fields are swapped, it is
			// the token.
			return Token{}, fmt.Errorf("field 2 (scopes) holds an unknown scope: %s", tokenLineHelp)
		}
		scopes = append(scopes, Scope(s))
	}
	// A short third field is more likely a subject written where the token
	// goes (the token would then be logged as a subject) than a token.
	if len(fields[2]) < MinScopedTokenLength {
		return Token{}, fmt.Errorf("field 3 (token) is shorter than %d characters: generate one with `openssl rand -hex 32`; %s", MinScopedTokenLength, tokenLineHelp)
	}
	return Token{Subject: fields[0], Scopes: scopes, Secret: Secret(fields[2])}, nil
}

// checkDuplicates refuses a token listed twice: its two entries could
// carry different subjects or scopes, and which one wins would be an
// accident of order.
func checkDuplicates(toks []Token) error {
	seen := map[[sha256.Size]byte]string{}
	for _, t := range toks {
		d := sha256.Sum256([]byte(t.Secret))
		if first, ok := seen[d]; ok {
			return fmt.Errorf("the same token is listed for %s and %s: give each holder a token of its own", first, t.Subject)
		}
		seen[d] = t.Subject
	}
	return nil
}

// First returns the first token granting scope, for clients that share
// the server's configuration.
func First(toks []Token, scope Scope) (Token, bool) {
	for _, t := range toks {
		if t.Scopes.Has(scope) {
			return t, true
		}
	}
	return Token{}, false
}
