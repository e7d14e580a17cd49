package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Rows of the matrix the SLO cases count for. SAML offers no standard way
// for the suite to make an IdP start a logout, so the IdP-initiated rows
// (slo-redirect-idp, slo-soap-idp) are covered only by the cases of an
// IdP's logout hook (SAMLIdPInitiatedSLOCases,
// SAMLIdPInitiatedSOAPSLOCases); without one they stay uncovered.
const (
	rowSLORedirectSP = "SAML2-Conf/slo-redirect-sp"
	rowSLOSOAPSP     = "SAML2-Conf/slo-soap-sp"
)

// SLO is where the suite's SP receives logout messages: its metadata lists
// it as the SingleLogoutService with HTTP-POST. Like the ACS it is never
// served; the browser stops at the form that would post to it.
func (s *SP) SLO() string { return s.ACS + "/slo" }

// sloCases are the SP-initiated Single Logout cases (SAML Profiles §4.4):
// the suite's SP logs in, sends a LogoutRequest over HTTP-Redirect or SOAP
// and judges the LogoutResponse and whether the IdP session ended.
func sloCases() []Case {
	return []Case{
		{ID: "SAML2-Prof-4.4.3/slo-redirect-sp", Clause: "SAML Profiles §4.4.3, §4.4.4; SAML Bindings §3.4", Row: rowSLORedirectSP, Positive: true,
			Summary: "A signed LogoutRequest over HTTP-Redirect is answered with a LogoutResponse signed by a metadata key (xmlsec1 agrees), for our request, at our SingleLogoutService, Success; a passive AuthnRequest with the old session cookie then gets NoPassive.",
			Run:     runSLORedirect},
		{ID: "SAML2-Prof-4.4.4.1/slo-redirect-unsigned", Clause: "SAML Profiles §4.4.4.1 (MUST be signed over a front channel); SAML Core §3.7.3.2", Row: rowSLORedirectSP,
			Summary: "An unsigned LogoutRequest over HTTP-Redirect is refused and the session lives on.",
			Run:     sloRefused(func(r *samlp.LogoutRequest, o *sloOpts) { o.unsigned = true })},
		{ID: "SAML2-Prof-4.4.4.1/slo-wrong-sessionindex", Clause: "SAML Core §3.7.3.2 (SessionIndex names the sessions to end); SAML Profiles §4.4.4.1", Level: LevelShould, Row: rowSLORedirectSP,
			Summary: "A LogoutRequest naming a SessionIndex the IdP never issued is refused and the session lives on.",
			Run:     sloRefused(func(r *samlp.LogoutRequest, o *sloOpts) { r.SessionIndexes = []string{"_not-a-session-of-ours"} })},
		{ID: "SAML2-Core-3.2.1/slo-replayed-id", Clause: "SAML Core §1.3.4, §3.2.1 (ID uniqueness, the sender's duty); SAML Security Considerations (message replay)", Level: LevelPractice, Row: rowSLORedirectSP,
			Summary: "A second LogoutRequest reusing the ID of one the IdP accepted is refused, and the session it names lives on.",
			Run:     runSLOReplay},
		{ID: "SAML2-Bind-3.2/slo-soap-sp", Clause: "SAML Profiles §4.4.3; SAML Bindings §3.2", Row: rowSLOSOAPSP, Positive: true,
			Summary: "A signed LogoutRequest over SOAP is answered in the SOAP response with a signed LogoutResponse (xmlsec1 agrees), for our request, Success; a passive AuthnRequest in the same browser then gets NoPassive.",
			Run:     runSLOSOAP},
		{ID: "SAML2-Prof-4.4.4.1/slo-soap-unsigned", Clause: "SAML Profiles §4.4.4.1 (the requester MUST authenticate itself); SAML Core §3.7.3.2; SAML Bindings §3.2", Row: rowSLOSOAPSP,
			Summary: "An unsigned LogoutRequest over SOAP (no client authentication either) is refused and the session lives on.",
			Run:     runSLOSOAPUnsigned},
	}
}

// sloSession is one login of the suite's SP: the browser, the assertion
// and the IdP's cookies at that moment.
type sloSession struct {
	b       *Browser
	a       *saml.Assertion
	cookies []*http.Cookie
	ssoURL  *url.URL
}

