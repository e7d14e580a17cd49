package secmech_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/wsf"
	"github.com/renkei-idwsf/renkei/wsf/internal/wsftest"
	"github.com/renkei-idwsf/renkei/wsf/secmech"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/wire"
	"github.com/renkei-idwsf/renkei/xmlsec/xmlenc"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

const mintLife = 10 * time.Minute

var mintNow = time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)

// mintParty is the federation of wsftest: the DS (wsftest.DSID, whose
// metadata key is the IdP's) signs, the WSP decrypts, the WSC is the
// invoker, and the other WSP must not read the subject.
func mintParty(t testing.TB) *wsftest.Identities { return wsftest.Keys(t) }

func mintOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mintWantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func testMinter(t testing.TB) *secmech.Minter {
	k := mintParty(t)
	return &secmech.Minter{Issuer: wsftest.DSID, Signer: &dsig.Signer{Key: k.IdP.Key, Certificates: []*x509.Certificate{k.IdP.Cert}}}
}

// wspNameID is the principal's pairwise NameID at the WSP, with the
// hospital's patient number as SPProvidedID.
func wspNameID() *saml.NameID {
	return &saml.NameID{Value: "pairwise-at-hospital1", Format: saml.NameIDPersistent, NameQualifier: wsftest.IdPID,
		SPNameQualifier: wsftest.WSPID, SPProvidedID: "patient-0042"}
}

// hokRequest is a holder-of-key token for the WSP, bound to the portal.
func hokRequest(t testing.TB) secmech.TokenRequest {
	k := mintParty(t)
	return secmech.TokenRequest{Audience: wsftest.WSPID, Target: xmlenc.Recipient{EntityID: wsftest.WSPID, Cert: k.WSP.Cert},
		NameID: wspNameID(), Confirmation: secmech.ConfirmHolderOfKey, Invoker: k.WSC.Cert, Lifetime: mintLife,
		AuthnInstant: mintNow.Add(-time.Minute), AuthnClassRef: saml.ACSmartcardPKI}
}

// wspChecker is the token checker of provider self, which decrypts with
// key: it trusts the DS as a token issuer.
func wspChecker(t testing.TB, self string, key *pki.Identity) *secmech.TokenChecker {
	return &secmech.TokenChecker{Self: self, Directory: wsftest.Directory(t, wsf.Strict),
		Decrypter: &xmlenc.Decrypter{Key: key.Key.(*rsa.PrivateKey), EntityID: self}}
}

func validateSAML(t testing.TB, el *etree.Element) {
	t.Helper()
	schema, err := xsd.Default()
	mintOK(t, err)
	mintOK(t, schema.ValidateElement(el))
}

