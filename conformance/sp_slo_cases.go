package conformance

import (
	"context"
	"fmt"

	"github.com/renkei-idwsf/renkei/saml/samlp"
)

// spSLOCases are the SP's Single Logout cases (SAML Profiles §4.4), the
// suite playing the IdP that starts the logout: after a login, a
// LogoutRequest for that session over HTTP-Redirect in the same browser,
// or over SOAP on the back channel, must be answered with a signed
// LogoutResponse, Success, and end the session (SessionRule); an unsigned
// one, or one for another NameID, must leave it alive.
func spSLOCases() []Case {
	return []Case{
		{ID: "SAML2-Prof-4.4.4/sp-slo-redirect", Clause: "SAML Profiles §4.4.3, §4.4.4; SAML Core §3.7.3.2; SAML Bindings §3.4", Row: rowSLORedirectIdP, Positive: true,
			Summary: "A LogoutRequest of the IdP, query-signed, for the session's NameID and SessionIndex, sent in the login's browser to the SP's HTTP-Redirect SingleLogoutService, is answered at the IdP's SingleLogoutService with a LogoutResponse query-signed by a key of the SP's metadata, for that request, Success; the session is then gone.",
			Run:     runSPSLORedirect},
		{ID: "SAML2-Prof-4.4.4.1/sp-slo-redirect-unsigned", Clause: "SAML Profiles §4.4.4.1; SAML Bindings §3.4.4.1", Row: rowSLORedirectIdP,
			Summary: "An unsigned LogoutRequest over HTTP-Redirect is refused (an error page, or a LogoutResponse that is not Success) and the session lives on.",
			Run: func(ctx context.Context, e *Env) Outcome {
				return runSPSLORedirectRefused(ctx, e, "an unsigned LogoutRequest", true, nil)
			}},
		{ID: "SAML2-Core-3.7.3.2/sp-slo-other-nameid", Clause: "SAML Core §3.7.3.2; SAML Profiles §4.4.4.1", Row: rowSLORedirectIdP,
			Summary: "A signed LogoutRequest over HTTP-Redirect, in the login's browser, for another NameID (no SessionIndex: all of that principal's sessions) leaves this session alive, whatever the SP answers.",
			Run: func(ctx context.Context, e *Env) Outcome {
				return runSPSLORedirectRefused(ctx, e, "a LogoutRequest for another NameID", false, func(r *samlp.LogoutRequest) {
					r.NameID = e.SPT.nameID("conformance-other-" + e.newID()[1:13])
					r.SessionIndexes = nil
				})
			}},
		{ID: "SAML2-Prof-4.4.3.4/sp-slo-soap", Clause: "SAML Profiles §4.4.3.4, §4.4.4; SAML Bindings §3.2; SAML Core §3.7.3.2", Row: rowSLOSOAPIdP, Positive: true,
			Summary: "A LogoutRequest of the IdP, XML-signed, for the session's NameID and SessionIndex, posted in a SOAP envelope to the SP's SOAP SingleLogoutService (from no browser), is answered with a LogoutResponse signed by a key of the SP's metadata, for that request, Success; the browser's session is then gone.",
			Run:     runSPSLOSOAP},
		{ID: "SAML2-Prof-4.4.4.1/sp-slo-soap-unsigned", Clause: "SAML Profiles §4.4.4.1; SAML Bindings §3.2", Row: rowSLOSOAPIdP,
			Summary: "An unsigned LogoutRequest over SOAP (no other authentication either) is refused (a SOAP fault, or a LogoutResponse that is not Success) and the session lives on.",
			Run:     runSPSLOSOAPUnsigned},
	}
}

// spSLORedirectStart opens a session and builds the LogoutRequest for it
// to the SP's HTTP-Redirect SingleLogoutService.
func (e *Env) spSLORedirectStart(ctx context.Context) (*spSession, *samlp.LogoutRequest, *Outcome) {
	if e.SPT != nil && e.SPT.SLORedirect == "" {
		o := failed("the SP's metadata lists no HTTP-Redirect SingleLogoutService (Single Logout over HTTP-Redirect is required of an SP, SAML Conformance Table 2)")
		return nil, nil, &o
	}
	s, o := e.openSession(ctx)
	if o != nil {
		return nil, nil, o
	}
	return s, e.spLogoutRequest(e.SPT.SLORedirect, s), nil
}

func runSPSLORedirect(ctx context.Context, e *Env) Outcome {
	s, req, o := e.spSLORedirectStart(ctx)
	if o != nil {
		return *o
	}
	land, answered, err := e.sendSPLogoutRedirect(ctx, s, req, false)
	if err != nil {
		return spOutcome(err)
	}
	if !answered {
		return failed("no LogoutResponse reached the suite IdP's SingleLogoutService: the browser stopped at %s (HTTP %d)", land.URL, land.Status)
	}
	r, err := e.readSPLogoutRedirect(land, req.ID)
	if err != nil {
		return spOutcome(err)
	}
	return e.judgeSPEnded(ctx, s, r)
}

