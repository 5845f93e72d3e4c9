package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/furrowdev/furrow/deployer/spec"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// MaxPerConfig is how many secrets one config may reference: the issue's
// rule, and what one BatchGetSecretValue call reads comfortably.
const MaxPerConfig = 8

// stageCurrent is the staging label read when a secretRef names none.
const stageCurrent = "AWSCURRENT"

// ErrTooMany is returned (wrapped) when a config references more than
// MaxPerConfig secrets; nothing is read then.
var ErrTooMany = errors.New("too many secrets")

// Error is a failure to resolve one secret. It names the secret, never
// its value.
type Error struct {
	// Name is the spec's name, SecretID the Secrets Manager id.
	Name, SecretID string
	// Err is the cause: an SDK error (smithy.APIError for AWS's answers,
	// e.g. ResourceNotFoundException) or a value-free local reason.
	Err error
}

func (e *Error) Error() string {
	name := ""
	if e.Name != "" {
		name = fmt.Sprintf(" (%s)", e.Name)
	}
	return fmt.Sprintf("secret %s%s: %v", e.SecretID, name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Version is one version of a secret, as the history shows it.
type Version struct {
	// ID is the version id.
	ID string `json:"id"`
	// Stages are its staging labels; none for a deprecated version.
	Stages []string `json:"stages"`
	// Created is when the version was stored.
	Created time.Time `json:"created"`
}

// Option changes a Resolver.
type Option func(*Resolver)

// WithLogger logs resolutions (names, ids and version ids, never values).
func WithLogger(l *slog.Logger) Option { return func(r *Resolver) { r.log = l } }

// WithRegistry registers the resolver's metrics on reg.
func WithRegistry(reg prometheus.Registerer) Option {
	return func(r *Resolver) { r.metrics = newMetrics(reg) }
}

// WithTimeout bounds one Resolve or Versions call (Configuration.Timeout).
func WithTimeout(d time.Duration) Option { return func(r *Resolver) { r.timeout = d } }

// WithoutBatch reads every secret with GetSecretValue, never
// BatchGetSecretValue (for policies that do not grant it).
func WithoutBatch() Option { return func(r *Resolver) { r.noBatch = true } }

// Resolver reads a config's secrets from Secrets Manager.
type Resolver struct {
	client  *secretsmanager.Client
	log     *slog.Logger
	metrics *metrics
	timeout time.Duration
	noBatch bool
}

// NewResolver returns a Resolver reading through client. It calls nothing.
func NewResolver(client *secretsmanager.Client, opts ...Option) *Resolver {
	r := &Resolver{client: client, timeout: DefaultConfiguration().Timeout}
	for _, o := range opts {
		o(r)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.metrics == nil {
		r.metrics = newMetrics(nil)
	}
	return r
}

// Open builds the client from cfg and a Resolver on it.
func Open(ctx context.Context, cfg Configuration, opts ...Option) (*Resolver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("deployer.secrets_manager: %w", err)
	}
	client, err := NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return NewResolver(client, append([]Option{WithTimeout(cfg.Timeout)}, opts...)...), nil
}

// fetchKey is one version read: refs naming the same secret and version
// share it, so two keys of one secret come from one version.
type fetchKey struct{ secretID, stage, versionID string }

func (k fetchKey) batchable() bool {
	return k.versionID == "" && (k.stage == "" || k.stage == stageCurrent)
}

// fetched is one version as read.
type fetched struct {
	arn, versionID string
	stages         []string
	str            *string
	bin            []byte
}

// resolveRefs reads every ref of config (a name for errors, such as
// "shop/prod"), all or nothing: on any failure it returns an error naming
// the secret and no map. More than MaxPerConfig refs are refused before
// anything is read. The map is keyed by secretRef.Name.
func (r *Resolver) resolveRefs(ctx context.Context, config string, refs []secretRef) (_ map[string]resolvedSecret, err error) {
	start := time.Now()
	defer func() {
		result := "ok"
		if errors.Is(err, ErrTooMany) {
			result = "refused"
		} else if err != nil {
			result = "error"
		}
		r.metrics.resolutions.WithLabelValues(result).Inc()
		r.metrics.duration.Observe(time.Since(start).Seconds())
	}()
	if err := checkRefs(config, refs); err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return map[string]resolvedSecret{}, nil
	}
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}

	keyOf := func(ref secretRef) fetchKey {
		if ref.VersionStage == "" && ref.VersionID == "" {
			return fetchKey{ref.SecretID, stageCurrent, ""}
		}
		return fetchKey{ref.SecretID, ref.VersionStage, ref.VersionID}
	}
	got := map[fetchKey]fetched{}
	var batch, single []fetchKey
	seen := map[fetchKey]bool{}
	for _, ref := range refs {
		k := keyOf(ref)
		if seen[k] {
			continue
		}
		seen[k] = true
		if k.batchable() && !r.noBatch {
			batch = append(batch, k)
		} else {
			single = append(single, k)
		}
	}
	nameOf := func(id string) string {
		for _, ref := range refs {
			if ref.SecretID == id {
				return ref.Name
			}
		}
		return ""
	}
	if len(batch) > 1 {
		fallback, err := r.batchGet(ctx, batch, got, nameOf)
		if err != nil {
			return nil, err
		}
		if fallback {
			single = append(single, batch...)
		}
	} else {
		single = append(single, batch...)
	}
	if err := r.getEach(ctx, single, got, nameOf); err != nil {
		return nil, err
	}

	out := make(map[string]resolvedSecret, len(refs))
	for _, ref := range refs {
		f := got[keyOf(ref)]
		var v Values
		var err error
		switch {
		case f.str != nil:
			v, err = extract(*f.str, ref.Key)
		case f.bin != nil:
			v, err = extractBinary(f.bin, ref.Key)
		default:
			err = errEmpty()
		}
		if err != nil {
			return nil, &Error{Name: ref.Name, SecretID: ref.SecretID, Err: err}
		}
		out[ref.Name] = resolvedSecret{
			Name: ref.Name, SecretID: ref.SecretID, ARN: f.arn, VersionID: f.versionID,
			Stages: f.stages, Binary: f.str == nil, Values: v,
		}
	}
	r.logResolved(config, out)
	return out, nil
}

