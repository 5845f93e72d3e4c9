package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomValue is a value unlikely to occur by chance in any message: 24
// characters from an alphabet with JSON-significant and printable ones.
func randomValue(r *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}[]\":,.-_ '\\/@é"
	rs := []rune(alphabet)
	var b strings.Builder
	for range 24 {
		b.WriteRune(rs[r.IntN(len(rs))])
	}
	return b.String()
}

// TestValuesNeverInErrorsOrLogs is a property test: for random secret
// values, every failing resolution (missing key, not JSON, binary with a
// key, a missing secret among present ones, a deleted one, too many
// secrets, throttling past the retries) and every successful one leaves
// no value, nor its JSON or Go quoting, in the error text or in the
// resolver's debug log.
func TestValuesNeverInErrorsOrLogs(t *testing.T) {
	r := rand.New(rand.NewPCG(14, uint64(len(t.Name()))))
	for round := range 10 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			var logs bytes.Buffer
			e := newEnv(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			plain, field := randomValue(r), randomValue(r)
			obj, _ := json.Marshal(map[string]string{"k": field, "other": randomValue(r)})
			e.srv.CreateString(t, "plain", plain)
			e.srv.CreateString(t, "obj", string(obj))
			e.srv.CreateBinary(t, "bin", []byte(randomValue(r)))
			secretsHeld := []string{plain, field, string(obj)}

			ctx := context.Background()
			var texts []string
			run := func(refs []secretRef, setup func()) {
				if setup != nil {
					setup()
				}
				got, err := e.res.resolveRefs(ctx, "leak/test", refs)
				if err != nil {
					texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
				} else {
					texts = append(texts, fmt.Sprintf("%v %+v %#v", got, got, got))
					b, _ := json.Marshal(got)
					texts = append(texts, string(b))
				}
			}
			run([]secretRef{{Name: "a", SecretID: "obj", Key: "missing"}}, nil)
			run([]secretRef{{Name: "a", SecretID: "plain", Key: "k"}}, nil)
			run([]secretRef{{Name: "a", SecretID: "bin", Key: "k"}}, nil)
			run([]secretRef{{Name: "a", SecretID: "plain"}, {Name: "b", SecretID: "obj", Key: "k"}, {Name: "c", SecretID: "none"}}, nil)
			run(append(refsN(8), secretRef{Name: "z", SecretID: "obj"}), nil)
			run([]secretRef{{Name: "a", SecretID: "plain"}, {Name: "b", SecretID: "obj", Key: "k"}, {Name: "c", SecretID: "bin"}}, nil)
			run([]secretRef{{Name: "a", SecretID: "plain"}, {Name: "b", SecretID: "obj"}}, func() { e.srv.Throttle(3) })
			run([]secretRef{{Name: "a", SecretID: "plain"}, {Name: "b", SecretID: "obj", VersionStage: "AWSPREVIOUS"}}, nil)
			run([]secretRef{{Name: "a", SecretID: "plain"}, {Name: "b", SecretID: "obj", Key: "k"}}, func() { e.srv.Delete("obj") })
			if !strings.Contains(logs.String(), "secret resolved") {
				t.Fatalf("the successful resolution logged nothing: %s", logs.String())
			}
			texts = append(texts, logs.String())
			all := strings.Join(texts, "\n")
			for _, v := range secretsHeld {
				for _, form := range []string{v, fmt.Sprintf("%q", v), string(must(json.Marshal(v)))[1:max(1, len(must(json.Marshal(v)))-1)]} {
					if strings.Contains(all, form) {
						t.Fatalf("secret value %q appears in output:\n%s", v, all)
					}
				}
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzExtract checks the JSON key extraction: it never panics; its errors
// are one of the messages made from the key alone, so nothing of the
// secret can reach them; a value it returns is the one encoding/json
// finds.
func FuzzExtract(f *testing.F) {
	for _, s := range []struct{ s, k string }{
		{`{"user":"app","password":"p"}`, "password"},
		{`{"user":"app"}`, "password"},
		{`not json`, "k"},
		{`{"a":{"b":[1,2]}}`, "a"},
		{`{"n":null}`, "n"},
		{`{"x":1} trailing`, "x"},
		{`{"x":1}{"x":2}`, "x"},
		{`[1,2]`, ""},
		{`{"":"shadow"}`, ""},
		{`{"k":"\u00e9\ud83d\ude00"}`, "k"},
		{`{"k":1e400}`, "k"},
		{`"string"`, "k"},
		{`{"k":"v","k":"w"}`, "k"},
	} {
		f.Add(s.s, s.k)
	}
	f.Fuzz(func(t *testing.T, s, key string) {
		v, err := extract(s, key)
		if err != nil {
			if err.Error() != errNotObject(key).Error() && err.Error() != errMissingKey(key).Error() {
				t.Fatalf("unexpected error %q", err)
			}
			if v != nil {
				t.Fatal("values with an error")
			}
			return
		}
		var ref map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		isObj := dec.Decode(&ref) == nil && ref != nil
		if key == "" {
			if v[WholeSecret] != s {
				t.Fatal("the whole secret is not kept under \"\"")
			}
			if !isObj && len(v) != 1 {
				t.Fatalf("fields from a non-object: %v", v.Keys())
			}
			return
		}
		if !isObj {
			t.Fatalf("key %q extracted from something encoding/json does not read as an object", key)
		}
		want, ok := ref[key]
		if !ok || want == nil || len(v) != 1 {
			t.Fatalf("key %q: got %d values, encoding/json has %v", key, len(v), ok)
		}
		if str, isStr := want.(string); isStr && v[key] != str {
			t.Fatalf("key %q: got a different string than encoding/json", key)
		}
		if n, isNum := want.(json.Number); isNum && v[key] != n.String() {
			t.Fatalf("key %q: number %q, encoding/json %q", key, v[key], n)
		}
	})
}
