package events

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// checkDecoded is the decoders' property: an input is refused (malformed
// or ignored, never another error) or gives an event that Normalize
// accepts, with an external id (a redelivery is deduplicated by it) and a
// deploy id.
func checkDecoded(t *testing.T, e Event, err error) {
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrIgnored) {
			t.Fatalf("an error that is neither malformed nor ignored: %v", err)
		}
		return
	}
	n, err := e.Normalize()
	if err != nil {
		t.Fatalf("decoded an invalid event: %v (%+v)", err, e)
	}
	if n.ExternalID == "" || n.DeployID == 0 {
		t.Fatalf("no external id or deploy id: %+v", n)
	}
	if n.Result == ResultStarted && !n.FinishedAt.IsZero() || n.Result != ResultStarted && n.FinishedAt.IsZero() {
		t.Fatalf("result %s with finished_at %v", n.Result, n.FinishedAt)
	}
}

func addSamples(f *testing.F, dir string) {
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzDecodeArgoCD(f *testing.F) {
	addSamples(f, "argocd")
	f.Add([]byte(`{"app":"a","namespace":"n","healthStatus":"Healthy","syncStatus":"Synced","finishedAt":"1"}`))
	f.Add([]byte(`{"app":"a","env":"p","phase":"Running","startedAt":"2299-12-31T23:59:59Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, _, err := DecodeArgoCD(body, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		checkDecoded(t, e, err)
	})
}

func FuzzDecodeGitHub(f *testing.F) {
	addSamples(f, "github")
	f.Add([]byte(`{"deployment_status":{"id":1,"state":"success","environment":"p","created_at":"0001-01-01T00:00:01Z"},"deployment":{"id":2,"created_at":"9999-01-01T00:00:00Z"},"repository":{"full_name":"a/b"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, _, err := DecodeGitHub("deployment_status", body)
		checkDecoded(t, e, err)
	})
}

// FuzzParseLine: a line is refused or gives a valid event that encodes
// back to a line giving the same event.
func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"deploy_id":1,"source":"furrow","project":"p","environment":"e","action":"deploy","result":"started","started_at":"2026-11-01T00:00:00Z"}`))
	f.Add([]byte(`{"deploy_id":1,"source":"furrow","project":"p","environment":"e","action":"scale","result":"succeeded","started_at":"2026-11-01T00:00:00Z","finished_at":"2026-11-01T00:00:01.5Z","replicas_from":1,"replicas_to":3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLine(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := ParseLine(again)
		if err != nil {
			t.Fatalf("%s: %v", again, err)
		}
		if Token(e) != Token(e2) {
			t.Fatalf("round trip changed the event: %+v / %+v", e, e2)
		}
	})
}