// checkRefs refuses what cannot be resolved before anything is read.
func checkRefs(config string, refs []secretRef) error {
	label := "config"
	if config != "" {
		label = fmt.Sprintf("config %s", config)
	}
	if len(refs) > MaxPerConfig {
		names := make([]string, len(refs))
		for i, ref := range refs {
			names[i] = ref.Name
		}
		return fmt.Errorf("%s references %d secrets (%s); at most %d are allowed: group values in one JSON secret and pick them with key: %w",
			label, len(refs), strings.Join(names, ", "), MaxPerConfig, ErrTooMany)
	}
	var errs []error
	names := map[string]bool{}
	for i, ref := range refs {
		switch {
		case ref.Name == "":
			errs = append(errs, fmt.Errorf("%s: secret #%d has no name", label, i+1))
		case names[ref.Name]:
			errs = append(errs, fmt.Errorf("%s: secret %s is listed twice", label, ref.Name))
		}
		names[ref.Name] = true
		if strings.TrimSpace(ref.SecretID) == "" {
			errs = append(errs, fmt.Errorf("%s: secret %s has no secret id", label, ref.Name))
		}
	}
	return errors.Join(errs...)
}

// batchGet reads the current versions of keys with one
// BatchGetSecretValue call (paged if the service pages). fallback says the
// call itself was refused and the keys must be read one by one.
func (r *Resolver) batchGet(ctx context.Context, keys []fetchKey, got map[fetchKey]fetched, nameOf func(string) string) (fallback bool, _ error) {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.secretID
	}
	var values []types.SecretValueEntry
	var token *string
	for {
		r.metrics.requests.WithLabelValues("BatchGetSecretValue").Inc()
		out, err := r.client.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids, NextToken: token})
		if err != nil {
			var ae smithy.APIError
			if errors.As(err, &ae) && token == nil {
				switch ae.ErrorCode() {
				case "UnknownOperationException", "AccessDeniedException":
					r.metrics.fallbacks.Inc()
					r.log.Info("BatchGetSecretValue refused; reading secrets one by one", "code", ae.ErrorCode())
					return true, nil
				}
			}
			return false, fmt.Errorf("read secrets %s: %w", strings.Join(ids, ", "), err)
		}
		if len(out.Errors) > 0 {
			var errs []error
			for _, e := range out.Errors {
				id := aws.ToString(e.SecretId)
				errs = append(errs, &Error{Name: nameOf(id), SecretID: id, Err: &smithy.GenericAPIError{
					Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.Message)}})
			}
			return false, errors.Join(errs...)
		}
		values = append(values, out.SecretValues...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		token = out.NextToken
	}
	for _, k := range keys {
		found := false
		for _, e := range values {
			if matches(k.secretID, aws.ToString(e.Name), aws.ToString(e.ARN)) {
				got[k] = fetched{arn: aws.ToString(e.ARN), versionID: aws.ToString(e.VersionId),
					stages: e.VersionStages, str: e.SecretString, bin: e.SecretBinary}
				found = true
				break
			}
		}
		if !found {
			return false, &Error{Name: nameOf(k.secretID), SecretID: k.secretID,
				Err: errors.New("BatchGetSecretValue returned neither its value nor an error")}
		}
	}
	return false, nil
}

