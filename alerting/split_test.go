package alerting

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// splitAlert is an alert with the given labels (name, value pairs),
// fingerprint and status.
func splitAlert(fp, status string, kv ...string) Alert {
	a := Alert{Fingerprint: fp, Status: status, Labels: map[string]string{}, Annotations: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		a.Labels[kv[i]] = kv[i+1]
	}
	return a
}

type splitWant struct {
	ns, name, status string
	fps              []string
}

func TestSplit(t *testing.T) {
	cases := []struct {
		name   string
		n      Notification
		labels []string
		want   []splitWant
	}{
		{
			name: "a notification across namespaces is split, groups and alerts sorted",
			n: Notification{Source: SourceAlertmanager, Receiver: "r", Alerts: []Alert{
				splitAlert("0c", StatusFiring, "alertname", "CrashLoop", "namespace", "pay"),
				splitAlert("0a", StatusResolved, "alertname", "CrashLoop", "namespace", "pay"),
				splitAlert("0b", StatusResolved, "alertname", "CrashLoop", "namespace", "auth"),
				splitAlert("0d", StatusFiring, "alertname", "HighLatency", "namespace", "auth"),
			}},
			want: []splitWant{
				{"auth", "CrashLoop", StatusResolved, []string{"0b"}},
				{"auth", "HighLatency", StatusFiring, []string{"0d"}},
				{"pay", "CrashLoop", StatusFiring, []string{"0a", "0c"}},
			},
		},
		{
			name: "default namespace labels, first present wins, empty is absent",
			n: Notification{Alerts: []Alert{
				splitAlert("1", StatusFiring, "alertname", "A", "exported_namespace", "ex", "kubernetes_namespace", "kn"),
				splitAlert("2", StatusFiring, "alertname", "A", "namespace", "", "k8s_namespace_name", "otel"),
				splitAlert("3", StatusFiring, "alertname", "A", "namespace", "ns", "exported_namespace", "ex"),
				splitAlert("4", StatusFiring, "alertname", "A", "kubernetes_namespace", "kn"),
				splitAlert("5", StatusFiring, "alertname", "A", "ns", "not a namespace label"),
			}},
			want: []splitWant{
				{"", "A", StatusFiring, []string{"5"}},
				{"ex", "A", StatusFiring, []string{"1"}},
				{"kn", "A", StatusFiring, []string{"4"}},
				{"ns", "A", StatusFiring, []string{"3"}},
				{"otel", "A", StatusFiring, []string{"2"}},
			},
		},
		{
			name:   "configured namespace labels replace the defaults",
			labels: []string{"tenant", "namespace"},
			n: Notification{Alerts: []Alert{
				splitAlert("1", StatusFiring, "alertname", "A", "namespace", "ns", "tenant", "t1"),
				splitAlert("2", StatusFiring, "alertname", "A", "exported_namespace", "ex"),
			}},
			want: []splitWant{
				{"", "A", StatusFiring, []string{"2"}},
				{"t1", "A", StatusFiring, []string{"1"}},
			},
		},
		{
			name:   "no namespace labels at all: one namespace",
			labels: []string{},
			n: Notification{Alerts: []Alert{
				splitAlert("1", StatusFiring, "alertname", "A", "namespace", "ns"),
				splitAlert("2", StatusFiring, "alertname", "A", "namespace", "other"),
			}},
			want: []splitWant{{"", "A", StatusFiring, []string{"1", "2"}}},
		},
		{
			name: "alert name fallbacks: rule title label, rulename, common labels",
			n: Notification{CommonLabels: map[string]string{"alertname": "Common"}, Alerts: []Alert{
				splitAlert("1", StatusFiring, "__alert_rule_title__", "Title", "rulename", "Rule"),
				splitAlert("2", StatusFiring, "rulename", "Rule"),
				splitAlert("3", StatusFiring),
				splitAlert("4", StatusFiring, "alertname", "DatasourceNoData", "rulename", "Rule"),
			}},
			want: []splitWant{
				{"", "Common", StatusFiring, []string{"3"}},
				{"", "DatasourceNoData", StatusFiring, []string{"4"}},
				{"", "Rule", StatusFiring, []string{"2"}},
				{"", "Title", StatusFiring, []string{"1"}},
			},
		},
		{
			name: "alert name fallbacks: group labels, then the title without its state",
			n: Notification{GroupLabels: map[string]string{"alertname": "Grouped"}, Title: "[FIRING:2] Disk full ", Alerts: []Alert{
				splitAlert("1", StatusFiring),
			}},
			want: []splitWant{{"", "Grouped", StatusFiring, []string{"1"}}},
		},
		{
			name: "alert name fallbacks: the title, then nothing",
			n:    Notification{Title: "[RESOLVED] Disk full", Alerts: []Alert{splitAlert("1", StatusResolved)}},
			want: []splitWant{{"", "Disk full", StatusResolved, []string{"1"}}},
		},
		{
			name: "no name anywhere",
			n:    Notification{Alerts: []Alert{splitAlert("1", StatusResolved, "namespace", "ns")}},
			want: []splitWant{{"ns", "", StatusResolved, []string{"1"}}},
		},
		{
			name: "no alerts: no groups",
			n:    Notification{Alerts: []Alert{}},
			want: []splitWant{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			groups := Split(c.n, c.labels)
			got := []splitWant{}
			for _, g := range groups {
				w := splitWant{ns: g.Namespace, name: g.AlertName, status: g.Status}
				for _, a := range g.Alerts {
					w.fps = append(w.fps, a.Fingerprint)
				}
				got = append(got, w)
				require.Equal(t, GroupKey(c.n.Source, c.n.Receiver, g.Namespace, g.AlertName), g.Key)
				require.Equal(t, c.n.Source, g.Source)
			}
			require.Equal(t, c.want, got)
		})
	}
}

