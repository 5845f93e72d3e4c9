package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/config"
)

const (
	payOncall = "<!subteam^S0PAY|payments-oncall>"
	sreGroup  = "<!subteam^S0SRE|sre>"
)

var (
	rulesNow      = time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	ownerPayments = Owner{Team: "pay", TeamName: "Payments", SlackChannel: "#payments", Oncall: payOncall}
)

// loadRules decodes testdata/rules/name strictly over the defaults, as
// furrow's configuration is, and compiles it.
func loadRules(t *testing.T, name string) *Rules {
	t.Helper()
	cfg := loadRulesConfiguration(t, name)
	r, err := NewRules(cfg)
	require.NoError(t, err)
	return r
}

func loadRulesConfiguration(t *testing.T, name string) RulesConfiguration {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "rules", name))
	require.NoError(t, err)
	defer f.Close()
	cfg := DefaultRulesConfiguration()
	require.NoError(t, config.Decode(f, &cfg))
	return cfg
}

// alert is a firing alert with labels given as name, value pairs.
func ruleAlert(kv ...string) Alert {
	a := Alert{Status: StatusFiring, Labels: map[string]string{}, Annotations: map[string]string{}, StartsAt: rulesNow.Add(-time.Minute)}
	for i := 0; i+1 < len(kv); i += 2 {
		a.Labels[kv[i]] = kv[i+1]
	}
	return a
}

func ruleValues(a Alert, values map[string]float64) Alert {
	a.Values = values
	return a
}

func ruleAnnotation(a Alert, k, v string) Alert {
	a.Annotations[k] = v
	return a
}

func ruleResolved(a Alert) Alert {
	a.Status = StatusResolved
	a.EndsAt = rulesNow
	return a
}

func ruleGroup(namespace, alertname string, alerts ...Alert) Group {
	status := StatusResolved
	for _, a := range alerts {
		if a.Status != StatusResolved {
			status = StatusFiring
		}
	}
	return Group{Key: "grafana/default/" + namespace + "/" + alertname, Source: "grafana", Namespace: namespace, AlertName: alertname, Status: status, Alerts: alerts}
}

func ruleIngress(code string, value float64, kv ...string) Alert {
	return ruleValues(ruleAlert(append([]string{"alertname", "Ingress5xx", "code", code}, kv...)...), map[string]float64{"A": value})
}

