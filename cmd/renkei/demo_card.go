package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/card/virtual"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
)

// cardLogin puts the citizen's card into a reader of the real PC/SC stack
// (pcscd with the vpcd driver, the virtual PIV card holding the key the RA
// certified), verifies the PIN, and lets the card sign a TLS 1.3 client
// handshake to a card-login listener that checks the chain and the CRL, as
// the IdP's will (ARCHITECTURE.md "Card login").
func (d *demo) cardLogin(ctx context.Context) error {
	path := filepath.Join(d.dir, "card.json")
	if err := virtual.Create(path, demoCard, d.cardKey, d.card, nil); err != nil {
		return err
	}
	slot, err := pcsc.Acquire()
	if err != nil {
		return fmt.Errorf("starting pcscd with the vpcd reader (needs root and Debian's pcscd and vsmartcard-vpcd): %w", err)
	}
	defer slot.Release()
	vc, err := virtual.Open(path, virtual.Options{})
	if err != nil {
		return err
	}
	ins, err := virtual.Insert(vc, func() (net.Conn, error) { return slot.Dial(0) })
	if err != nil {
		return err
	}
	defer ins.Remove()
	signer, cert, err := openCard(ctx, slot.Readers[0])
	if err != nil {
		return err
	}
	number, err := d.handshake(cert, signer)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   reader %q: PIN verified, the card signed one TLS 1.3 handshake (%d GENERAL AUTHENTICATE)\n",
		slot.Readers[0], vc.Count(piv.InsGeneralAuth))
	fmt.Fprintf(d.out, "   card-login listener authenticated card %s\n", number)
	return nil
}

// openCard connects through pcscd, selects PIV, reads the authentication
// certificate and verifies the PIN.
func openCard(ctx context.Context, reader string) (crypto.Signer, *x509.Certificate, error) {
	pc, err := card.Establish()
	if err != nil {
		return nil, nil, err
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pc.WaitForCard(wait, reader); err != nil {
		return nil, nil, err
	}
	conn, err := pc.Connect(reader)
	if err != nil {
		return nil, nil, err
	}
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

// handshake runs one mutual TLS 1.3 handshake on loopback with the card as
// the client key and returns the card number the server authenticated.
func (d *demo) handshake(cert *x509.Certificate, s crypto.Signer) (string, error) {
	srvCert, srvKey, err := d.ra.IssueServer("idp-card-login", []string{"localhost"})
	if err != nil {
		return "", err
	}
	v, err := d.cardVerifier()
	if err != nil {
		return "", err
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
		ClientAuth:   tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13,
	})
	if err != nil {
		return "", err
	}
	defer l.Close()
	got := make(chan string, 1)
	go serveOne(l, v, got)
	if err := dialCard(l.Addr().String(), d.ra.ServiceCA(), cert, s); err != nil {
		return "", err
	}
	select {
	case n := <-got:
		if n == "" {
			return "", errors.New("the card-login listener refused the card")
		}
		return n, nil
	case <-time.After(10 * time.Second):
		return "", errors.New("the card-login listener did not answer")
	}
}

// serveOne accepts one connection, checks the client certificate with the
// card trust verifier, and reports the card number ("" when refused).
func serveOne(l net.Listener, v *trust.Verifier, got chan<- string) {
	c, err := l.Accept()
	if err != nil {
		got <- ""
		return
	}
	defer c.Close()
	tc := c.(*tls.Conn)
	if err := tc.Handshake(); err != nil {
		got <- ""
		return
	}
	peer := tc.ConnectionState().PeerCertificates
	if _, err := v.Verify(peer[0]); err != nil {
		got <- ""
		return
	}
	tc.Write([]byte("ok"))
	got <- trust.CardNumber(peer[0])
}

func dialCard(addr string, ca, cert *x509.Certificate, s crypto.Signer) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	c, err := tls.Dial("tcp", addr, &tls.Config{
		RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: s}, nil
		},
	})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.ReadFull(c, make([]byte, 2))
	return err
}
