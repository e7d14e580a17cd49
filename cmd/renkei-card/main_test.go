package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/ra"
)

// cardFile issues a card for number with a fresh RA and writes its file.
func cardFile(t *testing.T, number, keyType string) (string, *pki.Identity) {
	t.Helper()
	a, err := ra.Init(ra.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ra.NewKey(keyType, nil)
	cert, err := a.IssueCard(number, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "card.json")
	if err := virtual.Create(path, number, key, cert, nil); err != nil {
		t.Fatal(err)
	}
	return path, &pki.Identity{Name: number, Key: key, Cert: cert}
}

// TestCommandsThroughPCSC runs readers, cert and sign against a virtual
// card in this package's own vpcd reader.
func TestCommandsThroughPCSC(t *testing.T) {
	s := pcsc.AcquireT(t)
	path, id := cardFile(t, "7001", "rsa2048")
	vc, err := virtual.Open(path, virtual.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return s.Dial(0) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ins.Remove() })
	reader := s.Readers[0]
	if out := waitOutput(t, "card\t"+reader, "readers"); !strings.Contains(out, "card\t"+reader) {
		t.Fatalf("ok/readers: %q not listed with a card:\n%s", reader, out)
	}
	var out bytes.Buffer
	if err := run([]string{"cert", "-reader", reader}, &out); err != nil || !strings.Contains(out.String(), "card number: 7001") {
		t.Fatalf("ok/cert: %v\n%s", err, out.String())
	}
	checkSign(t, reader, id, false)
	checkSign(t, reader, id, true)
	err = run([]string{"sign", "-reader", reader, "-pin", "000000", "x"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "2 tries left") {
		t.Fatalf("fail/wrong-pin: %v", err)
	}
}

func waitOutput(t *testing.T, want string, args ...string) string {
	var out bytes.Buffer
	for i := 0; i < 25 && !strings.Contains(out.String(), want); i++ {
		out.Reset()
		if err := run(args, &out); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return out.String()
}

func checkSign(t *testing.T, reader string, id *pki.Identity, pss bool) {
	t.Helper()
	args := []string{"sign", "-reader", reader, "-pin", virtual.DefaultPIN}
	if pss {
		args = append(args, "-pss")
	}
	var out bytes.Buffer
	if err := run(append(args, "challenge-123"), &out); err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("challenge-123"))
	pub := id.Cert.PublicKey.(*rsa.PublicKey)
	if pss {
		err = rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
	}
	if err != nil {
		t.Fatalf("ok/sign (pss=%v): signature does not verify: %v", pss, err)
	}
}

// vpcdExchange plays vpcd's side of the protocol: send msg, read answer.
func vpcdExchange(t *testing.T, c net.Conn, msg []byte) []byte {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
		t.Fatal(err)
	}
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVirtualListenModeAndControl runs "renkei-card virtual -listen" and
// plays vpcd (reverse mode) against it, removing and reinserting the card
// through the control socket.
func TestVirtualListenModeAndControl(t *testing.T) {
	path, _ := cardFile(t, "7002", "p256")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runVirtual(ctx, virtual.Options{}, path, "", "127.0.0.1:0", "127.0.0.1:0", pw) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("virtual card exited with %v", err)
		}
	})
	lines := bufio.NewScanner(pr)
	cardAddr, ctlAddr := lastWord(lines), lastWord(lines)
	go io.Copy(io.Discard, pr)
	reader, err := net.Dial("tcp", cardAddr)
	if err != nil {
		t.Fatal(err)
	}
	if atr := vpcdExchange(t, reader, []byte{4}); !bytes.Equal(atr, virtual.ATR) {
		t.Fatalf("ok/atr: %X", atr)
	}
	ctl, err := net.Dial("tcp", ctlAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	ask := controlAsker(t, ctl)
	if got := ask("remove"); got != "ok removed" {
		t.Fatalf("ok/remove: %q", got)
	}
	if _, err := reader.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("ok/remove-closes-reader-connection: read gave %v", err)
	}
	reader2, err := net.Dial("tcp", cardAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer reader2.Close()
	if got := ask("insert"); !strings.HasPrefix(got, "ok inserted") {
		t.Fatalf("ok/insert: %q", got)
	}
	sel := vpcdExchange(t, reader2, []byte{0x00, 0xA4, 0x04, 0x00, 0x09, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00})
	if len(sel) < 2 || sel[len(sel)-2] != 0x90 {
		t.Fatalf("ok/select-after-reinsert: %X", sel)
	}
	if got := ask("dance"); !strings.HasPrefix(got, "error:") {
		t.Fatalf("fail/unknown-control-command: %q", got)
	}
	var out bytes.Buffer
	if err := run([]string{"control", "-addr", ctlAddr, "status"}, &out); err != nil || !strings.HasPrefix(out.String(), "ok inserted") {
		t.Fatalf("ok/control-command-status: %v, %q", err, out.String())
	}
	if err := run([]string{"control", "-addr", ctlAddr, "insert"}, &out); err == nil || !strings.Contains(err.Error(), "already inserted") {
		t.Fatalf("fail/control-command-answers-error: %v", err)
	}
	if err := run([]string{"control", "-addr", "192.0.2.1:1", "status"}, &out); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("fail/control-command-not-loopback: %v", err)
	}
}

func lastWord(sc *bufio.Scanner) string {
	if !sc.Scan() {
		return ""
	}
	f := strings.Fields(sc.Text())
	return f[len(f)-1]
}

func controlAsker(t *testing.T, c net.Conn) func(string) string {
	r := bufio.NewReader(c)
	return func(cmd string) string {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, cmd+"\n")
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(line)
	}
}
