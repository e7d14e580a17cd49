package wss

// Namespaces of the SOAP envelope and the WS-Security, WS-Addressing and
// ID-WSF 2.0 SOAP binding header blocks (IDWSF2.md §0).
const (
	NSSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	NSWSSE   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSWSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
	NSWSU    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	NSWSA    = "http://www.w3.org/2005/08/addressing"
	NSSB     = "urn:liberty:sb:2006-08"
	NSSBF    = "urn:liberty:sb"
	NSSAML   = "urn:oasis:names:tc:SAML:2.0:assertion"
)

// Token profile URIs of wsse:SecurityTokenReference and
// wsse:BinarySecurityToken (WSS SAML Token Profile 1.1 §3.4, WSS X.509
// Token Profile 1.1 §3.1).
const (
	ValueTypeSAMLID  = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID"
	TokenTypeSAMLV20 = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
	ValueTypeX509v3  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
	EncodingBase64   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// Place says where a signed element sits in the envelope: the place, not
// the name, is what tells the real Body from a copy planted in a header.
type Place int

// The places of a signed element.
const (
	PlaceOther    Place = iota // anywhere else (inside a header block or the Body, ...)
	PlaceBody                  // the envelope's own S:Body
	PlaceHeader                // a direct child of S:Header (a header block)
	PlaceSecurity              // a direct child of the wsse:Security header
)

// String names the place.
func (p Place) String() string {
	switch p {
	case PlaceBody:
		return "Body"
	case PlaceHeader:
		return "header block"
	case PlaceSecurity:
		return "wsse:Security child"
	}
	return "elsewhere"
}

// Part names one part of an envelope that is or must be signed.
type Part struct {
	Space string // namespace URI
	Local string // local name
	ID    string // the ID a Reference names it by ("" when it has none)
	Place Place
}

// String renders the part as {namespace}local#id.
func (p Part) String() string {
	s := "{" + p.Space + "}" + p.Local
	if p.ID != "" {
		s += "#" + p.ID
	}
	return s
}
