package conformance

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// rowSLORedirectIdP is the front-channel IdP-initiated SLO row.
const rowSLORedirectIdP = "SAML2-Conf/slo-redirect-idp"

// SAMLIdPInitiatedSLOCases returns the IdP-initiated Single Logout case
// for an IdP that offers a hook: hookURL, visited by a browser holding the
// IdP session, makes the IdP log that session out, at once or after a
// confirmation form posted back to the hook's origin (Renkei's IdP: GET
// /slo/init shows the form, its POST logs out). SAML defines no such
// hook, so these cases are not in SAMLIdPCases and a run adds them only
// when the operator names one; without them the IdP-initiated rows stay
// uncovered.
//
// The IdP must send the suite's SP a LogoutRequest through the browser
// with the binding the SP's metadata lists (HTTP-POST); the SP answers
// with a LogoutResponse over HTTP-Redirect. The SOAP row's case is
// SAMLIdPInitiatedSOAPSLOCases, for which the suite serves a SOAP
// endpoint the IdP must reach and trust.
func SAMLIdPInitiatedSLOCases(hookURL string) []Case {
	return []Case{{ID: "SAML2-Prof-4.4.3/slo-idp-initiated-front", Clause: "SAML Profiles §4.4.3, §4.4.4.1; SAML Bindings §3.4, §3.5",
		Row: rowSLORedirectIdP, Role: RoleIdP, Positive: true,
		Summary: "The IdP logs out the session it is told to by its hook: a LogoutRequest signed by a metadata key (xmlsec1 agrees), to our SingleLogoutService, naming our NameID and SessionIndex; our signed LogoutResponse over HTTP-Redirect ends the chain and the session is gone.",
		Run:     func(ctx context.Context, e *Env) Outcome { return runSLOIdPInitiated(ctx, e, hookURL) }}}
}

// confirmHook submits, once, the form a hook may answer with before it
// logs out (Renkei's IdP asks for a confirmation posted back with a
// token, so that no other page can log its users out): a POST form to the
// hook's own origin on a page that carries no SAML message. Any other
// landing is returned as it is.
func confirmHook(ctx context.Context, b *Browser, land *Landing, hookURL string) (*Landing, error) {
	if land.Form != nil || land.Status != http.StatusOK {
		return land, nil
	}
	base, err := url.Parse(land.URL)
	if err != nil {
		return land, nil
	}
	hook, err := url.Parse(hookURL)
	if err != nil {
		return land, nil
	}
	for _, f := range parseForms(base, land.Body) {
		a, err := url.Parse(f.Action)
		if err == nil && f.Method == http.MethodPost && a.Scheme == hook.Scheme && a.Host == hook.Host {
			return b.Post(ctx, f.Action, f.Fields, "logout confirmation form", "")
		}
	}
	return land, nil
}

func runSLOIdPInitiated(ctx context.Context, e *Env, hookURL string) Outcome {
	dest, ok := e.sloEndpoint(md.BindingHTTPRedirect)
	if !ok {
		return failed("the IdP's metadata lists no HTTP-Redirect SingleLogoutService")
	}
	s, o := e.sloLogin(ctx)
	if o != nil {
		return *o
	}
	land, err := s.b.Get(ctx, hookURL, "IdP-initiated logout hook")
	if err != nil {
		return broken("visiting the hook: %v", err)
	}
	if land, err = confirmHook(ctx, s.b, land, hookURL); err != nil {
		return broken("confirming the logout at the hook: %v", err)
	}
	if land.Form == nil || land.Form.Fields.Get("SAMLRequest") == "" || land.Form.Action != e.SP.SLO() {
		return failed("no LogoutRequest form to our SingleLogoutService %s: HTTP %d at %s", e.SP.SLO(), land.Status, land.URL)
	}
	req, err := e.judgeIdPLogoutRequest(ctx, land.Form.Fields.Get("SAMLRequest"), s)
	if err != nil {
		return outcomeOf(err)
	}
	resp := &samlp.LogoutResponse{StatusResponseHeader: samlp.StatusResponseHeader{ID: e.newID(), InResponseTo: req.ID,
		IssueInstant: e.now().UTC(), Destination: dest, Issuer: &saml.Issuer{Value: e.SP.EntityID}, Status: samlp.NewStatus(samlp.StatusSuccess, "")}}
	u, err := binding.RedirectURL(dest, resp.Element(), land.Form.Fields.Get("RelayState"), &binding.RedirectSigner{Key: e.SP.Key})
	if err != nil {
		return broken("%v", err)
	}
	end, err := s.b.Get(ctx, u, "LogoutResponse (HTTP-Redirect)")
	if err != nil {
		return broken("sending the LogoutResponse: %v", err)
	}
	if end.Status >= 400 {
		return failed("the IdP refused our LogoutResponse: HTTP %d", end.Status)
	}
	alive, err := e.alive(ctx, s)
	if err != nil {
		return outcomeOf(err)
	}
	if alive {
		return failed("the logout completed, yet the session still answers a passive AuthnRequest")
	}
	return passed("signed LogoutRequest (xmlsec1 agrees) for our NameID and SessionIndex; the session is gone (NoPassive)")
}