// matches says whether a requested id (name, ARN, or ARN without the
// random suffix) designates the secret name/arn.
func matches(id, name, arn string) bool {
	if id == name || id == arn {
		return true
	}
	return len(arn) > 7 && arn[len(arn)-7] == '-' && id == arn[:len(arn)-7]
}

// getEach reads keys with GetSecretValue, four at a time; the first
// failure cancels the others.
func (r *Resolver) getEach(ctx context.Context, keys []fetchKey, got map[fetchKey]fetched, nameOf func(string) string) error {
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, k := range keys {
		g.Go(func() error {
			in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(k.secretID)}
			if k.stage != "" {
				in.VersionStage = aws.String(k.stage)
			}
			if k.versionID != "" {
				in.VersionId = aws.String(k.versionID)
			}
			r.metrics.requests.WithLabelValues("GetSecretValue").Inc()
			out, err := r.client.GetSecretValue(ctx, in)
			if err != nil {
				return &Error{Name: nameOf(k.secretID), SecretID: k.secretID, Err: err}
			}
			mu.Lock()
			defer mu.Unlock()
			got[k] = fetched{arn: aws.ToString(out.ARN), versionID: aws.ToString(out.VersionId),
				stages: out.VersionStages, str: out.SecretString, bin: out.SecretBinary}
			return nil
		})
	}
	return g.Wait()
}

// logResolved logs what was resolved: names, ids, versions and keys.
func (r *Resolver) logResolved(config string, out map[string]resolvedSecret) {
	if !r.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		res := out[n]
		keys := res.Values.Keys()
		sort.Strings(keys)
		r.log.Debug("secret resolved", "config", config, "name", n, "secret_id", res.SecretID,
			"version_id", res.VersionID, "stages", res.Stages, "keys", keys, "values", res.Values)
	}
}

// Versions lists a secret's versions, newest first, deprecated ones (no
// staging label left) included: what the history shows. No value is read.
func (r *Resolver) Versions(ctx context.Context, ref spec.SecretRef) ([]Version, error) {
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	var out []Version
	p := secretsmanager.NewListSecretVersionIdsPaginator(r.client, &secretsmanager.ListSecretVersionIdsInput{
		SecretId: aws.String(ref.SecretID), IncludeDeprecated: aws.Bool(true),
	})
	for p.HasMorePages() {
		r.metrics.requests.WithLabelValues("ListSecretVersionIds").Inc()
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, &Error{Name: ref.Name, SecretID: ref.SecretID, Err: err}
		}
		for _, v := range page.Versions {
			out = append(out, Version{ID: aws.ToString(v.VersionId), Stages: append([]string{}, v.VersionStages...),
				Created: aws.ToTime(v.CreatedDate)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}
