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

func child(t *testing.T, role, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashRole+"="+role, crashDir+"="+dir)
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
// with their tokens completes the data without duplicating any row.
func TestSIGKILLDuringBulkWrite(t *testing.T) {
	dir := t.TempDir()
	w := child(t, "writer", dir)
	stdout, err := w.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, w.Start())
	committed := -1
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(2 * time.Minute)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			committed, _ = strconv.Atoi(n)
		}
		if committed >= 25 || time.Now().After(deadline) {
			break
		}
	}
	// Kill while the next batch is being written.
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	require.GreaterOrEqual(t, committed, 25, "writer made too little progress before the deadline")

	got := counts(t, dir)
	for b := 0; b <= committed; b++ {
		require.Equal(t, [2]int{crashRows, crashRows}, got[b], "committed batch %d after the crash", b)
	}
	for b, c := range got {
		require.True(t, c == [2]int{crashRows, crashRows}, "batch %d is half visible after the crash: %v", b, c)
	}

	// Re-run: every batch again with its token.
	require.NoError(t, child(t, "resume", dir).Run())
	got = counts(t, dir)
	require.Len(t, got, crashBatches)
	for b := 0; b < crashBatches; b++ {
		require.Equal(t, [2]int{crashRows, crashRows}, got[b], "batch %d after the replay", b)
	}
}
