package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/catalog"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

// fakeTagging is a local HTTP server speaking the Resource Groups Tagging
// API's wire protocol as aws-sdk-go-v2 (v1.42) sends it: Smithy RPC v2
// CBOR (POST /service/ResourceGroupsTaggingAPI_20170126/operation/<Op>,
// Smithy-Protocol: rpc-v2-cbor, CBOR bodies, errors with __type), since
// the real API cannot be reached here; the real SDK client is pointed at
// it. It pages, throttles and refuses resources like the service.
type fakeTagging struct {
	mu        sync.Mutex
	tags      map[string]map[string]string
	tagCalls  map[string]int
	throttle  int             // TagResources calls still to throttle
	failOnce  map[string]bool // ARNs to refuse once (FailedResourcesMap)
	pageSize  int
	getCalls  int
	tagBatchN []int
}

func str(v cbor.Value) string {
	if s, ok := v.(cbor.String); ok {
		return string(s)
	}
	return ""
}

func (f *fakeTagging) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	reply := func(code int, m cbor.Map) {
		w.WriteHeader(code)
		_, _ = w.Write(cbor.Encode(m))
	}
	fail := func(code int, typ, msg string) {
		reply(code, cbor.Map{"__type": cbor.String(typ), "Message": cbor.String(msg)})
	}
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		fail(http.StatusBadRequest, "SerializationException", "not rpc-v2-cbor")
		return
	}
	body, _ := io.ReadAll(r.Body)
	in := cbor.Map{}
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		if err != nil {
			fail(http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		in, _ = v.(cbor.Map)
	}
	switch op := strings.TrimPrefix(r.URL.Path, "/service/ResourceGroupsTaggingAPI_20170126/operation/"); op {
	case "GetResources":
		f.getCalls++
		var keys []string
		if l, ok := in["TagFilters"].(cbor.List); ok {
			for _, tf := range l {
				if m, ok := tf.(cbor.Map); ok {
					keys = append(keys, str(m["Key"]))
				}
			}
		}
		var arns []string
		for arn, tags := range f.tags {
			ok := true
			for _, k := range keys {
				if _, has := tags[k]; !has {
					ok = false
				}
			}
			if ok {
				arns = append(arns, arn)
			}
		}
		sort.Strings(arns)
		start, _ := strconv.Atoi(str(in["PaginationToken"]))
		end := min(start+f.pageSize, len(arns))
		list := cbor.List{}
		for _, arn := range arns[start:end] {
			tags := cbor.List{}
			for k, v := range f.tags[arn] {
				tags = append(tags, cbor.Map{"Key": cbor.String(k), "Value": cbor.String(v)})
			}
			list = append(list, cbor.Map{"ResourceARN": cbor.String(arn), "Tags": tags})
		}
		out := cbor.Map{"ResourceTagMappingList": list}
		if end < len(arns) {
			out["PaginationToken"] = cbor.String(strconv.Itoa(end))
		}
		reply(http.StatusOK, out)
	case "TagResources":
		if f.throttle > 0 {
			f.throttle--
			fail(http.StatusBadRequest, "ThrottledException", "Rate exceeded")
			return
		}
		var arns []string
		if l, ok := in["ResourceARNList"].(cbor.List); ok {
			for _, a := range l {
				arns = append(arns, str(a))
			}
		}
		if len(arns) > catalog.MaxTagBatch {
			fail(http.StatusBadRequest, "InvalidParameterException", "ResourceARNList: at most 20")
			return
		}
		tags := map[string]string{}
		if m, ok := in["Tags"].(cbor.Map); ok {
			for k, v := range m {
				tags[k] = str(v)
			}
		}
		f.tagBatchN = append(f.tagBatchN, len(arns))
		failed := cbor.Map{}
		for _, arn := range arns {
			f.tagCalls[arn]++
			if f.failOnce[arn] {
				delete(f.failOnce, arn)
				failed[arn] = cbor.Map{"ErrorCode": cbor.String("InternalServiceException"), "ErrorMessage": cbor.String("try again"), "StatusCode": cbor.Uint(500)}
				continue
			}
			for k, v := range tags {
				f.tags[arn][k] = v
			}
		}
		reply(http.StatusOK, cbor.Map{"FailedResourcesMap": failed})
	default:
		fail(http.StatusBadRequest, "UnknownOperationException", op)
	}
}

// crashAfter fails (not a throttle) once n batches went through.
type crashAfter struct {
	catalog.Tagger
	n int
}

func (c *crashAfter) Tag(ctx context.Context, arns []string, tags map[string]string) (map[string]string, error) {
	if c.n == 0 {
		return nil, errors.New("the process died")
	}
	c.n--
	return c.Tagger.Tag(ctx, arns, tags)
}

