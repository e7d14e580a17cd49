package conformance

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/url"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// postCases send the AuthnRequest with the HTTP-POST binding, where the XML
// signature inside the message protects it (SAML Bindings §3.5.5.2), and try
// the signature-wrapping attacks (XSW, Somorovsky et al. 2012) on it.
func postCases() []Case {
	return []Case{
		{ID: "SAML2-Bind-3.5/post-authnrequest", Clause: "SAML Bindings §3.5; SAML Core §5.4", Row: rowPOST, Positive: true,
			Summary: "A signed AuthnRequest over HTTP-POST yields a Success Response with a verified assertion.", Run: runPOSTRequest},
		{ID: "SAML2-Core-5.4/post-xsw-wrapped-in-extensions", Clause: "SAML Core §5.4.2; SAML Bindings §3.5.5.2; XSW (Somorovsky et al. 2012)", Row: rowPOST, Positive: false,
			Summary: "An unsigned AuthnRequest wrapping the signed one in samlp:Extensions is refused.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runXSW(ctx, e, false) }},
		{ID: "SAML2-Core-5.4/post-xsw-signature-moved", Clause: "SAML Core §5.4.2; SAML Bindings §3.5.5.2; XSW (Somorovsky et al. 2012)", Row: rowPOST, Positive: false,
			Summary: "An AuthnRequest carrying the signature of another, wrapped request (Reference to the inner ID) is refused.",
			Run:     func(ctx context.Context, e *Env) Outcome { return runXSW(ctx, e, true) }},
	}
}

// signedRequest returns our AuthnRequest for dest with an enveloped
// signature by the SP's key.
func (e *Env) signedRequest(dest string) (*samlp.AuthnRequest, *etree.Element, error) {
	req := e.authnRequest(dest)
	el, err := samlp.Sign(req, &dsig.Signer{Key: e.SP.Key, Certificates: []*x509.Certificate{e.SP.Cert}})
	return req, el, err
}

// sendPOST posts el as SAMLRequest to dest with a fresh browser.
func (e *Env) sendPOST(ctx context.Context, dest string, req *samlp.AuthnRequest, el *etree.Element) (*exchange, error) {
	b, err := e.Browser()
	if err != nil {
		return nil, err
	}
	raw, err := xmlsec.Serialize(el)
	if err != nil {
		return nil, err
	}
	form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}}
	land, err := b.Post(ctx, dest, form, "AuthnRequest (HTTP-POST)", string(raw))
	if err != nil {
		return nil, err
	}
	return readExchange(req, land)
}

func runPOSTRequest(ctx context.Context, e *Env) Outcome {
	dest, err := e.ssoEndpoint(md.BindingHTTPPOST)
	if err != nil {
		return notApplicable("the IdP offers no HTTP-POST SingleSignOnService")
	}
	req, el, err := e.signedRequest(dest)
	if err != nil {
		return broken("%v", err)
	}
	x, err := e.sendPOST(ctx, dest, req, el)
	if err != nil {
		return outcomeOf(err)
	}
	r, a, err := e.success(x)
	if err != nil {
		return outcomeOf(err)
	}
	if r.InResponseTo != req.ID {
		return failed("InResponseTo %q, want %q", r.InResponseTo, req.ID)
	}
	return passed("Success, assertion %s verified", a.ID)
}

// runXSW builds an evil request (another ID) around the signed one, which
// goes into samlp:Extensions inside a foreign wrapper; with moved, the
// signed request's ds:Signature is copied onto the evil root as well. Any Success answer means the IdP acted on a wrapped
// message.
func runXSW(ctx context.Context, e *Env, moved bool) Outcome {
	dest, err := e.ssoEndpoint(md.BindingHTTPPOST)
	if err != nil {
		return notApplicable("the IdP offers no HTTP-POST SingleSignOnService")
	}
	if c := e.idpControl(ctx); c != nil {
		return *c
	}
	_, signed, err := e.signedRequest(dest)
	if err != nil {
		return broken("%v", err)
	}
	evil := e.authnRequest(dest)
	wrapper := etree.NewElement("x:Wrapper") // Extensions want a foreign namespace (SAML Core §3.2.1)
	wrapper.CreateAttr("xmlns:x", nsConformance)
	wrapper.AddChild(xmlsec.DetachCopy(signed))
	evil.Extensions = []*etree.Element{wrapper}
	root := evil.Element()
	if moved {
		if sig := signed.SelectElement("Signature"); sig != nil {
			root.InsertChildAt(1, xmlsec.DetachCopy(sig)) // after Issuer, where an enveloped signature goes
		}
	}
	x, err := e.sendPOST(ctx, dest, evil, root)
	if err != nil {
		return outcomeOf(err)
	}
	o := refusal(x)
	if o.Verdict == Fail && x.Header != nil && x.Header.InResponseTo == evil.ID {
		o.Reason += " (InResponseTo names the unsigned outer request)"
	}
	return o
}
