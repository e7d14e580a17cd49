package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/card/trust"
	"github.com/renkei-idwsf/renkei/ra"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/store"
	"github.com/renkei-idwsf/renkei/store/sqlstore"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const (
	demoIdP    = "https://idp.renkei.test/metadata"
	demoPortal = "https://portal.renkei.test/metadata"
	demoCard   = "HIC-0000-0001"
)

// demo holds what one run of the demo builds up, step by step.
type demo struct {
	out     io.Writer
	dir     string
	now     time.Time
	ra      *ra.Authority
	cardKey crypto.Signer
	card    *x509.Certificate
	idpCert *x509.Certificate
	idpKey  crypto.Signer
	portal  *x509.Certificate
	portKey crypto.Signer
	db      *sqlstore.DB
	nameID  string
	signed  *etree.Element
	sealed  *etree.Element
}

func cmdDemo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the demo's RA files and relay database (default: a new temporary one)")
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
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"registration authority: card-issuer CA, a card, the IdP and portal keys", d.issue},
		{"card login check: chain to the card-issuer CA and its CRL", d.checkCard},
		{"card in the reader (pcscd + vpcd + virtual PIV card): the card signs a TLS client handshake", d.cardLogin},
		{"relay database (SQLite): principal, card, pairwise federation with the portal", d.relay},
		{"IdP: signed SAML assertion, SmartcardPKI, schema-valid", d.assert},
		{"xmlsec1 (independent implementation) verifies the IdP's signature", d.xmlsec1},
		{"IdP -> portal: assertion encrypted for the portal (RSA-OAEP + AES-256-GCM)", d.encrypt},
		{"portal: decrypt, verify, check audience and time, read the NameID", d.consume},
		{"portal: the same assertion replayed is refused", d.replay},
		{"registration authority revokes the card: login refused", d.revoke},
	}
	fmt.Fprintf(out, "Renkei demo (files in %s)\n\n", d.dir)
	for i, s := range steps {
		fmt.Fprintf(out, "%d. %s\n", i+1, s.name)
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.name, err)
		}
		fmt.Fprintf(out, "   ok (%.1f ms)\n", float64(time.Since(start).Microseconds())/1000)
	}
	fmt.Fprintln(out, "\nAll steps passed. The roles (IdP, Discovery Service, WSPs, portal) join this demo as they are built.")
	return nil
}

func (d *demo) close() {
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
	if d.portal, d.portKey, err = encryptionKey("portal", d.now); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   card %s: %s\n", demoCard, d.card.Subject)
	return nil
}

func (d *demo) cardVerifier() (*trust.Verifier, error) {
	crl, err := d.ra.WriteCRL()
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(d.ra.CardCA())
	return &trust.Verifier{Roots: roots, CRLs: []*x509.RevocationList{crl}}, nil
}

func (d *demo) checkCard(context.Context) error {
	v, err := d.cardVerifier()
	if err != nil {
		return err
	}
	if _, err := v.Verify(d.card); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   card number read from the certificate: %s\n", trust.CardNumber(d.card))
	return nil
}

func (d *demo) relay(ctx context.Context) error {
	var err error
	if d.db, err = sqlstore.Open(ctx, "sqlite://"+filepath.Join(d.dir, "relay.db")); err != nil {
		return err
	}
	p := store.Principal{ID: "principal-" + randomID(), Created: d.now}
	if err := d.db.CreatePrincipal(ctx, p); err != nil {
		return err
	}
	c := store.Card{Number: demoCard, PrincipalID: p.ID, CertIssuer: d.card.Issuer.String(),
		CertSerial: d.card.SerialNumber.String(), Status: store.CardIssued, Issued: d.now}
	if err := d.db.IssueCard(ctx, c); err != nil {
		return err
	}
	d.nameID = randomID()
	f := store.Federation{PrincipalID: p.ID, ProviderID: demoPortal, NameID: d.nameID, Created: d.now}
	if err := d.db.CreateFederation(ctx, f); err != nil {
		return err
	}
	got, err := d.db.FederationByNameID(ctx, demoPortal, d.nameID)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   %s is known to the portal only as %s\n", got.PrincipalID, got.NameID)
	return nil
}

