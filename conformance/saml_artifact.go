package conformance

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/beevik/etree"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/binding"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
)

// Rows of the matrix the artifact cases count for.
const (
	rowArtifact   = "SAML2-Conf/websso-artifact"
	rowResolution = "SAML2-Conf/artifact-resolution"
)

// artifactRelay is the RelayState the artifact cases send; it must come
// back with the artifact (SAML Bindings §3.6.3).
const artifactRelay = "conformance-artifact"

// artifactExchange is an SSO exchange answered by artifact: the request,
// the artifact as sent and decoded, and the IdP's ArtifactResolutionService
// its EndpointIndex names.
type artifactExchange struct {
	Request  *samlp.AuthnRequest
	Text     string
	Artifact *binding.Artifact
	Resolver string
	// Status is the HTTP status of the last resolution's answer.
	Status int
}

// artifactLogin sends a signed AuthnRequest over HTTP-Redirect asking for
// the Response by HTTP-Artifact at our artifact ACS, logs in, and checks
// the redirect that carries the artifact (SAML Bindings §3.6.3, §3.6.4).
func (e *Env) artifactLogin(ctx context.Context) (*artifactExchange, *Outcome) {
	fail := func(o Outcome) (*artifactExchange, *Outcome) { return nil, &o }
	dest, err := e.ssoEndpoint(md.BindingHTTPRedirect)
	if err != nil {
		return fail(failed("%v", err))
	}
	req := e.authnRequest(dest)
	req.AssertionConsumerServiceURL, req.ProtocolBinding = e.SP.ArtifactACS(), md.BindingHTTPArtifact
	x, err := e.sendRedirect(ctx, req, redirectOpts{relay: artifactRelay})
	if err != nil {
		return fail(outcomeOf(err))
	}
	to := x.Landing.ArtifactTo
	if to == nil {
		return fail(failed("asked for HTTP-Artifact, got %s, not a redirect carrying SAMLart (SAML Core §3.4.1)", x.describe()))
	}
	if got := to.Scheme + "://" + to.Host + to.Path; got != e.SP.ArtifactACS() {
		return fail(failed("the artifact goes to %s, not our artifact ACS %s", got, e.SP.ArtifactACS()))
	}
	if rs := to.Query().Get(binding.ParamRelayState); rs != artifactRelay {
		return fail(failed("RelayState %q came back, we sent %q (SAML Bindings §3.6.3)", rs, artifactRelay))
	}
	ax := &artifactExchange{Request: req, Text: to.Query().Get(binding.ParamArtifact)}
	if o := e.checkArtifact(ax); o != nil {
		return fail(*o)
	}
	return ax, nil
}

// checkArtifact decodes the artifact and finds its resolver: type 0x0004,
// SourceID the SHA-1 of the IdP's entityID, EndpointIndex an
// ArtifactResolutionService of the IdP's metadata with the SOAP binding.
func (e *Env) checkArtifact(ax *artifactExchange) *Outcome {
	o := func(v Outcome) *Outcome { return &v }
	art, err := binding.ParseArtifact(ax.Text)
	if err != nil {
		return o(failed("SAMLart %q is not a type 0x0004 artifact (SAML Bindings §3.6.4): %v", ax.Text, err))
	}
	if !art.IssuedBy(e.Target.Entity.EntityID) {
		return o(failed("SourceID %x is not the SHA-1 of the IdP's entityID %q (SAML Bindings §3.6.4)", art.SourceID, e.Target.Entity.EntityID))
	}
	ep, err := e.Target.IDP.ArtifactResolutionService(art.EndpointIndex)
	if err != nil || ep.Binding != md.BindingSOAP {
		return o(failed("EndpointIndex %d names no SOAP ArtifactResolutionService in the IdP's metadata (SAML Bindings §3.6.4): %v", art.EndpointIndex, err))
	}
	ax.Artifact, ax.Resolver = art, ep.Location
	return nil
}

// resolveOpts change how an ArtifactResolve is sent.
type resolveOpts struct {
	as       *SP  // the requester; nil is our SP
	unsigned bool // send it unsigned (no client certificate either)
}

