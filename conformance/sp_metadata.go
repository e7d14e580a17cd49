package conformance

import (
	"context"
	"strings"

	"github.com/renkei-idwsf/renkei/saml/md"
	"github.com/renkei-idwsf/renkei/saml/samlp"
	"github.com/renkei-idwsf/renkei/xmlsec/xsd"
)

// spMetadataCases judge the SP's metadata (SAML Metadata §2.4.4) on what
// the suite needs of it: what SAML requires fails, what only the SP's
// own profiles need (a signing key, a SingleLogoutService) is advisory.
func spMetadataCases() []Case {
	return []Case{{ID: "SAML2-Meta-2.4.4/sp-metadata", Clause: "SAML Metadata §2.3.2, §2.4.1, §2.4.4; SAML Profiles §4.1.6", Row: rowMetadata, Positive: true,
		Summary: "The SP's metadata is valid against the SAML 2.0 metadata schema and has an SPSSODescriptor whose protocolSupportEnumeration lists SAML 2.0, an AssertionConsumerService with HTTP-POST, and a signing KeyDescriptor when AuthnRequestsSigned; no signing key at all, or no SingleLogoutService, is advisory.",
		Run:     runSPMetadata}}
}

func runSPMetadata(_ context.Context, e *Env) Outcome {
	if e.SPT == nil || e.SPT.Metadata == nil {
		return broken("no SP metadata")
	}
	m := e.SPT.Metadata
	e.Record(Message{Direction: "received", Label: "SP metadata", URL: m.Source, Body: string(m.Raw)})
	s, err := xsd.Default()
	if err != nil {
		return broken("schema set: %v", err)
	}
	if err := s.Validate(m.Raw); err != nil {
		return failed("the SP's metadata is not schema-valid (SAML Metadata §2.3.2): %v", err)
	}
	d, err := m.Entity.SP()
	if err != nil {
		return failed("no SPSSODescriptor whose protocolSupportEnumeration lists %s (SAML Metadata §2.4.1): %v", md.ProtocolSAML2, err)
	}
	if problems := spMetadataMusts(d); len(problems) > 0 {
		return failed("%s", strings.Join(problems, "; "))
	}
	if advice := spMetadataAdvice(d); len(advice) > 0 {
		return advisory("%s", strings.Join(advice, "; "))
	}
	return passed("schema-valid; SPSSODescriptor for SAML 2.0 with %d AssertionConsumerService(s), %d signing key(s), %d SingleLogoutService(s)",
		len(d.AssertionConsumer), len(d.SigningCertificates()), len(d.SingleLogout))
}

// spMetadataMusts are the failures: no HTTP-POST ACS (the Web SSO profile
// delivers the Response with it, SAML Profiles §4.1.6) and, when the SP
// says it signs its AuthnRequests, no signing key to check them with
// (SAML Metadata §2.4.4, §2.4.1.1).
func spMetadataMusts(d *md.SPSSODescriptor) []string {
	var problems []string
	post := false
	for _, ep := range d.AssertionConsumer {
		post = post || ep.Binding == samlp.BindingHTTPPOST
	}
	if !post {
		problems = append(problems, "no AssertionConsumerService with HTTP-POST (SAML Profiles §4.1.6; SAML Conformance Table 2)")
	}
	if d.AuthnRequestsSigned && len(d.SigningCertificates()) == 0 {
		problems = append(problems, "AuthnRequestsSigned, yet no signing KeyDescriptor to check the requests with (SAML Metadata §2.4.4, §2.4.1.1)")
	}
	return problems
}

// spMetadataAdvice are the advisories: no signing key at all (the SP's
// logout messages must be signed, SAML Profiles §4.4.4, and the IdP can
// only check them with a key of its metadata) and no SingleLogoutService.
func spMetadataAdvice(d *md.SPSSODescriptor) []string {
	var advice []string
	if len(d.SigningCertificates()) == 0 {
		advice = append(advice, "no signing KeyDescriptor: the IdP has no key to check the SP's signed logout messages with (SAML Profiles §4.4.4)")
	}
	if len(d.SingleLogout) == 0 {
		advice = append(advice, "no SingleLogoutService: Single Logout is required of an SP (SAML Conformance Table 2), and an IdP finds it in metadata (SAML Profiles §4.4.5)")
	}
	return advice
}
