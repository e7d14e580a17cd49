package conformance

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/disco"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// DSTarget is a Discovery Service under test, described so that the suite
// can play every party around it (IDWSF2 §4): the WSPs that register their
// service metadata as themselves and read the tokens the DS mints for
// them, the WSC that presents DS tokens, and the IdP that mints those
// tokens. The DS's metadata must list each WSP (signing key, and an
// encryption key except NoKeyWSP), the WSC and OtherWSC, and IdP as a
// token issuer; the principals must have a federation with the DS.
type DSTarget struct {
	EntityID string
	Keys     []*x509.Certificate // the DS's metadata signing keys
	Address  string              // its SOAP endpoint
	// IdP is the token issuer the DS trusts: the suite signs DS tokens
	// with its key. NameQualifier qualifies the principals' NameIDs at the
	// DS; "" means IdP.EntityID.
	IdP           Party
	NameQualifier string
	// Principal and Other are two principals federated with the DS.
	Principal DSPrincipal
	Other     DSPrincipal
	// WSC is the suite's consumer; OtherWSC another one the DS knows,
	// whose certificate the other principal's token is bound to (its key
	// is not needed).
	WSC      Party
	OtherWSC Party
	// WSPs are at least two providers with distinct entityIDs whose key
	// signs, authenticates TLS and decrypts their tokens (RSA).
	WSPs []Party
	// NoKeyWSP is a provider the metadata lists without an encryption
	// key; nil skips the case that needs it.
	NoKeyWSP *Party
}

// Party is one identity the suite plays: its entityID, metadata (and TLS
// client) key and certificate.
type Party struct {
	EntityID string
	Key      crypto.Signer
	Cert     *x509.Certificate
}

// DSPrincipal is a principal as the DS knows it: its NameID at the DS
// (the subject of the IdP's DS tokens) and, optionally, its identifier at
// each WSP (a NameID value or SPProvidedID) the DS's tokens must carry.
type DSPrincipal struct {
	NameID   string
	Subjects map[string]string
}

// Validate reports every problem of the description at once.
func (t *DSTarget) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.EntityID == "" || t.Address == "" || len(t.Keys) == 0 {
		add("the DS needs an entityID, an address and signing keys")
	}
	for name, p := range map[string]Party{"idp": t.IdP, "wsc": t.WSC} {
		if p.EntityID == "" || p.Key == nil || p.Cert == nil {
			add("%s needs an entityID, a key and a certificate", name)
		}
	}
	if t.OtherWSC.EntityID == "" || t.OtherWSC.Cert == nil {
		add("otherWSC needs an entityID and a certificate")
	}
	if t.Principal.NameID == "" || t.Other.NameID == "" || t.Principal.NameID == t.Other.NameID {
		add("two distinct principals' NameIDs at the DS are required")
	}
	if len(t.WSPs) < 2 {
		add("at least two WSPs are required, %d given", len(t.WSPs))
	}
	seen := map[string]bool{}
	for i, w := range append(append([]Party{}, t.WSPs...), t.noKey()...) {
		if _, ok := w.Key.(*rsa.PrivateKey); !ok || w.EntityID == "" || w.Cert == nil {
			add("wsp %d (%q) needs an entityID, an RSA key and a certificate", i, w.EntityID)
		}
		if seen[w.EntityID] {
			add("wsp %q is listed twice", w.EntityID)
		}
		seen[w.EntityID] = true
	}
	return errors.Join(errs...)
}

func (t *DSTarget) noKey() []Party {
	if t.NoKeyWSP == nil {
		return nil
	}
	return []Party{*t.NoKeyWSP}
}

func (t *DSTarget) nameQualifier() string {
	if t.NameQualifier != "" {
		return t.NameQualifier
	}
	return t.IdP.EntityID
}

// nameID is p's NameID at the DS, as the IdP's DS token carries it.
func (t *DSTarget) nameID(p DSPrincipal) *saml.NameID {
	return &saml.NameID{Value: p.NameID, Format: saml.NameIDPersistent, NameQualifier: t.nameQualifier(), SPNameQualifier: t.EntityID}
}

// decrypter is a WSP's key as a token decrypter.
func (p Party) decrypter() *xmlenc.Decrypter {
	k, _ := p.Key.(*rsa.PrivateKey)
	return &xmlenc.Decrypter{Key: k, EntityID: p.EntityID}
}

// WSFTarget returns the DS as the generic ID-WSF cases see it: the
// operation they send is a disco:Query for a service type nothing offers,
// which any DS answers with a QueryResponse (NoResults), never with a
// consent interaction; variants ask for different types, so that the
// replay case's two bodies differ.
func (t *DSTarget) WSFTarget() *WSFTarget {
	return &WSFTarget{EntityID: t.EntityID, Keys: t.Keys, Address: t.Address, Action: disco.Action("Query"),
		Payload: func(variant int) *etree.Element {
			typ := fmt.Sprintf("%s:svc:none:%d", nsConformance, variant)
			return (&disco.Query{RequestedServices: []disco.RequestedService{{ServiceTypes: []string{typ}}}}).Element()
		}}
}

