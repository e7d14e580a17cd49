package conformance

import (
	"context"
	"fmt"
	"net/http"

	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
)

const rowECP = "SAML2-Conf/ecp"

// ecpCases are the Enhanced Client/Proxy cases: the suite is the ECP and the
// SP, and talks to the IdP's SingleSignOnService with the SOAP binding.
func ecpCases() []Case {
	return []Case{
		{ID: "SAML2-Prof-4.2.4.4/ecp-sso", Clause: "SAML Profiles §4.2.4.3-4.2.4.5 (ECP schema: S:mustUnderstand, S:actor); SAML Bindings §3.2; SOAP 1.1 §4.2.2-4.2.3", Row: rowECP, Positive: true,
			Summary: "A signed AuthnRequest over SOAP yields a SOAP envelope with ecp:Response naming our PAOS ACS and a Success Response with a signed assertion.",
			Run:     runECP},
		{ID: "SAML2-Prof-4.2.4.4/ecp-acs-not-in-metadata", Clause: "SAML Profiles §4.2.4.4, §4.1.4.1", Row: rowECP, Positive: false,
			Summary: "An ECP AuthnRequest naming a consumer URL not in our metadata gets no ecp:Response naming it.",
			Run:     runECPBadACS},
	}
}

// ecpExchange sends req to the IdP's SOAP SingleSignOnService as an ECP
// and returns the decoded answer; nil envelope means the IdP answered with
// an HTTP error (code in status).
func (e *Env) ecpExchange(ctx context.Context, dest string, req *samlp.AuthnRequest) (*binding.Envelope, int, error) {
	signed, err := samlp.Sign(req, e.spSigner())
	if err != nil {
		return nil, 0, err
	}
	b, err := e.Browser()
	if err != nil {
		return nil, 0, err
	}
	return e.soapCall(ctx, b, dest, "AuthnRequest (ECP)", signed, &binding.SOAPDecoder{}, func(hr *http.Request) {
		if l, ok := e.Login.(FormLogin); ok {
			hr.SetBasicAuth(l.Username, l.Password) // ECP has no form: HTTP Basic (SAML Profiles §4.2.4.3 leaves the method open)
		}
	})
}

func (e *Env) ecpRequest(dest string) *samlp.AuthnRequest {
	req := e.authnRequest(dest)
	req.ProtocolBinding = md.BindingPAOS
	return req
}

func runECP(ctx context.Context, e *Env) Outcome {
	dest, err := e.ssoEndpoint(md.BindingSOAP)
	if err != nil {
		return notApplicable("the IdP offers no SOAP SingleSignOnService (ECP)")
	}
	req := e.ecpRequest(dest)
	env, status, err := e.ecpExchange(ctx, dest, req)
	if err != nil {
		return outcomeOf(err)
	}
	if env == nil {
		return failed("the IdP answered a conforming ECP request with HTTP %d", status)
	}
	h, err := binding.ReadECPHeaders(env, binding.ECPQuirks{})
	if err != nil || h.Response == nil {
		return failed("no valid ecp:Response header block (SAML Profiles §4.2.4.4): %v", err)
	}
	if err := binding.CheckECPResponse(&binding.PAOSRequest{ResponseConsumerURL: e.SP.ACS}, h.Response); err != nil {
		return failed("%v", err)
	}
	x := &exchange{Request: req, Landing: &Landing{URL: dest, Status: status}, Response: env.Body}
	if x.Header, err = samlp.PeekResponse(env.Body); err != nil {
		return failed("the SOAP Body is not a samlp:Response: %v", err)
	}
	r, a, err := e.success(x)
	if err != nil {
		return outcomeOf(err)
	}
	if r.InResponseTo != req.ID {
		return failed("InResponseTo %q, want %q", r.InResponseTo, req.ID)
	}
	return passed("ecp:Response to %s, Success, assertion %s verified", h.Response.AssertionConsumerServiceURL, a.ID)
}

func runECPBadACS(ctx context.Context, e *Env) Outcome {
	dest, err := e.ssoEndpoint(md.BindingSOAP)
	if err != nil {
		return notApplicable("the IdP offers no SOAP SingleSignOnService (ECP)")
	}
	const bad = "https://attacker.invalid/ecp"
	req := e.ecpRequest(dest)
	req.AssertionConsumerServiceURL = bad
	env, status, err := e.ecpExchange(ctx, dest, req)
	if err != nil {
		return outcomeOf(err)
	}
	if env == nil {
		return passed("refused with HTTP %d", status)
	}
	h, err := binding.ReadECPHeaders(env, binding.ECPQuirks{})
	if err == nil && h.Response != nil && h.Response.AssertionConsumerServiceURL == bad {
		return failed("the IdP's ecp:Response names the unregistered consumer %s", bad)
	}
	if top, _, err := (&exchange{Response: env.Body}).status(); err == nil && top == samlp.StatusSuccess {
		return failed("the IdP issued a Success Response for a request naming an unregistered consumer")
	}
	return passed("nothing addressed to %s (%s)", bad, fmt.Sprint(status))
}
