package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// These tests drive the server with the real aws-sdk-go-v2 client: the
// server stands in for AWS Secrets Manager, which cannot run here.

func TestGetSecretValueAndARN(t *testing.T) {
	s := New(t, Options{Region: "eu-west-3", Account: "111122223333"})
	ctx := context.Background()
	c := s.Client(t)
	arn, v1 := s.CreateString(t, "prod/db", `{"user":"app","password":"p1"}`)
	if !regexp.MustCompile(`^arn:aws:secretsmanager:eu-west-3:111122223333:secret:prod/db-[A-Za-z0-9]{6}$`).MatchString(arn) {
		t.Fatalf("ARN %q is not shaped as AWS's", arn)
	}
	for _, id := range []string{"prod/db", arn, arn[:len(arn)-7]} {
		out, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		if aws.ToString(out.VersionId) != v1 || aws.ToString(out.ARN) != arn ||
			aws.ToString(out.SecretString) != `{"user":"app","password":"p1"}` ||
			len(out.VersionStages) != 1 || out.VersionStages[0] != StageCurrent {
			t.Fatalf("get %s: %+v", id, out)
		}
		if out.CreatedDate == nil || time.Since(*out.CreatedDate) > time.Minute {
			t.Fatalf("created date %v", out.CreatedDate)
		}
	}
	_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("prod/none")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("missing secret: want ResourceNotFoundException, got %v", err)
	}
}

func TestBinary(t *testing.T) {
	s := New(t, Options{})
	bin := []byte{0, 1, 2, 0xff, 'x'}
	s.CreateBinary(t, "tls/key", bin)
	out, err := s.Client(t).GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: aws.String("tls/key")})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.SecretBinary) != string(bin) || out.SecretString != nil {
		t.Fatalf("binary round trip: %+v", out)
	}
}

func TestStagesMoveAsAWSMovesThem(t *testing.T) {
	s := New(t, Options{})
	ctx := context.Background()
	c := s.Client(t)
	_, v1 := s.CreateString(t, "k", "one")
	v2 := s.PutString(t, "k", "two")
	v3 := s.PutString(t, "k", "three", StagePending)
	stagesOf := func() map[string][]string {
		t.Helper()
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		return d.VersionIdsToStages
	}
	want := map[string][]string{v1: {StagePrevious}, v2: {StageCurrent}, v3: {StagePending}}
	if got := stagesOf(); !equalStages(got, want) {
		t.Fatalf("after put: %v, want %v", got, want)
	}
	// Rotation finishes: AWSCURRENT moves to the pending version.
	if _, err := c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
		SecretId: aws.String("k"), VersionStage: aws.String(StageCurrent),
		MoveToVersionId: aws.String(v3), RemoveFromVersionId: aws.String(v2),
	}); err != nil {
		t.Fatal(err)
	}
	want = map[string][]string{v2: {StagePrevious}, v3: {StagePending, StageCurrent}}
	if got := stagesOf(); !equalStages(got, want) {
		t.Fatalf("after rotation: %v, want %v", got, want)
	}
	prev, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("k"), VersionStage: aws.String(StagePrevious)})
	if err != nil || aws.ToString(prev.SecretString) != "two" {
		t.Fatalf("AWSPREVIOUS: %v %v", prev, err)
	}
	byID, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("k"), VersionId: aws.String(v1)})
	if err != nil || aws.ToString(byID.SecretString) != "one" || len(byID.VersionStages) != 0 {
		t.Fatalf("by version id: %+v %v", byID, err)
	}
	// v1 has no label left: deprecated, listed only when asked.
	list, err := c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("k")})
	if err != nil || len(list.Versions) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	list, err = c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("k"), IncludeDeprecated: aws.Bool(true)})
	if err != nil || len(list.Versions) != 3 {
		t.Fatalf("list with deprecated: %+v %v", list, err)
	}
	_, err = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("k"), VersionStage: aws.String("NOPE")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "staging label: NOPE") {
		t.Fatalf("unknown stage: %v", err)
	}
}

