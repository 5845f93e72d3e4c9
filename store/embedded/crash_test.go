package embedded_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/store"
	"github.com/furrowdev/furrow/store/embedded"
)

// The crash test runs the writer and the checker as child processes (the
// test binary re-executed): chDB runs one engine per process, and the point
// is to kill the writer's process mid-write and reopen its data directory.
const (
	crashRole    = "FURROW_CRASH_ROLE"
	crashDir     = "FURROW_CRASH_DIR"
	crashStreams = "FURROW_CRASH_STREAMS" // set: the writer uses insert streams
	crashBatches = 400
	crashRows    = 20000
)

func TestMain(m *testing.M) {
	switch os.Getenv(crashRole) {
	case "writer":
		crashWriter(os.Getenv(crashDir), false)
		os.Exit(0)
	case "resume":
		crashWriter(os.Getenv(crashDir), true)
		os.Exit(0)
	case "check":
		crashCheck(os.Getenv(crashDir))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashOpen(dir string) *embedded.Store {
	s, err := embedded.Open(context.Background(), embedded.DefaultConfiguration(), embedded.Options{Dir: dir, Database: "crash", Command: "crash test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	return s
}

func crashBlock(batch int) store.Block {
	var id proto.ColUInt32
	var seq proto.ColUInt32
	var payload proto.ColStr
	for i := 0; i < crashRows; i++ {
		id.Append(uint32(batch))
		seq.Append(uint32(i))
		payload.Append(strings.Repeat("x", 40))
	}
	return store.Block{Columns: proto.Input{{Name: "batch", Data: &id}, {Name: "seq", Data: &seq}, {Name: "payload", Data: &payload}}}
}

// crashWriter inserts batches with their tokens and reports each commit on
// stdout; with resume it replays every batch (a re-run after a crash).
func crashWriter(dir string, resume bool) {
	ctx := context.Background()
	s := crashOpen(dir)
	if err := s.Exec(ctx, `CREATE TABLE IF NOT EXISTS rows (batch UInt32, seq UInt32, payload String)
		ENGINE = MergeTree ORDER BY (batch, seq) SETTINGS non_replicated_deduplication_window = 10000`); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if os.Getenv(crashStreams) != "" {
		crashStreamWriter(s)
	}
	for b := 0; b < crashBatches; b++ {
		if err := s.Insert(ctx, "rows", crashBlock(b), "batch-"+strconv.Itoa(b)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", b)
	}
	if resume {
		s.Close()
	}
}

// streamBatches is how many batches go through one insert stream, which
// the engine squashes into parts of two batches each.
const streamBatches = 8

// crashStreamWriter writes the batches through insert streams and reports
// each committed stream's last batch; it exits when done.
func crashStreamWriter(s *embedded.Store) {
	ctx := context.Background()
	settings := store.WithSettings(map[string]string{
		"min_insert_block_size_rows": strconv.Itoa(2 * crashRows), "min_insert_block_size_bytes": "1000000000",
	})
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for k := 0; k < crashBatches/streamBatches; k++ {
		st, err := s.InsertStream(ctx, "rows", "stream-"+strconv.Itoa(k), settings)
		if err != nil {
			fail(err)
		}
		for b := k * streamBatches; b < (k+1)*streamBatches; b++ {
			if err := st.Send(crashBlock(b)); err != nil {
				fail(err)
			}
			fmt.Printf("sent %d\n", b)
		}
		if err := st.Close(); err != nil {
			fail(err)
		}
		fmt.Printf("committed %d\n", (k+1)*streamBatches-1)
	}
	s.Close()
	os.Exit(0)
}

func crashCheck(dir string) {
	s := crashOpen(dir)
	defer s.Close()
	var out bytes.Buffer
	if err := s.Query(context.Background(), &out, "SELECT batch, count(), uniqExact(seq) FROM rows GROUP BY batch ORDER BY batch", "TSV"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Stdout.Write(out.Bytes())
}

func child(t *testing.T, role, dir string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), crashRole+"="+role, crashDir+"="+dir), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// counts runs the checker and returns rows and distinct seqs per batch.
func counts(t *testing.T, dir string) map[int][2]int {
	out, err := child(t, "check", dir).Output()
	require.NoError(t, err)
	got := map[int][2]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		b, _ := strconv.Atoi(f[0])
		c, _ := strconv.Atoi(f[1])
		u, _ := strconv.Atoi(f[2])
		got[b] = [2]int{c, u}
	}
	return got
}

// TestSIGKILLDuringBulkWrite kills a writer in the middle of a bulk write,
// reopens the data directory and checks that every committed batch is there
// exactly once and no batch is half visible; then a replay of all batches
// with their tokens completes the data without duplicating any row. The
// writer inserts block by block, or through insert streams of several
// blocks (where a killed stream may leave some of its parts).
func TestSIGKILLDuringBulkWrite(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		// ahead is how many batches of an uncommitted stream are sent
		// before the kill, so that some of its parts may be committed.
		ahead int
	}{
		{"Insert", nil, 0},
		{"InsertStream", []string{crashStreams + "=1"}, streamBatches - 2},
	} {
		t.Run(tt.name, func(t *testing.T) { testSIGKILL(t, tt.env, tt.ahead) })
	}
}

func testSIGKILL(t *testing.T, env []string, ahead int) {
	dir := t.TempDir()
	if os.Getenv("FURROW_TEST_KEEP") != "" {
		// Keep the data directory of a failing run for inspection.
		var err error
		dir, err = os.MkdirTemp("", "furrow-crash-")
		require.NoError(t, err)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("data directory kept: %s", dir)
			} else {
				os.RemoveAll(dir)
			}
		})
	}
	w := child(t, "writer", dir, env...)
	stdout, err := w.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, w.Start())
	committed, sent := -1, -1
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(2 * time.Minute)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			committed, _ = strconv.Atoi(n)
		}
		if n, ok := strings.CutPrefix(sc.Text(), "sent "); ok {
			sent, _ = strconv.Atoi(n)
		}
		if committed >= 25 && sent >= committed+ahead || time.Now().After(deadline) {
			break
		}
	}
	if ahead > 0 {
		// Let the engine catch up with the pipe, so that it commits some
		// parts of the open stream.
		time.Sleep(200 * time.Millisecond)
	}
	// Kill while the next batch is being written.
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	require.GreaterOrEqual(t, committed, 25, "writer made too little progress before the deadline")

	got := counts(t, dir)
	t.Logf("killed after batch %d was reported committed; %d batches visible", committed, len(got))
	for b := 0; b <= committed; b++ {
		require.Equal(t, [2]int{crashRows, crashRows}, got[b], "committed batch %d after the crash", b)
	}
	for b, c := range got {
		require.True(t, c == [2]int{crashRows, crashRows}, "batch %d is half visible after the crash: %v", b, c)
	}

	// Re-run: every batch again with its token.
	require.NoError(t, child(t, "resume", dir, env...).Run())
	got = counts(t, dir)
	require.Len(t, got, crashBatches)
	for b := 0; b < crashBatches; b++ {
		require.Equal(t, [2]int{crashRows, crashRows}, got[b], "batch %d after the replay", b)
	}
}
