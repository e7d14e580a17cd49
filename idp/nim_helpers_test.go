package idp

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
)

// newNIMEnv is an IdP with the ManageNameIDService on, whose otherSP lists
// spNIM (when not "") as its ManageNameIDService; client sends the
// IdP-initiated requests.
func newNIMEnv(t testing.TB, spNIM string, client *http.Client) *ssoEnv {
	t.Helper()
	e := &ssoEnv{fixture: newFixture(t), sps: testSPs(t), verifier: idpVerifier(t)}
	e.sps[otherSP].NIM = spNIM
	return e.serve(t, nil, func(c *SSOConfig) { c.NIM = NIMConfig{URL: e.mainURL + PathNIM, Client: client} })
}

// loginAt is a card login of Alice at spID through the browser profile:
// the NameID of the assertion the SP accepted.
func (e *ssoEnv) loginAt(t testing.TB, spID, reqID string) *saml.NameID {
	t.Helper()
	sp := e.sps[spID]
	var s *binding.RedirectSigner
	if sp.SignRequests {
		s = redirectSigner(sp)
	}
	got, err := e.consume(sp, e.redirect(e.browser(&e.Alice), e.newRequest(sp, reqID), "", s), reqID)
	must(t, err)
	if got.Assertion == nil {
		t.Fatalf("login at %s refused: %+v", spID, got.Response.Status)
	}
	return got.Assertion.Subject.NameID
}

// nimReq is a ManageNameIDRequest of sp about nid, to the IdP's endpoint
// at now; the caller sets the change.
func (e *ssoEnv) nimReq(sp *testSP, id string, nid *saml.NameID) *samlp.ManageNameIDRequest {
	return &samlp.ManageNameIDRequest{RequestHeader: samlp.RequestHeader{ID: id, IssueInstant: e.now,
		Destination: e.mainURL + PathNIM, Issuer: &saml.Issuer{Value: sp.ID}}, NameID: nid}
}

// nimSOAP posts req over SOAP, signed by sp when sign is set, and returns
// the HTTP status and, for HTTP 200, the IdP's response, which must be
// schema-valid, signed by the IdP and in response to req.
func (e *ssoEnv) nimSOAP(t testing.TB, sp *testSP, req *samlp.ManageNameIDRequest, sign bool) (int, *samlp.ManageNameIDResponse) {
	t.Helper()
	el := req.Element()
	if sign {
		var err error
		el, err = samlp.Sign(req, spSigner(sp))
		must(t, err)
	}
	b, err := xmlsec.Serialize((&binding.Envelope{Body: el}).Element())
	must(t, err)
	status, body := e.postSOAP(t, b)
	if status != http.StatusOK {
		return status, nil
	}
	return status, e.nimAnswer(t, body, req.ID)
}

func (e *ssoEnv) postSOAP(t testing.TB, b []byte) (int, []byte) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, e.mainURL+PathNIM, bytes.NewReader(b))
	must(t, err)
	r.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := e.browser(nil).Do(r)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	must(t, err)
	return resp.StatusCode, body
}

// nimAnswer reads the IdP's SOAP answer as the SP does.
func (e *ssoEnv) nimAnswer(t testing.TB, body []byte, id string) *samlp.ManageNameIDResponse {
	t.Helper()
	env, err := (&binding.SOAPDecoder{Understood: []string{}}).Decode(bytes.NewReader(body))
	must(t, err)
	return e.nimVerify(t, env.Body, id)
}

func (e *ssoEnv) nimVerify(t testing.TB, el *etree.Element, id string) *samlp.ManageNameIDResponse {
	t.Helper()
	must(t, e.schema.ValidateElement(el))
	resp, _, err := samlp.VerifyManageNameIDResponse(el, e.verifier)
	must(t, err)
	if resp.Issuer == nil || resp.Issuer.Value != idpID || resp.InResponseTo != id {
		t.Fatalf("response header %+v, want in response to %q", resp.StatusResponseHeader, id)
	}
	return resp
}

func wantNIM(t testing.TB, resp *samlp.ManageNameIDResponse, top, second string) {
	t.Helper()
	if resp.Status.Code.Value != top || resp.Status.Second() != second {
		t.Fatalf("status %s/%s (%s), want %s/%s", resp.Status.Code.Value, resp.Status.Second(), resp.Status.Message, top, second)
	}
}

// nfdOf returns s decomposed: "e" followed by a combining acute accent for
// "é", which NFC composes.
func nfdOf(s string) string { return strings.ReplaceAll(s, "é", "e\u0301") }