// TestMintHolderOfKey: the WSP accepts the token (signature, issuer,
// audience, window), reads its NameID with SPProvidedID from the
// EncryptedID, sees the portal's key confirmed and the SSO's
// authentication; another provider, a later instant or a changed subject
// are refused (IDWSF2 §3.4, §3.6).
func TestMintHolderOfKey(t *testing.T) {
	k := mintParty(t)
	m, err := testMinter(t).Mint(hokRequest(t), mintNow)
	mintOK(t, err)
	validateSAML(t, m.Element)
	tok, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), m.Element, mintNow, false)
	mintOK(t, err)
	if *tok.Subject != *wspNameID() {
		t.Fatalf("WSP reads subject %+v, want %+v", tok.Subject, wspNameID())
	}
	a := tok.Assertion
	end := mintNow.Add(mintLife)
	if a.ID != m.ID || a.Issuer.Value != wsftest.DSID || !m.NotOnOrAfter.Equal(end) ||
		!a.Conditions.NotBefore.Equal(mintNow) || !a.Conditions.NotOnOrAfter.Equal(end) {
		t.Fatalf("token %s issuer %q conditions %+v, minted %+v", a.ID, a.Issuer.Value, a.Conditions, m)
	}
	if len(a.AuthnStatements) != 1 || a.AuthnStatements[0].ClassRef != saml.ACSmartcardPKI ||
		!a.AuthnStatements[0].AuthnInstant.Equal(mintNow.Add(-time.Minute)) {
		t.Fatalf("AuthnStatements %+v", a.AuthnStatements)
	}
	hok := tok.HolderOfKeys(mintNow, 0)
	if len(hok) != 1 || !k.WSC.Cert.PublicKey.(*rsa.PublicKey).Equal(hok[0]) || tok.IsBearer(mintNow, 0, true) {
		t.Fatalf("holder-of-key keys %v, bearer %v", hok, tok.IsBearer(mintNow, 0, true))
	}
	t.Run("fail/other-audience", func(t *testing.T) {
		_, err := wspChecker(t, wsftest.OtherID, k.WSP).Check(context.Background(), m.Element, mintNow, false)
		mintWantErr(t, err, saml.ErrAudience)
	})
	t.Run("fail/expired", func(t *testing.T) {
		_, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), m.Element, end, false)
		mintWantErr(t, err, saml.ErrExpired)
	})
	t.Run("fail/tampered-subject", func(t *testing.T) {
		_, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), swapSubject(t, m.Element), mintNow, false)
		mintWantErr(t, err, xmlsec.ErrDigest)
	})
	t.Run("fail/subject-unreadable-by-others", func(t *testing.T) {
		for _, key := range []*pki.Identity{k.WSC, k.Other} {
			_, err := a.Subject.EncryptedID.Decrypt(&xmlenc.Decrypter{Key: key.Key.(*rsa.PrivateKey)})
			mintWantErr(t, err, xmlsec.ErrDecrypt)
		}
	})
}

// TestMintSessionIndex: a token minted with a SessionIndex carries it in
// its AuthnStatement, stays schema-valid and reads back at the WSP, so a
// LogoutRequest naming it can end the token.
func TestMintSessionIndex(t *testing.T) {
	k := mintParty(t)
	req := hokRequest(t)
	req.SessionIndex = "_wsp-session-1"
	m, err := testMinter(t).Mint(req, mintNow)
	mintOK(t, err)
	validateSAML(t, m.Element)
	tok, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), m.Element, mintNow, false)
	mintOK(t, err)
	if as := tok.Assertion.AuthnStatements; len(as) != 1 || as[0].SessionIndex != "_wsp-session-1" {
		t.Fatalf("AuthnStatements %+v, want SessionIndex _wsp-session-1", as)
	}
	ended := endedSessions{"_other-session": true}
	c := wspChecker(t, wsftest.WSPID, k.WSP)
	c.Sessions = ended
	_, err = c.Check(context.Background(), m.Element, mintNow, false)
	mintOK(t, err)
	t.Run("fail/outlives-the-record-of-its-logout", func(t *testing.T) {
		long := req
		long.Lifetime = 2 * time.Hour // the record of a logout is kept one hour
		m, err := testMinter(t).Mint(long, mintNow)
		mintOK(t, err)
		_, err = c.Check(context.Background(), m.Element, mintNow, false)
		mintWantErr(t, err, saml.ErrExpired)
	})
	t.Run("fail/session-logged-out", func(t *testing.T) {
		ended["_wsp-session-1"] = true
		_, err := c.Check(context.Background(), m.Element, mintNow, false)
		mintWantErr(t, err, saml.ErrExpired)
	})
}

// endedSessions is a secmech.EndedSessions of fixed SessionIndexes,
// remembered an hour.
type endedSessions map[string]bool

func (endedSessions) Remembers() time.Duration { return time.Hour }

func (e endedSessions) Ended(_ context.Context, index string, _ time.Time) (bool, error) {
	return e[index], nil
}

