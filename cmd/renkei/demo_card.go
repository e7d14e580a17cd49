package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
	"github.com/renkei-idwsf/renkei/wsc/terminal"
)

// The readers of the demo's vpcd entry: the reception terminal's, and the
// citizen's at home (the headless walk's browser).
const (
	deskReader = 0
	homeReader = 1
)

// cardWait bounds how long pcscd may take to see a card come or go.
const cardWait = 10 * time.Second

// reader is the citizen's card file and one reader of the demo's vpcd
// entry it may be inserted into: the virtual PIV card reached through
// pcscd like a real card.
type reader struct {
	slot *vpcd.Slot
	i    int
	file string
	mu   sync.Mutex
	vc   *virtual.Card
	ins  *virtual.Insertion
}

// name is the reader's PC/SC name.
func (r *reader) name() string { return r.slot.Readers[r.i] }

// insert connects a fresh copy of the card to the reader.
func (r *reader) insert() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ins != nil {
		return errors.New("the card is already in " + r.name())
	}
	vc, err := virtual.Open(r.file, virtual.Options{})
	if err != nil {
		return err
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return r.slot.Dial(r.i) })
	if err != nil {
		return err
	}
	r.vc, r.ins = vc, ins
	return nil
}

// remove takes the card out and waits until pcscd saw it go.
func (r *reader) remove() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ins == nil {
		return errors.New("no card in " + r.name())
	}
	err := r.ins.Remove()
	r.ins = nil
	if err != nil {
		return err
	}
	pc, err := card.Establish()
	if err != nil {
		return err
	}
	defer pc.Release()
	ctx, cancel := context.WithTimeout(context.Background(), cardWait)
	defer cancel()
	return pc.WaitForRemoval(ctx, r.name())
}

// signatures is how many times the card in the reader signed (PIV
// GENERAL AUTHENTICATE).
func (r *reader) signatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.vc == nil {
		return 0
	}
	return r.vc.Count(piv.InsGeneralAuth)
}

// status says whether the card is in, and how it fares.
func (r *reader) status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ins == nil {
		return "removed from " + r.name()
	}
	return fmt.Sprintf("inserted in %s, %d commands, %d PIN tries left", r.name(), len(r.vc.Log()), r.vc.TriesLeft())
}

// serveControl answers one-line commands on ln, as renkei-card virtual's
// control socket does: insert, remove, status (renkei-card control).
func (r *reader) serveControl(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			sc := bufio.NewScanner(io.LimitReader(c, 64<<10))
			for sc.Scan() {
				fmt.Fprintln(c, r.command(strings.TrimSpace(sc.Text())))
			}
		}()
	}
}

// command runs one control command and returns its answer line.
func (r *reader) command(cmd string) string {
	var err error
	switch cmd {
	case "insert":
		err = r.insert()
	case "remove":
		err = r.remove()
	case "status":
	default:
		return fmt.Sprintf("error: unknown command %q (insert, remove, status)", cmd)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok " + r.status()
}

// cardSigner opens the card in the reader through pcscd as the reception
// terminal does (terminal.PCSC: PIV selected, the PIN verified, the
// authentication certificate read), once the card is there. The card's
// signer signs every TLS handshake that asks for a client certificate;
// close releases the connection.
func (r *reader) cardSigner(ctx context.Context) (s crypto.Signer, cert *x509.Certificate, close func(), err error) {
	pc, err := terminal.OpenPCSC(r.name())
	if err != nil {
		return nil, nil, nil, err
	}
	defer pc.Close()
	wait, cancel := context.WithTimeout(ctx, cardWait)
	defer cancel()
	if err := pc.WaitForCard(wait); err != nil {
		return nil, nil, nil, err
	}
	c, conn, err := pc.Open(virtual.DefaultPIN)
	if err != nil {
		return nil, nil, nil, err
	}
	return c.Key, c.Certificate, func() { _ = conn.Close() }, nil
}