// sloLogin logs in and keeps the session's cookies, so that the session
// can be probed after the browser dropped them.
func (e *Env) sloLogin(ctx context.Context) (*sloSession, *Outcome) {
	b, err := e.Browser()
	if err != nil {
		o := broken("%v", err)
		return nil, &o
	}
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		o := failed("%v", err)
		return nil, &o
	}
	x, err := e.sendRedirectWith(ctx, b, e.authnRequest(dest), redirectOpts{})
	if err == nil {
		_, a, err2 := e.success(x)
		if err2 == nil {
			u, _ := url.Parse(dest)
			return &sloSession{b: b, a: a, cookies: b.client.Jar.Cookies(u), ssoURL: u}, nil
		}
		err = err2
	}
	o := outcomeOf(err)
	return nil, &o
}

// alive reports whether the session still answers: a passive AuthnRequest
// in a fresh browser holding the session's cookies gets Success, where an
// ended session gets NoPassive (SAML Core §3.4.1.1).
func (e *Env) alive(ctx context.Context, s *sloSession) (bool, error) {
	b, err := e.Browser()
	if err != nil {
		return false, err
	}
	b.client.Jar.SetCookies(s.ssoURL, s.cookies)
	req := e.authnRequest(s.ssoURL.String())
	req.IsPassive = true
	x, err := e.sendRedirectWith(ctx, b, req, redirectOpts{})
	if err != nil {
		return false, err
	}
	if x.Response == nil {
		return false, errTarget("a passive AuthnRequest got no Response: %s", x.describe())
	}
	top, second, err := x.status()
	switch {
	case err != nil:
		return false, err
	case top == samlp.StatusSuccess:
		return true, nil
	case second == samlp.StatusNoPassive:
		return false, nil
	}
	return false, errTarget("a passive AuthnRequest got %s/%s, neither Success nor NoPassive", top, second)
}

// logoutRequest is the conforming LogoutRequest for the session's
// assertion: its NameID and SessionIndex (SAML Profiles §4.4.4.1).
func (e *Env) logoutRequest(dest string, a *saml.Assertion) *samlp.LogoutRequest {
	r := &samlp.LogoutRequest{RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(), Destination: dest,
		Issuer: &saml.Issuer{Value: e.SP.EntityID}}, Reason: samlp.LogoutUser}
	if a.Subject != nil {
		r.NameID = a.Subject.NameID
	}
	if len(a.AuthnStatements) > 0 && a.AuthnStatements[0].SessionIndex != "" {
		r.SessionIndexes = []string{a.AuthnStatements[0].SessionIndex}
	}
	return r
}

// sloOpts change how a LogoutRequest is sent.
type sloOpts struct{ unsigned bool }

// sloEndpoint is the IdP's SingleLogoutService location for bind.
func (e *Env) sloEndpoint(bind string) (string, bool) {
	if e.Target == nil || e.Target.IDP == nil {
		return "", false
	}
	ep, err := e.Target.IDP.SingleLogoutService(bind)
	if err != nil {
		return "", false
	}
	return ep.Location, true
}

// sendLogoutRedirect sends req over HTTP-Redirect in b and returns the
// LogoutResponse of the form the browser stopped at (nil when it stopped
// at a page).
func (e *Env) sendLogoutRedirect(ctx context.Context, b *Browser, dest string, req *samlp.LogoutRequest, o sloOpts) (*etree.Element, *Landing, error) {
	var s *binding.RedirectSigner
	if !o.unsigned {
		s = &binding.RedirectSigner{Key: e.SP.Key}
	}
	u, err := binding.RedirectURL(dest, req.Element(), "", s)
	if err != nil {
		return nil, nil, err
	}
	land, err := b.Get(ctx, u, "LogoutRequest (HTTP-Redirect)")
	if err != nil {
		return nil, nil, fmt.Errorf("sending the LogoutRequest: %w", err)
	}
	if land.Form == nil || land.Form.Fields.Get("SAMLResponse") == "" {
		return nil, land, nil
	}
	if land.Form.Action != e.SP.SLO() {
		return nil, land, errTarget("the LogoutResponse form posts to %q, not our SingleLogoutService %q", land.Form.Action, e.SP.SLO())
	}
	el, err := decodeFormMessage(land.Form.Fields.Get("SAMLResponse"))
	return el, land, err
}

