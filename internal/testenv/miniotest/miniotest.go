// Package miniotest runs a real S3 server (MinIO) for tests. The binary is
// built once by `make setup-minio` (scripts/setup-minio.sh) into the furrow
// tool cache; each server binds 127.0.0.1 only, keeps its data in a temporary
// directory and gets random root credentials.
//
// Start gives a test its own server. Shared gives every test of a package one
// server (starting takes 1–2 s); the package then stops it from TestMain:
//
//	func TestMain(m *testing.M) { miniotest.Main(m) }
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/furrowdev/furrow/internal/testenv/toolcache"
)

// Region is the region every server reports; MinIO accepts any region in
// signatures, but clients must agree on one.
const Region = "us-east-1"

// readyTimeout bounds the wait for /minio/health/cluster.
const readyTimeout = 30 * time.Second

// Server is a running MinIO server.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string
	// AccessKey is the root user.
	AccessKey string
	// SecretKey is the root password.
	SecretKey string
	// Region is the region clients must sign for.
	Region string

	cmd     *exec.Cmd
	exited  chan struct{}
	dataDir string
	out     *syncBuffer
}

// Binary returns the path of the MinIO binary installed by
// scripts/setup-minio.sh. FURROW_MINIO overrides it.
func Binary() string {
	if p := os.Getenv("FURROW_MINIO"); p != "" {
		return p
	}
	return toolcache.Tools("minio")
}

// Start runs a MinIO server for t and stops it in t.Cleanup. A missing binary
// fails the test with the command that installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the package's one MinIO server, starting it on first use.
// Tests sharing it must use their own buckets. It is stopped by StopShared
// (see Main), not by t.Cleanup.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// StopShared stops the server started by Shared, if any.
func StopShared() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
}

// Main runs the package's tests and then stops the shared server. Call it as
// the whole body of TestMain.
func Main(m *testing.M) {
	defer StopShared()
	m.Run()
}

// start launches MinIO, retrying on another port when the chosen one was
// taken between picking and binding it.
func start() (*Server, error) {
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("minio binary %s not found: run `make setup-minio` (scripts/setup-minio.sh) first: %w", bin, err)
	}
	var errs []error
	for range 3 {
		s, err := startOnce(bin)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func startOnce(bin string) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	dataDir, err := os.MkdirTemp("", "miniotest-")
	if err != nil {
		return nil, fmt.Errorf("minio data dir: %w", err)
	}
	s := &Server{
		Endpoint:  "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		AccessKey: "furrow" + randomHex(6),
		SecretKey: randomHex(20),
		Region:    Region,
		exited:    make(chan struct{}),
		dataDir:   dataDir,
		out:       &syncBuffer{},
	}
	s.cmd = exec.Command(bin, "server",
		"--address", "127.0.0.1:"+strconv.Itoa(ports[0]),
		"--console-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--quiet", dataDir)
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_REGION="+Region,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; minio output:\n%s", err, s.out.String())
	}
	return s, nil
}

func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	// /minio/health/ready answers 200 as soon as the listener is up, while
	// S3 calls still fail with XMinioServerNotInitialized; the cluster
	// check answers 200 once the object layer has write quorum.
	url := s.Endpoint + "/minio/health/cluster"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("minio exited before it was ready (%v)", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("minio not ready at %s after %s", url, readyTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop terminates the server and removes its data. It is idempotent.
func (s *Server) Stop() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	_ = os.RemoveAll(s.dataDir)
}

// Output returns what the server printed so far, for debugging a test.
func (s *Server) Output() string { return s.out.String() }

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded on chatty servers
		b.buf.Reset()
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
