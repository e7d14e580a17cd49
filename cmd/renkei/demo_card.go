package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

// cardReader is the citizen's card in a reader of the real PC/SC stack:
// pcscd with the vpcd driver, the virtual PIV card holding the key the RA
// certified, reached through pcscd like a real card.
type cardReader struct {
	name   string
	vc     *virtual.Card
	signer crypto.Signer
	cert   *x509.Certificate
}

// signatures is how many times the card has signed (PIV GENERAL
// AUTHENTICATE): each one is a TLS client handshake it took part in.
func (c *cardReader) signatures() int { return c.vc.Count(piv.InsGeneralAuth) }

// insertCard starts (or joins) the test kit's pcscd, inserts the virtual
// card, verifies the PIN, and gives the citizen's browser the card as its
// TLS client key (ARCHITECTURE "Card login"). A fresh connection for every
// request makes every card-login request a fresh handshake the card signs.
func (d *demo) insertCard(ctx context.Context) error {
	path := filepath.Join(d.dir, "card.json")
	if err := virtual.Create(path, demoCard, d.cardKey, d.card, nil); err != nil {
		return err
	}
	slot, err := vpcd.Acquire()
	if err != nil {
		return fmt.Errorf("starting pcscd with the vpcd reader (needs root and Debian's pcscd and vsmartcard-vpcd): %w", err)
	}
	d.cleanup = append(d.cleanup, func() { slot.Release() })
	vc, err := virtual.Open(path, virtual.Options{})
	if err != nil {
		return err
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return slot.Dial(0) })
	if err != nil {
		return err
	}
	d.cleanup = append(d.cleanup, func() { ins.Remove() })
	signer, cert, err := d.openCard(ctx, slot.Readers[0])
	if err != nil {
		return err
	}
	d.reader = &cardReader{name: slot.Readers[0], vc: vc, signer: signer, cert: cert}
	d.browser, err = browser.New(browser.Config{RootCAs: d.serviceRoots(), ServerName: "localhost",
		Certificate: []*x509.Certificate{cert}, Key: signer, NoKeepAlive: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   reader %q: card %s, PIN verified\n", d.reader.name, trust.CardNumber(cert))
	return nil
}

// openCard connects through pcscd, selects PIV, reads the authentication
// certificate and verifies the PIN.
func (d *demo) openCard(ctx context.Context, reader string) (crypto.Signer, *x509.Certificate, error) {
	pc, err := card.Establish()
	if err != nil {
		return nil, nil, err
	}
	d.cleanup = append(d.cleanup, func() { pc.Release() })
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pc.WaitForCard(wait, reader); err != nil {
		return nil, nil, err
	}
	conn, err := pc.Connect(reader)
	if err != nil {
		return nil, nil, err
	}
	d.cleanup = append(d.cleanup, func() { conn.Close() })
	client := piv.NewClient(conn)
	if _, err := client.Select(); err != nil {
		return nil, nil, err
	}
	cert, err := client.Certificate()
	if err != nil {
		return nil, nil, err
	}
	if err := client.VerifyPIN(virtual.DefaultPIN); err != nil {
		return nil, nil, err
	}
	s, err := piv.NewSigner(client)
	return s, cert, err
}
