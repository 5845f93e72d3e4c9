// Package secretsmanager is a local HTTP server on 127.0.0.1 speaking AWS
// Secrets Manager's JSON protocol (awsJson1.1: POST / with X-Amz-Target
// secretsmanager.<Operation>). It stands in for AWS, which cannot run here:
// the real aws-sdk-go-v2 service/secretsmanager client is pointed at it with
// BaseEndpoint (see Server.Client) and tested end to end, so what goes over
// the wire — SigV4-signed requests, the JSON bodies, epoch-second
// timestamps, base64 SecretBinary, errors as {"__type":…,"message":…} with
// HTTP 400 — is what AWS would receive and send.
//
// It keeps secrets with versions and staging labels (AWSCURRENT,
// AWSPREVIOUS, AWSPENDING, custom ones) the way AWS moves them, names them
// with ARNs carrying AWS's random 6-character suffix, and answers
// GetSecretValue, BatchGetSecretValue, DescribeSecret and
// ListSecretVersionIds; CreateSecret, PutSecretValue,
// UpdateSecretVersionStage and DeleteSecret set secrets up. Requests must be
// signed with the configured access key id and region (the signature itself
// is not recomputed). Every call is captured for assertions, and faults can
// be injected: throttling, any AWS error for the next calls, a hook run
// after each call (to delete a secret in the middle of a resolution), and
// BatchGetSecretValue unknown (as on endpoints that predate it).
package secretsmanager

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Staging labels Secrets Manager itself manages.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Call is one request as the server received it.
type Call struct {
	// Operation is the X-Amz-Target's operation: GetSecretValue, …
	Operation string
	// SecretIDs are the secrets named: one for most operations, the
	// SecretIdList of BatchGetSecretValue.
	SecretIDs []string
	// VersionID and VersionStage are GetSecretValue's, when given.
	VersionID, VersionStage string
	// AccessKeyID is the one in the Authorization header, empty if the
	// request was not signed.
	AccessKeyID string
	// Answer is "200" or the error type answered (ThrottlingException…).
	Answer string
}

// version is one version of a secret.
type version struct {
	id      string
	str     *string
	bin     []byte
	stages  []string
	created time.Time
}

// secret is one secret with its versions.
type secret struct {
	name, arn string
	created   time.Time
	deleted   time.Time // zero unless scheduled for deletion
	versions  []*version
}

// Server is the fake Secrets Manager endpoint.
type Server struct {
	srv                        *httptest.Server
	region, account, accessKey string

	mu        sync.Mutex
	secrets   []*secret
	calls     []Call
	throttled int
	failures  []failure
	noBatch   bool
	after     func(Call)
	now       func() time.Time
}

type failure struct{ op, typ, msg string }

// Options configure a Server; zero values take the defaults.
type Options struct {
	// Region signs requests; default us-east-1.
	Region string
	// Account goes into ARNs; default 123456789012.
	Account string
	// AccessKeyID is the only key accepted; default AKIAFURROWTEST.
	AccessKeyID string
}

// New starts a server on 127.0.0.1, closed when t ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{region: opts.Region, account: opts.Account, accessKey: opts.AccessKeyID, now: time.Now}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "123456789012"
	}
	if s.accessKey == "" {
		s.accessKey = "AKIAFURROWTEST"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("secretsmanager: listen: %v", err)
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint to give the SDK as BaseEndpoint.
func (s *Server) URL() string { return s.srv.URL }

// Region is the region requests must be signed for.
func (s *Server) Region() string { return s.region }

// AccessKeyID is the access key id requests must be signed with.
func (s *Server) AccessKeyID() string { return s.accessKey }

// Throttle makes the next n calls answer ThrottlingException (HTTP 400),
// which the SDK's standard retryer retries.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttled = n
}

// FailNext makes the next call of operation op ("" for any) answer the AWS
// error typ with msg; failures queue one call each.
func (s *Server) FailNext(op, typ, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{op, typ, msg})
}

// DisableBatch makes BatchGetSecretValue answer UnknownOperationException,
// as an endpoint that predates it does.
func (s *Server) DisableBatch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noBatch = true
}

// AfterCall runs fn after each call is answered (outside the server's
// lock, so fn may change secrets), e.g. to delete a secret between two
// calls of one resolution.
func (s *Server) AfterCall(fn func(Call)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.after = fn
}

