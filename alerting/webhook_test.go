package alerting

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// sharedAlerts holds the real payloads of issue 13.
const sharedAlerts = "../../shared/testdata/alerts/"

// decoderFor picks the decoder a shared payload is sent to, by the sender
// its name says it comes from; a new file must be classified here.
func decoderFor(t *testing.T, name string) func([]byte) (Notification, error) {
	t.Helper()
	switch {
	case strings.HasPrefix(name, "prometheus-msteams_"), strings.HasPrefix(name, "ntfy_webhook_alertmanager_"):
		return DecodeAlertmanager
	case strings.HasPrefix(name, "pytorch-alerting-infra_grafana-"), strings.HasPrefix(name, "ntfy_webhook_grafana_"):
		return DecodeGrafana
	}
	t.Fatalf("%s: no decoder known for this payload: classify it in decoderFor", name)
	return nil
}

func sharedPayloads(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedAlerts, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no payloads in %s", sharedAlerts)
	return files
}

// TestWebhookSharedPayloads decodes every shared payload with its sender's
// decoder and compares its groups with testdata/groups/<file>.json.
func TestWebhookSharedPayloads(t *testing.T) {
	payloads := sharedPayloads(t)
	// A golden file whose payload is gone is stale.
	goldens, err := filepath.Glob(filepath.Join("testdata", "groups", "*.json"))
	require.NoError(t, err)
	for _, g := range goldens {
		if _, err := os.Stat(filepath.Join(sharedAlerts, filepath.Base(g))); err != nil && !*update {
			t.Errorf("%s: no payload %s any more: remove it", g, filepath.Base(g))
		}
	}
	for _, path := range payloads {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			n, err := decoderFor(t, name)(body)
			require.NoError(t, err)
			require.Contains(t, []string{SourceGrafana, SourceAlertmanager}, n.Source)
			require.NotEmpty(t, n.Alerts)
			for i, a := range n.Alerts {
				require.Contains(t, []string{StatusFiring, StatusResolved}, a.Status, "alert %d", i)
				require.NotEmpty(t, a.Fingerprint, "alert %d", i)
				require.False(t, a.StartsAt.IsZero(), "alert %d", i)
				require.Equal(t, time.UTC, a.StartsAt.Location(), "alert %d", i)
			}
			groups := Split(n, nil)
			total := 0
			for _, g := range groups {
				total += len(g.Alerts)
			}
			require.Equal(t, len(n.Alerts), total, "every alert in exactly one group")
			compareGolden(t, filepath.Join("testdata", "groups", name), groups)
		})
	}
}

// jsonIndent is v as indented JSON ending with a newline.
func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

// compareGolden compares v as indented JSON with the golden file, or
// rewrites it under -update.
func compareGolden(t *testing.T, golden string, v any) {
	t.Helper()
	got, err := jsonIndent(v)
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, got, 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./alerting -run Webhook -update to create it")
	require.Equal(t, string(want), string(got), "%s differs (go test ./alerting -run Webhook -update)", golden)
}

