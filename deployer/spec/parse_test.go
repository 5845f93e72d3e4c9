package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSamplesParseAndValidate(t *testing.T) {
	for _, f := range validSamples(t) {
		t.Run(sampleName(f), func(t *testing.T) {
			p, err := Load(f)
			require.NoError(t, err)
			require.NoError(t, p.Validate(testRules()))
			require.NoError(t, p.Validate(DefaultRules()), "without a cluster list, clusters are not checked")
		})
	}
}

// where is an expected problem: its place and field, and a word of the
// message (not the whole message, which may be reworded).
type where struct {
	pos, field, word string
}

func (w where) String() string { return w.pos + " " + w.field + " (" + w.word + ")" }

func requireProblems(t *testing.T, err error, want []where) {
	t.Helper()
	require.Error(t, err)
	got := Errors(err)
	var lines []string
	for _, e := range got {
		lines = append(lines, e.Error())
	}
	require.Len(t, got, len(want), "errors:\n%s", strings.Join(lines, "\n"))
	for i, w := range want {
		e := got[i]
		require.Equal(t, w.pos, fmt.Sprintf("%d:%d", e.Line, e.Column), "error %d: %s", i, e)
		require.Equal(t, w.field, e.Field, "error %d: %s", i, e)
		require.Contains(t, e.Msg, w.word, "error %d: %s", i, e)
	}
}

func TestInvalidSamples(t *testing.T) {
	cases := []struct {
		file  string
		parse []where // Parse's errors; when nil, Parse succeeds and Validate fails
		rules []where
	}{
		{file: "unknown-field", parse: []where{{"7:5", "ports[0].protocl", `did you mean "protocol"`}}},
		{file: "privileged", parse: []where{{"4:1", "privileged", "forbidden"}}},
		{file: "wrong-types", parse: []where{
			{"4:11", "replicas", "integer"},
			{"5:8", "ports", "list"},
			{"7:6", "env.A", "string"},
			{"10:14", "environments.prod.regions", "list"},
		}},
		{file: "too-many-secrets", rules: []where{{"13:5", "secrets[8]", "at most 8"}}},
		{file: "rules", rules: []where{
			{"1:10", "project", "RFC 1123"},
			{"3:8", "image", "latest"},
			{"7:11", "ports[1].name", "twice"},
			{"8:11", "ports[1].port", "twice"},
			{"11:11", "routes[0].port", `no port "admin"`},
			{"13:5", "secrets[0]", "exactly one of env and file"},
			{"19:32", "probes.readiness.http.port", `no port "9999"`},
			{"22:8", "autoscaling.max", "below min"},
			{"24:16", "security.run_as_user", "root"},
			{"27:15", "cronjobs[0].schedule", "61"},
			{"29:15", "cronjobs[0].timezone", "time zone"},
			{"32:27", "traffic.topology_aware_routing", "not both"},
			{"35:5", "environments.prod", "namespace"},
			{"39:20", "environments.prod.regions[1].clusters[0]", `unknown cluster "eu-west-9"`},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			name := "testdata/invalid/" + c.file + ".yaml"
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			p, err := Parse(name, data)
			if c.parse != nil {
				requireProblems(t, err, c.parse)
				for _, e := range Errors(err) {
					require.Equal(t, name, e.File)
				}
				return
			}
			require.NoError(t, err)
			requireProblems(t, p.Validate(testRules()), c.rules)
			require.True(t, strings.HasPrefix(Errors(p.Validate(testRules()))[0].Error(), name+":"), "file:line:col: field: message")
		})
	}
}

func TestAliasBombIsRejected(t *testing.T) {
	data, err := os.ReadFile("testdata/invalid/alias-bomb.yaml")
	require.NoError(t, err)
	_, err = Parse("bomb.yaml", data)
	require.Error(t, err)
	for _, e := range Errors(err) {
		require.Positive(t, e.Line, e.Error())
	}
}

func TestParseErrors(t *testing.T) {
	const head = "project: p\nservice: s\nimage: r/i:1\n"
	const envs = "environments:\n  dev:\n    regions: [{region: ap-northeast-2, clusters: [c]}]\n"
	cases := []struct {
		name, yaml string
		want       []where
	}{
		{"syntax", head + "ports: [\n", []where{{"4:1", "", "did not find"}}},
		{"duplicate key", head + "image: r/j:2\n" + envs, []where{{"4:1", "image", "twice"}}},
		{"duplicate env", head + "env:\n  A: x\n  A: y\n" + envs, []where{{"6:3", "env.A", "twice"}}},
		{"merge key", head + "<<: {replicas: 2}\n" + envs, []where{{"4:1", "", "merge keys"}}},
		{"two documents", head + envs + "---\nproject: q\n", []where{{"7:1", "", "second YAML document"}}},
		{"missing fields", "project: p\n", []where{{"1:1", "service", "required"}, {"1:1", "image", "required"}, {"1:1", "environments", "required"}}},
		{"not a mapping", "- a\n- b\n", []where{{"1:1", "", "mapping"}}},
		{"unquoted version", head + "env:\n  VERSION: 1.10\n" + envs, []where{{"5:12", "env.VERSION", "quote it"}}},
		{"bool as int", head + "replicas: true\n" + envs, []where{{"4:11", "replicas", "integer"}}},
		{"int overflow", head + "replicas: 99999999999\n" + envs, []where{{"4:11", "replicas", "32 bits"}}},
		{"nested unknown", head + envs + "    overrides: {image: r/j:2}\n", []where{{"7:17", "environments.dev.overrides.image", "unknown field"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.yaml))
			requireProblems(t, err, c.want)
		})
	}
	_, err := Parse("empty.yaml", nil)
	require.ErrorContains(t, err, "empty.yaml: empty spec")
	_, err = Parse("big.yaml", make([]byte, maxSpecBytes+1))
	require.ErrorContains(t, err, "at most")
}

func TestTargetsAndSecretRefs(t *testing.T) {
	p, err := Load("testdata/payments-mesh.yaml")
	require.NoError(t, err)
	ts, err := p.Targets("prod")
	require.NoError(t, err)
	require.Equal(t, []Target{
		{"prod", "ap-northeast-2", "prod-apne2-a"},
		{"prod", "ap-northeast-2", "prod-apne2-b"},
		{"prod", "us-east-1", "prod-use1"},
	}, ts)
	_, err = p.Targets("qa")
	require.ErrorContains(t, err, "prod, staging")
	require.Equal(t, "payments-prod", p.NamespaceFor("prod"))
	require.Equal(t, []SecretRef{
		{Name: "db-password", SecretID: "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:payments/db-AbCdEf"},
		{Name: "stripe-key", SecretID: "payments/stripe", VersionStage: "AWSCURRENT"},
		{Name: "signing-cert", SecretID: "payments/signing-cert"},
	}, SecretRefs(p, "prod"))
}

func TestRulesValidate(t *testing.T) {
	require.NoError(t, DefaultRules().Validate())
	r := DefaultRules()
	r.DefaultRequests.CPU = "lots"
	r.MeshGateway = "gateway"
	r.MemoryLimitFactor = 0
	err := r.Validate()
	require.ErrorContains(t, err, "default_requests.cpu")
	require.ErrorContains(t, err, "mesh_gateway")
	require.ErrorContains(t, err, "memory_limit_factor")
}
