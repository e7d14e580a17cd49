package lassoidp_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/renkei-idwsf/renkei/card/piv"
	"github.com/renkei-idwsf/renkei/internal/browser"
	"github.com/renkei-idwsf/renkei/internal/testkit/idpkit"
	"github.com/renkei-idwsf/renkei/internal/testkit/lasso"
	"github.com/renkei-idwsf/renkei/internal/testkit/pcsc"
	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/internal/testkit/vcard"
	"github.com/renkei-idwsf/renkei/internal/vpcd"
)

const smartcardPKI = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"

// spVariants are the Lasso SPs: signed or unsigned AuthnRequests,
// encrypted or plain assertions, and a WSC asking for the bootstrap.
//
// The plain SP runs Lasso's default verify hint, MAYBE. Our IdP signs a
// plain assertion and not its Response (idp.signResponse, SAML2.md §3.2),
// which SAML Profiles §4.1.3.5 allows ("signing each individual
// <Assertion> element or ... the <Response> element"); Lasso's FORCE hint
// is a stricter local policy that demands the Response's own signature
// and refuses that shape with DsSignatureNotFoundError (101). Under MAYBE
// Lasso still verifies the assertion's signature: idp's TestLassoSP shows
// it refusing a tampered one. The "force" variant keeps Lasso's strict
// hint, and the IdP is configured to sign the Response too for that SP
// (the signResponse quirk), as an operator would for such a peer; without
// it Lasso refuses with DsSignatureNotFoundError (101).
var spVariants = []struct {
	name string
	cfg  lasso.SPConfig
}{
	{"encrypted", lasso.SPConfig{Encrypt: true}},
	{"plain", lasso.SPConfig{VerifyHint: "maybe"}},
	{"unsigned-encrypted", lasso.SPConfig{Encrypt: true, UnsignedRequests: true}},
	{"unsigned-plain", lasso.SPConfig{UnsignedRequests: true, VerifyHint: "maybe"}},
	{"bootstrap", lasso.SPConfig{Encrypt: true, RequestDiscoveryEPR: true}},
	{"plain-force", lasso.SPConfig{VerifyHint: "force"}},
}

// signResponseFor are the variants the IdP signs the Response for.
var signResponseFor = map[string]bool{"plain-force": true}

// fed is our IdP with the Lasso SPs and the card in a PC/SC reader.
type fed struct {
	idp     *idpkit.IdP
	sps     map[string]*lasso.SP
	card    *vcard.Card
	slot    *vpcd.Slot
	revoked *pki.Identity
}