// swapSubject returns a copy of token el whose EncryptedID is another
// one the WSP can decrypt, naming someone else.
func swapSubject(t *testing.T, el *etree.Element) *etree.Element {
	req := hokRequest(t)
	req.NameID.Value = "someone-else"
	other, err := testMinter(t).Mint(req, mintNow)
	mintOK(t, err)
	out := xmlsec.DetachCopy(el)
	sub := wire.Children(out, wsf.NSSAML, "Subject")[0]
	old := wire.Children(sub, wsf.NSSAML, "EncryptedID")[0]
	repl := wire.Children(wire.Children(other.Element, wsf.NSSAML, "Subject")[0], wsf.NSSAML, "EncryptedID")[0]
	sub.InsertChildAt(old.Index(), repl.Copy())
	sub.RemoveChild(old)
	return out
}

// TestMintBearerEncrypted: a bearer token may travel as a
// saml:EncryptedAssertion that only the WSP decrypts; the WSP accepts it
// where encrypted tokens are allowed and sees a bearer confirmation.
func TestMintBearerEncrypted(t *testing.T) {
	k := mintParty(t)
	req := hokRequest(t)
	req.Confirmation, req.Invoker, req.EncryptAssertion = secmech.ConfirmBearer, nil, true
	m, err := testMinter(t).Mint(req, mintNow)
	mintOK(t, err)
	if !wire.Is(m.Element, wsf.NSSAML, "EncryptedAssertion") {
		t.Fatalf("minted <%s>, want saml:EncryptedAssertion", m.Element.Tag)
	}
	plain, err := (&xmlenc.Decrypter{Key: k.WSP.Key.(*rsa.PrivateKey), EntityID: wsftest.WSPID}).Decrypt(m.Element)
	mintOK(t, err)
	validateSAML(t, plain)
	tok, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), m.Element, mintNow, true)
	mintOK(t, err)
	if !tok.IsBearer(mintNow, 0, false) || len(tok.HolderOfKeys(mintNow, 0)) != 0 || tok.Assertion.ID != m.ID {
		t.Fatalf("token %s is not a bearer token only", tok.Assertion.ID)
	}
	t.Run("fail/encrypted-not-accepted-here", func(t *testing.T) {
		_, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), m.Element, mintNow, false)
		mintWantErr(t, err, saml.ErrSubject)
	})
	t.Run("fail/portal-cannot-decrypt", func(t *testing.T) {
		_, err := (&xmlenc.Decrypter{Key: k.WSC.Key.(*rsa.PrivateKey)}).Decrypt(m.Element)
		mintWantErr(t, err, xmlsec.ErrDecrypt)
	})
}

// TestMintBearerPlain: a bearer token that is not encrypted still hides
// its subject, and the session's end bounds it.
func TestMintBearerPlain(t *testing.T) {
	k := mintParty(t)
	req := hokRequest(t)
	req.Confirmation, req.SessionEnd = secmech.ConfirmBearer, mintNow.Add(time.Minute)
	req.AuthnInstant = time.Time{}
	m, err := testMinter(t).Mint(req, mintNow)
	mintOK(t, err)
	validateSAML(t, m.Element)
	tok, err := wspChecker(t, wsftest.WSPID, k.WSP).Check(context.Background(), m.Element, mintNow, false)
	mintOK(t, err)
	if !m.NotOnOrAfter.Equal(req.SessionEnd) || !tok.Assertion.Conditions.NotOnOrAfter.Equal(req.SessionEnd) {
		t.Fatalf("token ends %v, session %v", tok.Assertion.Conditions.NotOnOrAfter, req.SessionEnd)
	}
	if tok.Assertion.Subject.NameID != nil || *tok.Subject != *wspNameID() || len(tok.Assertion.AuthnStatements) != 0 {
		t.Fatalf("subject %+v, authn %+v", tok.Assertion.Subject, tok.Assertion.AuthnStatements)
	}
}