// judgeLogoutResponse checks a LogoutResponse (SAML Profiles §4.4.4.2):
// schema-valid, signed by a metadata key (our verifier and xmlsec1),
// Issuer, InResponseTo, Destination when dest is set, and returns its
// status codes.
func (e *Env) judgeLogoutResponse(ctx context.Context, el *etree.Element, reqID, dest string) (top, second string, err error) {
	s, err := xsd.Default()
	if err != nil {
		return "", "", err
	}
	if err := s.ValidateElement(el); err != nil {
		return "", "", errTarget("the LogoutResponse is not schema-valid: %v", err)
	}
	var r *samlp.LogoutResponse
	err = e.verifyIdP(func(v *dsig.Verifier) (err error) {
		r, _, err = samlp.VerifyLogoutResponse(el, v)
		return err
	})
	if err != nil {
		return "", "", errTarget("the LogoutResponse is not signed by a metadata key of the IdP: %v", err)
	}
	ok, out, err := e.Oracle.VerifyEnveloped(ctx, el, samlp.NS, "LogoutResponse", e.Target.IDP.SigningCertificates())
	switch {
	case err != nil:
		return "", "", oracleError(err)
	case !ok:
		return "", "", errTarget("xmlsec1 does not verify the LogoutResponse signature: %s", out)
	case r.Issuer == nil || r.Issuer.Value != e.Target.Entity.EntityID:
		return "", "", errTarget("LogoutResponse Issuer %v, want %q", r.Issuer, e.Target.Entity.EntityID)
	case r.InResponseTo != reqID:
		return "", "", errTarget("InResponseTo %q, want our request %q", r.InResponseTo, reqID)
	case dest != "" && r.Destination != dest:
		return "", "", errTarget("Destination %q, want our SingleLogoutService %q", r.Destination, dest)
	}
	return r.Status.Code.Value, r.Status.Second(), nil
}

func runSLORedirect(ctx context.Context, e *Env) Outcome {
	dest, ok := e.sloEndpoint(md.BindingHTTPRedirect)
	if !ok {
		return failed("the IdP's metadata lists no HTTP-Redirect SingleLogoutService (required of an IdP)")
	}
	s, o := e.sloLogin(ctx)
	if o != nil {
		return *o
	}
	req := e.logoutRequest(dest, s.a)
	el, land, err := e.sendLogoutRedirect(ctx, s.b, dest, req, sloOpts{})
	if err != nil {
		return outcomeOf(err)
	}
	if el == nil {
		return failed("no LogoutResponse came back: HTTP %d at %s", land.Status, land.URL)
	}
	return e.judgeEnded(ctx, s, el, req.ID, e.SP.SLO())
}

// judgeEnded judges a LogoutResponse that must be Success and the session
// that must have ended.
func (e *Env) judgeEnded(ctx context.Context, s *sloSession, el *etree.Element, reqID, dest string) Outcome {
	top, second, err := e.judgeLogoutResponse(ctx, el, reqID, dest)
	if err != nil {
		return outcomeOf(err)
	}
	if top != samlp.StatusSuccess {
		return failed("status %s/%s, want Success", top, second)
	}
	alive, err := e.alive(ctx, s)
	if err != nil {
		return outcomeOf(err)
	}
	if alive {
		return failed("the LogoutResponse says Success, yet the session still answers a passive AuthnRequest")
	}
	return passed("signed LogoutResponse (xmlsec1 agrees), Success, and the session is gone (NoPassive)")
}

// sloRefused returns a negative case: the LogoutRequest changed by change
// must not be Success, and the session must live on.
func sloRefused(change func(*samlp.LogoutRequest, *sloOpts)) func(context.Context, *Env) Outcome {
	return func(ctx context.Context, e *Env) Outcome {
		dest, ok := e.sloEndpoint(md.BindingHTTPRedirect)
		if !ok {
			return failed("the IdP's metadata lists no HTTP-Redirect SingleLogoutService")
		}
		s, o := e.sloLogin(ctx)
		if o != nil {
			return *o
		}
		req := e.logoutRequest(dest, s.a)
		var opts sloOpts
		change(req, &opts)
		el, land, err := e.sendLogoutRedirect(ctx, s.b, dest, req, opts)
		if err != nil {
			return outcomeOf(err)
		}
		return e.judgeRefused(ctx, s, el, land, req.ID)
	}
}

