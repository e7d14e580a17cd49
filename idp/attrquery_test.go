package idp

import (
	"bytes"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/internal/testkit/pki"
	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

const (
	oidDisplayName = "urn:oid:2.16.840.1.113730.3.1.241"
	oidMail        = "urn:oid:0.9.2342.19200300.100.1.3"
)

// attrFile is the operator's attribute file of the tests.
const attrFile = `{"p-alice": {"displayName": ["山田 花子"], "mail": ["hanako@example.jp"], "sn": ["山田"]},
 "p-bob": {"displayName": ["Bob"]}}`

// newAttrEnv is an IdP releasing displayName and mail to otherSP and
// displayName to the portal, nothing to anyone else, with its
// AttributeService and NameIDMappingService on; otherSP may ask for the
// portal's NameID (and noEncID's, which has no encryption key).
func newAttrEnv(t testing.TB) *ssoEnv {
	t.Helper()
	e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
	p := filepath.Join(e.dir, "attributes.json")
	must(t, os.WriteFile(p, []byte(attrFile), 0o600))
	src, err := ReadAttributeFile(p)
	must(t, err)
	core := func(c *Config) {
		c.Attributes = &AttributeRelease{Source: src, Policy: map[string][]string{
			otherSP: {"displayName", "mail"}, portalID: {"displayName"}}}
	}
	return e.serve(t, core, func(c *SSOConfig) {
		c.AttributeServiceURL = e.mainURL + PathAttributeQuery
		c.NameIDMapping = NameIDMappingConfig{URL: e.mainURL + PathNameIDMapping,
			Allowed: map[string][]string{otherSP: {portalID, noEncID}}}
	})
}

// query posts m over SOAP to path, signed by sp when sign is set, and
// returns the HTTP status and the verified Body of a 200 answer.
func (e *ssoEnv) query(t testing.TB, path string, sp *testSP, m samlp.Message, sign bool) (int, *etree.Element) {
	t.Helper()
	el := m.Element()
	if sign {
		var err error
		el, err = samlp.Sign(m, spSigner(sp))
		must(t, err)
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	must(t, err)
	r, err := http.NewRequest(http.MethodPost, e.mainURL+path, bytes.NewReader(b))
	must(t, err)
	r.Header.Set("Content-Type", "text/xml; charset=utf-8")
	x := e.do(e.browser(nil), r)
	if x.Status != http.StatusOK {
		return x.Status, nil
	}
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(strings.NewReader(x.Body))
	must(t, err)
	must(t, e.schema.ValidateElement(env.Body))
	return x.Status, env.Body
}

func (e *ssoEnv) attrQuery(sp *testSP, id string, nid *saml.NameID, attrs ...saml.Attribute) *samlp.AttributeQuery {
	return &samlp.AttributeQuery{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now,
		Destination: e.mainURL + PathAttributeQuery, Issuer: &saml.Issuer{Value: sp.ID}}, NameID: nid, Attributes: attrs}
}

// askAttributes sends q and returns the IdP's signed Response in answer
// to it and, on Success, its verified assertion (decrypted for an SP with
// an encryption key).
func (e *ssoEnv) askAttributes(t testing.TB, sp *testSP, q *samlp.AttributeQuery, sign bool) (*samlp.Response, *saml.Assertion) {
	t.Helper()
	status, body := e.query(t, PathAttributeQuery, sp, q, sign)
	if status != http.StatusOK {
		t.Fatalf("HTTP %d", status)
	}
	resp, _, err := samlp.VerifyResponse(body, e.verifier)
	must(t, err)
	if resp.InResponseTo != q.ID || resp.Issuer.Value != idpID {
		t.Fatalf("response header %+v", resp.StatusResponseHeader)
	}
	if !resp.Status.Success() {
		return resp, nil
	}
	el := resp.Assertions[0]
	if sp.Encrypt != (el.Tag == "EncryptedAssertion") {
		t.Fatalf("assertion %s for an SP with encryption key %v", el.Tag, sp.Encrypt)
	}
	if sp.Encrypt {
		el, err = decrypter(sp.Key, sp.ID).Decrypt(el)
		must(t, err)
	}
	a, _, err := saml.VerifyAssertion(el, e.verifier)
	must(t, err)
	must(t, a.CheckConditions(e.now, 0, sp.ID))
	return resp, a
}

func wantSAMLStatus(t testing.TB, st samlp.Status, top, second string) {
	t.Helper()
	if st.Code.Value != top || st.Second() != second {
		t.Fatalf("status %s/%s (%s), want %s/%s", st.Code.Value, st.Second(), st.Message, top, second)
	}
}

// values lists an assertion's attributes as name=value, each with
// NameFormat uri.
func values(t testing.TB, a *saml.Assertion) []string {
	t.Helper()
	var out []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.NameFormat != saml.AttrNameFormatURI {
				t.Fatalf("attribute %s NameFormat %q", at.Name, at.NameFormat)
			}
			for _, v := range at.Values {
				out = append(out, at.Name+"="+v.Text)
			}
		}
	}
	return out
}