// Calls returns a copy of every call so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the calls so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Delete removes a secret at once (DeleteSecret with
// ForceDeleteWithoutRecovery); it reports whether it existed.
func (s *Server) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sec := range s.secrets {
		if sec.matches(id) {
			s.secrets = append(s.secrets[:i], s.secrets[i+1:]...)
			return true
		}
	}
	return false
}

// ARN returns the ARN of a secret by name or id, "" if there is none.
func (s *Server) ARN(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.find(id); sec != nil {
		return sec.arn
	}
	return ""
}

// apiError is an error answered the way AWS answers it.
type apiError struct {
	status   int
	typ, msg string
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

func errNotFound() *apiError {
	return &apiError{400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
}

func errInvalidParameter(format string, args ...any) *apiError {
	return &apiError{400, "InvalidParameterException", fmt.Sprintf(format, args...)}
}

func errInvalidRequest(format string, args ...any) *apiError {
	return &apiError{400, "InvalidRequestException", fmt.Sprintf(format, args...)}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, call, body, aerr := s.admit(r)
	var out any
	s.mu.Lock()
	if aerr == nil {
		aerr = s.injected(op)
	}
	if aerr == nil {
		out, aerr = s.dispatch(op, body, &call)
	}
	if aerr != nil {
		call.Answer = aerr.typ
	} else {
		call.Answer = "200"
	}
	s.calls = append(s.calls, call)
	after := s.after
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", newUUID())
	if aerr != nil {
		w.WriteHeader(aerr.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": aerr.typ, "message": aerr.msg})
	} else {
		_ = json.NewEncoder(w).Encode(out)
	}
	if after != nil {
		after(call)
	}
}

// admit checks the request's method, content type, target and signature.
func (s *Server) admit(r *http.Request) (op string, call Call, body []byte, aerr *apiError) {
	target := r.Header.Get("X-Amz-Target")
	op, _ = strings.CutPrefix(target, "secretsmanager.")
	call.Operation = op
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return op, call, nil, &apiError{400, "SerializationException", "cannot read the request body"}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return op, call, body, &apiError{404, "UnknownOperationException", ""}
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return op, call, body, &apiError{400, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	key, region, service, ok := parseAuthorization(auth)
	call.AccessKeyID = key
	switch {
	case !ok || r.Header.Get("X-Amz-Date") == "":
		return op, call, body, &apiError{400, "IncompleteSignatureException",
			"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters and an X-Amz-Date header."}
	case key != s.accessKey:
		return op, call, body, &apiError{400, "UnrecognizedClientException", "The security token included in the request is invalid."}
	case region != s.region:
		return op, call, body, &apiError{400, "InvalidSignatureException",
			fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", region)}
	case service != "secretsmanager":
		return op, call, body, &apiError{400, "InvalidSignatureException",
			fmt.Sprintf("Credential should be scoped to correct service: 'secretsmanager'. not '%s'", service)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		return op, call, body, &apiError{400, "SerializationException", fmt.Sprintf("unexpected content type %q", ct)}
	}
	if !strings.HasPrefix(target, "secretsmanager.") {
		return op, call, body, &apiError{400, "UnknownOperationException", ""}
	}
	return op, call, body, nil
}

// parseAuthorization reads the access key, region and service of a SigV4
// Authorization header:
// AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=…, Signature=…
func parseAuthorization(h string) (key, region, service string, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", "", "", false
	}
	var cred, signed, sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || signed == "" || len(sig) != 64 {
		return "", "", "", false
	}
	if !strings.Contains(";"+signed+";", ";host;") {
		return scope[0], scope[2], scope[3], false
	}
	return scope[0], scope[2], scope[3], true
}

// injected answers the faults queued for op. Called with s.mu held.
func (s *Server) injected(op string) *apiError {
	if s.throttled > 0 {
		s.throttled--
		return &apiError{400, "ThrottlingException", "Rate exceeded"}
	}
	for i, f := range s.failures {
		if f.op == "" || f.op == op {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
			return &apiError{400, f.typ, f.msg}
		}
	}
	if op == "BatchGetSecretValue" && s.noBatch {
		return &apiError{400, "UnknownOperationException", ""}
	}
	return nil
}

// dispatch runs one operation. Called with s.mu held.
func (s *Server) dispatch(op string, body []byte, call *Call) (any, *apiError) {
	var in request
	if len(body) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		if err := dec.Decode(&in); err != nil {
			return nil, &apiError{400, "SerializationException", "Start of structure or map found where not expected."}
		}
	}
	if in.SecretID != "" {
		call.SecretIDs = []string{in.SecretID}
	}
	call.VersionID, call.VersionStage = in.VersionID, in.VersionStage
	switch op {
	case "GetSecretValue":
		return s.getSecretValue(in)
	case "BatchGetSecretValue":
		call.SecretIDs = append([]string(nil), in.SecretIDList...)
		return s.batchGetSecretValue(in)
	case "DescribeSecret":
		return s.describeSecret(in)
	case "ListSecretVersionIds":
		return s.listSecretVersionIDs(in)
	case "CreateSecret":
		call.SecretIDs = []string{in.Name}
		return s.createSecret(in)
	case "PutSecretValue":
		return s.putSecretValue(in)
	case "UpdateSecretVersionStage":
		return s.updateSecretVersionStage(in)
	case "DeleteSecret":
		return s.deleteSecret(in)
	}
	return nil, &apiError{400, "UnknownOperationException", ""}
}

// request is the union of the input fields of the operations served.
type request struct {
	SecretID                   string   `json:"SecretId"`
	SecretIDList               []string `json:"SecretIdList"`
	Filters                    []any    `json:"Filters"`
	Name                       string   `json:"Name"`
	VersionID                  string   `json:"VersionId"`
	VersionStage               string   `json:"VersionStage"`
	VersionStages              []string `json:"VersionStages"`
	SecretString               *string  `json:"SecretString"`
	SecretBinary               []byte   `json:"SecretBinary"` // base64 in JSON, as AWS sends it
	ClientRequestToken         string   `json:"ClientRequestToken"`
	MoveToVersionID            string   `json:"MoveToVersionId"`
	RemoveFromVersionID        string   `json:"RemoveFromVersionId"`
	ForceDeleteWithoutRecovery bool     `json:"ForceDeleteWithoutRecovery"`
	RecoveryWindowInDays       int      `json:"RecoveryWindowInDays"`
	IncludeDeprecated          bool     `json:"IncludeDeprecated"`
	MaxResults                 int      `json:"MaxResults"`
	NextToken                  string   `json:"NextToken"`
}

// epoch is a time as AWS's JSON protocols send it: seconds since the
// epoch, a number with a fraction.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000)), nil
}

func (sec *secret) matches(id string) bool {
	if id == sec.name || id == sec.arn {
		return true
	}
	// A partial ARN: the full one without the "-xxxxxx" suffix.
	return len(sec.arn) > 7 && id == sec.arn[:len(sec.arn)-7]
}

func (s *Server) find(id string) *secret {
	for _, sec := range s.secrets {
		if sec.matches(id) {
			return sec
		}
	}
	return nil
}

// live finds a secret that is not scheduled for deletion.
func (s *Server) live(id string) (*secret, *apiError) {
	if id == "" {
		return nil, errInvalidParameter("You must specify a SecretId.")
	}
	sec := s.find(id)
	if sec == nil {
		return nil, errNotFound()
	}
	if !sec.deleted.IsZero() {
		return nil, errInvalidRequest("You can't perform this operation on the secret because it was marked for deletion.")
	}
	return sec, nil
}

func (sec *secret) version(id, stage string) (*version, *apiError) {
	if id == "" && stage == "" {
		stage = StageCurrent
	}
	for _, v := range sec.versions {
		if id != "" && v.id != id {
			continue
		}
		if stage != "" && !has(v.stages, stage) {
			continue
		}
		return v, nil
	}
	if id != "" {
		return nil, &apiError{400, "ResourceNotFoundException",
			fmt.Sprintf("Secrets Manager can't find the specified secret value for VersionId: %s", id)}
	}
	return nil, &apiError{400, "ResourceNotFoundException",
		fmt.Sprintf("Secrets Manager can't find the specified secret value for staging label: %s", stage)}
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// value is GetSecretValue's output and BatchGetSecretValue's entry.
type value struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   epoch    `json:"CreatedDate"`
}

func valueOf(sec *secret, v *version) value {
	return value{ARN: sec.arn, Name: sec.name, VersionID: v.id, SecretString: v.str, SecretBinary: v.bin,
		VersionStages: append([]string(nil), v.stages...), CreatedDate: epoch(v.created)}
}

func (s *Server) getSecretValue(in request) (any, *apiError) {
	sec, aerr := s.live(in.SecretID)
	if aerr != nil {
		return nil, aerr
	}
	v, aerr := sec.version(in.VersionID, in.VersionStage)
	if aerr != nil {
		return nil, aerr
	}
	return valueOf(sec, v), nil
}

func (s *Server) batchGetSecretValue(in request) (any, *apiError) {
	if len(in.SecretIDList) > 0 && len(in.Filters) > 0 {
		return nil, errInvalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	}
	if len(in.SecretIDList) == 0 {
		return nil, errInvalidParameter("Filters are not supported by this endpoint; give SecretIdList.")
	}
	if len(in.SecretIDList) > 20 {
		return nil, errInvalidParameter("SecretIdList can contain at most 20 secrets.")
	}
	type apiErr struct {
		SecretID  string `json:"SecretId"`
		ErrorCode string `json:"ErrorCode"`
		Message   string `json:"Message"`
	}
	out := struct {
		SecretValues []value  `json:"SecretValues"`
		Errors       []apiErr `json:"Errors"`
	}{SecretValues: []value{}, Errors: []apiErr{}}
	for _, id := range in.SecretIDList {
		sec, aerr := s.live(id)
		var v *version
		if aerr == nil {
			v, aerr = sec.version("", StageCurrent)
		}
		if aerr != nil {
			out.Errors = append(out.Errors, apiErr{id, aerr.typ, aerr.msg})
			continue
		}
		out.SecretValues = append(out.SecretValues, valueOf(sec, v))
	}
	return out, nil
}

func (s *Server) describeSecret(in request) (any, *apiError) {
	sec := s.find(in.SecretID)
	if sec == nil {
		return nil, errNotFound()
	}
	stages := map[string][]string{}
	last := sec.created
	for _, v := range sec.versions {
		if len(v.stages) > 0 {
			stages[v.id] = append([]string(nil), v.stages...)
		}
		if v.created.After(last) {
			last = v.created
		}
	}
	out := map[string]any{
		"ARN": sec.arn, "Name": sec.name, "CreatedDate": epoch(sec.created),
		"LastChangedDate": epoch(last), "VersionIdsToStages": stages,
	}
	if !sec.deleted.IsZero() {
		out["DeletedDate"] = epoch(sec.deleted)
	}
	return out, nil
}

func (s *Server) listSecretVersionIDs(in request) (any, *apiError) {
	sec := s.find(in.SecretID)
	if sec == nil {
		return nil, errNotFound()
	}
	type entry struct {
		VersionID     string   `json:"VersionId"`
		VersionStages []string `json:"VersionStages"`
		CreatedDate   epoch    `json:"CreatedDate"`
	}
	var all []entry
	for _, v := range sec.versions {
		if len(v.stages) == 0 && !in.IncludeDeprecated {
			continue
		}
		all = append(all, entry{v.id, append([]string{}, v.stages...), epoch(v.created)})
	}
	// Newest first, as the console shows them; pages of MaxResults
	// (default 100), the NextToken being the offset.
	sort.SliceStable(all, func(i, j int) bool {
		return time.Time(all[i].CreatedDate).After(time.Time(all[j].CreatedDate))
	})
	start := 0
	if in.NextToken != "" {
		if _, err := fmt.Sscanf(in.NextToken, "%d", &start); err != nil || start < 0 || start > len(all) {
			return nil, errInvalidParameter("Invalid NextToken.")
		}
	}
	size := in.MaxResults
	if size <= 0 {
		size = 100
	}
	end := min(start+size, len(all))
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "Versions": append([]entry{}, all[start:end]...)}
	if end < len(all) {
		out["NextToken"] = fmt.Sprint(end)
	}
	return out, nil
}

func (s *Server) createSecret(in request) (any, *apiError) {
	if in.Name == "" {
		return nil, errInvalidParameter("You must specify a Name.")
	}
	if s.find(in.Name) != nil {
		return nil, &apiError{400, "ResourceExistsException", fmt.Sprintf("The operation failed because the secret %s already exists.", in.Name)}
	}
	now := s.now()
	sec := &secret{
		name:    in.Name,
		arn:     fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", s.region, s.account, in.Name, suffix()),
		created: now,
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if in.SecretString != nil || in.SecretBinary != nil {
		v, aerr := newVersion(in, now)
		if aerr != nil {
			return nil, aerr
		}
		v.stages = []string{StageCurrent}
		sec.versions = append(sec.versions, v)
		out["VersionId"] = v.id
	}
	s.secrets = append(s.secrets, sec)
	return out, nil
}

func newVersion(in request, now time.Time) (*version, *apiError) {
	if in.SecretString != nil && in.SecretBinary != nil {
		return nil, errInvalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	id := in.ClientRequestToken
	if id == "" {
		id = newUUID()
	}
	if len(id) < 32 || len(id) > 64 {
		return nil, errInvalidParameter("ClientRequestToken must be 32 to 64 characters long.")
	}
	return &version{id: id, str: in.SecretString, bin: in.SecretBinary, created: now}, nil
}

func (s *Server) putSecretValue(in request) (any, *apiError) {
	sec, aerr := s.live(in.SecretID)
	if aerr != nil {
		return nil, aerr
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, errInvalidRequest("You must provide either SecretString or SecretBinary.")
	}
	v, aerr := newVersion(in, s.now())
	if aerr != nil {
		return nil, aerr
	}
	for _, old := range sec.versions {
		if old.id == v.id {
			return nil, &apiError{400, "ResourceExistsException", "You can't modify an existing version, you can only create a new version."}
		}
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	sec.versions = append(sec.versions, v)
	for _, st := range stages {
		sec.move(st, v)
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": v.stages}, nil
}

// move puts the label stage on v, taking it from the version that had it;
// moving AWSCURRENT makes that version AWSPREVIOUS, as AWS does.
func (sec *secret) move(stage string, v *version) {
	var from *version
	for _, o := range sec.versions {
		if o != v && has(o.stages, stage) {
			from = o
			o.stages = remove(o.stages, stage)
		}
	}
	if !has(v.stages, stage) {
		v.stages = append(v.stages, stage)
	}
	if stage == StageCurrent && from != nil {
		sec.move(StagePrevious, from)
	}
	if stage == StageCurrent {
		v.stages = remove(v.stages, StagePrevious)
	}
}

func remove(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) updateSecretVersionStage(in request) (any, *apiError) {
	sec, aerr := s.live(in.SecretID)
	if aerr != nil {
		return nil, aerr
	}
	if in.VersionStage == "" {
		return nil, errInvalidParameter("You must specify a VersionStage.")
	}
	if in.RemoveFromVersionID != "" {
		v, aerr := sec.version(in.RemoveFromVersionID, "")
		if aerr != nil {
			return nil, aerr
		}
		if !has(v.stages, in.VersionStage) {
			return nil, errInvalidParameter("The staging label %s is not attached to version %s.", in.VersionStage, v.id)
		}
		if in.MoveToVersionID == "" {
			v.stages = remove(v.stages, in.VersionStage)
		}
	} else if in.MoveToVersionID != "" {
		if cur, _ := sec.version("", in.VersionStage); cur != nil && cur.id != in.MoveToVersionID {
			return nil, errInvalidParameter("The staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", in.VersionStage, cur.id)
		}
	}
	if in.MoveToVersionID != "" {
		v, aerr := sec.version(in.MoveToVersionID, "")
		if aerr != nil {
			return nil, aerr
		}
		sec.move(in.VersionStage, v)
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name}, nil
}

func (s *Server) deleteSecret(in request) (any, *apiError) {
	sec := s.find(in.SecretID)
	if sec == nil {
		return nil, errNotFound()
	}
	now := s.now()
	if in.ForceDeleteWithoutRecovery {
		for i, x := range s.secrets {
			if x == sec {
				s.secrets = append(s.secrets[:i], s.secrets[i+1:]...)
				break
			}
		}
	} else {
		days := in.RecoveryWindowInDays
		if days == 0 {
			days = 30
		}
		sec.deleted = now.Add(time.Duration(days) * 24 * time.Hour)
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "DeletionDate": epoch(now)}, nil
}

// suffix is the 6 random characters AWS appends to a secret's ARN.
func suffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