// judgeIdPLogoutRequest checks the IdP's LogoutRequest of an HTTP-POST
// form (judgeIdPLogout).
func (e *Env) judgeIdPLogoutRequest(ctx context.Context, b64 string, s *sloSession) (*samlp.LogoutRequest, error) {
	el, err := decodeFormMessage(b64)
	if err != nil {
		return nil, err
	}
	return e.judgeIdPLogout(ctx, el, s, e.SP.SLO(), false)
}

// judgeIdPLogout checks the IdP's LogoutRequest el (SAML Profiles
// §4.4.4.1): schema-valid, signed by a metadata key (our verifier and
// xmlsec1), Destination dest (our SingleLogoutService), and the NameID and
// SessionIndex our assertion carried. tlsAuth, for the SOAP back channel
// only, takes an unsigned request whose sender's TLS client key is in the
// IdP's metadata (Env.tlsAuthenticated) in place of the signature.
func (e *Env) judgeIdPLogout(ctx context.Context, el *etree.Element, s *sloSession, dest string, tlsAuth bool) (*samlp.LogoutRequest, error) {
	sch, err := xsd.Default()
	if err != nil {
		return nil, err
	}
	if err := sch.ValidateElement(el); err != nil {
		return nil, errTarget("the LogoutRequest is not schema-valid: %v", err)
	}
	req, err := e.authenticLogout(ctx, el, tlsAuth)
	if err != nil {
		return nil, err
	}
	a := s.a
	switch {
	case req.Destination != dest:
		return nil, errTarget("Destination %q, want our SingleLogoutService %q", req.Destination, dest)
	case req.NameID == nil || a.Subject == nil || a.Subject.NameID == nil || req.NameID.Value != a.Subject.NameID.Value:
		return nil, errTarget("the LogoutRequest does not name the NameID of our assertion (SAML Profiles §4.4.4.1)")
	case len(a.AuthnStatements) > 0 && a.AuthnStatements[0].SessionIndex != "" && !slices.Contains(req.SessionIndexes, a.AuthnStatements[0].SessionIndex):
		return nil, errTarget("SessionIndex %v does not include ours %q", req.SessionIndexes, a.AuthnStatements[0].SessionIndex)
	}
	return req, nil
}

// authenticLogout decodes the IdP's LogoutRequest el once it is
// authenticated: signed by a metadata key of the IdP (our verifier and
// xmlsec1 agree), or, with tlsAuth, sent unsigned from its TLS client key.
func (e *Env) authenticLogout(ctx context.Context, el *etree.Element, tlsAuth bool) (*samlp.LogoutRequest, error) {
	if tlsAuth {
		req, err := samlp.DecodeLogoutRequest(el)
		if err != nil {
			return nil, errTarget("the LogoutRequest does not decode: %v", err)
		}
		return req, nil
	}
	var req *samlp.LogoutRequest
	err := e.verifyIdP(func(v *dsig.Verifier) (err error) {
		req, _, err = samlp.VerifyLogoutRequest(el, v)
		return err
	})
	if err != nil {
		return nil, errTarget("the LogoutRequest is neither signed by a metadata key of the IdP nor sent with a TLS client key of its metadata: %v", err)
	}
	ok, out, err := e.Oracle.VerifyEnveloped(ctx, el, samlp.NS, "LogoutRequest", e.Target.IDP.SigningCertificates())
	if err != nil {
		return nil, oracleError(err)
	}
	if !ok {
		return nil, errTarget("xmlsec1 does not verify the LogoutRequest signature: %s", out)
	}
	return req, nil
}

// decodeFormMessage reads a base64 HTTP-POST message (SAML Bindings
// §3.5.4) with the strict parser.
func decodeFormMessage(b64 string) (*etree.Element, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, errTarget("the message is not base64 (SAML Bindings §3.5.4): %v", err)
	}
	doc, err := xmlsec.Parse(raw, xmlsec.Limits{})
	if err != nil {
		return nil, errTarget("the message is not acceptable XML: %v", err)
	}
	return doc.Root(), nil
}