func TestMentionRulesIngress5xx(t *testing.T) {
	rules := loadRules(t, "ingress-5xx.yaml")
	cases := []struct {
		name  string
		group Group
		owner Owner
		want  []string
	}{
		{"503 value 10: no mention", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 10)), ownerPayments, nil},
		{"503 UC: team", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 10, "responseFlag", "UC")), ownerPayments, []string{payOncall}},
		{"503 other flag: no mention", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 10, "responseFlag", "UF")), ownerPayments, nil},
		{"503 value 1000: team", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 1000)), ownerPayments, []string{payOncall}},
		{"503 value 999.9: no mention", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 999.9)), ownerPayments, nil},
		{"503 value 1200: team, not above 1200", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 1200)), ownerPayments, []string{payOncall}},
		{"503 value 1300: team and SRE", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 1300)), ownerPayments, []string{payOncall, sreGroup}},
		{"500: team", ruleGroup("payments", "Ingress5xx", ruleIngress("500", 10)), ownerPayments, []string{payOncall}},
		{"500 value 1300: team and SRE", ruleGroup("payments", "Ingress5xx", ruleIngress("500", 1300)), ownerPayments, []string{payOncall, sreGroup}},
		{"503 without a value: no mention", ruleGroup("payments", "Ingress5xx", ruleAlert("alertname", "Ingress5xx", "code", "503")), ownerPayments, nil},
		{"503 UC without a value: team", ruleGroup("payments", "Ingress5xx", ruleAlert("alertname", "Ingress5xx", "code", "503", "responseFlag", "UC")), ownerPayments, []string{payOncall}},
		{"503 value in an annotation (Alertmanager): team", ruleGroup("payments", "Ingress5xx",
			ruleAnnotation(ruleAlert("alertname", "Ingress5xx", "code", "503"), "value", "1100")), ownerPayments, []string{payOncall}},
		{"503 value in a label: team and SRE", ruleGroup("payments", "Ingress5xx",
			ruleAlert("alertname", "Ingress5xx", "code", "503", "value", " 1250.5 ")), ownerPayments, []string{payOncall, sreGroup}},
		{"503 value not a number: no mention", ruleGroup("payments", "Ingress5xx",
			ruleAnnotation(ruleAlert("alertname", "Ingress5xx", "code", "503"), "value", "lots")), ownerPayments, nil},
		{"Grafana values: the largest compares", ruleGroup("payments", "Ingress5xx",
			ruleValues(ruleAlert("alertname", "Ingress5xx", "code", "503"), map[string]float64{"A": 3, "B": 1300, "C": 0})), ownerPayments, []string{payOncall, sreGroup}},
		{"group: 503 quiet and 500: team", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 10), ruleIngress("500", 10)), ownerPayments, []string{payOncall}},
		{"group: 503 quiet and 500 at 1300: team and SRE", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 10), ruleIngress("500", 1300)), ownerPayments, []string{payOncall, sreGroup}},
		{"group: resolved 500 and quiet 503: no mention", ruleGroup("payments", "Ingress5xx", ruleResolved(ruleIngress("500", 10)), ruleIngress("503", 10)), ownerPayments, nil},
		{"resolved group: no mention", ruleGroup("payments", "Ingress5xx", ruleResolved(ruleIngress("500", 1300))), ownerPayments, nil},
		{"no owner, 500: nobody to mention", ruleGroup("payments", "Ingress5xx", ruleIngress("500", 10)), Owner{}, nil},
		{"no owner, 1300: SRE only", ruleGroup("payments", "Ingress5xx", ruleIngress("503", 1300)), Owner{}, []string{sreGroup}},
		{"other alert: default mentions the team", ruleGroup("payments", "PodCrashLooping", ruleAlert("alertname", "PodCrashLooping")), ownerPayments, []string{payOncall}},
		{"alert name from the group when the labels lack it", ruleGroup("payments", "Ingress5xx", ruleValues(ruleAlert("code", "503"), map[string]float64{"A": 10})), ownerPayments, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := rules.Decide(c.group, c.owner, nil, rulesNow)
			require.Equal(t, c.want, d.Mentions)
		})
	}
}

func TestMentionValueRef(t *testing.T) {
	cfg := DefaultRulesConfiguration()
	cfg.MentionRules = []MentionRule{
		{Match: `{alertname="Latency"}`, ValueRef: "B", When: []Condition{"value >= 2"}, Mention: []string{sreGroup}},
		{Match: `{alertname="Latency"}`, Mention: []string{MentionNone}},
	}
	rules, err := NewRules(cfg)
	require.NoError(t, err)
	cases := []struct {
		name   string
		values map[string]float64
		want   []string
	}{
		{"B high", map[string]float64{"A": 0, "B": 2}, []string{sreGroup}},
		{"B low, A high: A is not compared", map[string]float64{"A": 100, "B": 1}, nil},
		{"no B: absent, false", map[string]float64{"A": 100}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := ruleGroup("shop", "Latency", ruleValues(ruleAlert("alertname", "Latency"), c.values))
			require.Equal(t, c.want, rules.Decide(g, ownerPayments, nil, rulesNow).Mentions)
		})
	}
}

func TestMentionValueFromValueString(t *testing.T) {
	// Grafana's valueString as ../shared/testdata/alerts/ntfy_webhook_grafana_resolved.json
	// has it, and Grafana 8's form with metric= instead of var=.
	const grafana = "[ var='B' labels={__name__=node_load15, instance=10.108.0.2:9100, job=node-exporter} value=18.98211314475876 ], [ var='C' labels={__name__=node_load15, instance=10.108.0.2:9100, job=node-exporter} value=0 ]"
	cases := []struct {
		name        string
		valueString string
		ref         string
		want        float64
		ok          bool
	}{
		{"largest", grafana, "", 18.98211314475876, true},
		{"by ref", grafana, "C", 0, true},
		{"missing ref", grafana, "A", 0, false},
		{"Grafana 8", "[ metric='errors' labels={code=503} value=1300 ]", "", 1300, true},
		{"no labels", "[ var='A' labels={} value=-2.5 ]", "A", -2.5, true},
		{"not a number", "[ var='A' labels={} value=lots ]", "", 0, false},
		{"free text", "value=12", "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, ok := alertValue(Alert{ValueString: c.valueString}, c.ref)
			require.Equal(t, c.ok, ok)
			require.Equal(t, c.want, v)
		})
	}
	// Values win over valueString when both are sent.
	v, ok := alertValue(Alert{Values: map[string]float64{"B": 7}, ValueString: grafana}, "")
	require.True(t, ok)
	require.Equal(t, 7.0, v)
}

