package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// rowSLOSOAPIdP is the back-channel IdP-initiated SLO row. For an SP,
// the IdP-initiated rows are the logouts it receives (its SP-initiated
// rows, the logouts it starts, have no case: SAML defines no way for the
// suite to make an SP start one).
const rowSLOSOAPIdP = "SAML2-Conf/slo-soap-idp"

// SessionRule tells whether the SP still holds a session, for the Single
// Logout cases: the suite GETs URL (not followed; relative to the ACS
// URL) presenting the cookies the browser held right after its login, in
// a fresh browser, and an answer that Without describes (the fields of
// AcceptRule: status, locationPrefix) means no session; any other answer
// means the session lives. The session is judged at the SP, not by what
// the browser kept: an SP that only drops the browser's cookie has not
// ended the session. Each case checks the rule first: right after the
// login the session must show, and with no cookies it must not.
// Renkei's portal: {"url": "/labs", "without": {"status": 303,
// "locationPrefix": "/"}}: a page only a session shows, which sends a
// visitor without one to the welcome page.
type SessionRule struct {
	URL     string     `json:"url"`
	Without AcceptRule `json:"without"`
}

// validate accepts a rule that is absent (the Single Logout cases then
// cannot be judged) or complete.
func (r SessionRule) validate() error {
	switch {
	case r == (SessionRule{}):
		return nil
	case r.URL == "":
		return errors.New("give the url of a page the SP answers differently without a session")
	case r.Without.Status == 0 && r.Without.LocationPrefix == "":
		return errors.New("without: give the status or locationPrefix of the answer without a session")
	}
	return nil
}

// spSession is a session the suite opened at the SP: the browser, the
// subject and session index asserted, and the cookies the browser held
// for the session URL right after the login.
type spSession struct {
	b            *Browser
	nameID       *saml.NameID
	sessionIndex string
	cookies      []*http.Cookie
}

// sessionURL is the rule's URL resolved against the ACS.
func (e *Env) sessionURL() (*url.URL, error) {
	base, err := url.Parse(e.SPT.ACS)
	if err != nil {
		return nil, err
	}
	return base.Parse(e.SPT.Session.URL)
}

// openSession logs a fresh browser in with a conforming Response and
// checks the session rule on it; an outcome ends the case.
func (e *Env) openSession(ctx context.Context) (*spSession, *Outcome) {
	end := func(o Outcome) (*spSession, *Outcome) { return nil, &o }
	if e.SPT == nil {
		return end(broken("no SP target"))
	}
	if e.SPT.Session.URL == "" {
		return end(broken("the sp target gives no session rule (\"session\"): whether a logout ended the session cannot be observed"))
	}
	l, err := e.beginLogin(ctx)
	if err != nil {
		return end(spOutcome(err))
	}
	s := &spSession{b: l.b, nameID: e.SPT.nameID("conformance-" + e.newID()[1:13]), sessionIndex: e.newID()}
	r, _, err := e.buildResponse(l, respOpts{nameID: s.nameID.Value, sessionIndex: s.sessionIndex})
	if err != nil {
		return end(broken("building the login's Response: %v", err))
	}
	a, err := e.post(ctx, l, r, "login: a conforming Response")
	if err != nil {
		return end(spOutcome(err))
	}
	if !a.Accepted {
		return end(Outcome{Verdict: Error, Side: SideTarget, Reason: fmt.Sprintf("the SP refused the conforming Response of the login (%s): there is no session to log out (see the positive Web SSO case)", a)})
	}
	u, err := e.sessionURL()
	if err != nil {
		return end(broken("session url: %v", err))
	}
	s.cookies = l.b.client.Jar.Cookies(u)
	switch alive, err := e.sessionAlive(ctx, s.cookies, "after the login"); {
	case err != nil:
		return end(spOutcome(err))
	case !alive:
		return end(broken("the session rule sees no session right after an accepted login: it does not fit this SP"))
	}
	switch alive, err := e.sessionAlive(ctx, nil, "without cookies"); {
	case err != nil:
		return end(spOutcome(err))
	case alive:
		return end(broken("the session rule sees a session in a browser without cookies: it does not fit this SP"))
	}
	return s, nil
}

// sessionAlive GETs the session URL in a fresh browser presenting
// cookies, and applies the rule to the answer.
func (e *Env) sessionAlive(ctx context.Context, cookies []*http.Cookie, label string) (bool, error) {
	u, err := e.sessionURL()
	if err != nil {
		return false, err
	}
	b, err := e.Browser()
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	e.Record(Message{Direction: "sent", Label: "session probe " + label, URL: u.String()})
	res, err := b.client.Do(req)
	if err != nil {
		return false, errTarget("the session probe %s: %v", u, err)
	}
	body, err := readPage(res)
	if err != nil {
		return false, err
	}
	a := &acsAnswer{Status: res.StatusCode, Location: res.Header.Get("Location")}
	alive := !e.SPT.Session.Without.accepts(u.String(), a)
	seen := "no session"
	if alive {
		seen = "a session"
	}
	e.Record(Message{Direction: "received", Label: "session probe answer: " + a.String() + " (" + seen + ")", URL: u.String(), Status: res.StatusCode, Body: string(body)})
	return alive, nil
}

// spLogoutRequest is the suite IdP's LogoutRequest to dest for the
// session's NameID and SessionIndex (SAML Profiles §4.4.4.1).
func (e *Env) spLogoutRequest(dest string, s *spSession) *samlp.LogoutRequest {
	return &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(), Destination: dest,
		Issuer: &saml.Issuer{Value: e.SPT.IdP.EntityID}}, Reason: samlp.LogoutUser,
		NameID: s.nameID, SessionIndexes: []string{s.sessionIndex}}
}

