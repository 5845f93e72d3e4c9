// Package secrets resolves the AWS Secrets Manager secrets a deploy
// needs, through aws-sdk-go-v2's secretsmanager client.
//
// A config references at most MaxPerConfig (8) secrets and they are
// resolved all or nothing: Resolve (on deployer/spec's SecretRef and
// ResolvedSecret) returns every secret or an error and no map, so a deploy applies all new values or keeps all old ones. Each
// resolved secret is pinned to the version id Secrets Manager answered
// with, which the deployer records in its history — version ids, never
// values. Versions lists a secret's versions (id, staging labels, creation
// time) for the history page and API, again without values.
//
// What a resolved secret holds (ResolvedSecret.Values, by key):
//   - "" (WholeSecret): the secret string as stored;
//   - when the string is a JSON object, each top-level key, as a string
//     (strings as they are, numbers and booleans as written, objects and
//     arrays as their JSON; null keys are absent);
//   - with a key set, only that key, and an error if the string is not a
//     JSON object or lacks the key (spec.SecretRef carries no key yet: the
//     spec's key: picks Values[k] when rendering, which must then refuse a
//     missing k);
//   - a SecretBinary secret is exposed base64-encoded (standard encoding,
//     what a Kubernetes Secret's data field holds) under ""; a key on it
//     is an error, binary has no fields.
//
// Up to MaxPerConfig secrets at AWSCURRENT are read with one
// BatchGetSecretValue call; secrets pinned to another stage or a version
// id, and every secret when the endpoint or the IAM policy refuses the
// batch call (UnknownOperationException, AccessDeniedException), are read
// with GetSecretValue each. Throttling is retried by the SDK's retryer.
//
// Values never appear in errors, logs or fmt output: Values prints
// <secret>, errors name the spec's secret and its SecretId and quote AWS's
// error code and message (which never carry a value), and a secret string
// that is not JSON is reported without quoting the decoder's message (it
// names the offending character).
//
// The tests run the real SDK client against internal/testenv/secretsmanager,
// a local server speaking Secrets Manager's JSON protocol that stands in
// for AWS, which cannot run here.
package secrets
