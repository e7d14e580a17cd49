package conformance

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// Rows of the SP-initiated Name Identifier Management cases. The suite
// cannot make an IdP start the profile without an IdP-specific trigger:
// the IdP-initiated SOAP row (nim-soap-idp) is covered by
// SAMLIdPInitiatedNIMCases given one, and nim-redirect-idp has no case.
const (
	rowNIMSOAP     = "SAML2-Conf/nim-soap-sp"
	rowNIMRedirect = "SAML2-Conf/nim-redirect-sp"
)

// nimCases are the SP-initiated ManageNameID cases (SAML Core §3.6, SAML
// Profiles §4.5): the suite's SP logs in with a persistent NameID, then
// sends signed ManageNameIDRequests. The Terminate case comes last and
// ends the test principal's federation with the suite's SP for good: a
// repeated run needs a fresh principal or IdP database.
func nimCases() []Case {
	return []Case{
		{ID: "SAML2-Prof-4.5/nim-soap-newid", Clause: "SAML Core §3.6.1-3.6.2; SAML Profiles §4.5; SAML Bindings §3.2", Row: rowNIMSOAP, Positive: true,
			Summary: "After a login, a signed NewID over SOAP gets a signed Success ManageNameIDResponse (checked with xmlsec1 too), and the next NameID carries it as SPProvidedID.",
			Run:     runNIMNewID},
		{ID: "SAML2-Prof-4.5/nim-soap-unsigned", Clause: "SAML Profiles §4.5.4.2 (the requester MUST authenticate itself); SAML Bindings §3.2", Row: rowNIMSOAP,
			Summary: "An unsigned ManageNameIDRequest over SOAP is not answered with Success.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runNIMRefused(ctx, e, nimUnsigned) }},
		{ID: "SAML2-Core-3.6/nim-soap-unknown-nameid", Clause: "SAML Core §3.6.2, §3.2.2.2 (UnknownPrincipal)", Row: rowNIMSOAP,
			Summary: "A ManageNameIDRequest naming a NameID the IdP never issued is refused, second-level UnknownPrincipal.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runNIMRefused(ctx, e, nimUnknown) }},
		{ID: "SAML2-Core-3.2.1/nim-soap-replayed", Clause: "SAML Core §1.3.4, §3.2.1 (ID uniqueness, the sender's duty); SAML Security Considerations (message replay)", Level: LevelPractice, Row: rowNIMSOAP,
			Summary: "The same signed ManageNameIDRequest sent twice is answered with Success at most once.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runNIMRefused(ctx, e, nimReplayed) }},
		{ID: "SAML2-Prof-4.5/nim-redirect-newid", Clause: "SAML Profiles §4.5; SAML Bindings §3.4.4", Row: rowNIMRedirect, Positive: true,
			Summary: "A query-signed NewID over HTTP-Redirect is answered at our ManageNameIDService with a query-signed Success response.",
			Run:     runNIMRedirect},
		{ID: "SAML2-Prof-4.5/nim-redirect-unsigned", Clause: "SAML Bindings §3.4.4.1; SAML Profiles §4.5.4.2", Row: rowNIMRedirect,
			Summary: "An unsigned ManageNameIDRequest over HTTP-Redirect is not answered with Success.",
			Run:     runNIMRedirectUnsigned},
		{ID: "SAML2-Core-3.6.3/nim-soap-terminate", Clause: "SAML Core §3.6.1, §3.6.3; SAML Profiles §4.5", Row: rowNIMSOAP, Positive: true,
			Summary: "A signed Terminate over SOAP gets a signed Success, and the next login asking for a persistent NameID with AllowCreate=false gets no assertion.",
			Run:     runNIMTerminate},
	}
}

// nimEndpoint is the IdP's ManageNameIDService for bind, or an outcome
// saying the case does not apply.
func (e *Env) nimEndpoint(bind string) (string, *Outcome) {
	if e.Target == nil || e.Target.IDP == nil {
		o := notApplicable("no IDPSSODescriptor")
		return "", &o
	}
	if fs := e.Target.IDP.NameIDFormats; len(fs) > 0 && !slices.Contains(fs, FormatPersistent) {
		o := notApplicable("the IdP issues no persistent NameID, which the profile manages")
		return "", &o
	}
	ep, err := e.Target.IDP.ManageNameIDService(bind)
	if err != nil {
		o := notApplicable("the IdP offers no ManageNameIDService with binding %s", bind)
		return "", &o
	}
	return ep.Location, nil
}

// persistentLogin logs in asking for a persistent NameID and returns it.
func (e *Env) persistentLogin(ctx context.Context, allowCreate bool) (*exchange, error) {
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		return nil, errTarget("%v", err)
	}
	req := e.authnRequest(dest)
	req.NameIDPolicy = &samlp.NameIDPolicy{Format: FormatPersistent, AllowCreate: allowCreate}
	return e.sendRedirect(ctx, req, redirectOpts{})
}

func (e *Env) persistentNameID(ctx context.Context) (*saml.NameID, error) {
	x, err := e.persistentLogin(ctx, true)
	if err != nil {
		return nil, err
	}
	_, a, err := e.success(x)
	if err != nil {
		return nil, err
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Format != FormatPersistent {
		return nil, errTarget("no persistent NameID in the assertion (SAML Core §3.4.1.1)")
	}
	return a.Subject.NameID, nil
}

// nimRequest is our ManageNameIDRequest about nid to dest; the caller sets
// the change.
// nimStart logs the suite's SP in for a persistent NameID and returns a
// ManageNameIDRequest about it to the IdP's endpoint of binding bind, or
// the outcome that ends the case.
func (e *Env) nimStart(ctx context.Context, bind string) (*samlp.ManageNameIDRequest, *Outcome) {
	dest, o := e.nimEndpoint(bind)
	if o != nil {
		return nil, o
	}
	nid, err := e.persistentNameID(ctx)
	if err != nil {
		o := outcomeOf(err)
		return nil, &o
	}
	return e.nimRequest(dest, nid), nil
}

func (e *Env) nimRequest(dest string, nid *saml.NameID) *samlp.ManageNameIDRequest {
	cur := *nid
	return &samlp.ManageNameIDRequest{RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(),
		Destination: dest, Issuer: &saml.Issuer{Value: e.SP.EntityID}}, NameID: &cur}
}

func (e *Env) spSigner() *dsig.Signer {
	return &dsig.Signer{Key: e.SP.Key, Certificates: []*x509.Certificate{e.SP.Cert}}
}

// nimSOAP posts el in a SOAP envelope to dest and returns the Body of the
// answer; nil with the HTTP status when the IdP answered with an HTTP
// error or a SOAP fault.
func (e *Env) nimSOAP(ctx context.Context, dest string, el *etree.Element) (*etree.Element, int, error) {
	return e.soapBody(ctx, dest, "ManageNameIDRequest", el)
}

// nimAnswer judges a ManageNameIDResponse received over SOAP: schema-valid,
// signed by a metadata key of the IdP (the suite relies on nothing else to
// authenticate it), issued by the IdP and in response to reqID (any
// request when "": a refusal of a broken request may not name it).
func (e *Env) nimAnswer(el *etree.Element, reqID string) (*samlp.ManageNameIDResponse, error) {
	s, err := xsd.Default()
	if err != nil {
		return nil, err
	}
	if err := s.ValidateElement(el); err != nil {
		return nil, errTarget("the ManageNameIDResponse is not schema-valid: %v", err)
	}
	u, err := samlp.Peek(el)
	if err != nil || u.Name != "ManageNameIDResponse" {
		return nil, errTarget("the SOAP Body is not a samlp:ManageNameIDResponse (SAML Core §3.6.2)")
	}
	if !u.Signed {
		return nil, errTarget("the ManageNameIDResponse is unsigned (SAML Profiles §4.5.4.2: the responder authenticates itself, and this SOAP channel has no other means)")
	}
	var r *samlp.ManageNameIDResponse
	err = e.verifyIdP(func(v *dsig.Verifier) (err error) {
		r, _, err = samlp.VerifyManageNameIDResponse(el, v)
		return err
	})
	if err != nil {
		return nil, errTarget("the ManageNameIDResponse does not verify with the IdP's metadata keys: %v", err)
	}
	return r, e.nimHeader(&r.StatusResponseHeader, reqID)
}

func (e *Env) nimHeader(h *samlp.StatusResponseHeader, reqID string) error {
	switch {
	case reqID != "" && h.InResponseTo != reqID:
		return errTarget("InResponseTo %q, want our request ID %q", h.InResponseTo, reqID)
	case h.Issuer == nil || h.Issuer.Value != e.Target.Entity.EntityID:
		return errTarget("Issuer %v, want %q", h.Issuer, e.Target.Entity.EntityID)
	}
	return nil
}

// nimExchange signs req, sends it over SOAP and judges the answer.
func (e *Env) nimExchange(ctx context.Context, dest string, req *samlp.ManageNameIDRequest) (*samlp.ManageNameIDResponse, *etree.Element, error) {
	el, err := samlp.Sign(req, e.spSigner())
	if err != nil {
		return nil, nil, err
	}
	body, status, err := e.nimSOAP(ctx, dest, el)
	if err != nil {
		return nil, nil, err
	}
	if body == nil {
		return nil, nil, errTarget("a conforming ManageNameIDRequest was answered with HTTP %d, not a response (SAML Bindings §3.2.3.3)", status)
	}
	r, err := e.nimAnswer(body, req.ID)
	return r, body, err
}

// newLocalID is a fresh SP-provided identifier in the insurer format of
// ARCHITECTURE "The relay DB", its parts percent-escaped.
func (e *Env) newLocalID() string {
	return fmt.Sprintf("06130012:%s:%s:01", url.PathEscape("健保"), e.newID()[1:13])
}