func TestMentionValueText(t *testing.T) {
	cases := []struct {
		text string
		want float64
		ok   bool
	}{
		{"1000", 1000, true},
		{" 1250.5 ", 1250.5, true},
		{"33.79 %", 33.79, true},
		{"3.65%", 3.65, true},
		{"-1e3", -1000, true},
		{"1.2k", 0, false}, // humanize's units are not guessed at
		{"%", 0, false},
		{"NaN", 0, false},
		{"", 0, false},
		{"lots", 0, false},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			for _, a := range []Alert{ruleAlert("value", c.text), ruleAnnotation(ruleAlert(), "value", c.text)} {
				v, ok := alertValue(a, "")
				require.Equal(t, c.ok, ok)
				require.Equal(t, c.want, v)
			}
		})
	}
}

// memFires is an in-memory FireHistory: the firing times of each group.
type memFires map[string][]time.Time

func (f memFires) Fires(groupKey string, since time.Time) int {
	n := 0
	for _, at := range f[groupKey] {
		if at.After(since) {
			n++
		}
	}
	return n
}

func TestMentionAfterRepeatedFires(t *testing.T) {
	rules := loadRules(t, "ingress-5xx.yaml")
	g := ruleGroup("shop", "DiskFilling", ruleAlert("alertname", "DiskFilling", "severity", "warning"))
	ago := func(ds ...time.Duration) []time.Time {
		var out []time.Time
		for _, d := range ds {
			out = append(out, rulesNow.Add(-d))
		}
		return out
	}
	cases := []struct {
		name    string
		history FireHistory
		want    []string
	}{
		{"no history: rule with after never applies", nil, nil},
		{"first firing", memFires{g.Key: ago(0)}, nil},
		{"second firing", memFires{g.Key: ago(20*time.Minute, 0)}, nil},
		{"third firing within the hour: team", memFires{g.Key: ago(50*time.Minute, 20*time.Minute, 0)}, []string{payOncall}},
		{"third firing, the first out of the window", memFires{g.Key: ago(61*time.Minute, 20*time.Minute, 0)}, nil},
		{"another group's firings do not count", memFires{g.Key: ago(0), "grafana/default/shop/Other": ago(3*time.Minute, 2*time.Minute, time.Minute)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, rules.Decide(g, ownerPayments, c.history, rulesNow).Mentions)
		})
	}
}

