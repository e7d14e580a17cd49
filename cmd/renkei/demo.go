package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/idpserver"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const (
	demoIdP    = "https://idp.renkei.test/metadata"
	demoPortal = "https://portal.renkei.test/metadata"
	demoCard   = "HIC-0000-0001"
)

// demo holds what one run of the demo builds up, step by step, and what
// it must stop at the end.
type demo struct {
	out     io.Writer
	dir     string
	now     time.Time
	ra      *ra.Authority
	cardKey crypto.Signer
	card    *x509.Certificate
	idpCert *x509.Certificate
	idpKey  crypto.Signer
	dsCert  *x509.Certificate
	// The portal's metadata key (signing and encryption) and its TLS key.
	portCert *x509.Certificate
	portKey  crypto.Signer
	portTLS  tls.Certificate

	db        *sqlstore.DB
	principal string
	portal    *portal
	idp       *idpserver.Server
	idpURL    string
	cardURL   string
	idpLog    idpLog
	reader    *cardReader
	browser   *browser.Browser
	first     *login // the first SSO's assertion, as the portal accepted it
	cleanup   []func()
}

// step is one numbered step of the demo.
type step struct {
	name string
	fn   func(context.Context) error
}

func (d *demo) steps() []step {
	return []step{
		{"registration authority: card-issuer CA, the citizen's card, server certificates, IdP, portal and DS keys", d.issue},
		{"relay database (SQLite): the principal and their card", d.relay},
		{"portal (SAML SP) starts on 127.0.0.1", d.startPortal},
		{"IdP starts on 127.0.0.1 with the portal's and the DS's metadata", d.startIdP},
		{"IdP metadata: served signed, verified by xmlsec1 (independent implementation) and by the portal", d.idpMetadata},
		{"card in the reader (pcscd + vpcd + virtual PIV card), PIN verified", d.insertCard},
		{"SSO: signed AuthnRequest (HTTP-Redirect), card login at the IdP, Response by HTTP-POST", d.sso},
		{"portal: decrypt, verify, check audience, time and InResponseTo; read NameID, AuthnContext, bootstrap", d.consumed},
		{"xmlsec1 verifies the IdP's signature on the assertion the portal decrypted", d.xmlsec1},
		{"the same Response posted again is refused by the portal", d.replay},
		{"second SSO: the IdP session cookie answers, the card is not touched", d.sessionSSO},
		{"ForceAuthn: the IdP asks for the card again", d.forceAuthn},
		{"registration authority revokes the card: the IdP refuses the login", d.revoke},
	}
}

func cmdDemo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the demo's RA files, metadata and relay database (default: a new temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "renkei-demo-")
		if err != nil {
			return err
		}
		*dir = d
	}
	d := &demo{out: out, dir: *dir, now: time.Now().UTC().Truncate(time.Second)}
	defer d.close()
	fmt.Fprintf(out, "Renkei demo (files in %s)\n\n", d.dir)
	for i, s := range d.steps() {
		fmt.Fprintf(out, "%d. %s\n", i+1, s.name)
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			fmt.Fprintf(out, "   FAILED: %v\n", err)
			return fmt.Errorf("step %d (%s): %w", i+1, s.name, err)
		}
		fmt.Fprintf(out, "   ok (%.1f ms)\n", float64(time.Since(start).Microseconds())/1000)
	}
	fmt.Fprintln(out, "\nAll steps passed. The Discovery Service, the WSPs and the reception terminal join this demo as they are built.")
	return nil
}

// close stops every server and releases the card and pcscd, last started
// first.
func (d *demo) close() {
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
	if d.idp != nil {
		_ = d.idp.Shutdown()
	}
	if d.portal != nil {
		d.portal.close()
	}
	if d.db != nil {
		d.db.Close()
	}
}

func (d *demo) issue(context.Context) error {
	var err error
	if d.ra, err = ra.Init(ra.Config{Dir: filepath.Join(d.dir, "ra")}); err != nil {
		return err
	}
	if d.cardKey, err = ra.NewKey("p256", nil); err != nil {
		return err
	}
	if d.card, err = d.ra.IssueCard(demoCard, d.cardKey.Public()); err != nil {
		return err
	}
	if d.idpCert, d.idpKey, err = d.ra.IssueServer("idp", []string{"localhost"}); err != nil {
		return err
	}
	tlsCert, tlsKey, err := d.ra.IssueServer("portal", []string{"localhost"})
	if err != nil {
		return err
	}
	d.portTLS = tls.Certificate{Certificate: [][]byte{tlsCert.Raw}, PrivateKey: tlsKey}
	if d.portCert, d.portKey, err = metadataKey("portal", d.now); err != nil {
		return err
	}
	if d.dsCert, _, err = metadataKey("ds", d.now); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   card %s: %s, issued by %s\n", demoCard, d.card.Subject, d.card.Issuer)
	fmt.Fprintf(d.out, "   IdP signing and TLS: %s, issued by %s\n", d.idpCert.Subject, d.idpCert.Issuer)
	return nil
}

func (d *demo) startPortal(ctx context.Context) error {
	var err error
	if d.portal, err = startPortal(ctx, demoPortal, d.portKey, d.portCert, d.portTLS); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   %s at %s (ACS %s)\n", d.portal.ID, d.portal.BaseURL, d.portal.BaseURL+portalACS)
	return nil
}

// metadataKey makes the RSA key and self-signed certificate a role
// publishes in its metadata for XML Signature and XML Encryption
// (KeyDescriptor use="signing" and use="encryption"): metadata trusts
// keys, not chains (SAML V2.0 Metadata Interoperability Profile §2.5.1).
func metadataKey(role string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: role + " metadata key"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(2, 0, 0), KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func serialize(el *etree.Element) []byte {
	b, err := xmlsec.Serialize(el)
	if err != nil {
		panic(err) // writing to memory cannot fail
	}
	return b
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", b)
}

// serviceRoots trusts the RA's service CA, which issues every server
// certificate of the demo.
func (d *demo) serviceRoots() *x509.CertPool {
	roots := x509.NewCertPool()
	roots.AddCert(d.ra.ServiceCA())
	return roots
}