func (d *demo) assert(context.Context) error {
	a := &saml.Assertion{
		ID: "_" + randomID(), IssueInstant: d.now, Issuer: saml.Issuer{Value: demoIdP},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Value: d.nameID, Format: saml.NameIDPersistent, NameQualifier: demoIdP, SPNameQualifier: demoPortal},
			Confirmations: []saml.SubjectConfirmation{{Method: saml.CMBearer, Data: &saml.SubjectConfirmationData{
				NotOnOrAfter: d.now.Add(5 * time.Minute), Recipient: "https://portal.renkei.test/acs"}}},
		},
		Conditions: &saml.Conditions{NotBefore: d.now.Add(-time.Minute), NotOnOrAfter: d.now.Add(5 * time.Minute),
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{demoPortal}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: d.now, SessionIndex: "_s" + randomID(), ClassRef: saml.ACSmartcardPKI}},
	}
	var err error
	if d.signed, err = saml.SignAssertion(a, &dsig.Signer{Key: d.idpKey, Certificates: []*x509.Certificate{d.idpCert}}); err != nil {
		return err
	}
	return xsd.Validate(serialize(d.signed))
}

func (d *demo) xmlsec1(context.Context) error {
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		return errors.New("xmlsec1 is not installed (make demo installs it)")
	}
	dir := filepath.Join(d.dir, "xmlsec1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	doc, ca := filepath.Join(dir, "assertion.xml"), filepath.Join(dir, "service-ca.pem")
	if err := os.WriteFile(doc, serialize(d.signed), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.ra.ServiceCA().Raw}), 0o600); err != nil {
		return err
	}
	out, err := exec.Command("xmlsec1", "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--trusted-pem", ca, doc).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmlsec1 --verify: %v\n%s", err, out)
	}
	return nil
}

func (d *demo) encrypt(context.Context) error {
	var err error
	enc := &xmlenc.Encrypter{}
	d.sealed, err = enc.Encrypt(d.signed, xmlenc.EncryptedAssertion, xmlenc.Recipient{EntityID: demoPortal, Cert: d.portal})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   EncryptedAssertion: %d bytes on the wire\n", len(serialize(d.sealed)))
	return xsd.Validate(serialize(d.sealed))
}

// received is what the portal does with the bytes it got: parse strictly,
// decrypt, verify, check, and return the assertion.
func (d *demo) received(wire []byte) (*saml.Assertion, error) {
	el, err := xmlsec.ParseElement(wire, xmlsec.Limits{})
	if err != nil {
		return nil, err
	}
	plain, err := (&xmlenc.Decrypter{Key: d.portKey.(crypto.Decrypter), EntityID: demoPortal}).Decrypt(el)
	if err != nil {
		return nil, err
	}
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet([]*x509.Certificate{d.idpCert})}
	a, _, err := saml.VerifyAssertion(plain, v)
	if err != nil {
		return nil, err
	}
	return a, a.CheckConditions(d.now, time.Minute, demoPortal)
}

func (d *demo) consume(ctx context.Context) error {
	a, err := d.received(serialize(d.sealed))
	if err != nil {
		return err
	}
	if err := d.db.CheckAndInsert(ctx, store.NewReplayKey(store.ReplayAssertionID, demoIdP, a.ID), a.Conditions.NotOnOrAfter, d.now); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   signed by %s for %s, NameID %s, AuthnContext %s\n",
		a.Issuer.Value, demoPortal, a.Subject.NameID.Value, a.AuthnStatements[0].ClassRef)
	return nil
}

func (d *demo) replay(ctx context.Context) error {
	a, err := d.received(serialize(d.sealed))
	if err != nil {
		return err
	}
	err = d.db.CheckAndInsert(ctx, store.NewReplayKey(store.ReplayAssertionID, demoIdP, a.ID), a.Conditions.NotOnOrAfter, d.now)
	if !errors.Is(err, store.ErrReplay) {
		return fmt.Errorf("replayed assertion not refused: %v", err)
	}
	fmt.Fprintf(d.out, "   refused: %v\n", err)
	return nil
}

func (d *demo) revoke(context.Context) error {
	if err := d.ra.Revoke(demoCard, 1); err != nil {
		return err
	}
	v, err := d.cardVerifier()
	if err != nil {
		return err
	}
	_, err = v.Verify(d.card)
	if !errors.Is(err, trust.ErrRevoked) {
		return fmt.Errorf("revoked card not refused: %v", err)
	}
	fmt.Fprintf(d.out, "   refused: %v\n", err)
	return nil
}

// encryptionKey makes the RSA key and self-signed certificate a role
// publishes in its metadata for XML Encryption (KeyDescriptor
// use="encryption"): metadata trusts keys, not chains (SAML V2.0 Metadata
// Interoperability Profile §2.5.1).
func encryptionKey(role string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: role + " encryption"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(2, 0, 0), KeyUsage: x509.KeyUsageKeyEncipherment}
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