// WSCForWSF returns the suite's WSC for the generic ID-WSF cases: tokens
// signed by the IdP, naming Principal.
func (t *DSTarget) WSCForWSF() *WSC {
	return &WSC{EntityID: t.WSC.EntityID, Key: t.WSC.Key, Cert: t.WSC.Cert, IssuerID: t.IdP.EntityID,
		IssuerKey: t.IdP.Key, IssuerCert: t.IdP.Cert, Subject: t.nameID(t.Principal)}
}

// dsFile is the JSON "ds target" file of the command line: key files are
// PEM bundles (a private key and its certificate), named relative to the
// file; metadata is the DS's metadata (URL or file) its signing keys come
// from.
type dsFile struct {
	EntityID      string        `json:"entityID"`
	Address       string        `json:"address"`
	Metadata      string        `json:"metadata"`
	NameQualifier string        `json:"nameQualifier,omitempty"`
	IdP           partyFile     `json:"idp"`
	Principal     principalFile `json:"principal"`
	Other         principalFile `json:"otherPrincipal"`
	WSC           partyFile     `json:"wsc"`
	OtherWSC      partyFile     `json:"otherWSC"`
	WSPs          []partyFile   `json:"wsps"`
	NoKeyWSP      *partyFile    `json:"noKeyWSP,omitempty"`
}

type partyFile struct {
	EntityID string `json:"entityID"`
	Key      string `json:"key"` // PEM key and certificate; for otherWSC a certificate alone will do
}

type principalFile struct {
	NameID   string            `json:"nameID"`
	Subjects map[string]string `json:"subjects,omitempty"`
}

// LoadDSTarget reads a ds target file and the files it names; the DS's
// metadata is fetched with client when it is a URL.
func LoadDSTarget(ctx context.Context, name string, client *http.Client) (*DSTarget, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var f dsFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("conformance: ds target %s: %w", name, err)
	}
	dir := filepath.Dir(name)
	md, err := LoadTarget(ctx, relTo(dir, f.Metadata), client)
	if err != nil {
		return nil, err
	}
	t := &DSTarget{EntityID: f.EntityID, Keys: signingKeys(md), Address: f.Address, NameQualifier: f.NameQualifier,
		Principal: DSPrincipal(f.Principal), Other: DSPrincipal(f.Other)}
	if t.EntityID == "" {
		t.EntityID = md.Entity.EntityID
	}
	var errs []error
	load := func(p partyFile, certOnly bool) Party {
		out, err := p.load(dir, certOnly)
		errs = append(errs, err)
		return out
	}
	t.IdP, t.WSC, t.OtherWSC = load(f.IdP, false), load(f.WSC, false), load(f.OtherWSC, true)
	for _, w := range f.WSPs {
		t.WSPs = append(t.WSPs, load(w, false))
	}
	if f.NoKeyWSP != nil {
		p := load(*f.NoKeyWSP, false)
		t.NoKeyWSP = &p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("conformance: ds target %s: %w", name, err)
	}
	return t, t.Validate()
}

func (p partyFile) load(dir string, certOnly bool) (Party, error) {
	b, err := os.ReadFile(relTo(dir, p.Key))
	if err != nil {
		return Party{}, fmt.Errorf("%s: %w", p.EntityID, err)
	}
	k, c, err := parseKeyCert(b)
	if err != nil && certOnly {
		c, err = firstCert(b)
	}
	if err != nil {
		return Party{}, fmt.Errorf("%s: %w", p.EntityID, err)
	}
	return Party{EntityID: p.EntityID, Key: k, Cert: c}, nil
}

func relTo(dir, name string) string {
	if name == "" || filepath.IsAbs(name) || isURL(name) {
		return name
	}
	return filepath.Join(dir, name)
}

func isURL(s string) bool {
	return len(s) > 8 && (s[:7] == "http://" || s[:8] == "https://")
}

// signingKeys returns the signing keys of every role of the metadata's
// entity.
func signingKeys(t *Target) []*x509.Certificate {
	var keys []*x509.Certificate
	for _, r := range t.Entity.Roles {
		keys = append(keys, r.SigningCertificates()...)
	}
	for _, r := range t.Entity.SPSSO {
		keys = append(keys, r.SigningCertificates()...)
	}
	for _, r := range t.Entity.IDPSSO {
		keys = append(keys, r.SigningCertificates()...)
	}
	return keys
}

// firstCert returns the first certificate of a PEM bundle.
func firstCert(b []byte) (*x509.Certificate, error) {
	for len(b) > 0 {
		blk, rest := pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
		b = rest
	}
	return nil, fmt.Errorf("no certificate in the PEM file")
}

// peer is the DS as the suite's clients trust it.
func (t *DSTarget) peer() *wsf.Peer { return wsf.NewPeer(t.EntityID, t.Keys...) }