func TestSplitGroupKey(t *testing.T) {
	k := GroupKey("grafana", "r", "ns", "A")
	require.Len(t, k, 32, "16 bytes in hex")
	require.Equal(t, k, GroupKey("grafana", "r", "ns", "A"), "stable")
	// Each part counts, and moving text between parts is another key.
	others := [][4]string{
		{"alertmanager", "r", "ns", "A"}, {"grafana", "r2", "ns", "A"},
		{"grafana", "r", "ns2", "A"}, {"grafana", "r", "ns", "B"},
		{"grafana", "rn", "s", "A"}, {"grafana", "r", "nsA", ""}, {"grafanar", "", "ns", "A"},
	}
	seen := map[string][4]string{k: {"grafana", "r", "ns", "A"}}
	for _, o := range others {
		ok := GroupKey(o[0], o[1], o[2], o[3])
		require.NotContains(t, seen, ok, "%v has the key of %v", o, seen[ok])
		seen[ok] = o
	}
}

// TestSplitKeyAcrossNotifications: the same namespace and alert from two
// notifications (firing, then resolved) share their key, so the resolve
// finds the firing's message.
func TestSplitKeyAcrossNotifications(t *testing.T) {
	firing, err := os.ReadFile(filepath.Join(sharedAlerts, "pytorch-alerting-infra_grafana-firing.json"))
	require.NoError(t, err)
	resolved, err := os.ReadFile(filepath.Join(sharedAlerts, "pytorch-alerting-infra_grafana-resolved.json"))
	require.NoError(t, err)
	nf, err := DecodeGrafana(firing)
	require.NoError(t, err)
	nr, err := DecodeGrafana(resolved)
	require.NoError(t, err)
	gf, gr := Split(nf, nil), Split(nr, nil)
	require.Len(t, gf, 1)
	require.Len(t, gr, 1)
	require.Equal(t, gf[0].Key, gr[0].Key)
	require.Equal(t, StatusFiring, gf[0].Status)
	require.Equal(t, StatusResolved, gr[0].Status)
}

// FuzzDecode: neither decoder panics, and what they accept splits into
// groups holding each distinct fingerprint of the input once, read here
// from the JSON independently of the decoder.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sharedAlerts, "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"alerts":[{"labels":{"a":"1"}},{"labels":{"a":"1"}},{"fingerprint":"x"}]}`,
		`{"alerts":[{"status":"resolved","fingerprint":"f","endsAt":"2024-01-01T00:00:00Z"},{"fingerprint":"f","startsAt":"2024-01-02T00:00:00+02:00"}]}`,
		`{"alerts":[{"labels":{"namespace":"a","alertname":"x"}},{"labels":{"exported_namespace":"b"}}],"commonLabels":{"alertname":"c"}}`,
		`{"alerts":[{"values":{"A":1e308,"B":null}}],"orgId":"7","version":4}`,
		`{"alerts":{}}`, `[]`, `null`, `{"alerts":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, decode := range []func([]byte) (Notification, error){DecodeGrafana, DecodeAlertmanager} {
			n, err := decode(body)
			if err != nil {
				require.ErrorIs(t, err, ErrMalformed)
				continue
			}
			want := distinctFingerprints(t, body)
			groups := Split(n, nil)
			got := map[string]int{}
			for i, g := range groups {
				if i > 0 {
					p := groups[i-1]
					require.True(t, p.Namespace < g.Namespace || p.Namespace == g.Namespace && p.AlertName < g.AlertName, "groups sorted and distinct")
				}
				require.NotEmpty(t, g.Alerts)
				require.Contains(t, []string{StatusFiring, StatusResolved}, g.Status)
				for _, a := range g.Alerts {
					got[a.Fingerprint]++
					require.Equal(t, g.Namespace, Namespace(a, DefaultNamespaceLabels))
				}
				require.True(t, sort.SliceIsSorted(g.Alerts, func(i, j int) bool { return g.Alerts[i].Fingerprint < g.Alerts[j].Fingerprint }))
			}
			require.Equal(t, want, got)
		}
	})
}

// distinctFingerprints reads the fingerprints of an accepted body with
// encoding/json alone: each alert's fingerprint, or its labels' when it has
// none; each counted once.
func distinctFingerprints(t *testing.T, body []byte) map[string]int {
	t.Helper()
	// Maps, not structs: encoding/json matches struct fields
	// case-insensitively, the decoders take the exact keys.
	var exact map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &exact))
	var alerts []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exact["alerts"], &alerts))
	fps := map[string]int{}
	for _, a := range alerts {
		var one struct {
			Fingerprint *string
			Labels      map[string]string
		}
		if raw, ok := a["fingerprint"]; ok {
			require.NoError(t, json.Unmarshal(raw, &one.Fingerprint))
		}
		if raw, ok := a["labels"]; ok {
			require.NoError(t, json.Unmarshal(raw, &one.Labels))
		}
		fp := ""
		if one.Fingerprint != nil {
			fp = *one.Fingerprint
		}
		if fp == "" {
			fp = fnvFingerprint(one.Labels)
		}
		fps[fp] = 1
	}
	return fps
}