func TestRoutes(t *testing.T) {
	rules := loadRules(t, "ingress-5xx.yaml")
	cases := []struct {
		name  string
		group Group
		owner Owner
		want  []string
	}{
		{"owner's channel by default", ruleGroup("payments", "HighLatency", ruleAlert("alertname", "HighLatency", "severity", "warning")), ownerPayments, []string{"#payments"}},
		{"no owner: default channel", ruleGroup("search", "HighLatency", ruleAlert("alertname", "HighLatency")), Owner{}, []string{"#alerts"}},
		{"owner without a channel: default channel", ruleGroup("search", "HighLatency", ruleAlert("alertname", "HighLatency")), Owner{Team: "search", Oncall: "<@U1>"}, []string{"#alerts"}},
		{"continue: incidents then the team's channel", ruleGroup("payments", "HighLatency", ruleAlert("alertname", "HighLatency", "severity", "critical")), ownerPayments, []string{"#incidents", "#payments"}},
		{"continue, no owner: incidents then default", ruleGroup("checkout", "HighLatency", ruleAlert("alertname", "HighLatency", "severity", "critical")), Owner{}, []string{"#incidents", "#alerts"}},
		{"first match wins without continue", ruleGroup("ingress-nginx", "Ingress5xx", ruleAlert("alertname", "Ingress5xx", "severity", "critical")), ownerPayments, []string{"#sre"}},
		{"only common labels route: severity differs", ruleGroup("payments", "HighLatency",
			ruleAlert("alertname", "HighLatency", "severity", "critical", "pod", "a"),
			ruleAlert("alertname", "HighLatency", "severity", "warning", "pod", "b")), ownerPayments, []string{"#payments"}},
		{"common labels: all critical", ruleGroup("payments", "HighLatency",
			ruleAlert("alertname", "HighLatency", "severity", "critical", "pod", "a"),
			ruleAlert("alertname", "HighLatency", "severity", "critical", "pod", "b")), ownerPayments, []string{"#incidents", "#payments"}},
		{"the group's namespace over the alerts' (exported_namespace)", ruleGroup("payments", "KubeJobFailed",
			ruleAlert("alertname", "KubeJobFailed", "namespace", "monitoring", "exported_namespace", "payments", "severity", "critical")), ownerPayments, []string{"#incidents", "#payments"}},
		{"no namespace: default route", ruleGroup("", "Watchdog", ruleAlert("alertname", "Watchdog", "severity", "critical")), Owner{}, []string{"#alerts"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, rules.Decide(c.group, c.owner, nil, rulesNow).Channels)
		})
	}
}

func TestRuleSelectorMatches(t *testing.T) {
	lset := map[string]string{"alertname": "Ingress5xx", "__name__": "Ingress5xx", "code": "503", "namespace": "payments"}
	cases := []struct {
		selector string
		want     bool
	}{
		{``, true},
		{`{}`, true},
		{`Ingress5xx`, true},
		{`Ingress5xx{code="503"}`, true},
		{`Other{code="503"}`, false},
		{`{team=""}`, true}, // an absent label is the empty string
		{`{team!=""}`, false},
		{`{code=~"5.."}`, true},
		{`{code=~"50"}`, false}, // anchored, as in PromQL
		{`{namespace=~"payments|checkout", code!="500"}`, true},
		{`{namespace!~"pay.*"}`, false},
	}
	for _, c := range cases {
		t.Run(c.selector, func(t *testing.T) {
			sel, err := parseSelector(c.selector)
			require.NoError(t, err)
			require.Equal(t, c.want, sel.matches(lset))
		})
	}
}

func TestRouteChannelsDeduplicated(t *testing.T) {
	cfg := DefaultRulesConfiguration()
	cfg.Routes = []Route{
		{Match: `{severity="critical"}`, Channel: "team", Continue: true},
		{Match: `{namespace="payments"}`, Channel: "#payments", Continue: true},
		{Channel: "#all"}, // empty selector: everything
		{Channel: "#never"},
	}
	rules, err := NewRules(cfg)
	require.NoError(t, err)
	g := ruleGroup("payments", "X", ruleAlert("severity", "critical"))
	require.Equal(t, []string{"#payments", "#all"}, rules.Decide(g, ownerPayments, nil, rulesNow).Channels)
}

func TestReminders(t *testing.T) {
	rules := loadRules(t, "ingress-5xx.yaml")
	cases := []struct {
		name  string
		group Group
		want  time.Duration
	}{
		{"critical: first match", ruleGroup("payments", "Ingress5xx", ruleIngress("500", 1, "severity", "critical")), 30 * time.Minute},
		{"by alert name", ruleGroup("payments", "Ingress5xx", ruleIngress("500", 1, "severity", "warning")), time.Hour},
		{"default", ruleGroup("payments", "DiskFilling", ruleAlert("alertname", "DiskFilling")), 4 * time.Hour},
		{"severity not common: by alert name", ruleGroup("payments", "Ingress5xx", ruleIngress("500", 1, "severity", "critical"), ruleIngress("503", 1, "severity", "warning")), time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, rules.Decide(c.group, ownerPayments, nil, rulesNow).Reminder)
		})
	}

	cfg := DefaultRulesConfiguration()
	cfg.DefaultReminder = 90 * time.Minute
	r, err := NewRules(cfg)
	require.NoError(t, err)
	require.Equal(t, 90*time.Minute, r.Decide(ruleGroup("a", "B", ruleAlert()), Owner{}, nil, rulesNow).Reminder)
}