// resolve sends an ArtifactResolve for ax's artifact over SOAP and
// returns the ArtifactResponse element, unverified; nil with an outcome
// when there is none to judge.
func (e *Env) resolve(ctx context.Context, ax *artifactExchange, o resolveOpts) (*etree.Element, *Outcome) {
	fail := func(v Outcome) (*etree.Element, *Outcome) { return nil, &v }
	as := o.as
	if as == nil {
		as = e.SP
	}
	req := &samlp.ArtifactResolve{RequestHeader: samlp.RequestHeader{ID: e.newID(), IssueInstant: e.now().UTC(),
		Destination: ax.Resolver, Issuer: &saml.Issuer{Value: as.EntityID}}, Artifact: ax.Text}
	el := req.Element()
	if !o.unsigned {
		var err error
		if el, err = samlp.Sign(req, &dsig.Signer{Key: as.Key, Certificates: []*x509.Certificate{as.Cert}}); err != nil {
			return fail(broken("signing the ArtifactResolve: %v", err))
		}
	}
	b, err := e.backChannel()
	if err != nil {
		return fail(broken("%v", err))
	}
	env, status, err := e.soapCall(ctx, b, ax.Resolver, "ArtifactResolve", el, &binding.SOAPDecoder{}, nil)
	ax.Status = status
	switch {
	case err != nil:
		return fail(outcomeOf(err))
	case env == nil:
		return fail(failed("the ArtifactResolutionService answered HTTP %d, not an ArtifactResponse (SAML Bindings §3.2.3)", status))
	case !isArtifactResponse(env.Body):
		return fail(failed("the SOAP body is %s, not a samlp:ArtifactResponse (SAML Core §3.5.2)", env.Body.Tag))
	}
	return env.Body, nil
}

func isArtifactResponse(el *etree.Element) bool {
	return el != nil && el.Tag == "ArtifactResponse" && el.NamespaceURI() == samlp.NS
}

// artifactResponse decodes an ArtifactResponse: verified with the IdP's
// metadata keys when signed, as received otherwise (the cases that need
// the signature judge it themselves).
func (e *Env) artifactResponse(el *etree.Element) (*samlp.ArtifactResponse, error) {
	if len(el.SelectElements("Signature")) > 0 {
		var r *samlp.ArtifactResponse
		err := e.verifyIdP(func(v *dsig.Verifier) (err error) {
			r, _, err = samlp.VerifyArtifactResponse(el, v)
			return err
		})
		if err != nil {
			return nil, errTarget("the ArtifactResponse signature does not verify with the IdP's metadata keys: %v", err)
		}
		return r, nil
	}
	r, err := samlp.DecodeArtifactResponse(el)
	if err != nil {
		return nil, errTarget("ArtifactResponse does not decode (SAML Core §3.5.2): %v", err)
	}
	return r, nil
}

// artifactResolved logs in by artifact and resolves it once as our SP.
func (e *Env) artifactResolved(ctx context.Context) (*artifactExchange, *etree.Element, *samlp.ArtifactResponse, *Outcome) {
	ax, o := e.artifactLogin(ctx)
	if o != nil {
		return nil, nil, nil, o
	}
	el, o := e.resolve(ctx, ax, resolveOpts{})
	if o != nil {
		return nil, nil, nil, o
	}
	r, err := e.artifactResponse(el)
	if err != nil {
		v := outcomeOf(err)
		return nil, nil, nil, &v
	}
	return ax, el, r, nil
}

// noMessage judges an ArtifactResponse that must carry no message.
func (e *Env) noMessage(el *etree.Element, what string) (*samlp.ArtifactResponse, *Outcome) {
	r, err := e.artifactResponse(el)
	if err != nil {
		v := outcomeOf(err)
		return nil, &v
	}
	if r.Message != nil {
		v := failed("%s: the ArtifactResponse carries the %s", what, r.Message.Tag)
		return nil, &v
	}
	return r, nil
}

func artifactStatus(r *samlp.ArtifactResponse) string {
	return fmt.Sprintf("%s %s", r.Status.Code.Value, r.Status.Second())
}
