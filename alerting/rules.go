package alerting

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Mention words with a meaning of their own in a rule's mention list;
// anything else must be a literal Slack mention (<@U123>, <!subteam^S456>).
const (
	// MentionTeam is the owner team's on-call handle (Owner.Oncall).
	MentionTeam = "team"
	// MentionNone mentions nobody; it stands alone in its list.
	MentionNone = "none"
	// ChannelTeam, as a route's channel, is the owner team's channel (the
	// default channel when nobody owns the namespace).
	ChannelTeam = "team"
)

// RulesConfiguration says where a group is posted, whom it mentions and how
// often it is posted again while it fires. Selectors are Prometheus label
// selectors ({namespace=~"payments|checkout", severity="critical"}); an
// empty selector matches every group.
type RulesConfiguration struct {
	// DefaultChannel receives the groups whose namespace has no owner
	// channel and that no route sends elsewhere.
	DefaultChannel string `yaml:"default_channel"`
	// Routes override the owner team's channel. They are checked in order
	// over the group's common labels; the first match wins, unless it has
	// continue: true, in which case later matches add their channels.
	Routes []Route `yaml:"routes"`
	// MentionRules decide, per firing alert, whom a message mentions. The
	// first rule whose selector and conditions match decides; when none
	// matches, DefaultMention applies.
	MentionRules []MentionRule `yaml:"mention_rules"`
	// DefaultMention is the mention list when no mention rule matches:
	// "team" (the owner's on-call), "none", or literal Slack mentions.
	DefaultMention []string `yaml:"default_mention"`
	// Reminders give the reminder interval per alert type: the first whose
	// selector matches the group's common labels decides.
	Reminders []Reminder `yaml:"reminders"`
	// DefaultReminder is the reminder interval when no reminder matches.
	DefaultReminder time.Duration `yaml:"default_reminder"`
}

// Route sends the groups its selector matches to a channel.
type Route struct {
	// Match is a label selector over the group's common labels, plus
	// namespace and alertname (also __name__, so Ingress5xx{code="503"}
	// works).
	Match string `yaml:"match"`
	// Channel is a Slack channel (#name or its id), or "team" for the owner
	// team's channel.
	Channel string `yaml:"channel"`
	// Continue keeps checking the later routes, whose matches add channels.
	Continue bool `yaml:"continue"`
}

// Condition is one test on a firing alert: a label matcher
// (responseFlag="UC", code=~"5..") or a comparison of the alert's value
// (value >= 1000; operators >, >=, <, <=, ==, !=). A comparison on an
// alert without a value is false.
type Condition string

// MentionRule decides whom a firing alert mentions.
type MentionRule struct {
	// Match is a label selector over the alert's labels, with namespace
	// and alertname of its group (and __name__ = alertname).
	Match string `yaml:"match"`
	// When conditions must all hold for the rule to apply.
	When []Condition `yaml:"when"`
	// Unless conditions must all fail for the rule to apply: one that holds
	// skips the rule.
	Unless []Condition `yaml:"unless"`
	// Mention is what the rule decides: "team", "none", or literal Slack
	// mentions such as "<!subteam^S0SRE|sre>".
	Mention []string `yaml:"mention"`
	// After makes the rule apply only once the group has fired Count times
	// within Window (this firing included).
	After *Repeat `yaml:"after"`
	// ValueRef picks the Grafana query value the conditions compare (A, B,
	// C…); empty takes the largest of the alert's values.
	ValueRef string `yaml:"value_ref"`
}

// Repeat is a number of firings within a window.
type Repeat struct {
	// Count of firings, this one included; one or more.
	Count int `yaml:"count"`
	// Window the firings are counted in, up to now.
	Window time.Duration `yaml:"window"`
}

// Reminder sets the reminder interval of the groups its selector matches.
type Reminder struct {
	// Match is a label selector over the group's common labels.
	Match string `yaml:"match"`
	// Every is how often a group still firing is posted again.
	Every time.Duration `yaml:"every"`
}

// DefaultRulesConfiguration posts to the owner's channel or #alerts,
// mentions the owner's on-call for every firing alert and reminds every 4
// hours.
func DefaultRulesConfiguration() RulesConfiguration {
	return RulesConfiguration{
		DefaultChannel:  "#alerts",
		DefaultMention:  []string{MentionTeam},
		DefaultReminder: 4 * time.Hour,
	}
}

// Validate reports every problem of the rules, each naming the rule.
func (c RulesConfiguration) Validate() error {
	_, err := NewRules(c)
	return err
}

