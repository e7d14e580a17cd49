package crewjam

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/vcard"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

// smartcardPKI is the AuthnContext of a card login (SAML2.md, authn
// context classes).
const smartcardPKI = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"

// renkeiFed is our IdP (the real binary) with crewjam SPs that trust its
// metadata exactly as served, and the card in a PC/SC reader.
type renkeiFed struct {
	idp  *idpkit.IdP
	sps  map[string]*SP
	card *vcard.Card
}

// spVariants are the crewjam SPs: signed or unsigned requests, encrypted
// or plain assertions, and a WSC asking for the DiscoveryEPR bootstrap.
var spVariants = []struct {
	name string
	cfg  Config
}{
	{"signed-encrypted", Config{SignatureMethod: RSASHA256, Encrypt: true}},
	{"signed-plain", Config{SignatureMethod: RSASHA256}},
	{"unsigned-encrypted", Config{Encrypt: true}},
	{"unsigned-plain", Config{}},
	{"bootstrap", Config{SignatureMethod: RSASHA256, Encrypt: true, RequestDiscoveryEPR: true}},
}

// newRenkeiFed starts one IdP for every SP variant, issues a card to
// p-alice (inserted in slot 0) and a revoked one to p-mallory (its
// identity returned, for slot 1), and gives each SP our served metadata.
func newRenkeiFed(t *testing.T) (*renkeiFed, *vpcd.Slot, *pki.Identity) {
	t.Helper()
	f := &renkeiFed{sps: map[string]*SP{}}
	var mds [][]byte
	for _, v := range spVariants {
		sp := New(t, v.cfg)
		f.sps[v.name] = sp
		mds = append(mds, sp.Metadata)
	}
	f.idp = idpkit.New(t, idpkit.Options{SPMetadata: mds, Discovery: true})
	alice := f.idp.IssueCard("p-alice", "HIC-0001", pki.P256)
	revoked := f.idp.IssueCard("p-mallory", "HIC-0666", pki.P256)
	f.idp.RevokeOnCRL("HIC-0666")
	f.idp.Start()
	served, err := Fetch(testCtx(t), f.idp.Client(), f.idp.MetadataURL)
	if err != nil {
		t.Fatal(err)
	}
	for name, sp := range f.sps {
		if err := sp.Start(served); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	slot := pcsc.AcquireT(t)
	f.card = vcard.Insert(t, slot, 0, alice, vcard.Options{CardNumber: "HIC-0001"})
	return f, slot, revoked
}

// cardBrowser is a fresh browser (no session cookie, no pooled
// connection) whose TLS client key is c.
func (f *renkeiFed) cardBrowser(t *testing.T, c *vcard.Card) *browser.Browser {
	b, err := browser.New(browser.Config{RootCAs: f.idp.RootCAs, ServerName: idpkit.ServerName,
		Certificate: []*x509.Certificate{c.Cert}, Key: c.Signer})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// login runs one SSO with a fresh browser and checks that the card
// signed its handshake with the card-login listener.
func (f *renkeiFed) login(t *testing.T, sp *SP, binding string, format saml.NameIDFormat) (*Result, *browser.Browser) {
	t.Helper()
	b := f.cardBrowser(t, f.card)
	before := f.card.Virtual.Count(piv.InsGeneralAuth)
	r, err := sp.Login(testCtx(t), b, binding, format, false)
	if err != nil {
		t.Fatalf("%v\nIdP output:\n%s", err, f.idp.Stderr())
	}
	if f.card.Virtual.Count(piv.InsGeneralAuth) == before {
		t.Fatalf("the card signed no handshake\n%s", b)
	}
	return r, b
}

// TestRenkeiIdPWithCrewjamSP: crewjam accepts our metadata exactly as
// served, and completes SSO with our IdP authenticating the card through
// PC/SC, over the whole matrix: HTTP-Redirect and HTTP-POST requests,
// signed and unsigned, encrypted and plain assertions, persistent NameIDs
// (stable across logins) and transient ones (fresh at every login).
func TestRenkeiIdPWithCrewjamSP(t *testing.T) {
	f, _, _ := newRenkeiFed(t)
	for _, v := range spVariants {
		sp := f.sps[v.name]
		for _, binding := range []string{Redirect, POST} {
			for _, format := range []saml.NameIDFormat{Persistent, Transient} {
				t.Run(fmt.Sprintf("ok/%s/%s/%s", v.name, short(binding), short(string(format))), func(t *testing.T) {
					r1, b := f.login(t, sp, binding, format)
					f.check(t, r1, b, sp, v.cfg.Encrypt, format)
					if signed, err := b.RequestSigned(f.idp.SSOURL); err != nil || signed != (v.cfg.SignatureMethod != "") {
						t.Fatalf("AuthnRequest signed = %v (%v), want %v\n%s", signed, err, v.cfg.SignatureMethod != "", b)
					}
					if got := r1.Attr(DiscoveryEPR) != nil; got != v.cfg.RequestDiscoveryEPR {
						t.Fatalf("DiscoveryEPR attribute present = %v, want %v: %+v", got, v.cfg.RequestDiscoveryEPR, r1.Attributes)
					}
					r2, _ := f.login(t, sp, binding, format)
					f.check(t, r2, b, sp, v.cfg.Encrypt, format)
					if same := r1.NameID == r2.NameID; same != (format == Persistent) {
						t.Fatalf("NameIDs of two logins %q and %q: same = %v for %s", r1.NameID, r2.NameID, same, format)
					}
				})
			}
		}
	}
	t.Run("ok/pairwise-persistent", func(t *testing.T) {
		a, _ := f.login(t, f.sps["signed-plain"], Redirect, Persistent)
		b, _ := f.login(t, f.sps["unsigned-plain"], Redirect, Persistent)
		if a.NameID == b.NameID {
			t.Fatalf("two SPs got the same persistent NameID %q", a.NameID)
		}
	})
}

// check asserts what crewjam accepted from one login.
func (f *renkeiFed) check(t *testing.T, r *Result, b *browser.Browser, sp *SP, encrypted bool, format saml.NameIDFormat) {
	t.Helper()
	switch {
	case r.Issuer != f.idp.EntityID:
		t.Fatalf("issuer %q", r.Issuer)
	case r.Format != string(format) || r.NameID == "":
		t.Fatalf("NameID %q of format %q, want %s", r.NameID, r.Format, format)
	case r.Encrypted != encrypted:
		t.Fatalf("encrypted = %v, want %v", r.Encrypted, encrypted)
	case r.AuthnContext != smartcardPKI:
		t.Fatalf("AuthnContext %q, want %s", r.AuthnContext, smartcardPKI)
	case r.InResponseTo == "" || !strings.HasPrefix(r.RelayState, "rs-"):
		t.Fatalf("unsolicited? InResponseTo %q RelayState %q", r.InResponseTo, r.RelayState)
	case !visited(b, f.idp.CardLoginURL):
		t.Fatalf("the card login was not visited\n%s", b)
	}
}

// TestRenkeiIdPRevokedCard: a card on the CRL, or revoked in the registry
// while the IdP runs, gets the IdP's clear page and crewjam receives no
// response.
func TestRenkeiIdPRevokedCard(t *testing.T) {
	f, slot, revoked := newRenkeiFed(t)
	c := vcard.Insert(t, slot, 1, revoked, vcard.Options{CardNumber: "HIC-0666"})
	b := f.cardBrowser(t, c)
	sp := f.sps["signed-encrypted"]
	page, err := b.Get(testCtx(t), sp.LoginURL(Redirect, Persistent, false))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if page.Status != 403 || !strings.Contains(string(page.Body), "revoked") || !strings.HasPrefix(page.URL.String(), f.idp.CardLoginURL) {
		t.Fatalf("revoked card: HTTP %d at %s: %s\n%s", page.Status, page.URL, page.Body, b)
	}
	if visited(b, sp.URL+"/acs") {
		t.Fatalf("crewjam's ACS was reached with a revoked card\n%s", b)
	}
	// A card revoked in the registry while the IdP runs is refused at
	// its next login, though its certificate is not on the CRL.
	f.login(t, sp, POST, Transient)
	f.idp.RevokeInRegistry("HIC-0001")
	b = f.cardBrowser(t, f.card)
	if page, err = b.Get(testCtx(t), sp.LoginURL(POST, Transient, false)); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if page.Status != 403 || !strings.Contains(string(page.Body), "revoked") || visited(b, sp.URL+"/acs") {
		t.Fatalf("card revoked in the registry: HTTP %d: %s\n%s", page.Status, page.Body, b)
	}
}

func visited(b *browser.Browser, prefix string) bool {
	for _, h := range b.Hops() {
		if strings.HasPrefix(h.URL, prefix) {
			return true
		}
	}
	return false
}

// TestRenkeiIdPWantsSignedRequests: an IdP whose metadata says
// WantAuthnRequestsSigned answers crewjam's signed requests, and refuses
// an unsigned one (SAML Metadata §2.4.3) with a Requester status before
// any login: crewjam gets no assertion.
func TestRenkeiIdPWantsSignedRequests(t *testing.T) {
	signed, unsigned := New(t, Config{SignatureMethod: RSASHA256}), New(t, Config{})
	k := idpkit.New(t, idpkit.Options{SPMetadata: [][]byte{signed.Metadata, unsigned.Metadata}, WantAuthnRequestsSigned: true})
	alice := k.IssueCard("p-alice", "HIC-0001", pki.P256)
	k.Start()
	if !strings.Contains(string(k.Metadata), `WantAuthnRequestsSigned="true"`) {
		t.Fatal("the served metadata does not say WantAuthnRequestsSigned")
	}
	for _, sp := range []*SP{signed, unsigned} {
		if err := sp.Start(k.Metadata); err != nil {
			t.Fatal(err)
		}
	}
	f := &renkeiFed{idp: k, card: vcard.Insert(t, pcsc.AcquireT(t), 0, alice, vcard.Options{CardNumber: "HIC-0001"})}
	if r, _ := f.login(t, signed, Redirect, Persistent); r.AuthnContext != smartcardPKI {
		t.Fatalf("ok/signed: %+v", r)
	}
	b := f.cardBrowser(t, f.card)
	r, err := unsigned.Login(testCtx(t), b, Redirect, Persistent, false)
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Err, "status:Requester") || visited(b, k.CardLoginURL) {
		t.Fatalf("fail/unsigned: crewjam got %+v, %v, want a Requester status before any login\n%s", r, err, b)
	}
}