func TestDefaultRulesConfiguration(t *testing.T) {
	require.NoError(t, DefaultRulesConfiguration().Validate())
	r, err := NewRules(DefaultRulesConfiguration())
	require.NoError(t, err)
	d := r.Decide(ruleGroup("payments", "X", ruleAlert("alertname", "X")), ownerPayments, nil, rulesNow)
	require.Equal(t, Decision{Channels: []string{"#payments"}, Mentions: []string{payOncall}, Reminder: 4 * time.Hour}, d)
}

func TestNewRulesErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(*RulesConfiguration)
		where  []string // each problem's position, in order
	}{
		{"empty default channel", func(c *RulesConfiguration) { c.DefaultChannel = " " }, []string{"default_channel"}},
		{"zero default reminder", func(c *RulesConfiguration) { c.DefaultReminder = 0 }, []string{"default_reminder"}},
		{"empty default mention", func(c *RulesConfiguration) { c.DefaultMention = nil }, []string{"default_mention"}},
		{"bad route selector", func(c *RulesConfiguration) {
			c.Routes = []Route{{Match: `{a="b"}`, Channel: "#x"}, {Match: `{a=="b"}`, Channel: "#y"}}
		}, []string{"routes[1].match"}},
		{"empty route channel", func(c *RulesConfiguration) { c.Routes = []Route{{Match: `{a="b"}`}} }, []string{"routes[0].channel"}},
		{"unknown condition syntax", func(c *RulesConfiguration) {
			c.MentionRules = []MentionRule{{When: []Condition{"value ≥ 1000"}, Unless: []Condition{"value >= many"}, Mention: []string{"team"}}}
		}, []string{"mention_rules[0].when[0]", "mention_rules[0].unless[0]"}},
		{"two matchers in one condition", func(c *RulesConfiguration) {
			c.MentionRules = []MentionRule{{When: []Condition{`a="b", c="d"`}, Mention: []string{"team"}}}
		}, []string{"mention_rules[0].when[0]"}},
		{"empty condition", func(c *RulesConfiguration) {
			c.MentionRules = []MentionRule{{When: []Condition{""}, Mention: []string{"team"}}}
		}, []string{"mention_rules[0].when[0]"}},
		{"NaN threshold", func(c *RulesConfiguration) {
			c.MentionRules = []MentionRule{{When: []Condition{"value > NaN"}, Mention: []string{"team"}}}
		}, []string{"mention_rules[0].when[0]"}},
		{"bad mentions", func(c *RulesConfiguration) {
			c.MentionRules = []MentionRule{
				{Mention: nil},
				{Mention: []string{"@sre"}},
				{Mention: []string{"none", "team"}},
				{Mention: []string{"<!subteam^S1|a b>"}},
			}
		}, []string{"mention_rules[0].mention", "mention_rules[1].mention", "mention_rules[2].mention", "mention_rules[3].mention"}},
		{"bad after", func(c *RulesConfiguration) {
			c.MentionRules = []MentionRule{{Mention: []string{"team"}, After: &Repeat{Count: 0, Window: -time.Minute}}}
		}, []string{"mention_rules[0].after.count", "mention_rules[0].after.window"}},
		{"bad reminder", func(c *RulesConfiguration) {
			c.Reminders = []Reminder{{Match: `{a="b"}`, Every: time.Hour}, {Match: `{`, Every: 0}}
		}, []string{"reminders[1].match", "reminders[1].every"}},
		{"every problem at once", func(c *RulesConfiguration) {
			c.DefaultChannel = ""
			c.Routes = []Route{{Match: `{a=~"("}`, Channel: "#x"}}
			c.MentionRules = []MentionRule{{Match: `{a=}`, When: []Condition{"val > 3"}, Mention: []string{"everyone"}}}
		}, []string{"default_channel", "routes[0].match", "mention_rules[0].match", "mention_rules[0].when[0]", "mention_rules[0].mention"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultRulesConfiguration()
			c.change(&cfg)
			r, err := NewRules(cfg)
			require.Error(t, err)
			require.Nil(t, r)
			var joined interface{ Unwrap() []error }
			require.True(t, errors.As(err, &joined))
			errs := joined.Unwrap()
			require.Len(t, errs, len(c.where), "%v", err)
			for i, e := range errs {
				require.True(t, strings.HasPrefix(e.Error(), c.where[i]+": "), "problem %d: %v", i, e)
			}
			require.Equal(t, err.Error(), cfg.Validate().Error())
		})
	}
}

