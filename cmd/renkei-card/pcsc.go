package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/renkei-idwsf/renkei/card"
	"github.com/renkei-idwsf/renkei/card/piv"
)

func cmdReaders(args []string, out io.Writer) error {
	ctx, err := card.Establish()
	if err != nil {
		return err
	}
	defer ctx.Release()
	rs, err := ctx.Readers()
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return card.ErrNoReader
	}
	for _, r := range rs {
		present, _ := ctx.CardPresent(r)
		state := "empty"
		if present {
			state = "card"
		}
		fmt.Fprintf(out, "%s\t%s\n", state, r)
	}
	return nil
}

// session is a selected PIV card in a reader.
type session struct {
	ctx    *card.Context
	conn   *card.Conn
	client *piv.Client
}

func (s *session) close() {
	s.conn.Close()
	s.ctx.Release()
}

// openCard connects to reader, or to the first reader holding a card.
func openCard(reader string) (*session, error) {
	ctx, err := card.Establish()
	if err != nil {
		return nil, err
	}
	if reader == "" {
		if reader, err = firstCard(ctx); err != nil {
			ctx.Release()
			return nil, err
		}
	}
	conn, err := ctx.Connect(reader)
	if err != nil {
		ctx.Release()
		return nil, err
	}
	s := &session{ctx: ctx, conn: conn, client: piv.NewClient(conn)}
	if _, err := s.client.Select(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func firstCard(ctx *card.Context) (string, error) {
	rs, err := ctx.Readers()
	if err != nil {
		return "", err
	}
	for _, r := range rs {
		if ok, _ := ctx.CardPresent(r); ok {
			return r, nil
		}
	}
	if len(rs) == 0 {
		return "", card.ErrNoReader
	}
	return "", card.ErrNoCard
}

func cmdCert(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cert", flag.ContinueOnError)
	reader := fs.String("reader", "", "reader name (default: the first with a card)")
	asPEM := fs.Bool("pem", false, "print the certificate as PEM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := openCard(*reader)
	if err != nil {
		return err
	}
	defer s.close()
	cert, err := s.client.Certificate()
	if err != nil {
		return err
	}
	if *asPEM {
		return pem.Encode(out, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	}
	describe(out, cert)
	return nil
}

func describe(out io.Writer, c *x509.Certificate) {
	fmt.Fprintf(out, "subject:     %s\n", c.Subject)
	fmt.Fprintf(out, "card number: %s\n", c.Subject.SerialNumber)
	fmt.Fprintf(out, "issuer:      %s\n", c.Issuer)
	fmt.Fprintf(out, "serial:      %s\n", c.SerialNumber)
	fmt.Fprintf(out, "valid:       %s to %s\n", c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))
	fmt.Fprintf(out, "key:         %s\n", c.PublicKeyAlgorithm)
}

func cmdSign(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	reader := fs.String("reader", "", "reader name (default: the first with a card)")
	pin := fs.String("pin", os.Getenv("RENKEI_PIN"), "card PIN (default $RENKEI_PIN)")
	pss := fs.Bool("pss", false, "RSA keys: sign with PSS instead of PKCS#1 v1.5")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *pin == "" {
		return errors.New("usage: renkei-card sign [-reader R] -pin PIN [-pss] CHALLENGE")
	}
	s, err := openCard(*reader)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.client.VerifyPIN(*pin); err != nil {
		return err
	}
	return signChallenge(s.client, fs.Arg(0), *pss, out)
}

func signChallenge(c *piv.Client, challenge string, pss bool, out io.Writer) error {
	signer, err := piv.NewSigner(c)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(challenge))
	var opts crypto.SignerOpts = crypto.SHA256
	if _, isRSA := signer.Public().(*rsa.PublicKey); pss && isRSA {
		opts = &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}
	}
	sig, err := signer.Sign(rand.Reader, digest[:], opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, base64.StdEncoding.EncodeToString(sig))
	return nil
}