func wantValues(t testing.TB, a *saml.Assertion, want ...string) {
	t.Helper()
	if got := values(t, a); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("attributes %q, want %q", got, want)
	}
}

// TestReleaseInAssertion: the SSO assertion carries the attributes the
// policy releases to its SP, by urn:oid: name with NameFormat uri; an SP
// the policy does not list gets no AttributeStatement.
func TestReleaseInAssertion(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	got, err := e.consume(sp, e.redirect(e.browser(&e.Alice), e.newRequest(sp, "_rel1"), "", nil), "_rel1")
	must(t, err)
	wantValues(t, got.Assertion, oidDisplayName+"=山田 花子", oidMail+"=hanako@example.jp")
	t.Run("ok/unlisted-sp-gets-none", func(t *testing.T) {
		sp := e.sps[legacyID]
		got, err := e.consume(sp, e.redirect(e.browser(&e.Alice), e.newRequest(sp, "_rel2"), "", redirectSigner(sp)), "_rel2")
		must(t, err)
		if len(got.Assertion.AttributeStatements) != 0 {
			t.Fatalf("attributes released to an SP without policy: %+v", got.Assertion.AttributeStatements)
		}
	})
}

// TestAttributeQuery runs AttributeQuery over SOAP (SAML Core §3.3.2.3):
// released attributes for the requester's own NameID, filtered by what
// the query names, and each refusal with its status.
func TestAttributeQuery(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_login1")
	t.Run("ok/persistent-all-released", func(t *testing.T) {
		resp, a := e.askAttributes(t, sp, e.attrQuery(sp, "_q1", nid), true)
		wantSAMLStatus(t, resp.Status, samlp.StatusSuccess, "")
		wantValues(t, a, oidDisplayName+"=山田 花子", oidMail+"=hanako@example.jp")
		if a.Subject.NameID.Value != nid.Value {
			t.Fatalf("subject %+v, queried %+v", a.Subject.NameID, nid)
		}
	})
	t.Run("ok/filtered-by-query", func(t *testing.T) {
		_, a := e.askAttributes(t, sp, e.attrQuery(sp, "_q2", nid, saml.Attribute{Name: oidMail, NameFormat: saml.AttrNameFormatURI}), true)
		wantValues(t, a, oidMail+"=hanako@example.jp")
	})
	t.Run("ok/value-not-held-omitted", func(t *testing.T) {
		_, a := e.askAttributes(t, sp, e.attrQuery(sp, "_q3", nid, saml.Attribute{Name: oidMail,
			Values: []saml.AttributeValue{{Text: "other@example.jp"}}}, saml.Attribute{Name: oidDisplayName}), true)
		wantValues(t, a, oidDisplayName+"=山田 花子")
	})
	t.Run("ok/unreleased-attribute-omitted", func(t *testing.T) {
		_, a := e.askAttributes(t, sp, e.attrQuery(sp, "_q4", nid, saml.Attribute{Name: "urn:oid:2.5.4.4"}), true)
		wantValues(t, a)
	})
	t.Run("fail/unsigned", func(t *testing.T) {
		resp, _ := e.askAttributes(t, sp, e.attrQuery(sp, "_q5", nid), false)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/unknown-nameid", func(t *testing.T) {
		bogus := *nid
		bogus.Value = "never-issued"
		resp, _ := e.askAttributes(t, sp, e.attrQuery(sp, "_q6", &bogus), true)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
	})
	t.Run("fail/replayed", func(t *testing.T) {
		q := e.attrQuery(sp, "_q7", nid)
		e.askAttributes(t, sp, q, true)
		resp, _ := e.askAttributes(t, sp, q, true)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("fail/another-sps-nameid", func(t *testing.T) {
		portal := e.loginAt(t, portalID, "_login2")
		resp, _ := e.askAttributes(t, sp, e.attrQuery(sp, "_q8", portal), true)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
		portal.SPNameQualifier = ""
		resp, _ = e.askAttributes(t, sp, e.attrQuery(sp, "_q9", portal), true)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
	})
	t.Run("fail/sp-without-policy", func(t *testing.T) {
		legacy := e.sps[legacyID]
		got, err := e.consume(legacy, e.redirect(e.browser(&e.Alice), e.newRequest(legacy, "_login3"), "", redirectSigner(legacy)), "_login3")
		must(t, err)
		resp, _ := e.askAttributes(t, legacy, e.attrQuery(legacy, "_q10", got.Assertion.Subject.NameID), true)
		wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusRequestDenied)
	})
	t.Run("ok/encrypted-for-sp-with-key", func(t *testing.T) {
		portal := e.sps[portalID]
		pn := e.loginAt(t, portalID, "_login4")
		_, a := e.askAttributes(t, portal, e.attrQuery(portal, "_q11", pn), true)
		wantValues(t, a, oidDisplayName+"=山田 花子")
	})
}

// TestAttributeQueryTransient: a transient NameID names its principal to
// a query while the session it was issued in lives, and not after logout.
func TestAttributeQueryTransient(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	req := e.newRequest(sp, "_tl1")
	req.NameIDPolicy = &samlp.NameIDPolicy{Format: saml.NameIDTransient}
	b := e.browser(&e.Alice)
	got, err := e.consume(sp, e.redirect(b, req, "", nil), "_tl1")
	must(t, err)
	nid := got.Assertion.Subject.NameID
	if nid.Format != saml.NameIDTransient {
		t.Fatalf("NameID %+v", nid)
	}
	_, a := e.askAttributes(t, sp, e.attrQuery(sp, "_tq1", nid), true)
	wantValues(t, a, oidDisplayName+"=山田 花子", oidMail+"=hanako@example.jp")
	_, a = e.askAttributes(t, sp, e.attrQuery(sp, "_tq2", nid), true)
	if a == nil {
		t.Fatal("ok/asked-twice: refused")
	}
	sessions, err := e.db.Sessions(ctx, "p-alice")
	must(t, err)
	for _, s := range sessions {
		_, err := e.idp.EndSession(ctx, s.ID)
		must(t, err)
	}
	resp, _ := e.askAttributes(t, sp, e.attrQuery(sp, "_tq3", nid), true)
	wantSAMLStatus(t, resp.Status, samlp.StatusRequester, samlp.StatusUnknownPrincipal)
}

// TestAttributeFile: the operator's file is checked whole, every problem
// reported.
func TestAttributeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.json")
	must(t, os.WriteFile(p, []byte(`{"p": {"shoeSize": ["42"], "mail": ["a\u0007b", ""]}}`), 0o600))
	_, err := ReadAttributeFile(p)
	for _, want := range []string{"shoeSize", "control character", "0 bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fail/bad-file: %v, want %q", err, want)
		}
	}
	bad := AttributeRelease{Source: &FileAttributes{}, Policy: map[string][]string{otherSP: {"shoeSize"}}}
	if errs := bad.validate(); len(errs) != 1 {
		t.Errorf("fail/policy-unknown-name: %v", errs)
	}
}

