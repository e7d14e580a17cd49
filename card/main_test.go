//go:build cgo

package card_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

// slot is this package's leased reader entry: vpcd slot 0 holds the card
// under test, slot 1 stays empty unless a test inserts a second card.
var slot *vpcd.Slot

func TestMain(m *testing.M) {
	s, err := vpcd.Acquire()
	if err != nil {
		fmt.Fprintf(os.Stderr, "card tests run on pcscd + vpcd and need them: %v\n", err)
		os.Exit(1)
	}
	slot = s
	code := m.Run()
	if err := s.Release(); err != nil {
		fmt.Fprintf(os.Stderr, "release pcscd: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// rig is a virtual card inserted in a vpcd slot and a PC/SC client of it.
type rig struct {
	card   *virtual.Card
	ins    *virtual.Insertion
	path   string
	reader string
	pcsc   *card.Context
	conn   *card.Conn
	client *piv.Client
	gone   bool
}

// newCardFile writes a card file for id in a fresh directory.
func newCardFile(t testing.TB, id *pki.Identity) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "card.json")
	if err := virtual.Create(path, "0000424242", id.Key, id.Cert, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// insert opens the card file at path, inserts it into vpcd slot i and
// connects to it through pcscd; Cleanup takes it out again.
func insert(t testing.TB, i int, path string, opts virtual.Options) *rig {
	t.Helper()
	vc, err := virtual.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{card: vc, path: path, reader: slot.Readers[i]}
	if r.ins, err = virtual.Insert(vc, func() (net.Conn, error) { return slot.Dial(i) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.remove(t) })
	if r.pcsc, err = card.Establish(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.pcsc.WaitForCard(ctx, r.reader); err != nil {
		t.Fatalf("card never showed up in %q: %v", r.reader, err)
	}
	if r.conn, err = r.pcsc.Connect(r.reader); err != nil {
		t.Fatal(err)
	}
	r.client = piv.NewClient(r.conn)
	if _, err := r.client.Select(); err != nil {
		t.Fatal(err)
	}
	return r
}

// remove disconnects, takes the card out and waits until pcscd saw it go,
// so the next test starts from an empty reader.
func (r *rig) remove(t testing.TB) {
	if r.gone {
		return
	}
	r.gone = true
	if r.conn != nil {
		r.conn.Close()
	}
	if err := r.ins.Remove(); err != nil {
		t.Errorf("card stopped with %v", err)
	}
	if r.pcsc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.pcsc.WaitForRemoval(ctx, r.reader); err != nil {
		t.Errorf("pcscd still sees a card in %q: %v", r.reader, err)
	}
	r.pcsc.Release()
}

// login verifies the default PIN and returns the card-backed signer.
func (r *rig) login(t testing.TB) *piv.Signer {
	t.Helper()
	if err := r.client.VerifyPIN(virtual.DefaultPIN); err != nil {
		t.Fatal(err)
	}
	s, err := piv.NewSigner(r.client)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
