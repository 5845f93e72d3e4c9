package alerting

// Decode: a webhook body into a Notification. Senders are tolerated as
// they really are (vmalert, older Alertmanagers and bridges leave fields
// out); only what cannot be read is rejected, with the reason. Each
// fallback is listed in docs/alerting.md, "Inputs".

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Sources a notification comes in by.
const (
	SourceGrafana      = "grafana"
	SourceAlertmanager = "alertmanager"
)

// DefaultMaxAlerts is how many alerts one webhook call may carry before it
// is rejected: Alertmanager sends at most its max_alerts (0 = all) and
// Grafana truncates well below this, so more is a runaway sender.
const DefaultMaxAlerts = 10_000

// ErrMalformed is wrapped by every rejection of the decoders: the body
// cannot be read as a notification (the HTTP layer answers 400 with the
// error's text, which says why).
var ErrMalformed = errors.New("malformed notification")

// DecodeGrafana decodes a Grafana unified-alerting webhook (version 1).
func DecodeGrafana(body []byte) (Notification, error) {
	return Decode(SourceGrafana, body, DefaultMaxAlerts)
}

// DecodeAlertmanager decodes an Alertmanager webhook (version 4) or what
// Alertmanager-compatible senders send.
func DecodeAlertmanager(body []byte) (Notification, error) {
	return Decode(SourceAlertmanager, body, DefaultMaxAlerts)
}

// Decode decodes a webhook body of the given source, rejecting more than
// maxAlerts alerts (maxAlerts <= 0: DefaultMaxAlerts). The two formats
// share their shape, Grafana adding fields (values, valueString, links,
// orgId, title, state, message); whichever fields are present are kept.
func Decode(source string, body []byte, maxAlerts int) (Notification, error) {
	return decode(source, body, maxAlerts, time.Now())
}

// decode is Decode at a given time (the endsAt fallback compares with it).
func decode(source string, body []byte, maxAlerts int, now time.Time) (Notification, error) {
	if maxAlerts <= 0 {
		maxAlerts = DefaultMaxAlerts
	}
	if !json.Valid(body) {
		return Notification{}, malformed("not JSON")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return Notification{}, malformed("not a JSON object: %s", jsonKind(body))
	}
	n := Notification{Source: source}
	var err error
	strs := []struct {
		key string
		dst *string
	}{
		{"version", &n.Version}, {"receiver", &n.Receiver}, {"status", &n.Status},
		{"externalURL", &n.ExternalURL}, {"groupKey", &n.GroupKey},
		{"title", &n.Title}, {"state", &n.State}, {"message", &n.Message},
	}
	for _, s := range strs {
		if *s.dst, err = stringField(top, s.key); err != nil {
			return Notification{}, malformed("%v", err)
		}
	}
	if n.OrgID, err = intField(top, "orgId"); err != nil {
		return Notification{}, malformed("%v", err)
	}
	truncated, err := intField(top, "truncatedAlerts")
	if err != nil {
		return Notification{}, malformed("%v", err)
	}
	n.TruncatedAlerts = int(truncated)
	maps := []struct {
		key string
		dst *map[string]string
	}{
		{"groupLabels", &n.GroupLabels}, {"commonLabels", &n.CommonLabels},
		{"commonAnnotations", &n.CommonAnnotations},
	}
	for _, m := range maps {
		if *m.dst, err = stringMap(top[m.key]); err != nil {
			return Notification{}, malformed("%s: %v", m.key, err)
		}
	}
	// The notification's status: "firing"/"resolved" in any case; anything
	// else is treated as absent (alerts then fall back to their endsAt, and
	// the status is recomputed from the alerts below).
	n.Status = normStatus(n.Status)

	raw, ok := top["alerts"]
	if !ok {
		return Notification{}, malformed("alerts missing")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return Notification{}, malformed("alerts: not an array but %s", jsonKind(raw))
	}
	if len(items) > maxAlerts {
		return Notification{}, malformed("%d alerts, more than the %d accepted in one call", len(items), maxAlerts)
	}
	n.Alerts = make([]Alert, 0, len(items))
	seen := make(map[string]int, len(items)) // fingerprint → index in n.Alerts
	for i, item := range items {
		a, err := decodeAlert(item, n.Status, now)
		if err != nil {
			return Notification{}, malformed("alert %d: %v", i, err)
		}
		// A fingerprint repeated in one payload (vmalert and bridges send
		// an alert's resolve and its next firing together): the later
		// state wins, in the place of the first.
		if j, dup := seen[a.Fingerprint]; dup {
			if !laterState(a, n.Alerts[j]) {
				continue
			}
			n.Alerts[j] = a
			continue
		}
		seen[a.Fingerprint] = len(n.Alerts)
		n.Alerts = append(n.Alerts, a)
	}
	// Absent notification status: firing if any alert fires, as
	// Alertmanager computes it.
	if n.Status == "" {
		n.Status = StatusResolved
		for _, a := range n.Alerts {
			if a.Status == StatusFiring {
				n.Status = StatusFiring
				break
			}
		}
	}
	return n, nil
}