func newFed(t *testing.T) *fed {
	t.Helper()
	lasso.Require(t)
	f := &fed{sps: map[string]*lasso.SP{}}
	var mds [][]byte
	for _, v := range spVariants {
		sp := lasso.NewSP(t, v.cfg)
		f.sps[v.name] = sp
		mds = append(mds, sp.Metadata)
	}
	f.idp = idpkit.New(t, idpkit.Options{SPMetadata: mds, Discovery: true, Tweak: func(c *idpkit.Config) {
		c.Quirks = map[string]idpkit.SPQuirks{}
		for name := range signResponseFor {
			c.Quirks[f.sps[name].EntityID] = idpkit.SPQuirks{SignResponse: true}
		}
	}})
	alice := f.idp.IssueCard("p-alice", "HIC-0001", pki.RSA2048)
	f.revoked = f.idp.IssueCard("p-mallory", "HIC-0666", pki.RSA2048)
	f.idp.RevokeOnCRL("HIC-0666")
	f.idp.Start()
	served, err := lasso.FetchMetadata(ctx(t), f.idp.Client(), f.idp.MetadataURL)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(f.sps))
	for name, sp := range f.sps { // python and Lasso load in parallel
		go func() {
			if err := sp.Start(served); err != nil {
				errs <- fmt.Errorf("Lasso SP %s refused our metadata as served: %w", name, err)
				return
			}
			errs <- nil
		}()
	}
	for range f.sps {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	f.slot = pcsc.AcquireT(t)
	f.card = vcard.Insert(t, f.slot, 0, alice, vcard.Options{CardNumber: "HIC-0001"})
	return f
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// browserWith is a fresh browser (no session, no pooled connection);
// c nil presents no client certificate.
func (f *fed) browserWith(t *testing.T, c *vcard.Card) *browser.Browser {
	cfg := browser.Config{RootCAs: f.idp.RootCAs, ServerName: idpkit.ServerName}
	if c != nil {
		cfg.Certificate, cfg.Key = []*x509.Certificate{c.Cert}, c.Signer
	}
	b, err := browser.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signed runs fn and fails unless the card signed at least one handshake.
func (f *fed) signed(t *testing.T, fn func()) {
	t.Helper()
	before := f.card.Virtual.Count(piv.InsGeneralAuth)
	fn()
	if f.card.Virtual.Count(piv.InsGeneralAuth) == before {
		t.Fatal("the card signed no handshake")
	}
}

// login runs one browser SSO with a fresh browser holding the card.
func (f *fed) login(t *testing.T, sp *lasso.SP, binding, format string) (*lasso.Result, *browser.Browser) {
	t.Helper()
	b := f.browserWith(t, f.card)
	var page *browser.Page
	var err error
	f.signed(t, func() { page, err = b.Get(ctx(t), sp.LoginURL(binding, format, false)) })
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	r, err := lasso.ParseResult(page.Status, page.Body)
	if err != nil {
		t.Fatalf("%v\n%s\nIdP output:\n%s\nLasso:\n%s", err, b, f.idp.Stderr(), sp.Stderr())
	}
	return r, b
}

func (f *fed) check(t *testing.T, r *lasso.Result, encrypted bool, format string) {
	t.Helper()
	switch {
	case r.Issuer != f.idp.EntityID:
		t.Fatalf("issuer %q", r.Issuer)
	case r.Format != format || r.NameID == "":
		t.Fatalf("NameID %q of format %q, want %s", r.NameID, r.Format, format)
	case r.Encrypted != encrypted:
		t.Fatalf("encrypted = %v, want %v", r.Encrypted, encrypted)
	case r.AuthnContext != smartcardPKI:
		t.Fatalf("AuthnContext %q, want %s", r.AuthnContext, smartcardPKI)
	case r.InResponseTo == "" || r.InResponseTo != r.RequestID:
		t.Fatalf("InResponseTo %q for request %q", r.InResponseTo, r.RequestID)
	}
}

func urnFormat(format string) string {
	if format == lasso.Persistent {
		return lasso.FormatPersistent
	}
	return lasso.FormatTransient
}

// TestRenkeiIdPWithLassoSP: Lasso accepts our metadata exactly as served
// and completes SSO with our IdP authenticating the card through PC/SC:
// HTTP-Redirect and HTTP-POST requests, encrypted and plain assertions,
// persistent NameIDs (stable across logins) and transient ones (fresh at
// every login); the bootstrap SP gets the DiscoveryEPR.
func TestRenkeiIdPWithLassoSP(t *testing.T) {
	f := newFed(t)
	for _, v := range spVariants {
		sp := f.sps[v.name]
		for _, binding := range []string{lasso.Redirect, lasso.POST} {
			for _, format := range []string{lasso.Persistent, lasso.Transient} {
				t.Run(fmt.Sprintf("ok/%s/%s/%s", v.name, binding, format), func(t *testing.T) {
					r1, b := f.login(t, sp, binding, format)
					f.check(t, r1, v.cfg.Encrypt, urnFormat(format))
					if signed, err := b.RequestSigned(f.idp.SSOURL); err != nil || signed == v.cfg.UnsignedRequests {
						t.Fatalf("AuthnRequest signed = %v (%v), want %v\n%s", signed, err, !v.cfg.UnsignedRequests, b)
					}
					r2, _ := f.login(t, sp, binding, format)
					f.check(t, r2, v.cfg.Encrypt, urnFormat(format))
					if same := r1.NameID == r2.NameID; same != (format == lasso.Persistent) {
						t.Fatalf("NameIDs of two logins %q and %q: same = %v for %s", r1.NameID, r2.NameID, same, format)
					}
					if v.cfg.RequestDiscoveryEPR {
						f.checkBootstrap(t, r1, sp)
					} else if r1.Attr(lasso.DiscoveryEPR) != nil {
						t.Fatal("an SP that did not ask got the DiscoveryEPR")
					}
				})
			}
		}
	}
}

// TestRenkeiIdPRevokedCardLasso: a card on the CRL gets the IdP's clear
// page and Lasso's ACS receives nothing; over ECP, Lasso's SP receives a
// Responder/AuthnFailed status and no assertion.
func TestRenkeiIdPRevokedCardLasso(t *testing.T) {
	f := newFed(t)
	c := vcard.Insert(t, f.slot, 1, f.revoked, vcard.Options{CardNumber: "HIC-0666"})
	b := f.browserWith(t, c)
	sp := f.sps["encrypted"]
	page, err := b.Get(ctx(t), sp.LoginURL(lasso.POST, lasso.Persistent, false))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if page.Status != http.StatusForbidden || !strings.Contains(string(page.Body), "revoked") ||
		!strings.HasPrefix(page.URL.String(), f.idp.CardLoginURL) {
		t.Fatalf("revoked card: HTTP %d at %s: %s\n%s", page.Status, page.URL, page.Body, b)
	}
	for _, h := range b.Hops() {
		if strings.HasPrefix(h.URL, sp.URL) && h.Method == http.MethodPost {
			t.Fatalf("Lasso's ACS was reached with a revoked card\n%s", b)
		}
	}
	run, err := (&lasso.ECP{IdPMetadata: f.idp.Metadata, SP: f.browserWith(t, nil).Client(),
		IdP: cardClient(f.browserWith(t, c))}).Run(ctx(t), t, sp.ECPURL(lasso.Persistent))
	if err != nil {
		t.Fatalf("ECP: %v\n%s", err, run)
	}
	_, err = lasso.ParseResult(run.Status, run.Body)
	var refused *lasso.RefusedError
	if !errors.As(err, &refused) || len(refused.Status) != 2 || refused.Status[1] != authnFailed {
		t.Fatalf("ECP with a revoked card: Lasso's SP got %v, want a %s status\n%s", err, authnFailed, run)
	}
}

// authnFailed is the second-level status of a failed card login (SAML
// Core §3.2.2.2, under Responder).
const authnFailed = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