// decodeNow is the time the endsAt fallback compares with in the tables.
var decodeNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// TestDecodeFallbacks covers each fallback of docs/alerting.md, "Inputs".
func TestDecodeFallbacks(t *testing.T) {
	type check func(t *testing.T, n Notification)
	status := func(want ...string) check {
		return func(t *testing.T, n Notification) {
			t.Helper()
			var got []string
			for _, a := range n.Alerts {
				got = append(got, a.Status)
			}
			require.Equal(t, want, got)
		}
	}
	cases := []struct {
		name string
		body string
		want []check
	}{
		{
			name: "no version, groupKey, receiver: accepted empty",
			body: `{"status":"firing","alerts":[{"labels":{"alertname":"A"},"startsAt":"2020-01-02T03:04:05Z"}]}`,
			want: []check{func(t *testing.T, n Notification) {
				require.Empty(t, n.Version)
				require.Empty(t, n.GroupKey)
				require.Empty(t, n.Receiver)
			}, status(StatusFiring)},
		},
		{
			name: "numeric version is its text",
			body: `{"version":4,"orgId":"3","alerts":[]}`,
			want: []check{func(t *testing.T, n Notification) {
				require.Equal(t, "4", n.Version)
				require.EqualValues(t, 3, n.OrgID)
				require.NotNil(t, n.Alerts)
				require.Empty(t, n.Alerts)
			}},
		},
		{
			name: "no per-alert status, endsAt past: resolved despite a firing notification",
			body: `{"status":"firing","alerts":[{"labels":{"a":"1"},"startsAt":"2019-01-01T00:00:00Z","endsAt":"2020-01-02T03:04:05Z"}]}`,
			want: []check{status(StatusResolved)},
		},
		{
			name: "no per-alert status, endsAt in the future: the notification's status",
			body: `{"status":"firing","alerts":[{"labels":{"a":"1"},"endsAt":"2030-01-01T00:00:00Z"}]}`,
			want: []check{status(StatusFiring)},
		},
		{
			name: "no per-alert status, Alertmanager's zero endsAt: the notification's status",
			body: `{"status":"resolved","alerts":[{"labels":{"a":"1"},"endsAt":"0001-01-01T00:00:00Z"}]}`,
			want: []check{status(StatusResolved), func(t *testing.T, n Notification) {
				require.True(t, n.Alerts[0].EndsAt.IsZero())
			}},
		},
		{
			name: "no status anywhere: firing, and the notification is firing",
			body: `{"alerts":[{"labels":{"a":"1"}},{"labels":{"a":"2"},"endsAt":"2020-01-02T03:04:05Z"}]}`,
			want: []check{status(StatusFiring, StatusResolved), func(t *testing.T, n Notification) {
				require.Equal(t, StatusFiring, n.Status)
			}},
		},
		{
			name: "no notification status, all resolved: resolved",
			body: `{"alerts":[{"status":"resolved","labels":{"a":"1"}}]}`,
			want: []check{func(t *testing.T, n Notification) { require.Equal(t, StatusResolved, n.Status) }},
		},
		{
			name: "status in capitals, unknown status treated as absent",
			body: `{"status":"FIRING","alerts":[{"status":"Resolved","labels":{"a":"1"}},{"status":"pending","labels":{"a":"2"}}]}`,
			want: []check{status(StatusResolved, StatusFiring), func(t *testing.T, n Notification) {
				require.Equal(t, StatusFiring, n.Status)
			}},
		},
		{
			name: "fingerprint absent or empty: Alertmanager's from the labels",
			body: `{"alerts":[{"labels":{"alertname":"A","namespace":"x"}},{"fingerprint":"","labels":{}}]}`,
			want: []check{func(t *testing.T, n Notification) {
				require.Equal(t, fnvFingerprint(map[string]string{"alertname": "A", "namespace": "x"}), n.Alerts[0].Fingerprint)
				require.Equal(t, "cbf29ce484222325", n.Alerts[1].Fingerprint) // FNV-1a offset: no labels
				require.Len(t, n.Alerts[0].Fingerprint, 16)
			}},
		},
		{
			name: "repeated fingerprint: the re-firing after the resolve wins",
			body: `{"alerts":[
				{"status":"resolved","fingerprint":"f1","labels":{"a":"1"},"startsAt":"2024-01-01T00:00:00Z","endsAt":"2024-01-01T01:00:00Z"},
				{"status":"firing","fingerprint":"f2","labels":{"a":"2"},"startsAt":"2024-01-01T00:00:00Z"},
				{"status":"firing","fingerprint":"f1","labels":{"a":"1"},"startsAt":"2024-01-01T02:00:00Z"}]}`,
			want: []check{status(StatusFiring, StatusFiring), func(t *testing.T, n Notification) {
				require.Equal(t, "f1", n.Alerts[0].Fingerprint, "in the place of the first")
				require.Equal(t, time.Date(2024, 1, 1, 2, 0, 0, 0, time.UTC), n.Alerts[0].StartsAt)
			}},
		},
		{
			name: "repeated fingerprint: a resolve after the firing wins, whatever the order",
			body: `{"alerts":[
				{"status":"resolved","labels":{"a":"1"},"startsAt":"2024-01-01T00:00:00Z","endsAt":"2024-01-01T01:00:00Z"},
				{"status":"firing","labels":{"a":"1"},"startsAt":"2024-01-01T00:00:00Z"}]}`,
			want: []check{status(StatusResolved)},
		},
		{
			name: "repeated fingerprint, same time: the later in the payload wins",
			body: `{"alerts":[
				{"status":"firing","labels":{"a":"1"},"startsAt":"2024-01-01T00:00:00Z","annotations":{"n":"first"}},
				{"status":"firing","labels":{"a":"1"},"startsAt":"2024-01-01T00:00:00Z","annotations":{"n":"second"}}]}`,
			want: []check{status(StatusFiring), func(t *testing.T, n Notification) {
				require.Equal(t, "second", n.Alerts[0].Annotations["n"])
			}},
		},
		{
			name: "timestamps with offsets and nanoseconds, in UTC",
			body: `{"alerts":[{"labels":{},"startsAt":"2018-03-07T06:33:21.873077559-05:00","endsAt":"2018-03-07T12:00:00.5+01:00"}]}`,
			want: []check{func(t *testing.T, n Notification) {
				require.Equal(t, time.Date(2018, 3, 7, 11, 33, 21, 873077559, time.UTC), n.Alerts[0].StartsAt)
				require.Equal(t, time.Date(2018, 3, 7, 11, 0, 0, 500000000, time.UTC), n.Alerts[0].EndsAt)
				require.Equal(t, time.UTC, n.Alerts[0].StartsAt.Location())
			}},
		},
		{
			name: "empty and null timestamps are zero",
			body: `{"alerts":[{"labels":{},"startsAt":"","endsAt":null}]}`,
			want: []check{func(t *testing.T, n Notification) {
				require.True(t, n.Alerts[0].StartsAt.IsZero())
				require.True(t, n.Alerts[0].EndsAt.IsZero())
			}},
		},
		{
			name: "no alertname, no labels, no annotations: empty maps",
			body: `{"alerts":[{"startsAt":"2020-01-02T03:04:05Z"}]}`,
			want: []check{func(t *testing.T, n Notification) {
				require.NotNil(t, n.Alerts[0].Labels)
				require.NotNil(t, n.Alerts[0].Annotations)
				require.Empty(t, n.Alerts[0].Labels)
			}},
		},
		{
			name: "Grafana's values and valueString; null values skipped, NaN as text",
			body: `{"alerts":[{"labels":{},"values":{"B":18.98211314475876,"C":0,"D":null,"E":"NaN"},"valueString":"[ var='B' labels={} value=18.98 ]"}]}`,
			want: []check{func(t *testing.T, n Notification) {
				v := n.Alerts[0].Values
				require.Len(t, v, 3)
				require.Equal(t, 18.98211314475876, v["B"])
				require.Equal(t, 0.0, v["C"])
				require.NotEqual(t, v["E"], v["E"], "NaN")
				require.Equal(t, "[ var='B' labels={} value=18.98 ]", n.Alerts[0].ValueString)
			}},
		},
		{
			name: "unknown fields and a duplicate key are fine",
			body: `{"orgId":1,"orgId":2,"vmalert":{"x":[1,2]},"alerts":[{"labels":{"a":"1"},"extra":true,"source":"vmalert"}]}`,
			want: []check{func(t *testing.T, n Notification) { require.EqualValues(t, 2, n.OrgID) }},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, source := range []string{SourceGrafana, SourceAlertmanager} {
				n, err := decode(source, []byte(c.body), DefaultMaxAlerts, decodeNow)
				require.NoError(t, err)
				require.Equal(t, source, n.Source)
				for _, w := range c.want {
					w(t, n)
				}
			}
		})
	}
}