// failing is randomness that has run dry.
type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestMintRefused: requests that would make a token the architecture
// forbids or a WSP refuses get a typed error and no token.
func TestMintRefused(t *testing.T) {
	k := mintParty(t)
	cases := []struct {
		name string
		edit func(*secmech.TokenRequest, *secmech.Minter)
		want error
	}{
		{"fail/no-encryption-key", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Target.Cert = nil }, secmech.ErrNoToken},
		{"fail/encryption-key-not-rsa", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Target.Cert = pki.MustGet().P256.Cert }, secmech.ErrNoToken},
		{"fail/only-rsa-1_5-declared", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Target.Methods = []string{xmlenc.RSA15} }, secmech.ErrNoToken},
		{"fail/encrypted-assertion-holder-of-key", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.EncryptAssertion = true }, secmech.ErrEncryptedNotBearer},
		{"fail/holder-of-key-without-invoker", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Invoker = nil }, secmech.ErrTokenRequest},
		{"fail/no-confirmation", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Confirmation = 0 }, secmech.ErrTokenRequest},
		{"fail/nameid-of-another-provider", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.NameID.SPNameQualifier = wsftest.OtherID }, secmech.ErrTokenRequest},
		{"fail/transient-nameid", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.NameID.Format = saml.NameIDTransient }, secmech.ErrTokenRequest},
		{"fail/no-nameid", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.NameID = nil }, secmech.ErrTokenRequest},
		{"fail/no-audience", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Audience = "" }, secmech.ErrTokenRequest},
		{"fail/no-lifetime", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Lifetime = 0 }, secmech.ErrTokenRequest},
		{"fail/session-ended", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.SessionEnd = mintNow }, secmech.ErrTokenRequest},
		{"fail/session-index-without-authn", func(r *secmech.TokenRequest, _ *secmech.Minter) {
			r.SessionIndex, r.AuthnInstant, r.AuthnClassRef = "_s1", time.Time{}, ""
		}, secmech.ErrTokenRequest},
		{"fail/authn-without-class", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.AuthnClassRef = "" }, secmech.ErrTokenRequest},
		{"fail/no-issuer", func(_ *secmech.TokenRequest, m *secmech.Minter) { m.Issuer = "" }, secmech.ErrTokenRequest},
		{"fail/no-randomness-for-the-id", func(_ *secmech.TokenRequest, m *secmech.Minter) { m.Rand = failing{} }, secmech.ErrMintFailed},
		{"fail/no-randomness-for-the-encryption", func(_ *secmech.TokenRequest, m *secmech.Minter) {
			m.Rand = io.MultiReader(bytes.NewReader(make([]byte, 16)), failing{}) // enough for the ID alone
		}, secmech.ErrMintFailed},
		{"fail/subject-encrypted-for-another-provider", func(r *secmech.TokenRequest, _ *secmech.Minter) { r.Target.EntityID = wsftest.OtherID }, secmech.ErrTokenRequest},
		{"fail/schema-refuses", func(_ *secmech.TokenRequest, m *secmech.Minter) { m.Schema = refusingSchema{} }, secmech.ErrMintFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, m := hokRequest(t), testMinter(t)
			c.edit(&req, m)
			got, err := m.Mint(req, mintNow)
			mintWantErr(t, err, c.want)
			if got != nil {
				t.Fatalf("minted %+v with an error", got)
			}
		})
	}
	t.Run("ok/check-target-before-allocating", func(t *testing.T) {
		mintWantErr(t, secmech.CheckTarget(xmlenc.Recipient{EntityID: wsftest.WSPID}), secmech.ErrNoToken)
		mintOK(t, secmech.CheckTarget(xmlenc.Recipient{EntityID: wsftest.WSPID, Cert: k.WSP.Cert}))
	})
}

// refusingSchema refuses every element, to show the minter's check runs.
type refusingSchema struct{}

func (refusingSchema) ValidateElement(*etree.Element) error { return errors.New("refused by the test") }