// judgeRefused passes a refusal: a signed LogoutResponse that is not
// Success, or an error page, and a session that still answers.
func (e *Env) judgeRefused(ctx context.Context, s *sloSession, el *etree.Element, land *Landing, reqID string) Outcome {
	what := ""
	if el != nil {
		top, second, err := e.judgeLogoutResponse(ctx, el, reqID, "")
		if err != nil {
			return outcomeOf(err)
		}
		if top == samlp.StatusSuccess {
			return failed("the IdP answered Success")
		}
		what = fmt.Sprintf("LogoutResponse %s/%s", top, second)
	} else {
		if land != nil && land.Status < 400 {
			return failed("the IdP neither refused with a LogoutResponse nor with an error page: HTTP %d", land.Status)
		}
		what = "an error page"
	}
	alive, err := e.alive(ctx, s)
	if err != nil {
		return outcomeOf(err)
	}
	if !alive {
		return failed("refused with %s, yet the session ended", what)
	}
	return passed("refused with %s; the session lives on", what)
}

func runSLOReplay(ctx context.Context, e *Env) Outcome {
	dest, ok := e.sloEndpoint(md.BindingHTTPRedirect)
	if !ok {
		return failed("the IdP's metadata lists no HTTP-Redirect SingleLogoutService")
	}
	first, o := e.sloLogin(ctx)
	if o != nil {
		return *o
	}
	second, o := e.sloLogin(ctx)
	if o != nil {
		return *o
	}
	req := e.logoutRequest(dest, first.a)
	el, land, err := e.sendLogoutRedirect(ctx, first.b, dest, req, sloOpts{})
	if err != nil {
		return outcomeOf(err)
	}
	if el == nil {
		return failed("the first LogoutRequest got no LogoutResponse: HTTP %d", land.Status)
	}
	replay := e.logoutRequest(dest, second.a)
	replay.ID = req.ID
	el, land, err = e.sendLogoutRedirect(ctx, second.b, dest, replay, sloOpts{})
	if err != nil {
		return outcomeOf(err)
	}
	return e.judgeRefused(ctx, second, el, land, replay.ID)
}

// sendLogoutSOAP sends req over SOAP, XML-signed unless unsigned, and
// returns the body of the answer (nil with the HTTP status for a fault or
// an HTTP error).
func (e *Env) sendLogoutSOAP(ctx context.Context, b *Browser, dest string, req *samlp.LogoutRequest, unsigned bool) (*etree.Element, int, error) {
	el := req.Element()
	if !unsigned {
		var err error
		if el, err = samlp.Sign(req, e.spSigner()); err != nil {
			return nil, 0, err
		}
	}
	env, status, err := e.soapCall(ctx, b, dest, "LogoutRequest", el, &binding.SOAPDecoder{}, nil)
	if env == nil {
		return nil, status, err
	}
	return env.Body, status, err
}

// sloSOAPStart logs the suite's SP in and builds a LogoutRequest for that
// session to the IdP's SOAP SingleLogoutService, or the outcome that ends
// the case.
func (e *Env) sloSOAPStart(ctx context.Context) (*sloSession, *samlp.LogoutRequest, *Outcome) {
	dest, ok := e.sloEndpoint(md.BindingSOAP)
	if !ok {
		o := notApplicable("the IdP offers no SOAP SingleLogoutService (optional for IdP Lite)")
		return nil, nil, &o
	}
	s, o := e.sloLogin(ctx)
	if o != nil {
		return nil, nil, o
	}
	return s, e.logoutRequest(dest, s.a), nil
}

func runSLOSOAP(ctx context.Context, e *Env) Outcome {
	s, req, o := e.sloSOAPStart(ctx)
	if o != nil {
		return *o
	}
	el, status, err := e.sendLogoutSOAP(ctx, s.b, req.Destination, req, false)
	if err != nil {
		return outcomeOf(err)
	}
	if el == nil {
		return failed("the IdP answered a conforming SOAP LogoutRequest with HTTP %d", status)
	}
	return e.judgeEnded(ctx, s, el, req.ID, "")
}

func runSLOSOAPUnsigned(ctx context.Context, e *Env) Outcome {
	s, req, o := e.sloSOAPStart(ctx)
	if o != nil {
		return *o
	}
	el, status, err := e.sendLogoutSOAP(ctx, s.b, req.Destination, req, true)
	if err != nil {
		return outcomeOf(err)
	}
	return e.judgeRefused(ctx, s, el, &Landing{Status: status}, req.ID)
}