// TestDecodeRejects covers each rejection: an ErrMalformed whose text says
// why.
func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name, body, why string
	}{
		{"empty body", ``, "not JSON"},
		{"not JSON", `{"alerts":[}`, "not JSON"},
		{"an array", `[{"alerts":[]}]`, "not a JSON object: an array"},
		{"a string", `"alerts"`, "not a JSON object: a string"},
		{"null", `null`, "not a JSON object: null"},
		{"alerts missing", `{"status":"firing"}`, "alerts missing"},
		{"alerts an object", `{"alerts":{"a":{}}}`, "alerts: not an array but an object"},
		{"alerts null", `{"alerts":null}`, "alerts: not an array but null"},
		{"alert a string", `{"alerts":[{"labels":{}},"firing"]}`, "alert 1: not an object but a string"},
		{"alert null", `{"alerts":[null]}`, "alert 0: not an object but null"},
		{"labels an array", `{"alerts":[{"labels":["a"]}]}`, "alert 0: labels: want an object of strings, got an array"},
		{"label a number", `{"alerts":[{"labels":{"a":"1","code":503}}]}`, `alert 0: labels: "code": want a string, got a number`},
		{"annotation an object", `{"alerts":[{"annotations":{"x":{}}}]}`, `alert 0: annotations: "x": want a string, got an object`},
		{"commonLabels a number", `{"commonLabels":{"a":1},"alerts":[]}`, `commonLabels: "a": want a string, got a number`},
		{"startsAt unparsable", `{"alerts":[{"startsAt":"yesterday"}]}`, `alert 0: startsAt: "yesterday" is not an RFC 3339 time`},
		{"endsAt without a zone", `{"alerts":[{"endsAt":"2024-01-01T00:00:00"}]}`, `alert 0: endsAt: "2024-01-01T00:00:00" is not an RFC 3339 time`},
		{"startsAt a number", `{"alerts":[{"startsAt":1700000000}]}`, "alert 0: startsAt: want an RFC 3339 time string, got a number"},
		{"fingerprint an object", `{"alerts":[{"fingerprint":{}}]}`, "alert 0: fingerprint: want a string, got an object"},
		{"receiver an array", `{"receiver":["a"],"alerts":[]}`, "receiver: want a string, got an array"},
		{"orgId not a number", `{"orgId":"one","alerts":[]}`, "orgId: want an integer, got a string"},
		{"value a word", `{"alerts":[{"values":{"A":"high"}}]}`, `alert 0: values: "A": want a number, got a string`},
		{"too many alerts", `{"alerts":[{},{},{},{}]}`, "4 alerts, more than the 3 accepted in one call"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, source := range []string{SourceGrafana, SourceAlertmanager} {
				_, err := Decode(source, []byte(c.body), 3)
				require.Error(t, err)
				require.True(t, errors.Is(err, ErrMalformed), "%v wraps ErrMalformed", err)
				require.Contains(t, err.Error(), c.why)
			}
		})
	}
}

