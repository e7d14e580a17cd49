package conformance

import (
	"context"

	"github.com/renkei-idwsf/renkei/saml"
	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec"
	"github.com/renkei-idwsf/renkei/xmlsec/dsig"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// checkOracle verifies the assertion's signature with xmlsec1 as well.
func checkOracle(ctx context.Context, e *Env, x *exchange, r *samlp.Response, a *saml.Assertion) Outcome {
	ok, out, err := e.Oracle.VerifyEnveloped(ctx, r.Assertions[0], saml.NS, "Assertion", e.Target.IDP.SigningCertificates())
	if err != nil {
		return broken("%v", err)
	}
	if !ok {
		return failed("xmlsec1 refuses the assertion signature that xmlsec/dsig accepted (or the key is not in metadata): %s", out)
	}
	return passed("xmlsec1 verifies assertion %s with the IdP's metadata key", a.ID)
}

func metadataCases() []Case {
	return []Case{
		{ID: "SAML2-Meta-2.4.3/idp-metadata-schema-valid", Clause: "SAML Metadata §2.3.2, §2.4.3 (schema)", Row: rowMetadata,
			Positive: true, Standalone: true, Summary: "The IdP's metadata is valid against the SAML 2.0 metadata schema.", Run: runMetadataSchema},
		{ID: "SAML2-Meta-3.1/idp-metadata-signature", Clause: "SAML Metadata §3.1", Row: rowMetadata,
			Positive: true, Standalone: true, Summary: "Signed metadata verifies (with the entity's own keys or the operator's anchors); unsigned metadata is not applicable.", Run: runMetadataSignature},
		{ID: "SAML2-Conf/idp-sso-bindings", Clause: "SAML Conformance Table 2 (feature matrix); SAML Metadata §2.4.3", Row: rowMetadata,
			Positive: true, Standalone: true, Summary: "The IDPSSODescriptor supports SAML 2.0, has a signing key and a SingleSignOnService with the HTTP-Redirect binding.", Run: runSSOBindings},
	}
}

func runMetadataSchema(ctx context.Context, e *Env) Outcome {
	s, err := xsd.Default()
	if err != nil {
		return broken("schema set: %v", err)
	}
	e.recordMetadata()
	if err := s.Validate(e.Target.Raw); err != nil {
		return failed("metadata not schema-valid: %v", err)
	}
	return passed("schema-valid")
}

// recordMetadata records the metadata a metadata case judges, so that its
// report carries the message it was judged on.
func (e *Env) recordMetadata() {
	e.Record(Message{Direction: "received", Label: "IdP metadata", URL: e.Target.Source, Body: string(e.Target.Raw)})
}

func runMetadataSignature(ctx context.Context, e *Env) Outcome {
	e.recordMetadata()
	signed := false
	for _, c := range e.Target.Element.ChildElements() {
		if c.Tag == "Signature" && c.NamespaceURI() == "http://www.w3.org/2000/09/xmldsig#" {
			signed = true
		}
	}
	if !signed {
		return notApplicable("the metadata is not signed")
	}
	var keys = e.Target.Anchors
	if e.Target.IDP != nil {
		keys = append(keys, e.Target.IDP.SigningCertificates()...)
	}
	v := &dsig.Verifier{Trust: xmlsec.NewTrustSet(keys)}
	if _, _, err := md.Verify(e.Target.Element, v); err != nil {
		return failed("the metadata claims a signature that does not verify: %v", err)
	}
	return passed("metadata signature verifies")
}

func runSSOBindings(ctx context.Context, e *Env) Outcome {
	e.recordMetadata()
	idp := e.Target.IDP
	switch {
	case idp == nil:
		return failed("no IDPSSODescriptor with protocolSupportEnumeration %s", md.ProtocolSAML2)
	case len(idp.SigningCertificates()) == 0:
		return failed("the IDPSSODescriptor has no signing key")
	}
	if _, err := idp.SingleSignOnService(md.BindingHTTPRedirect); err != nil {
		return failed("no SingleSignOnService with HTTP-Redirect, which IdP and IdP Lite MUST support: %v", err)
	}
	return passed("SingleSignOnService over HTTP-Redirect, %d signing key(s)", len(idp.SigningCertificates()))
}