// TestAttributeQueryClientTLS: an unsigned query is authenticated by the
// connection's TLS client certificate when its key is one of the
// requester's metadata signing keys, and refused with another.
func TestAttributeQueryClientTLS(t *testing.T) {
	e := newAttrEnv(t)
	sp := e.sps[otherSP]
	nid := e.loginAt(t, otherSP, "_tls1")
	for _, tt := range []struct {
		name string
		cert *pki.Identity
		ok   bool
	}{{"ok/metadata-key", sp.Key, true}, {"fail/other-key", e.sps[legacyID].Key, false}} {
		t.Run(tt.name, func(t *testing.T) {
			q := e.attrQuery(sp, "_tls-"+tt.cert.Name, nid)
			out, err := e.sso.AttributeQuery(ctx, QueryInbound{Element: reparsed(t, q.Element()),
				ClientCerts: []*x509.Certificate{tt.cert.Cert}}, e.now)
			if tt.ok != (err == nil) || out == nil {
				t.Fatalf("err %v, outcome %v", err, out)
			}
			resp, _, err := samlp.VerifyResponse(out.Response, e.verifier)
			must(t, err)
			if resp.Status.Success() != tt.ok {
				t.Fatalf("status %+v", resp.Status)
			}
		})
	}
}

func reparsed(t testing.TB, el *etree.Element) *etree.Element {
	t.Helper()
	b, err := xmlsec.Serialize(el)
	must(t, err)
	out, err := xmlsec.ParseElement(b, xmlsec.Limits{})
	must(t, err)
	return out
}