// TestTagScanAndTransfer: the scan reads owners from tags (project, team,
// legacy keys); a transfer is one catalog change plus a re-tag job that
// goes through a throttled response and a refused resource, survives a
// crash half way, tags every resource once, and is audited step by step.
func TestTagScanAndTransfer(t *testing.T) {
	statetest.Each(t, func(t *testing.T, st *state.Store, _ state.Configuration, _ string) {
		ctx := context.Background()
		c, _ := newCatalog(t, st)
		hr := catalog.Actor{Subject: "furrow", Source: "hr-sync"}
		_, err := c.SyncHRData(ctx, hr, false, "yaml", []byte(hrV1))
		require.NoError(t, err)
		_, err = c.PutProject(ctx, catalog.Actor{Subject: "e1", Source: "api"}, catalog.Project{ID: "checkout", Name: "Checkout", OwnerTeam: "PAY"}, 0)
		require.NoError(t, err)

		fake := &fakeTagging{tags: map[string]map[string]string{}, tagCalls: map[string]int{}, failOnce: map[string]bool{}, pageSize: 7}
		for i := 0; i < 45; i++ {
			fake.tags[fmt.Sprintf("arn:aws:s3:::checkout-%02d", i)] = map[string]string{"katalog:project": "checkout", "katalog:team": "PAY"}
		}
		fake.tags["arn:aws:rds:eu-west-1:1:db:legacy"] = map[string]string{"team": "payments-team"}
		fake.tags["arn:aws:sqs:eu-west-1:1:ghost"] = map[string]string{"katalog:project": "ghost"}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
			RetryMaxAttempts: 1} // the job's own backoff handles throttling here
		tagger := catalog.NewAWSTaggerFromConfig(cfg, srv.URL)
		ctlg := c
		scanner := catalog.Actor{Subject: "furrow", Source: "tag-scan"}

		rep, err := ctlg.ScanTags(ctx, scanner, tagger)
		require.NoError(t, err)
		require.Equal(t, 47, rep.Resources)
		require.Len(t, rep.Problems, 1, "%v", rep.Problems)
		require.Contains(t, rep.Problems[0], "ghost")
		require.Greater(t, fake.getCalls, 3, "GetResources pages")
		res, err := c.Resources(ctx)
		require.NoError(t, err)
		byARN := map[string]catalog.Resource{}
		for _, r := range res {
			byARN[r.ARN] = r
		}
		require.Equal(t, "PAY", byARN["arn:aws:s3:::checkout-00"].TeamCode)
		require.Equal(t, "checkout", byARN["arn:aws:s3:::checkout-00"].ProjectID)
		require.Equal(t, "payments-team", byARN["arn:aws:rds:eu-west-1:1:db:legacy"].TeamCode, "a legacy value not mapped is taken as is")

		// The dry run is the diff.
		plan, err := c.TransferProject(ctx, catalog.Actor{Subject: "root", Source: "api"}, "checkout", "SRCH", true)
		require.NoError(t, err)
		require.Equal(t, "PAY", plan.FromTeam)
		require.Len(t, plan.Retag, 45)
		require.Empty(t, plan.Job)
		p, _ := c.Project(ctx, "checkout")
		require.Equal(t, "PAY", p.OwnerTeam, "a dry run changes nothing")

		plan, err = c.TransferProject(ctx, catalog.Actor{Subject: "root", Source: "api"}, "checkout", "SRCH", false)
		require.NoError(t, err)
		require.NotEmpty(t, plan.Job)
		p, _ = c.Project(ctx, "checkout")
		require.Equal(t, "SRCH", p.OwnerTeam)

		fake.throttle = 1
		fake.failOnce["arn:aws:s3:::checkout-03"] = true
		var slept []time.Duration
		sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
		_, err = c.RunRetagJobs(ctx, catalog.Actor{Subject: "root", Source: "retag"}, &crashAfter{Tagger: tagger, n: 1}, sleep)
		require.ErrorContains(t, err, "the process died")

		progress, err := c.RunRetagJobs(ctx, catalog.Actor{Subject: "root", Source: "retag"}, tagger, sleep)
		require.NoError(t, err)
		require.Len(t, progress, 1)
		require.Equal(t, "done", progress[0].State, "%+v", progress[0])
		require.Equal(t, 45, progress[0].Done)
		require.Equal(t, []time.Duration{time.Second}, slept, "one throttled call, one backoff")
		for i := 0; i < 45; i++ {
			arn := fmt.Sprintf("arn:aws:s3:::checkout-%02d", i)
			require.Equal(t, "SRCH", fake.tags[arn]["katalog:team"], arn)
			want := 1
			if i == 3 {
				want = 2 // refused once, tagged on the next pass
			}
			require.Equal(t, want, fake.tagCalls[arn], "%s tagged once, crash or not", arn)
		}
		for _, n := range fake.tagBatchN {
			require.LessOrEqual(t, n, catalog.MaxTagBatch)
		}
		res, _ = c.Resources(ctx)
		for _, r := range res {
			if r.ProjectID == "checkout" {
				require.Equal(t, "SRCH", r.TeamCode)
			}
		}
		audit, err := c.Audit(ctx, "retag-job", plan.Job, 100)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(audit), 4, "the job and each batch are audited")
		audit, err = c.Audit(ctx, "project", "checkout", 1)
		require.NoError(t, err)
		require.Equal(t, "transfer", audit[0].Action)

		// Nothing left to do.
		progress, err = c.RunRetagJobs(ctx, catalog.Actor{Subject: "root", Source: "retag"}, tagger, sleep)
		require.NoError(t, err)
		require.Empty(t, progress)
	})
}
