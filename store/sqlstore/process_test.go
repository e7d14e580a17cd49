package sqlstore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/internal/testkit/pg"
	"github.com/renkei-idwsf/renkei/store"
)

// The second process is this test binary again, told by childEnv to race
// on the database childDSNEnv names instead of running tests.
const (
	childEnv    = "RENKEI_STORE_TEST_CHILD"
	childDSNEnv = "RENKEI_STORE_TEST_DSN"
)

// Each process races raceWorkers goroutines over raceRounds replay keys and
// as many artifacts. Both processes start round r at the same instant,
// racePeriod apart, so that they really meet on each key: unpaced, the
// process holding SQLite's lock would take every round while the other
// sleeps in its busy handler.
const (
	raceRounds  = 200
	raceWorkers = 4
	racePeriod  = 2 * time.Millisecond
)

// raceT0 is the clock reading of the race.
var raceT0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

// raceResult counts, per round, the wins one process had.
type raceResult struct {
	Replay   []int
	Artifact []int
	Err      string
}

// raceKey returns the replay key of round r.
func raceKey(r int) store.ReplayKey {
	return store.MessageIDKey("https://wsc.example.jp", fmt.Sprintf("urn:uuid:race-%d", r))
}

// raceHandle returns the artifact handle of round r.
func raceHandle(r int) string { return fmt.Sprintf("race-artifact-%d", r) }

// raceAll runs the race on db from start and counts this process's wins.
func raceAll(db *DB, start time.Time) raceResult {
	res := raceResult{Replay: make([]int, raceRounds), Artifact: make([]int, raceRounds)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range raceWorkers {
		wg.Go(func() {
			for r := range raceRounds {
				time.Sleep(time.Until(start.Add(time.Duration(r) * racePeriod)))
				rerr := db.CheckAndInsert(context.Background(), raceKey(r), raceT0.Add(time.Hour), raceT0)
				_, aerr := db.TakeArtifact(context.Background(), raceHandle(r), raceT0)
				mu.Lock()
				res.count(r, rerr, aerr)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}

// count records one attempt's outcome; unexpected errors are kept.
func (res *raceResult) count(r int, rerr, aerr error) {
	switch {
	case rerr == nil:
		res.Replay[r]++
	case !errors.Is(rerr, store.ErrReplay):
		res.Err = rerr.Error()
	}
	switch {
	case aerr == nil:
		res.Artifact[r]++
	case !errors.Is(aerr, store.ErrNotFound):
		res.Err = aerr.Error()
	}
}

// runChild is the second process: open, say ready, wait for the start
// instant, race, and print the result as JSON.
func runChild() int {
	db, err := Open(context.Background(), os.Getenv(childDSNEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	defer db.Close()
	fmt.Println("ready")
	var start time.Time
	if err := json.NewDecoder(os.Stdin).Decode(&start); err != nil {
		fmt.Fprintln(os.Stderr, "child: no start instant:", err)
		return 2
	}
	if err := json.NewEncoder(os.Stdout).Encode(raceAll(db, start)); err != nil {
		return 2
	}
	return 0
}

// child is the second process as the parent sees it.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr strings.Builder
}

// startChild starts the second process on dsn and waits until it is ready.
func startChild(t *testing.T, dsn string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	c.cmd.Env = append(os.Environ(), childEnv+"=1", childDSNEnv+"="+dsn)
	c.cmd.Stderr = &c.stderr
	var err error
	c.stdin, err = c.cmd.StdinPipe()
	must(t, err)
	out, err := c.cmd.StdoutPipe()
	must(t, err)
	c.stdout = bufio.NewReader(out)
	must(t, c.cmd.Start())
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	if line, err := c.stdout.ReadString('\n'); line != "ready\n" {
		t.Fatalf("second process not ready: %q %v\n%s", line, err, c.stderr.String())
	}
	return c
}

// result releases the child, and then returns what it reports.
func (c *child) result(t *testing.T) raceResult {
	t.Helper()
	var res raceResult
	if err := json.NewDecoder(c.stdout).Decode(&res); err != nil {
		t.Fatalf("second process: %v\n%s", err, c.stderr.String())
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("second process: %v\n%s", err, c.stderr.String())
	}
	return res
}

// must fails the test on a non-nil error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testTwoProcesses races this process against a second one on dsn: every
// replay key must be accepted once and every artifact taken once, in total.
func testTwoProcesses(t *testing.T, dsn string) {
	db := openDSN(t, dsn)
	for r := range raceRounds {
		must(t, db.PutArtifact(context.Background(), store.Artifact{Handle: raceHandle(r),
			Message: []byte("<m/>"), Created: raceT0, Expires: raceT0.Add(time.Hour)}))
	}
	c := startChild(t, dsn)
	start := time.Now().Add(50 * time.Millisecond)
	must(t, json.NewEncoder(c.stdin).Encode(start))
	mine := raceAll(db, start)
	theirs := c.result(t)
	if mine.Err != "" || theirs.Err != "" {
		t.Fatalf("unexpected errors: here %q, there %q", mine.Err, theirs.Err)
	}
	checkOneWinner(t, "replay key", mine.Replay, theirs.Replay)
	checkOneWinner(t, "artifact", mine.Artifact, theirs.Artifact)
}

// checkOneWinner requires exactly one win per round across both processes.
func checkOneWinner(t *testing.T, what string, mine, theirs []int) {
	t.Helper()
	here := 0
	for r := range raceRounds {
		if mine[r]+theirs[r] != 1 {
			t.Fatalf("%s %d: %d wins here and %d in the second process, want 1 in all", what, r, mine[r], theirs[r])
		}
		here += mine[r]
	}
	t.Logf("%s: %d rounds won here, %d in the second process", what, here, raceRounds-here)
}

func TestTwoProcesses(t *testing.T) {
	t.Run("ok/sqlite-file-one-use-each", func(t *testing.T) {
		testTwoProcesses(t, "sqlite://"+filepath.Join(t.TempDir(), "shared.db"))
	})
	t.Run("ok/postgres-one-use-each", func(t *testing.T) {
		testTwoProcesses(t, pg.NewDatabase(t))
	})
}