// TestDecodeMaxAlertsDefault: the default limit holds for the exported
// decoders, and exactly the limit is accepted.
func TestDecodeMaxAlertsDefault(t *testing.T) {
	body := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"alerts":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"labels":{"i":"%d"}}`, i)
		}
		b.WriteString(`]}`)
		return []byte(b.String())
	}
	n, err := DecodeAlertmanager(body(DefaultMaxAlerts))
	require.NoError(t, err)
	require.Len(t, n.Alerts, DefaultMaxAlerts)
	_, err = DecodeGrafana(body(DefaultMaxAlerts + 1))
	require.ErrorIs(t, err, ErrMalformed)
}

// fnvFingerprint is Alertmanager's fingerprint written from its definition
// (FNV-1a over the sorted names and values, each followed by 0xff), to
// check Fingerprint against.
func fnvFingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := fnv.New64a()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h.Sum64())
	return fmt.Sprintf("%x", b)
}

func TestDecodeFingerprint(t *testing.T) {
	for _, ls := range []map[string]string{
		{},
		{"alertname": "NodeEvent"},
		{"alertname": "KubePodCrashLooping", "namespace": "payments", "pod": "api-7d9f", "container": "api"},
		{"é": "ü", "": "empty name"},
	} {
		got := Fingerprint(ls)
		require.Len(t, got, 16)
		require.Equal(t, fnvFingerprint(ls), got, "%v", ls)
	}
}