// sendSPLogoutRedirect sends req to the SP's front-channel SingleLogout
// Service in the session's browser, query-signed by the suite IdP unless
// unsigned, and returns where the browser stopped and whether that is the
// suite IdP's SingleLogoutService (the SP answered).
func (e *Env) sendSPLogoutRedirect(ctx context.Context, s *spSession, req *samlp.LogoutRequest, unsigned bool) (*Landing, bool, error) {
	var sg *binding.RedirectSigner
	if !unsigned {
		sg = &binding.RedirectSigner{Key: e.SPT.IdP.Key}
	}
	u, err := binding.RedirectURL(req.Destination, req.Element(), "", sg)
	if err != nil {
		return nil, false, err
	}
	land, err := s.b.Get(ctx, u, "LogoutRequest (HTTP-Redirect)")
	if err != nil {
		return nil, false, errTarget("sending the LogoutRequest to %s: %v", req.Destination, err)
	}
	slo := e.SPT.IdP.SLOURL()
	if land.Form != nil && land.Form.Action == slo {
		return land, false, errTarget("the SP answered over HTTP-POST, which the suite IdP's metadata does not list for its SingleLogoutService (SAML Profiles §4.4.4.2)")
	}
	return land, strings.HasPrefix(land.URL, slo+"?"), nil
}

// readSPLogoutRedirect reads the LogoutResponse the browser brought to the
// suite IdP's SingleLogoutService: query-signed with a key of the SP's
// metadata (SAML Profiles §4.4.4.2; SAML Bindings §3.4.4.1), then
// judgeSPLogoutResponse, Destination the suite's SingleLogoutService.
func (e *Env) readSPLogoutRedirect(land *Landing, reqID string) (*samlp.LogoutResponse, error) {
	u, err := url.Parse(land.URL)
	if err != nil {
		return nil, errTarget("redirect URL: %v", err)
	}
	msg, err := (&binding.RedirectDecoder{}).Decode(u.RawQuery)
	switch {
	case err != nil:
		return nil, errTarget("the SP's HTTP-Redirect message: %v", err)
	case msg.Param != binding.ParamResponse:
		return nil, errTarget("the SP sent %s to the SingleLogoutService, not a SAMLResponse", msg.Param)
	case !msg.Signed():
		return nil, errTarget("the LogoutResponse carries no query signature: the SP must authenticate its answer (SAML Profiles §4.4.4.2)")
	}
	el, _, err := msg.Verify(xmlsec.NewTrustSet(e.SPT.Keys), xmlsec.Policy{AllowSHA1: true})
	if err != nil {
		return nil, errTarget("the LogoutResponse's query signature does not verify with the SP's metadata keys (SAML Bindings §3.4.4.1): %v", err)
	}
	return e.judgeSPLogoutResponse(el, nil, reqID, e.SPT.IdP.SLOURL())
}

// judgeSPLogoutResponse checks the SP's LogoutResponse el (SAML Profiles
// §4.4.4.2): schema-valid, verified by v when set (an enveloped
// signature), issued by the SP, InResponseTo the request, and Destination
// dest when dest is set (SAML Bindings §3.4.5.2).
func (e *Env) judgeSPLogoutResponse(el *etree.Element, v *dsig.Verifier, reqID, dest string) (*samlp.LogoutResponse, error) {
	s, err := xsd.Default()
	if err != nil {
		return nil, err
	}
	if err := s.ValidateElement(el); err != nil {
		return nil, errTarget("the LogoutResponse is not schema-valid: %v", err)
	}
	var r *samlp.LogoutResponse
	if v != nil {
		r, _, err = samlp.VerifyLogoutResponse(el, v)
		if err != nil {
			return nil, errTarget("the LogoutResponse is not signed by a key of the SP's metadata (SAML Profiles §4.4.4.2): %v", err)
		}
	} else if r, err = samlp.DecodeLogoutResponse(el); err != nil {
		return nil, errTarget("the LogoutResponse does not decode: %v", err)
	}
	switch {
	case r.Issuer == nil || r.Issuer.Value != e.SPT.EntityID:
		return nil, errTarget("LogoutResponse Issuer %v, want the SP's entityID %q (SAML Profiles §4.4.4.2)", r.Issuer, e.SPT.EntityID)
	case r.InResponseTo != reqID:
		return nil, errTarget("LogoutResponse InResponseTo %q, want the request %q (SAML Core §3.2.2)", r.InResponseTo, reqID)
	case dest != "" && r.Destination != dest:
		return nil, errTarget("LogoutResponse Destination %q, want the suite IdP's SingleLogoutService %q (SAML Bindings §3.4.5.2)", r.Destination, dest)
	}
	return r, nil
}

// sendSPLogoutSOAP posts req to the SP's SOAP SingleLogoutService from a
// browser without cookies, XML-signed by the suite IdP unless unsigned,
// and returns the SOAP Body's element (nil with the HTTP status for a
// fault or an HTTP error).
func (e *Env) sendSPLogoutSOAP(ctx context.Context, req *samlp.LogoutRequest, unsigned bool) (*etree.Element, int, error) {
	el := req.Element()
	if !unsigned {
		var err error
		if el, err = samlp.Sign(req, e.signer(respOpts{})); err != nil {
			return nil, 0, err
		}
	}
	b, err := e.Browser()
	if err != nil {
		return nil, 0, err
	}
	env, status, err := e.soapCall(ctx, b, req.Destination, "LogoutRequest", el, &binding.SOAPDecoder{}, nil)
	if env == nil {
		return nil, status, err
	}
	return env.Body, status, err
}

// spTrust verifies with the SP's metadata signing keys.
func (e *Env) spTrust() *dsig.Verifier {
	return &dsig.Verifier{Trust: xmlsec.NewTrustSet(e.SPT.Keys)}
}
