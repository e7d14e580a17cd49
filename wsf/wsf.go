// Package wsf is the wire layer of the Liberty ID-WSF 2.0 SOAP binding
// (IDWSF2 §2-3): the SOAP 1.1 envelope and faults with their lu:Status
// detail, the WS-Addressing and ID-WSF header blocks, the wsse:Security
// header's Timestamp, endpoint references (EPRs) with their discovery
// metadata, the security mechanism URNs, the status codes and the typed
// errors mapped to them through one table, and the per-peer quirk profiles.
//
// The receiver pipeline lives in wsf/server, the sender in wsf/client and
// message signing and token checks in wsf/secmech; every role (Discovery
// Service, WSPs, the portal, the reception terminal) builds on them and
// deals only with its own payloads.
package wsf

// Namespaces of the ID-WSF 2.0 SOAP binding and its companions (IDWSF2 §0).
const (
	NSSOAP   = "http://schemas.xmlsoap.org/soap/envelope/"
	NSSBF    = "urn:liberty:sb"
	NSSB     = "urn:liberty:sb:2006-08"
	NSSBProf = "urn:liberty:sb:profile"
	NSWSA    = "http://www.w3.org/2005/08/addressing"
	NSWSSE   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSWSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
	NSWSU    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NSDSig   = "http://www.w3.org/2000/09/xmldsig#"
	NSLU     = "urn:liberty:util:2006-08"
	NSSec    = "urn:liberty:security:2006-08"
	NSDisco  = "urn:liberty:disco:2006-08"
	NSDST    = "urn:liberty:dst:2006-08"
	NSSAML   = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSSAMLP  = "urn:oasis:names:tc:SAML:2.0:protocol"
)

// Prefixes Renkei writes; receivers never depend on prefixes.
var prefixes = [][2]string{
	{"S", NSSOAP}, {"sbf", NSSBF}, {"sb", NSSB}, {"wsa", NSWSA},
	{"wsse", NSWSSE}, {"wsse11", NSWSSE11}, {"wsu", NSWSU}, {"lu", NSLU},
}

// FrameworkVersion is the only sbf:Framework version this binding speaks
// (IDWSF2 §2.2).
const FrameworkVersion = "2.0"

// ActorNext is the S:actor every header block is sent with (IDWSF2 §2.2).
const ActorNext = "http://schemas.xmlsoap.org/soap/actor/next"

// Anonymous is the WS-Addressing 1.0 anonymous address Renkei sends in
// wsa:ReplyTo; AnonymousErrata is the errata's spelling, accepted as the
// same (IDWSF2 §11 item 3).
const (
	Anonymous       = "http://www.w3.org/2005/08/addressing/anonymous"
	AnonymousErrata = "http://www.w3.org/2005/03/addressing/role/anonymous"
)

// ContentType is the HTTP Content-Type of every message (IDWSF2 §2.1).
const ContentType = "text/xml; charset=utf-8"

// Consent URIs for sb:Consent (IDWSF2 §2.2).
const (
	ConsentObtained     = "urn:liberty:consent:obtained"
	ConsentUnavailable  = "urn:liberty:consent:unavailable"
	ConsentInapplicable = "urn:liberty:consent:inapplicable"
)

// ProcessingContextSimulate asks for a dry run (IDWSF2 §2.2).
const ProcessingContextSimulate = "urn:liberty:sb:2003-08:ProcessingContext:Simulate"

// EndpointUpdate update types (IDWSF2 §2.2).
const (
	EndpointUpdateComplete = "urn:liberty:sb:2006-08:EndpointUpdate:Complete"
	EndpointUpdatePartial  = "urn:liberty:sb:2006-08:EndpointUpdate:Partial"
	EndpointUpdateNoChange = "urn:liberty:sb:2006-08:EndpointUpdate:NoChange"
)

// Token usages of sec:Token (IDWSF2 §3.3).
const (
	UsageSecurityToken      = "urn:liberty:security:tokenusage:2006-08:SecurityToken"
	UsageTargetIdentity     = "urn:liberty:security:tokenusage:2006-08:TargetIdentity"
	UsageInvocationIdentity = "urn:liberty:security:tokenusage:2006-08:InvocationIdentity"
)

// WS-Security token profile URIs used in wsse:SecurityTokenReference and
// wsse:BinarySecurityToken (IDWSF2 §2.4).
const (
	ValueTypeSAMLID  = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID"
	TokenTypeSAMLV20 = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
	ValueTypeX509v3  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
	EncodingBase64   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// Discovery service type and the bootstrap attribute name (IDWSF2 §4.5).
const (
	ServiceTypeDisco = "urn:liberty:disco:2006-08"
	DiscoveryEPRAttr = "urn:liberty:disco:2006-08:DiscoveryEPR"
)
