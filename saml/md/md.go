// Package md is SAML 2.0 metadata (SAML Metadata, saml-metadata-2.0-os;
// SAML2.md §11): the wire types of md:EntitiesDescriptor and
// md:EntityDescriptor with their IdP, SP and other role descriptors, the
// operator's signature over them, and a Set that loads, verifies and
// refreshes the metadata every role trusts.
//
// Types encode to etree elements with Element, children in schema order.
// They are decoded only from an element whose enveloped signature has been
// verified (Verify), or explicitly without one (DecodeUnsigned) when the
// caller has chosen to trust the source, such as a file the operator placed.
// Unknown role descriptors and extensions are kept as XML, never fatal.
//
// Failures are typed: *Error with a Kind (errors.Is against the sentinels),
// or *xmlsec.Error for XML and signature failures. The package holds no
// server, no templates and no storage; its only network use is an HTTP
// client fetch with a size limit.
package md

import (
	"crypto/x509"
	"time"

	"github.com/beevik/etree"
)

// Namespaces of the elements metadata holds.
const (
	NS     = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSSAML = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSDSig = "http://www.w3.org/2000/09/xmldsig#"
	NSXSI  = "http://www.w3.org/2001/XMLSchema-instance"
	NSXML  = "http://www.w3.org/XML/1998/namespace"
)

// ProtocolSAML2 is the protocolSupportEnumeration value every SAML 2.0 role
// descriptor carries (SAML Metadata §2.4.1).
const ProtocolSAML2 = "urn:oasis:names:tc:SAML:2.0:protocol"

// Binding URIs (SAML Bindings §3; SAML2.md §1.2).
const (
	BindingSOAP           = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"
	BindingPAOS           = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
	BindingHTTPRedirect   = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingHTTPPOST       = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	BindingHTTPArtifact   = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"
	BindingURI            = "urn:oasis:names:tc:SAML:2.0:bindings:URI"
	BindingPOSTSimpleSign = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST-SimpleSign"
)

// KeyDescriptor use values (SAML Metadata §2.4.1.1); an absent use means
// the key serves both.
const (
	UseSigning    = "signing"
	UseEncryption = "encryption"
)

// DiscoveryEPRAttribute is the attribute name an SP requests in its
// md:AttributeConsumingService to receive the ID-WSF discovery bootstrap
// (see SPSSODescriptor.WantsDiscoveryBootstrap).
const DiscoveryEPRAttribute = "urn:liberty:disco:2006-08:DiscoveryEPR"

// EntitiesDescriptor is md:EntitiesDescriptor (SAML Metadata §2.3.1): a
// group of entities and nested groups, usually the operator's signed
// aggregate. Element writes Entities before Groups; a document that
// interleaves them is read in full but re-encoded in that order.
type EntitiesDescriptor struct {
	ID            string
	Name          string
	ValidUntil    time.Time     // zero when absent
	CacheDuration time.Duration // zero when absent
	Extensions    *etree.Element
	Entities      []*EntityDescriptor
	Groups        []*EntitiesDescriptor
}

// EntityDescriptor is md:EntityDescriptor (SAML Metadata §2.3.2). Role
// descriptors are written IdP, SP, then the others; an
// md:AffiliationDescriptor is not supported.
type EntityDescriptor struct {
	EntityID      string
	ID            string
	ValidUntil    time.Time
	CacheDuration time.Duration
	Extensions    *etree.Element
	IDPSSO        []*IDPSSODescriptor
	SPSSO         []*SPSSODescriptor
	Roles         []*RoleDescriptor
	Organization  *Organization
	Contacts      []ContactPerson
}

// Role holds what every role descriptor has (md:RoleDescriptorType, SAML
// Metadata §2.4.1).
type Role struct {
	ID              string
	ValidUntil      time.Time
	CacheDuration   time.Duration
	ProtocolSupport []string // protocolSupportEnumeration
	ErrorURL        string
	Extensions      *etree.Element
	Keys            []KeyDescriptor
	Organization    *Organization
	Contacts        []ContactPerson
}

