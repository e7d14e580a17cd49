// Package vcard puts Renkei's virtual PIV card into a reader of the test
// kit's pcscd (internal/vpcd, leased by internal/testkit/pcsc) and logs in through the real PC/SC
// stack, so that a test holds the card's key only as a crypto.Signer whose
// private-key operation runs on the card: the same path a citizen's card in
// a real reader takes. It is the card half of the browser's TLS client
// authentication in interop tests.
package vcard

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

// wait bounds how long pcscd may take to see a card arrive or leave (it
// polls presence every 400 ms).
const wait = 5 * time.Second

// Card is a virtual card inserted into one vpcd slot, connected through
// pcscd, with its PIN verified.
type Card struct {
	// Signer is the card-backed key 9A.
	Signer *piv.Signer
	// Cert is the authentication certificate read from the card.
	Cert *x509.Certificate
	// Virtual is the card program itself (its APDU log, for assertions).
	Virtual *virtual.Card

	reader string
	ins    *virtual.Insertion
	ctx    *card.Context
	conn   *card.Conn
	pulled bool
	gone   bool
}

// Options are what Insert may vary; the zero value is a card numbered
// 0000424242 with the default PIN verified.
type Options struct {
	// CardNumber is written to the card file.
	CardNumber string
	// Card are the virtual card's own options (e.g. BeforeCommand).
	Card virtual.Options
}

// Insert writes a card file for id, inserts it into vpcd slot i (0 or 1) of
// the leased entry, connects through pcscd, verifies the default PIN and
// returns the logged-in card; Cleanup takes it out again.
func Insert(tb testing.TB, slot *vpcd.Slot, i int, id *pki.Identity, opts Options) *Card {
	tb.Helper()
	c, err := insert(tb.TempDir(), slot, i, id, opts)
	if c != nil {
		tb.Cleanup(func() {
			if err := c.Remove(); err != nil {
				tb.Errorf("vcard: %v", err)
			}
		})
	}
	if err != nil {
		tb.Fatalf("vcard: %v", err)
	}
	return c
}

func insert(dir string, slot *vpcd.Slot, i int, id *pki.Identity, opts Options) (*Card, error) {
	if opts.CardNumber == "" {
		opts.CardNumber = "0000424242"
	}
	path := filepath.Join(dir, "card.json")
	if err := virtual.Create(path, opts.CardNumber, id.Key, id.Cert, nil); err != nil {
		return nil, err
	}
	vc, err := virtual.Open(path, opts.Card)
	if err != nil {
		return nil, err
	}
	c := &Card{Virtual: vc, reader: slot.Readers[i]}
	if c.ins, err = virtual.Insert(vc, func() (net.Conn, error) { return slot.Dial(i) }); err != nil {
		return nil, err
	}
	return c, c.connect()
}

// connect waits for pcscd to see the card, selects PIV, verifies the PIN
// and reads the certificate.
func (c *Card) connect() error {
	var err error
	if c.ctx, err = card.Establish(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.ctx.WaitForCard(ctx, c.reader); err != nil {
		return fmt.Errorf("card never showed up in %q: %w", c.reader, err)
	}
	if c.conn, err = c.ctx.Connect(c.reader); err != nil {
		return err
	}
	client := piv.NewClient(c.conn)
	if _, err := client.Select(); err != nil {
		return err
	}
	if err := client.VerifyPIN(virtual.DefaultPIN); err != nil {
		return err
	}
	if c.Cert, err = client.Certificate(); err != nil {
		return err
	}
	c.Signer, err = piv.NewSigner(client)
	return err
}

// Reader is the PC/SC name of the reader holding the card.
func (c *Card) Reader() string { return c.reader }

// Pull takes the card out of the reader as a user would, keeping the PC/SC
// connection open, and waits until pcscd saw it go: the holder of Signer
// then meets what a real removal does.
func (c *Card) Pull() error {
	if c.pulled {
		return nil
	}
	c.pulled = true
	if err := c.ins.Remove(); err != nil {
		return fmt.Errorf("card stopped with %w", err)
	}
	return c.awaitRemoval()
}

func (c *Card) awaitRemoval() error {
	if c.ctx == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.ctx.WaitForRemoval(ctx, c.reader); err != nil {
		return fmt.Errorf("pcscd still sees a card in %q: %w", c.reader, err)
	}
	return nil
}

// Remove disconnects, takes the card out and waits until pcscd saw it go;
// it is safe to call twice (Cleanup calls it again) and after Pull.
func (c *Card) Remove() error {
	if c.gone {
		return nil
	}
	c.gone = true
	if c.conn != nil {
		c.conn.Close()
	}
	if c.ctx != nil {
		defer c.ctx.Release()
	}
	return c.Pull()
}
