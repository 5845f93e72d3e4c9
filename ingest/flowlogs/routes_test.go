package flowlogs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
	sources "github.com/furrowdev/furrow/ingest/source"
)

const (
	readToken   = "r3ad-0nly-t0ken-value"
	ingestToken = "1ngest-0nly-t0ken-value"
)

// slowS3 is an S3 endpoint holding one flow-log object whose download
// sends half of the object and then hangs until the client goes away: a
// source slower than any request timeout, without timing anything.
type slowS3 struct {
	key     string
	body    []byte
	started chan struct{} // receives once per GET, after the first half
}

func (f *slowS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("list-type") == "2" {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>flows</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>`+
			`<Contents><Key>%s</Key><Size>%d</Size><ETag>"0123456789abcdef"</ETag><LastModified>2026-11-01T00:10:00.000Z</LastModified></Contents></ListBucketResult>`, f.key, len(f.body))
		return
	}
	w.Header().Set("ETag", `"0123456789abcdef"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.body)))
	half := len(f.body) / 2
	_, _ = w.Write(f.body[:half])
	w.(http.Flusher).Flush()
	f.started <- struct{}{}
	<-r.Context().Done()
}

// TestHandOverJobs hands ingests to a real server over loopback: who may,
// which paths it reads, and a long ingest that outlives its request and is
// cancelled with nothing recorded.
func TestHandOverJobs(t *testing.T) {
	s := migrated(t)
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join("testdata", "v5_custom.log"))
	require.NoError(t, err)
	root, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "v5.log"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "v5.log"), data, 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "escape")))

	lines, err := os.ReadFile(filepath.Join("testdata", "v2_headerless.log"))
	require.NoError(t, err)
	fake := &slowS3{
		key:     "AWSLogs/123456789010/vpcflowlogs/eu-west-1/2026/11/01/123456789010_vpcflowlogs_eu-west-1_fl-1_20261101T0010Z_abcd.log",
		body:    []byte(strings.Repeat(string(lines), 50)),
		started: make(chan struct{}, 4),
	}
	s3srv := httptest.NewServer(fake)
	defer s3srv.Close()
	scfg := sources.DefaultConfiguration()
	scfg.Endpoint, scfg.PathStyle, scfg.Region = s3srv.URL, true, "eu-west-1"
	scfg.AccessKeyID, scfg.SecretAccessKey = "test", "test-secret"
	in := newTestIngester(t, s, Dependencies{Source: sources.New(scfg, sources.Dependencies{})}, IngestOptions{})

	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("analyst read "+readToken+"\nci-loader ingest "+ingestToken+"\n"), 0o600))
	hcfg := api.Configuration{Listen: "127.0.0.1:0", TokensFile: tokens}
	def := api.DefaultConfiguration()
	hcfg.ReadTimeout, hcfg.WriteTimeout, hcfg.SQL = def.ReadTimeout, def.WriteTimeout, def.SQL
	reg := prometheus.NewRegistry()
	srv, err := api.New(hcfg, api.Dependencies{Store: s, Registry: reg})
	require.NoError(t, err)
	jobs, err := api.NewJobs(api.HandOverConfiguration{Roots: []string{root}, S3Prefixes: []string{"s3://flows/AWSLogs/"}, MaxRunningJobs: 1, KeepJobs: 10}, reg, nil)
	require.NoError(t, err)
	jobs.Routes(srv.Group(api.ScopeRead, api.ScopeIngest), srv.Group(api.ScopeIngest))
	in.Routes(srv.Group(api.ScopeRead))
	in.HandOverRoutes(srv.Group(api.ScopeIngest), jobs)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { _ = srv.Stop(ctx); _ = jobs.Stop(ctx) })
	base := "http://" + srv.Addr()

	call := func(method, path, token, body string, out any) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
		return resp.StatusCode
	}
	handOver := func(token string, srcs ...string) (int, api.Job) {
		b, _ := json.Marshal(IngestRequest{Sources: srcs})
		var jb api.Job
		code := call(http.MethodPost, "/api/v1/ingest/flowlogs", token, string(b), &jb)
		return code, jb
	}
	wait := func(id string) api.Job {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute) // a hung test, not a timing
		for {
			var jb api.Job
			require.Equal(t, http.StatusOK, call(http.MethodGet, api.JobsPath+"/"+id, ingestToken, "", &jb))
			if jb.State.Final() {
				return jb
			}
			require.True(t, time.Now().Before(deadline), "job %s still %s", id, jb.State)
			time.Sleep(20 * time.Millisecond)
		}
	}
	objects := func() string { return queryTSV(t, s, "SELECT count() FROM ingested_objects WHERE kind = 'flowlogs'") }

	// Refused: nothing is read, no job starts.
	for _, c := range []struct {
		where, token string
		srcs         []string
		code         int
	}{
		{"read token", readToken, []string{root}, http.StatusForbidden},
		{"outside the roots", ingestToken, []string{outside}, http.StatusForbidden},
		{"dot-dot out of the root", ingestToken, []string{root + "/../" + filepath.Base(outside)}, http.StatusForbidden},
		{"symlink out of the root", ingestToken, []string{filepath.Join(root, "escape")}, http.StatusForbidden},
		{"one good, one outside", ingestToken, []string{root, outside}, http.StatusForbidden},
		{"S3 outside the prefixes", ingestToken, []string{"s3://flows/other/"}, http.StatusForbidden},
		{"no sources", ingestToken, nil, http.StatusBadRequest},
	} {
		code, _ := handOver(c.token, c.srcs...)
		require.Equal(t, c.code, code, c.where)
	}
	// Malformed bodies: a misspelt option is refused, not ignored (the
	// ingest would run without the window asked for).
	for _, body := range []string{
		`{"sources":["` + root + `"],"sinse":"2026-11-01T00:00:00Z"}`,
		`{"sources":"` + root + `"}`,
		`{"sources":["` + root + `"]} {"sources":["` + outside + `"]}`,
		`{`, ``,
	} {
		var e struct{ Error string }
		require.Equal(t, http.StatusBadRequest, call(http.MethodPost, "/api/v1/ingest/flowlogs", ingestToken, body, &e), body)
		require.NotEmpty(t, e.Error, body)
	}
	require.Equal(t, "0", objects())
	var list struct{ Jobs []api.Job }
	call(http.MethodGet, api.JobsPath, readToken, "", &list)
	require.Empty(t, list.Jobs)

	// A directory under the root: a job, done, with the Summary.
	code, jb := handOver(ingestToken, root)
	require.Equal(t, http.StatusAccepted, code)
	jb = wait(jb.ID)
	require.Equal(t, api.JobDone, jb.State, jb.Error)
	var sum Summary
	require.NoError(t, json.Unmarshal(jb.Result, &sum))
	require.EqualValues(t, 4, sum.Stored)
	require.Equal(t, api.ProgressSnapshot{ObjectsTotal: 1, ObjectsDone: 1, RecordsRead: sum.Records, RecordsStored: 4, RecordsRejected: sum.Rejected}, jb.Progress)
	require.Equal(t, "ci-loader", jb.Subject)
	require.Equal(t, "1", objects())

	// A slow S3 object: the job runs past its request, until DELETE.
	code, jb = handOver(ingestToken, "s3://flows/AWSLogs/123456789010/vpcflowlogs/eu-west-1/2026/11/01/")
	require.Equal(t, http.StatusAccepted, code)
	<-fake.started
	var running api.Job
	call(http.MethodGet, api.JobsPath+"/"+jb.ID, readToken, "", &running)
	require.Equal(t, api.JobRunning, running.State)
	require.EqualValues(t, 1, running.Progress.ObjectsTotal)
	require.Equal(t, http.StatusAccepted, call(http.MethodDelete, api.JobsPath+"/"+jb.ID, ingestToken, "", nil))
	jb = wait(jb.ID)
	require.Equal(t, api.JobCancelled, jb.State, jb.Error)
	// Nothing of the half-read object is recorded or stored.
	require.Equal(t, "1", objects())
	require.Equal(t, "4", queryTSV(t, s, "SELECT count() FROM flow_logs"))
	require.Equal(t, "0", queryTSV(t, s, "SELECT count() FROM ingest_failures"))

	call(http.MethodGet, api.JobsPath, readToken, "", &list)
	require.Len(t, list.Jobs, 2)
	require.Equal(t, []api.JobState{api.JobCancelled, api.JobDone}, []api.JobState{list.Jobs[0].State, list.Jobs[1].State})
}