// SSO holds what IdP and SP descriptors share (md:SSODescriptorType, SAML
// Metadata §2.4.2).
type SSO struct {
	Role
	ArtifactResolution []IndexedEndpoint
	SingleLogout       []Endpoint
	ManageNameID       []Endpoint
	NameIDFormats      []string
}

// IDPSSODescriptor is md:IDPSSODescriptor (SAML Metadata §2.4.3).
type IDPSSODescriptor struct {
	SSO
	WantAuthnRequestsSigned bool
	SingleSignOn            []Endpoint
	NameIDMapping           []Endpoint
	AssertionIDRequest      []Endpoint
	AttributeProfiles       []string
	Attributes              []Attribute
}

// SPSSODescriptor is md:SPSSODescriptor (SAML Metadata §2.4.4).
type SPSSODescriptor struct {
	SSO
	AuthnRequestsSigned  bool
	WantAssertionsSigned bool
	AssertionConsumer    []IndexedEndpoint
	AttributeConsuming   []AttributeConsumingService
}

// RoleDescriptor is any other role descriptor: md:RoleDescriptor with an
// xsi:type (a Discovery Service, a WSP), md:AttributeAuthorityDescriptor,
// md:AuthnAuthorityDescriptor or md:PDPDescriptor. The common part is
// decoded; the type's own children are kept as XML in Content, and those
// shaped as endpoints (Binding and Location attributes) are also read into
// Endpoints.
type RoleDescriptor struct {
	Role
	Local     string // element local name, "RoleDescriptor" when empty
	TypeNS    string // namespace of the xsi:type, when there is one
	TypeLocal string // local part of the xsi:type
	Content   []*etree.Element
	Endpoints []NamedEndpoint // read from Content; not encoded
}

// KeyDescriptor is md:KeyDescriptor (SAML Metadata §2.4.1.1). Use is
// UseSigning, UseEncryption or "" for both. Several may share a use, as
// during a key rollover.
type KeyDescriptor struct {
	Use               string
	Certificates      []*x509.Certificate
	EncryptionMethods []string // md:EncryptionMethod Algorithm URIs
}

// Endpoint is md:EndpointType (SAML Metadata §2.2.2).
type Endpoint struct {
	Binding          string
	Location         string
	ResponseLocation string
}

// IndexedEndpoint is md:IndexedEndpointType (SAML Metadata §2.2.3).
// IsDefault is nil when the attribute is absent, which matters to the
// choice of the default endpoint (see DefaultEndpoint).
type IndexedEndpoint struct {
	Endpoint
	Index     uint16
	IsDefault *bool
}

// NamedEndpoint is an endpoint of an other role descriptor with the name
// of its element.
type NamedEndpoint struct {
	NS, Local string
	Endpoint
}

// Attribute is a saml:Attribute an IdP lists (SAML Metadata §2.4.3),
// values as text.
type Attribute struct {
	Name         string
	NameFormat   string
	FriendlyName string
	Values       []string
}

// RequestedAttribute is md:RequestedAttribute (SAML Metadata §2.4.4.2).
type RequestedAttribute struct {
	Attribute
	IsRequired bool
}

// AttributeConsumingService is md:AttributeConsumingService (SAML
// Metadata §2.4.4.1).
type AttributeConsumingService struct {
	Index        uint16
	IsDefault    *bool
	ServiceNames []Localized
	Descriptions []Localized
	Requested    []RequestedAttribute
}

// Localized is a string with its xml:lang.
type Localized struct {
	Lang  string
	Value string
}

// Organization is md:Organization (SAML Metadata §2.3.2.1).
type Organization struct {
	Names        []Localized
	DisplayNames []Localized
	URLs         []Localized
}

// ContactPerson is md:ContactPerson (SAML Metadata §2.3.2.2). Type is
// technical, support, administrative, billing or other.
type ContactPerson struct {
	Type      string
	Company   string
	GivenName string
	SurName   string
	Emails    []string
	Phones    []string
}

// Document is one decoded metadata document: exactly one of Entity and
// Group is set.
type Document struct {
	Entity *EntityDescriptor
	Group  *EntitiesDescriptor
}