// decodeAlert decodes one alert; fallback is the notification's status.
func decodeAlert(raw json.RawMessage, fallback string, now time.Time) (Alert, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return Alert{}, fmt.Errorf("not an object but %s", jsonKind(raw))
	}
	var a Alert
	var err error
	strs := []struct {
		key string
		dst *string
	}{
		{"status", &a.Status}, {"fingerprint", &a.Fingerprint},
		{"valueString", &a.ValueString}, {"generatorURL", &a.GeneratorURL},
		{"silenceURL", &a.SilenceURL}, {"dashboardURL", &a.DashboardURL},
		{"panelURL", &a.PanelURL},
	}
	for _, s := range strs {
		if *s.dst, err = stringField(m, s.key); err != nil {
			return Alert{}, err
		}
	}
	if a.Labels, err = stringMap(m["labels"]); err != nil {
		return Alert{}, fmt.Errorf("labels: %w", err)
	}
	if a.Annotations, err = stringMap(m["annotations"]); err != nil {
		return Alert{}, fmt.Errorf("annotations: %w", err)
	}
	// Absent labels and annotations are empty, never nil, so that a
	// renderer can index them.
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	if a.StartsAt, err = timeField(m, "startsAt"); err != nil {
		return Alert{}, err
	}
	if a.EndsAt, err = timeField(m, "endsAt"); err != nil {
		return Alert{}, err
	}
	if a.Values, err = values(m["values"]); err != nil {
		return Alert{}, fmt.Errorf("values: %w", err)
	}
	// Per-alert status absent (or not firing/resolved): resolved if endsAt
	// is set and past, else the notification's status, else firing (an
	// Alertmanager alert whose endsAt is in the future still fires).
	a.Status = normStatus(a.Status)
	if a.Status == "" {
		switch {
		case !a.EndsAt.IsZero() && !a.EndsAt.After(now):
			a.Status = StatusResolved
		case fallback != "":
			a.Status = fallback
		default:
			a.Status = StatusFiring
		}
	}
	// Fingerprint absent: Alertmanager's, computed from the labels (16 hex
	// digits), so that the same alert from a sender that omits it keeps one
	// identity across notifications.
	if a.Fingerprint == "" {
		a.Fingerprint = Fingerprint(a.Labels)
	}
	return a, nil
}

// Fingerprint is Alertmanager's fingerprint of a label set
// (model.LabelSet.Fingerprint) as 16 hex digits.
func Fingerprint(labels map[string]string) string {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// laterState says whether a's state began after b's: a resolved alert's
// state began at its endsAt, a firing one's at its startsAt. On a tie the
// one later in the payload (a) wins.
func laterState(a, b Alert) bool {
	return !stateTime(a).Before(stateTime(b))
}

func stateTime(a Alert) time.Time {
	if a.Status == StatusResolved && !a.EndsAt.IsZero() {
		return a.EndsAt
	}
	return a.StartsAt
}

func normStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case StatusFiring:
		return StatusFiring
	case StatusResolved:
		return StatusResolved
	}
	return ""
}

// stringField reads an optional string; null is absent. The version may
// also be a number, taken as its text (bridges send "version": 4).
func stringField(m map[string]json.RawMessage, key string) (string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var num json.Number
	if key == "version" && json.Unmarshal(raw, &num) == nil {
		return num.String(), nil
	}
	return "", fmt.Errorf("%s: want a string, got %s", key, jsonKind(raw))
}

// intField reads an optional integer, also given as a string of digits.
func intField(m map[string]json.RawMessage, key string) (int64, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return 0, nil
	}
	var i int64
	if err := json.Unmarshal(raw, &i); err == nil {
		return i, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return 0, nil
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s: want an integer, got %s", key, jsonKind(raw))
}

// stringMap reads an optional map of strings (labels, annotations); null
// or absent is nil.
func stringMap(raw json.RawMessage) (map[string]string, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("want an object of strings, got %s", jsonKind(raw))
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		var s string
		if err := json.Unmarshal(m[k], &s); err != nil {
			return nil, fmt.Errorf("%q: want a string, got %s", k, jsonKind(m[k]))
		}
		out[k] = s
	}
	return out, nil
}

// timeField reads an optional RFC 3339 timestamp (any offset, up to
// nanoseconds), returned in UTC; absent, null, "" and Alertmanager's
// 0001-01-01T00:00:00Z are the zero time.
func timeField(m map[string]json.RawMessage, key string) (time.Time, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, fmt.Errorf("%s: want an RFC 3339 time string, got %s", key, jsonKind(raw))
	}
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time", key, s)
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// values reads Grafana's map of query values: numbers, null (skipped: no
// value) or the strings Go prints for non-finite floats ("NaN", "+Inf").
func values(raw json.RawMessage) (map[string]float64, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("want an object of numbers, got %s", jsonKind(raw))
	}
	out := make(map[string]float64, len(m))
	for _, k := range sortedKeys(m) {
		v := m[k]
		if isNull(v) {
			continue
		}
		var f float64
		if err := json.Unmarshal(v, &f); err == nil {
			out[k] = f
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				out[k] = f
				continue
			}
		}
		return nil, fmt.Errorf("%q: want a number, got %s", k, jsonKind(v))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// jsonKind names the kind of a JSON value, for error messages.
func jsonKind(raw []byte) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
