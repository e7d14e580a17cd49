package vpcd

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// fakeCard answers vpcd's ATR requests with atr until the connection ends.
func fakeCard(c net.Conn, atr []byte) {
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		if len(msg) == 1 && msg[0] == 4 {
			c.Write(append([]byte{0, byte(len(atr))}, atr...))
		}
	}
}

// TestReaderSeesInsertAndRemove checks the kit through an independent
// PC/SC client, OpenSC's opensc-tool: the leased readers are listed, a
// card connected to slot 0 shows up with its ATR, and leaves on close.
func TestReaderSeesInsertAndRemove(t *testing.T) {
	s := acquire(t)
	atr := []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	c, err := s.Dial(0)
	if err != nil {
		t.Fatal(err)
	}
	go fakeCard(c, atr)
	want := "3b:80:80:01:01"
	if out := waitTool(t, want, "-r", s.Readers[0], "-a"); !strings.Contains(out, want) {
		t.Fatalf("ok/inserted: opensc-tool -a shows no card ATR %s:\n%s", want, out)
	}
	out := waitTool(t, s.Readers[1], "-l")
	if !strings.Contains(out, s.Readers[0]) || !strings.Contains(out, s.Readers[1]) {
		t.Fatalf("ok/readers-listed: %q and %q missing from:\n%s", s.Readers[0], s.Readers[1], out)
	}
	c.Close()
	if out := waitTool(t, "not present", "-r", s.Readers[0], "-a"); bytes.Contains([]byte(out), []byte(want)) {
		t.Fatalf("ok/removed: the card is still seen:\n%s", out)
	}
}

// waitTool runs opensc-tool until its output contains want (or 5 s pass:
// pcscd polls card presence every 400 ms).
func waitTool(t *testing.T, want string, args ...string) string {
	t.Helper()
	var out []byte
	for i := 0; i < 25; i++ {
		out, _ = exec.Command("opensc-tool", args...).CombinedOutput()
		if strings.Contains(string(out), want) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return string(out)
}

func TestReleaseStopsPcscd(t *testing.T) {
	s, err := Acquire()
	if err != nil {
		t.Fatal(err)
	}
	pid := s.pid
	if !alive(pid) {
		t.Fatal("pcscd is not running after Acquire")
	}
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if s.kit.anyLeased() {
		return // another package holds a lease: pcscd must stay
	}
	if alive(pid) {
		t.Fatalf("ok/last-release-stops: pcscd %d still running", pid)
	}
}

// acquire leases a reader entry for the test; PC/SC missing fails it.
func acquire(t *testing.T) *Slot {
	t.Helper()
	s, err := Acquire()
	if err != nil {
		t.Fatalf("vpcd: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Release(); err != nil {
			t.Errorf("vpcd: release: %v", err)
		}
	})
	return s
}
