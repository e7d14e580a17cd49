// Package wsftest is the test kit of the ID-WSF framework: a federation on
// the test PKI (an IdP/DS that mints tokens, a WSC, a WSP), loopback TLS
// servers that ask for client certificates, and clients presenting the
// WSC's certificate. Nothing here is for production use.
package wsftest

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
)

// Entity IDs of the test federation.
const (
	IdPID   = "https://idp.example.org/saml"
	DSID    = "https://idp.example.org/disco"
	WSCID   = "https://portal.example.org/wsc"
	WSPID   = "https://pp.example.org/wsp"
	OtherID = "https://other.example.org/wsp"
)

// Identities are the keys of the federation, made once per test binary.
type Identities struct {
	IdP, WSC, WSP, Other, Rogue *pki.Identity
	CA                          *pki.CA
}

var (
	idsOnce sync.Once
	ids     *Identities
	idsErr  error
)

// Keys returns the federation's identities: RSA-2048 each, the Rogue one
// certified by the same CA but in no metadata.
func Keys(t testing.TB) *Identities {
	t.Helper()
	idsOnce.Do(func() {
		p := pki.MustGet()
		ids = &Identities{CA: p.CA, IdP: p.RSA}
		for _, x := range []struct {
			dst  **pki.Identity
			name string
		}{{&ids.WSC, "wsc"}, {&ids.WSP, "wsp"}, {&ids.Other, "other"}, {&ids.Rogue, "rogue"}} {
			if *x.dst, idsErr = p.CA.Issue(x.name, pki.RSA2048); idsErr != nil {
				return
			}
		}
	})
	if idsErr != nil {
		t.Fatal(idsErr)
	}
	return ids
}

// Directory returns the metadata aggregate: the IdP and DS (token issuers,
// one key), the WSC, the WSP and another WSP, with the WSC's profile given.
func Directory(t testing.TB, wscProfile wsf.Profile) wsf.StaticDirectory {
	k := Keys(t)
	idp := wsf.NewPeer(IdPID, k.IdP.Cert)
	idp.TokenIssuer = true
	ds := wsf.NewPeer(DSID, k.IdP.Cert)
	ds.TokenIssuer = true
	wsc := wsf.NewPeer(WSCID, k.WSC.Cert)
	wsc.Profile = wscProfile
	return wsf.StaticDirectory{IdPID: idp, DSID: ds, WSCID: wsc,
		WSPID: wsf.NewPeer(WSPID, k.WSP.Cert), OtherID: wsf.NewPeer(OtherID, k.Other.Cert)}
}

// TokenSpec describes a token the DS mints.
type TokenSpec struct {
	ID           string
	Audience     string            // "" means WSPID
	Method       string            // confirmation method; "" means holder-of-key
	Key          *x509.Certificate // the confirmed key; nil means the WSC's
	NotBefore    time.Time
	NotOnOrAfter time.Time
	EncryptFor   *x509.Certificate // encrypt the NameID for this recipient
	Issuer       string            // "" means IdPID
	SignWith     *pki.Identity     // nil means the IdP
	NoConfirm    bool              // no SubjectConfirmation at all
	NoKeyInfo    bool              // no issuer certificate in the signature's KeyInfo
}

// Token mints and signs a token as the DS does (IDWSF2 §3.6).
func Token(t testing.TB, now time.Time, s TokenSpec) *etree.Element {
	t.Helper()
	a := assertion(t, now, s)
	signer := s.SignWith
	if signer == nil {
		signer = Keys(t).IdP
	}
	ds := &dsig.Signer{Key: signer.Key, Certificates: []*x509.Certificate{signer.Cert}}
	if s.NoKeyInfo {
		ds.Certificates = nil
	}
	el, err := saml.SignAssertion(a, ds)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func assertion(t testing.TB, now time.Time, s TokenSpec) *saml.Assertion {
	k := Keys(t)
	s.ID, s.Audience, s.Method, s.Issuer = or(s.ID, "_tok1"), or(s.Audience, WSPID), or(s.Method, saml.CMHolderOfKey), or(s.Issuer, IdPID)
	if s.Key == nil {
		s.Key = k.WSC.Cert
	}
	if s.NotBefore.IsZero() {
		s.NotBefore, s.NotOnOrAfter = now.Add(-time.Minute), now.Add(time.Hour)
	}
	sub := &saml.Subject{NameID: &saml.NameID{Value: "pairwise-alice", Format: saml.NameIDPersistent, NameQualifier: IdPID, SPNameQualifier: s.Audience, SPProvidedID: "patient:0042"}}
	if s.EncryptFor != nil {
		enc, err := saml.EncryptNameID(sub.NameID, &xmlenc.Encrypter{}, xmlenc.Recipient{Cert: s.EncryptFor})
		if err != nil {
			t.Fatal(err)
		}
		sub = &saml.Subject{EncryptedID: enc}
	}
	if !s.NoConfirm {
		sub.Confirmations = []saml.SubjectConfirmation{confirmation(s)}
	}
	return &saml.Assertion{ID: s.ID, IssueInstant: now, Issuer: saml.Issuer{Value: s.Issuer}, Subject: sub,
		Conditions: &saml.Conditions{NotBefore: s.NotBefore, NotOnOrAfter: s.NotOnOrAfter,
			AudienceRestrictions: []saml.AudienceRestriction{{Audiences: []string{s.Audience}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: now.Add(-time.Minute), ClassRef: saml.ACSmartcardPKI}}}
}

func confirmation(s TokenSpec) saml.SubjectConfirmation {
	sc := saml.SubjectConfirmation{Method: s.Method}
	if s.Method == saml.CMHolderOfKey {
		sc.Data = &saml.SubjectConfirmationData{KeyInfos: []saml.KeyInfo{{Certificates: []*x509.Certificate{s.Key}}}}
	}
	return sc
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// EPR returns an EPR for the WSP at addr offering mech with token.
func EPR(addr string, mech wsf.Mechanism, token *etree.Element) *wsf.EPR {
	sc := wsf.SecurityContext{Mechanisms: []string{string(mech)}}
	if token != nil {
		sc.Tokens = []wsf.Token{{Usage: wsf.UsageSecurityToken, Element: token}}
	}
	return &wsf.EPR{Address: addr, Metadata: &wsf.EPRMetadata{Abstract: "test service", ProviderID: WSPID,
		ServiceType: "urn:renkei:svc:test:1.0", Framework: wsf.FrameworkVersion, SecurityContexts: []wsf.SecurityContext{sc}}}
}

// Decrypter returns the WSP's decrypter.
func Decrypter(t testing.TB) *xmlenc.Decrypter {
	return &xmlenc.Decrypter{Key: Keys(t).WSP.Key.(*rsa.PrivateKey)}
}

// StartTLS serves h over TLS on 127.0.0.1 with the WSP's certificate,
// asking for (not verifying) a client certificate, and closes it at the
// end of the test.
func StartTLS(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	k := Keys(t)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{tlsCert(k.WSP)}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// HTTPClient returns a client trusting the test CA that presents id's
// certificate (none when id is nil).
func HTTPClient(t testing.TB, id *pki.Identity) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(Keys(t).CA.Cert)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if id != nil {
		cfg.Certificates = []tls.Certificate{tlsCert(id)}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func tlsCert(id *pki.Identity) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
}