func equalStages(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w := b[k]
		if len(v) != len(w) {
			return false
		}
		for _, x := range w {
			if !has(v, x) {
				return false
			}
		}
	}
	return true
}

func TestBatchGetSecretValue(t *testing.T) {
	s := New(t, Options{})
	ctx := context.Background()
	arnA, _ := s.CreateString(t, "a", "A")
	s.CreateString(t, "b", "B")
	out, err := s.Client(t).BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{arnA, "b", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecretValues) != 2 || aws.ToString(out.SecretValues[0].SecretString) != "A" ||
		aws.ToString(out.SecretValues[1].Name) != "b" {
		t.Fatalf("values: %+v", out.SecretValues)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].SecretId) != "gone" ||
		aws.ToString(out.Errors[0].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("errors: %+v", out.Errors)
	}
	s.DisableBatch()
	_, err = s.Client(t).BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"a"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnknownOperationException" {
		t.Fatalf("disabled batch: %v", err)
	}
}

func TestSignatureRequired(t *testing.T) {
	s := New(t, Options{Region: "eu-west-1"})
	s.CreateString(t, "a", "A")
	ctx := context.Background()
	cases := []struct {
		name string
		opts func(*sm.Options)
		want string
	}{
		{"anonymous", func(o *sm.Options) { o.Credentials = aws.AnonymousCredentials{} }, "MissingAuthenticationTokenException"},
		{"other key", func(o *sm.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider("AKIAOTHER", "x", "")
		}, "UnrecognizedClientException"},
		{"other region", func(o *sm.Options) { o.Region = "us-west-2" }, "InvalidSignatureException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetCalls()
			_, err := sm.New(s.Options(), tc.opts).GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("a")})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.want {
				t.Fatalf("want %s, got %v", tc.want, err)
			}
			if calls := s.Calls(); len(calls) != 1 || calls[0].Answer != tc.want {
				t.Fatalf("calls: %+v", calls)
			}
		})
	}
}

func TestRawWireFormat(t *testing.T) {
	s := New(t, Options{})
	s.CreateString(t, "a", "A")
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(`{"SecretId":"a"}`))
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body["__type"] != "MissingAuthenticationTokenException" ||
		resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("unsigned request: %d %v", resp.StatusCode, body)
	}
}

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	s := New(t, Options{})
	s.CreateString(t, "a", "A")
	s.ResetCalls()
	s.Throttle(2)
	out, err := s.Client(t).GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: aws.String("a")})
	if err != nil || aws.ToString(out.SecretString) != "A" {
		t.Fatalf("throttled twice then ok: %v %v", out, err)
	}
	var answers []string
	for _, c := range s.Calls() {
		answers = append(answers, c.Answer)
	}
	if strings.Join(answers, ",") != "ThrottlingException,ThrottlingException,200" {
		t.Fatalf("answers %v", answers)
	}
	// More than the retryer's 3 attempts: the error reaches the caller.
	s.Throttle(5)
	_, err = s.Client(t).GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: aws.String("a")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("throttled 5 times: %v", err)
	}
}

func TestDeleteAndHooks(t *testing.T) {
	s := New(t, Options{})
	ctx := context.Background()
	c := s.Client(t)
	s.CreateString(t, "a", "A")
	s.CreateString(t, "b", "B")
	if _, err := c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("a")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) {
		t.Fatalf("scheduled for deletion: %v", err)
	}
	s.AfterCall(func(c Call) {
		if c.Operation == "GetSecretValue" {
			s.Delete("b")
		}
	})
	if _, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("b")}); err != nil {
		t.Fatalf("first get: %v", err)
	}
	_, err = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("b")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("deleted after the first call: %v", err)
	}
	s.FailNext("DescribeSecret", "InternalServiceError", "boom")
	_, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("a")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalServiceError" {
		t.Fatalf("injected failure: %v", err)
	}
}