// FireHistory counts past firings of a group; the operational store
// answers it from the alerts it recorded.
type FireHistory interface {
	// Fires is how many times the group with this key fired since the given
	// time, including the notification being decided (it is recorded
	// before it is routed).
	Fires(groupKey string, since time.Time) int
}

// Rules are the compiled routes, mention rules and reminders.
type Rules struct {
	defaultChannel  string
	routes          []route
	mentions        []mentionRule
	defaultMention  []string
	reminders       []reminder
	defaultReminder time.Duration
}

type route struct {
	sel     selector
	channel string
	cont    bool
}

type mentionRule struct {
	sel          selector
	when, unless []condition
	mention      []string
	after        *Repeat
	valueRef     string
}

type reminder struct {
	sel   selector
	every time.Duration
}

// NewRules compiles the configuration, reporting every problem at once.
func NewRules(cfg RulesConfiguration) (*Rules, error) {
	var errs []error
	fail := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	r := &Rules{defaultChannel: cfg.DefaultChannel, defaultReminder: cfg.DefaultReminder}
	if strings.TrimSpace(cfg.DefaultChannel) == "" {
		fail("default_channel", "empty; set the channel that receives alerts nobody owns")
	}
	if cfg.DefaultReminder <= 0 {
		fail("default_reminder", "must be positive, got %s", cfg.DefaultReminder)
	}
	mentions, err := checkMentions(cfg.DefaultMention)
	if err != nil {
		fail("default_mention", "%v", err)
	}
	r.defaultMention = mentions

	for i, rt := range cfg.Routes {
		where := fmt.Sprintf("routes[%d]", i)
		sel, err := parseSelector(rt.Match)
		if err != nil {
			fail(where+".match", "%v", err)
		}
		if strings.TrimSpace(rt.Channel) == "" {
			fail(where+".channel", "empty; set a channel, or \"team\" for the owner's")
		}
		r.routes = append(r.routes, route{sel: sel, channel: rt.Channel, cont: rt.Continue})
	}

	for i, mr := range cfg.MentionRules {
		where := fmt.Sprintf("mention_rules[%d]", i)
		c := mentionRule{valueRef: mr.ValueRef}
		if c.sel, err = parseSelector(mr.Match); err != nil {
			fail(where+".match", "%v", err)
		}
		for j, s := range mr.When {
			cond, err := parseCondition(string(s))
			if err != nil {
				fail(fmt.Sprintf("%s.when[%d]", where, j), "%v", err)
			}
			c.when = append(c.when, cond)
		}
		for j, s := range mr.Unless {
			cond, err := parseCondition(string(s))
			if err != nil {
				fail(fmt.Sprintf("%s.unless[%d]", where, j), "%v", err)
			}
			c.unless = append(c.unless, cond)
		}
		if c.mention, err = checkMentions(mr.Mention); err != nil {
			fail(where+".mention", "%v", err)
		}
		if a := mr.After; a != nil {
			if a.Count < 1 {
				fail(where+".after.count", "must be 1 or more, got %d", a.Count)
			}
			if a.Window <= 0 {
				fail(where+".after.window", "must be positive, got %s", a.Window)
			}
			c.after = &Repeat{Count: a.Count, Window: a.Window}
		}
		r.mentions = append(r.mentions, c)
	}

	for i, rm := range cfg.Reminders {
		where := fmt.Sprintf("reminders[%d]", i)
		sel, err := parseSelector(rm.Match)
		if err != nil {
			fail(where+".match", "%v", err)
		}
		if rm.Every <= 0 {
			fail(where+".every", "must be positive, got %s", rm.Every)
		}
		r.reminders = append(r.reminders, reminder{sel: sel, every: rm.Every})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// checkMentions validates a mention list: not empty, "none" alone, and
// every other entry "team" or a Slack mention in angle brackets (a bare
// @name is not a mention to Slack: it would be posted as text).
func checkMentions(list []string) ([]string, error) {
	if len(list) == 0 {
		return nil, errors.New(`empty; use "team", "none" or Slack mentions such as <!subteam^S123|sre>`)
	}
	var out []string
	for _, m := range list {
		switch {
		case m == MentionNone:
			if len(list) > 1 {
				return nil, errors.New(`"none" cannot be combined with other mentions`)
			}
		case m == MentionTeam:
			out = append(out, m)
		case len(m) > 3 && strings.HasPrefix(m, "<") && strings.HasSuffix(m, ">") && (m[1] == '@' || m[1] == '!') && !strings.ContainsAny(m[1:len(m)-1], "<> \t\n"):
			out = append(out, m)
		default:
			return nil, fmt.Errorf("%q is not a mention; use \"team\", \"none\" or a Slack mention such as <@U123> or <!subteam^S123|sre>", m)
		}
	}
	return out, nil
}

// Decide routes the group, picks its mentions and its reminder interval.
// fires may be nil: rules with after then never apply.
func (r *Rules) Decide(g Group, owner Owner, fires FireHistory, now time.Time) Decision {
	common := groupLabels(g)
	return Decision{
		Channels: r.channels(common, owner),
		Mentions: r.mentionsFor(g, owner, fires, now),
		Reminder: r.reminder(common),
	}
}

func (r *Rules) channels(common map[string]string, owner Owner) []string {
	teamChannel := owner.SlackChannel
	if teamChannel == "" {
		teamChannel = r.defaultChannel
	}
	var out []string
	for _, rt := range r.routes {
		if !rt.sel.matches(common) {
			continue
		}
		ch := rt.channel
		if ch == ChannelTeam {
			ch = teamChannel
		}
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
		if !rt.cont {
			break
		}
	}
	if len(out) == 0 {
		out = []string{teamChannel}
	}
	return out
}

// mentionsFor is the union, in rule order, of what each firing alert's
// deciding rule says; a resolved group mentions nobody.
func (r *Rules) mentionsFor(g Group, owner Owner, fires FireHistory, now time.Time) []string {
	var out []string
	add := func(list []string) {
		for _, m := range list {
			if m == MentionTeam {
				m = owner.Oncall
			}
			if m != "" && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	counts := map[time.Duration]int{} // fires per window, asked once per Decide
	repeated := func(a *Repeat) bool {
		if fires == nil {
			return false
		}
		n, ok := counts[a.Window]
		if !ok {
			n = fires.Fires(g.Key, now.Add(-a.Window))
			counts[a.Window] = n
		}
		return n >= a.Count
	}
	for _, a := range g.Alerts {
		if a.Status == StatusResolved {
			continue
		}
		lset := alertLabels(g, a)
		decided := false
		for _, mr := range r.mentions {
			if mr.applies(lset, a, repeated) {
				add(mr.mention)
				decided = true
				break
			}
		}
		if !decided {
			add(r.defaultMention)
		}
	}
	return out
}

func (mr *mentionRule) applies(lset map[string]string, a Alert, repeated func(*Repeat) bool) bool {
	if !mr.sel.matches(lset) {
		return false
	}
	value, hasValue := alertValue(a, mr.valueRef)
	for _, c := range mr.when {
		if !c.holds(lset, value, hasValue) {
			return false
		}
	}
	for _, c := range mr.unless {
		if c.holds(lset, value, hasValue) {
			return false
		}
	}
	return mr.after == nil || repeated(mr.after)
}

func (r *Rules) reminder(common map[string]string) time.Duration {
	for _, rm := range r.reminders {
		if rm.sel.matches(common) {
			return rm.every
		}
	}
	return r.defaultReminder
}

// groupLabels are the labels all the group's alerts share, with the
// group's namespace and alert name over what the alerts carry (the
// namespace may come from exported_namespace; namespace is then the
// scraper's).
func groupLabels(g Group) map[string]string {
	var common map[string]string
	for _, a := range g.Alerts {
		if common == nil {
			common = make(map[string]string, len(a.Labels)+3)
			for k, v := range a.Labels {
				common[k] = v
			}
			continue
		}
		for k, v := range common {
			if a.Labels[k] != v {
				delete(common, k)
			}
		}
	}
	if common == nil {
		common = map[string]string{}
	}
	return withGroup(common, g)
}

func alertLabels(g Group, a Alert) map[string]string {
	lset := make(map[string]string, len(a.Labels)+3)
	for k, v := range a.Labels {
		lset[k] = v
	}
	return withGroup(lset, g)
}

func withGroup(lset map[string]string, g Group) map[string]string {
	lset["namespace"] = g.Namespace
	if g.AlertName != "" {
		lset["alertname"] = g.AlertName
	}
	lset[labels.MetricName] = lset["alertname"]
	return lset
}

// alertValue is the value conditions compare: the Grafana query value of
// ref (the largest when ref is empty), from Values or else parsed from
// ValueString (older Grafanas send only that); else a numeric "value"
// label, else a "value" annotation (Alertmanager rules often set value:
// {{ $value }}).
func alertValue(a Alert, ref string) (float64, bool) {
	values := a.Values
	if len(values) == 0 && a.ValueString != "" {
		values = parseValueString(a.ValueString)
	}
	if len(values) > 0 {
		if ref != "" {
			if v, ok := values[ref]; ok && !math.IsNaN(v) {
				return v, true
			}
		} else {
			best, found := math.Inf(-1), false
			for _, v := range values {
				if !math.IsNaN(v) && v >= best {
					best, found = v, true
				}
			}
			if found {
				return best, true
			}
		}
	}
	for _, s := range []string{a.Labels["value"], a.Annotations["value"]} {
		if v, ok := parseValueText(s); ok {
			return v, true
		}
	}
	return 0, false
}

// parseValueText reads a value label or annotation: a number, possibly
// followed by "%" ("33.79 %", as {{ $value | printf "%.2f %%" }} writes;
// the number is compared, 33.79). Other units (humanize's 1.2k) are not
// guessed at: the value is then absent.
func parseValueText(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// valueStringEntry is one entry of Grafana's valueString: "[ var='B'
// labels={instance=a} value=18.9 ]" (Grafana 8 wrote metric= for var=).
var valueStringEntry = regexp.MustCompile(`\[ (?:var|metric)='([^']*)' labels=\{.*?\} value=([^ \]]+) \]`)

// parseValueString reads the values of a Grafana valueString by ref id;
// entries that do not parse are left out.
func parseValueString(s string) map[string]float64 {
	var out map[string]float64
	for _, m := range valueStringEntry.FindAllStringSubmatch(s, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		if out == nil {
			out = map[string]float64{}
		}
		out[m[1]] = v
	}
	return out
}

// selector is a parsed label selector; nil matches everything.
type selector []*labels.Matcher

// parseSelector parses a Prometheus selector ({a="b", c=~"d|e"},
// name{a="b"}); empty matches everything.
func parseSelector(s string) (selector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	ms, err := parser.ParseMetricSelector(s)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", s, err)
	}
	return ms, nil
}

func (s selector) matches(lset map[string]string) bool {
	for _, m := range s {
		if !m.Matches(lset[m.Name]) {
			return false
		}
	}
	return true
}

// String is the selector in a form parseSelector reads back.
func (s selector) String() string {
	if len(s) == 0 {
		return ""
	}
	parts := make([]string, len(s))
	for i, m := range s {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// condition is a parsed Condition: a label matcher, or a comparison of
// the value with a threshold.
type condition struct {
	matcher   *labels.Matcher
	op        string
	threshold float64
}

var comparison = regexp.MustCompile(`^\s*value\s*(>=|<=|==|!=|>|<)\s*(.*?)\s*$`)

// parseCondition parses "value OP number" or one label matcher.
func parseCondition(s string) (condition, error) {
	if m := comparison.FindStringSubmatch(s); m != nil && !strings.HasPrefix(m[2], `"`) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil || math.IsNaN(v) {
			return condition{}, fmt.Errorf("condition %q: compare the value with a number, as in value >= 1000", s)
		}
		return condition{op: m[1], threshold: v}, nil
	}
	if strings.TrimSpace(s) == "" {
		return condition{}, errors.New(`empty condition; write a label matcher (code="503") or a comparison (value >= 1000)`)
	}
	ms, err := parser.ParseMetricSelector("{" + s + "}")
	if err != nil {
		return condition{}, fmt.Errorf("condition %q: want a label matcher (code=\"503\") or a comparison (value >= 1000): %w", s, err)
	}
	if len(ms) != 1 {
		return condition{}, fmt.Errorf("condition %q: one matcher per condition (conditions in a list all must hold)", s)
	}
	return condition{matcher: ms[0]}, nil
}

func (c condition) holds(lset map[string]string, value float64, hasValue bool) bool {
	if c.matcher != nil {
		return c.matcher.Matches(lset[c.matcher.Name])
	}
	if !hasValue {
		return false
	}
	switch c.op {
	case ">=":
		return value >= c.threshold
	case ">":
		return value > c.threshold
	case "<=":
		return value <= c.threshold
	case "<":
		return value < c.threshold
	case "==":
		return value == c.threshold
	case "!=":
		return value != c.threshold
	}
	return false
}

// String is the condition in a form parseCondition reads back.
func (c condition) String() string {
	if c.matcher != nil {
		return c.matcher.String()
	}
	return "value " + c.op + " " + strconv.FormatFloat(c.threshold, 'g', -1, 64)
}