func TestRulesYAMLStrict(t *testing.T) {
	cfg := DefaultRulesConfiguration()
	err := config.Decode(strings.NewReader("mention_rules:\n  - match: '{a=\"b\"}'\n    mention: [team]\n    wen: ['value > 3']\n"), &cfg)
	require.ErrorContains(t, err, "line 4")
	require.ErrorContains(t, err, `"when"`)
}

// FuzzParseCondition: parsing never panics, and what parses reads back
// the same from its String().
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		`value >= 1000`, `value > 1200`, `value<3`, ` value == -1.5e3 `, `value != +Inf`, `value >= 0x10`,
		`responseFlag="UC"`, `code=~"5.."`, `code!="503"`, `a!~"x|y"`, `"utf8.name"="v"`, `value="3"`,
		`a="b", c="d"`, `value ≥ 1000`, ``, `}`, `a="b"} or {c="d"`, `foo`, `value > NaN`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCondition(s)
		if err != nil {
			return
		}
		again, err := parseCondition(c.String())
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", s, c.String(), err)
		}
		if again.String() != c.String() {
			t.Fatalf("%q parsed as %q, read back as %q", s, c.String(), again.String())
		}
	})
}

// FuzzParseSelector: parsing never panics, and what parses reads back the
// same from its String().
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{
		`{namespace=~"payments|checkout", severity="critical"}`, `Ingress5xx{code="503"}`, `Ingress5xx`,
		`{"utf8.name"="v"}`, `{a=""}`, ``, `{`, `{a="b"} + 1`, `rate(x[5m])`, `{a=~"("}`, `{__name__="x", a!~"b"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := parseSelector(s)
		if err != nil {
			return
		}
		again, err := parseSelector(sel.String())
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", s, sel.String(), err)
		}
		if again.String() != sel.String() {
			t.Fatalf("%q parsed as %q, read back as %q", s, sel.String(), again.String())
		}
	})
}

// The -update flag may be another test file's too: register it only when
// nobody has (package variables are initialised before init runs).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

// TestRulesSharedPayloads decodes and splits each real payload of
// ../shared/testdata/alerts/ and decides its groups with
// testdata/rules/shared.yaml; the decisions are golden under
// testdata/rules/decisions/ (-update rewrites them).
func TestRulesSharedPayloads(t *testing.T) {
	rules := loadRules(t, "shared.yaml")
	owners := map[string]Owner{
		"whatever/promstack": {Team: "promstack", TeamName: "Prometheus stack", SlackChannel: "#promstack", Oncall: "<@U0PROMSTACK>"},
	}
	files, err := filepath.Glob("../../shared/testdata/alerts/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no shared payloads")
	type decided struct {
		Namespace string   `json:"namespace"`
		AlertName string   `json:"alertname"`
		Status    string   `json:"status"`
		Channels  []string `json:"channels"`
		Mentions  []string `json:"mentions"`
		Reminder  string   `json:"reminder"`
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			require.NoError(t, err)
			source := SourceAlertmanager
			if strings.HasPrefix(name, "pytorch-alerting-infra_grafana-") || strings.HasPrefix(name, "ntfy_webhook_grafana_") {
				source = SourceGrafana
			}
			n, err := Decode(source, body, DefaultMaxAlerts)
			require.NoError(t, err)
			var out []decided
			for _, g := range Split(n, nil) {
				d := rules.Decide(g, owners[g.Namespace], nil, rulesNow)
				require.NotEmpty(t, d.Channels, "every group goes somewhere")
				out = append(out, decided{g.Namespace, g.AlertName, g.Status, d.Channels, d.Mentions, d.Reminder.String()})
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // Slack mentions stay readable: <!here>
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(out))
			got := buf.Bytes()
			golden := filepath.Join("testdata", "rules", "decisions", name)
			if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./alerting -run RulesSharedPayloads -update")
			require.Equal(t, string(want), string(got))
		})
	}
}