// judgeSPEnded wants a Success answer and the session gone.
func (e *Env) judgeSPEnded(ctx context.Context, s *spSession, r *samlp.LogoutResponse) Outcome {
	if r.Status.Code.Value != samlp.StatusSuccess {
		return failed("LogoutResponse status %s/%s, want Success", r.Status.Code.Value, r.Status.Second())
	}
	alive, err := e.sessionAlive(ctx, s.cookies, "after the logout")
	if err != nil {
		return spOutcome(err)
	}
	if alive {
		return failed("the LogoutResponse says Success, yet the session still shows with the login's cookies (SAML Core §3.7.3.2)")
	}
	return passed("signed LogoutResponse %s, Success, and the session is gone", r.ID)
}

// runSPSLORedirectRefused sends the session's LogoutRequest, changed by
// change, unsigned when unsigned, and wants the session alive after it;
// what names the request. A LogoutResponse, when one comes, must still
// be the SP's, for the request; for an unsigned request it must not say
// Success.
func runSPSLORedirectRefused(ctx context.Context, e *Env, what string, unsigned bool, change func(*samlp.LogoutRequest)) Outcome {
	s, req, o := e.spSLORedirectStart(ctx)
	if o != nil {
		return *o
	}
	if change != nil {
		change(req)
	}
	land, answered, err := e.sendSPLogoutRedirect(ctx, s, req, unsigned)
	if err != nil {
		return spOutcome(err)
	}
	answer := fmt.Sprintf("a page (HTTP %d at %s)", land.Status, land.URL)
	if answered {
		r, err := e.readSPLogoutRedirect(land, req.ID)
		if err != nil {
			return spOutcome(err)
		}
		if unsigned && r.Status.Code.Value == samlp.StatusSuccess {
			return failed("the SP answered %s with Success (SAML Profiles §4.4.4.1: the request must be authenticated)", what)
		}
		answer = fmt.Sprintf("a LogoutResponse %s/%s", r.Status.Code.Value, r.Status.Second())
	}
	return e.judgeSPAlive(ctx, s, what, answer)
}

// judgeSPAlive wants the session alive after what, answered by answer.
func (e *Env) judgeSPAlive(ctx context.Context, s *spSession, what, answer string) Outcome {
	alive, err := e.sessionAlive(ctx, s.cookies, "after "+what)
	if err != nil {
		return spOutcome(err)
	}
	if !alive {
		return failed("the SP ended the session on %s (answered with %s)", what, answer)
	}
	return passed("answered %s with %s; the session lives on", what, answer)
}

// spSLOSOAPStart opens a session and builds the LogoutRequest for it to the
// SP's SOAP SingleLogoutService; an SP whose metadata lists none is not
// judged here (the row then fails as not offered).
func (e *Env) spSLOSOAPStart(ctx context.Context) (*spSession, *samlp.LogoutRequest, *Outcome) {
	if e.SPT != nil && e.SPT.SLOSOAP == "" {
		o := notApplicable("the SP's metadata lists no SOAP SingleLogoutService")
		return nil, nil, &o
	}
	s, o := e.openSession(ctx)
	if o != nil {
		return nil, nil, o
	}
	return s, e.spLogoutRequest(e.SPT.SLOSOAP, s), nil
}

func runSPSLOSOAP(ctx context.Context, e *Env) Outcome {
	s, req, o := e.spSLOSOAPStart(ctx)
	if o != nil {
		return *o
	}
	el, status, err := e.sendSPLogoutSOAP(ctx, req, false)
	if err != nil {
		return spOutcome(err)
	}
	if el == nil {
		return failed("the SP answered a signed SOAP LogoutRequest with HTTP %d", status)
	}
	r, err := e.judgeSPLogoutResponse(el, e.spTrust(), req.ID, "")
	if err != nil {
		return spOutcome(err)
	}
	return e.judgeSPEnded(ctx, s, r)
}

func runSPSLOSOAPUnsigned(ctx context.Context, e *Env) Outcome {
	const what = "an unsigned SOAP LogoutRequest"
	s, req, o := e.spSLOSOAPStart(ctx)
	if o != nil {
		return *o
	}
	el, status, err := e.sendSPLogoutSOAP(ctx, req, true)
	if err != nil {
		return spOutcome(err)
	}
	answer := fmt.Sprintf("HTTP %d (a SOAP fault or an error)", status)
	if el != nil {
		r, err := e.judgeSPLogoutResponse(el, e.spTrust(), req.ID, "")
		if err != nil {
			return spOutcome(err)
		}
		if r.Status.Code.Value == samlp.StatusSuccess {
			return failed("the SP answered %s with Success (SAML Profiles §4.4.4.1: the request must be authenticated)", what)
		}
		answer = fmt.Sprintf("a LogoutResponse %s/%s", r.Status.Code.Value, r.Status.Second())
	}
	return e.judgeSPAlive(ctx, s, what, answer)
}
